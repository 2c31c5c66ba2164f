// Files, folders and videos through the Anonymizer: output naming, fail-closed processing and
// the JSON report. Used by the CLI (and later the server).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "standin/anonymizer.hpp"
#include "standin/io.hpp"
#include "standin/status.hpp"
#include "standin/video.hpp"

namespace standin {

enum class FileMode {
  kAnonymize,  // write the anonymized image/video
  kDraw,       // write a debug overlay of the detections instead
  kDetectOnly  // write nothing but the report
};

struct FileJob {
  std::filesystem::path input;
  std::filesystem::path output;  // empty in kDetectOnly mode
  io::MediaKind kind = io::MediaKind::kImage;
};

struct PlanOptions {
  FileMode mode = FileMode::kAnonymize;
  // -o: a file (one input file), or a folder (several inputs, a folder input, or an existing
  // folder). Empty: next to each input as <stem>_anonymized.<ext> (folders: <folder>_anonymized).
  std::optional<std::filesystem::path> output;
};

// Expands files and folders (recursively) into jobs with their output paths; a stream or camera
// (io::IsStream) is one video job and needs `output` as a file. Refuses outputs
// that would overwrite an input, unsupported files named explicitly, and folders with nothing
// to process.
Expected<std::vector<FileJob>> PlanJobs(const std::vector<std::filesystem::path>& inputs,
                                        const PlanOptions& options);

struct FileOptions {
  FileMode mode = FileMode::kAnonymize;
  bool keep_metadata = false;  // EXIF/XMP/IPTC (images) and container tags (videos)
  bool keep_audio = true;
  int jpeg_quality = 95;
  io::VideoWriteOptions video;
  VideoTrackOptions tracking;
  // When set (e.g. by a Ctrl-C handler): a stream or camera stops reading and its output is
  // finished and written; a file not yet done is abandoned (kInterrupted, nothing written).
  const std::atomic<bool>* stop = nullptr;
};

struct FileReport {
  FileJob job;
  int width = 0;
  int height = 0;
  double fps = 0;                         // videos only: the average frame rate
  std::vector<double> frame_times;        // variable-rate videos: each frame's time (s)
  std::vector<std::vector<Face>> frames;  // one entry for an image
};

// Called with (done, total) frames; total 0 when unknown.
using ProgressFn = std::function<void(std::int64_t, std::int64_t)>;

// Processes one job. Fails closed: if any frame fails, no output file exists afterwards.
Expected<FileReport> ProcessFile(Anonymizer& anonymizer, const FileJob& job,
                                 const FileOptions& options, const ProgressFn& progress = {});

// The --json document for a set of reports.
std::string ReportsToJson(const std::vector<FileReport>& reports, const AnonymizerOptions& options);
// One line saying what was done to the faces, e.g. "9 faces: 6 generate; 2 blur (1 too large for
// the 64 px generator, 1 maybe not a face); 1 solid (1 no stand-in passed the identity guard)".
// A face in a video counts once per frame it is in. Methods in order of count, then name; a
// reason is the part of Face::reason before its first " (".
std::string SummarizeFaces(const std::vector<FileReport>& reports);

}  // namespace standin
