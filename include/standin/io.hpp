// Files in and out: image decoding with validation, atomic writes, metadata, and video streams
// through ffmpeg. The core library (anonymizer.hpp) never touches files.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "standin/status.hpp"

namespace standin::io {

enum class MediaKind { kImage, kVideo, kUnsupported };
// By extension (case-insensitive): jpg/jpeg/png/webp/bmp/tif/tiff; mp4/mov/mkv/avi/webm.
MediaKind KindOf(const std::filesystem::path& path);
// A live or network source read through ffmpeg instead of a file: a URL (rtsp://, http://,
// srt://, udp://, file:..., any "scheme://") or a V4L2 camera device (/dev/video*). Streams
// are videos; they may not end on their own and their audio is not kept.
bool IsStream(const std::filesystem::path& input);

// Reads and decodes an image (EXIF orientation applied) into BGR 8-bit. Distinguishes missing,
// unreadable, empty, corrupt/truncated and wrong-type files.
Expected<cv::Mat> ReadImage(const std::filesystem::path& path);

// Writes `bytes` to `path` atomically: a temporary file in the same folder, flushed, then
// renamed over `path`. On failure nothing is left behind.
Status WriteFileAtomic(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes);

struct ImageWriteOptions {
  int jpeg_quality = 95;
  // Copy EXIF/XMP/IPTC from this file (orientation reset, since pixels are already upright).
  // Empty: write no metadata at all.
  std::optional<std::filesystem::path> metadata_from;
};
// Encodes by the extension of `path` and writes atomically.
Status WriteImage(const std::filesystem::path& path, const cv::Mat& bgr,
                  const ImageWriteOptions& options = {});

// Permissions for new output files: 0666 less the process umask (temporary files are created
// 0600 and get these before they are renamed into place).
mode_t DefaultFileMode();

// Maps errno from a failed write to a Status (ENOSPC/EFBIG/EDQUOT -> kDiskFull, ...).
Status WriteError(const std::filesystem::path& path, int err);

// --- Video ---------------------------------------------------------------------------------

struct VideoInfo {
  int width = 0;  // displayed size, after rotation
  int height = 0;
  double fps = 0;           // average frame rate
  std::int64_t frames = 0;  // frame count if the container knows it, else 0
  int rotation = 0;         // degrees the player rotates the stored frames
  bool has_audio = false;
  std::string audio_codec;   // ffmpeg's name for the first audio stream's codec ("aac", ...)
  std::string fps_rational;  // e.g. "30000/1001", passed on to the encoder unchanged
  // Variable frame rate (phones, screen recordings): the presentation time in seconds of every
  // frame, in order; the output keeps them (through mkvmerge). Empty for constant-rate video.
  std::vector<double> timestamps;
};

Expected<VideoInfo> ProbeVideo(const std::filesystem::path& path);

// Decoded frames, BGR, upright (rotation applied), in presentation order, one per stored frame.
class VideoReader {
 public:
  static Expected<std::unique_ptr<VideoReader>> Open(const std::filesystem::path& path);
  virtual ~VideoReader() = default;
  // The next frame into `frame`; false at the end. Errors (corrupt stream) as Status.
  virtual Expected<bool> Read(cv::Mat& frame) = 0;
  // After the last frame: whether the decoder exited cleanly.
  virtual Status Finish() = 0;
  // Ends reading early (a stream that would go on): stops the decoder.
  virtual void Stop() = 0;
  [[nodiscard]] virtual const VideoInfo& info() const = 0;
};

struct VideoWriteOptions {
  bool keep_audio = true;
  int crf = 20;  // H.264 quality
  std::string preset = "veryfast";
  bool keep_metadata = false;  // container metadata (creation time, GPS in QuickTime tags, ...)
};

// H.264 (yuv420p) output written to a temporary file and renamed into place by Finish().
// Audio (and with keep_metadata, container metadata) comes from `source`.
class VideoWriter {
 public:
  static Expected<std::unique_ptr<VideoWriter>> Open(const std::filesystem::path& path,
                                                     const std::filesystem::path& source,
                                                     const VideoInfo& info,
                                                     const VideoWriteOptions& options);
  virtual ~VideoWriter() = default;  // without Finish(): the temporary file is removed
  virtual Status Write(const cv::Mat& bgr) = 0;
  virtual Status Finish() = 0;
};

}  // namespace standin::io
