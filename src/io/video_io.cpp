// Video through ffmpeg/ffprobe child processes: raw BGR frames over pipes, audio and (optionally)
// container metadata copied from the source by the encoder.
#include <fmt/core.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <optional>

#include "io/subprocess.hpp"
#include "standin/io.hpp"

namespace standin::io {
namespace fs = std::filesystem;
namespace {

double ParseRational(const std::string& r) {
  const auto slash = r.find('/');
  if (slash == std::string::npos) return std::atof(r.c_str());
  const double num = std::atof(r.substr(0, slash).c_str());
  const double den = std::atof(r.substr(slash + 1).c_str());
  return den > 0 ? num / den : 0.0;
}

std::string LastLine(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const auto nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

// How ffmpeg and ffprobe open an input: "-i PATH", with the V4L2 demuxer named for cameras
// ("-f v4l2 -i /dev/video0"; ffprobe takes the same without "-i").
std::vector<std::string> InputArgs(const fs::path& path) {
  if (path.string().starts_with("/dev/video")) return {"-f", "v4l2", "-i", path.string()};
  return {"-i", path.string()};
}

// Presentation times of the video packets (demuxing only, no decoding), sorted: the order in
// which the decoder emits the frames.
Expected<std::vector<double>> FrameTimestamps(const fs::path& path) {
  auto out = RunCapture({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                         "packet=pts_time", "-of", "csv=p=0", path.string()});
  if (!out.ok()) {
    return Status(ErrorCode::kCorruptInput, fmt::format("{}: cannot read the frame times ({})",
                                                        path.string(), out.status().message()));
  }
  std::vector<double> t;
  std::size_t start = 0;
  while (start < out->size()) {
    std::size_t end = out->find('\n', start);
    if (end == std::string::npos) end = out->size();
    const std::string line = out->substr(start, end - start);
    char* stop = nullptr;
    const double v = std::strtod(line.c_str(), &stop);
    if (stop != line.c_str()) t.push_back(v);  // "N/A" and empty lines are skipped
    start = end + 1;
  }
  std::sort(t.begin(), t.end());
  return t;
}

// Whether frame intervals differ by more than 1% of the typical one (and 1 ms): timestamps
// rounded to a container's time base stay constant-rate.
bool VariableRate(const std::vector<double>& t) {
  if (t.size() < 3) return false;
  std::vector<double> d;
  for (std::size_t i = 1; i < t.size(); ++i) d.push_back(t[i] - t[i - 1]);
  std::vector<double> sorted = d;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() / 2),
                   sorted.end());
  const double median = sorted[sorted.size() / 2];
  const double tolerance = std::max(0.001, 0.01 * median);
  return std::any_of(d.begin(), d.end(),
                     [&](double x) { return std::abs(x - median) > tolerance; });
}

class FfmpegReader final : public VideoReader {
 public:
  FfmpegReader(Subprocess proc, VideoInfo info, fs::path path)
      : proc_(std::move(proc)), info_(std::move(info)), path_(std::move(path)) {}

  Expected<bool> Read(cv::Mat& frame) override {
    frame.create(info_.height, info_.width, CV_8UC3);
    const auto bytes = static_cast<std::size_t>(frame.total() * frame.elemSize());
    const long n = proc_.ReadFull(frame.data, bytes);
    if (n == static_cast<long>(bytes)) return true;
    if (n == 0) return false;
    return Status(ErrorCode::kCorruptInput,
                  fmt::format("{}: video stream ended inside a frame", path_.string()));
  }

  Status Finish() override {
    const int rc = proc_.Wait();
    if (rc != 0) {
      return {ErrorCode::kCorruptInput,
              fmt::format("{}: corrupt video ({})", path_.string(), LastLine(proc_.Stderr()))};
    }
    return Status::Ok();
  }

  void Stop() override { proc_.Kill(); }

  [[nodiscard]] const VideoInfo& info() const override { return info_; }

 private:
  Subprocess proc_;
  VideoInfo info_;
  fs::path path_;
};

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The ffmpeg muxer for an output extension, and the audio codecs it can take unchanged.
struct Container {
  std::string muxer;
  std::vector<std::string> audio_copy;
  std::string audio_encoder;
};

Container ContainerFor(const fs::path& out) {
  const std::string ext = Lower(out.extension().string());
  if (ext == ".mkv") return {"matroska", {"*"}, "aac"};
  if (ext == ".avi") return {"avi", {"mp3", "ac3", "pcm_s16le"}, "libmp3lame"};
  if (ext == ".mov") return {"mov", {"aac", "mp3", "alac", "ac3", "pcm_s16le", "pcm_s24le"}, "aac"};
  return {"mp4", {"aac", "mp3", "alac", "ac3", "eac3", "opus"}, "aac"};
}

// Variable frame rate output: the encoder writes a constant-rate Matroska file, mkvmerge gives
// its frames their original times, and ffmpeg remuxes the result with the source's audio into
// the output container (`remux` is that command without its input file).
struct VariableRateSteps {
  std::vector<double> timestamps;
  fs::path encoded, timed, times;  // temporary files beside the output
  std::vector<std::string> remux;
};

// Runs a tool to completion, its output discarded; its exit status and stderr.
std::pair<int, std::string> RunTool(const std::vector<std::string>& argv) {
  auto proc = Subprocess::Start(argv, Subprocess::kStdout);
  if (!proc.ok()) return {-1, proc.status().message()};
  char buf[4096];
  while (proc->ReadFull(buf, sizeof buf) > 0) {
  }
  const int rc = proc->Wait();
  return {rc, LastLine(proc->Stderr())};
}

class FfmpegWriter final : public VideoWriter {
 public:
  FfmpegWriter(Subprocess proc, fs::path tmp, fs::path path, VideoInfo info,
               std::optional<VariableRateSteps> vfr)
      : proc_(std::move(proc)),
        tmp_(std::move(tmp)),
        path_(std::move(path)),
        info_(std::move(info)),
        vfr_(std::move(vfr)) {}

  ~FfmpegWriter() override {
    if (!finished_) {
      proc_.Kill();
      unlink(tmp_.c_str());
    }
    RemoveIntermediates();
  }

  Status Write(const cv::Mat& bgr) override {
    if (bgr.cols != info_.width || bgr.rows != info_.height || bgr.type() != CV_8UC3) {
      return {ErrorCode::kProcessingFailed, "frame size differs from the video's"};
    }
    const cv::Mat cont = bgr.isContinuous() ? bgr : bgr.clone();
    if (proc_.WriteAll(cont.data, cont.total() * cont.elemSize()) != 0) return Fail();
    ++frames_;
    return Status::Ok();
  }

  Status Finish() override {
    const int rc = proc_.Wait();
    if (rc != 0) return Fail();
    if (vfr_) {
      if (Status s = Complete(vfr_->encoded); !s.ok()) return s;
      if (Status s = Retime(); !s.ok()) return s;
    }
    if (Status s = Complete(tmp_); !s.ok()) return s;
    RemoveIntermediates();
    if (rename(tmp_.c_str(), path_.c_str()) != 0) {
      const int err = errno;
      unlink(tmp_.c_str());
      finished_ = true;
      return WriteError(path_, err);
    }
    finished_ = true;
    return Status::Ok();
  }

 private:
  // ffmpeg can exit 0 after a failed write (e.g. past a file size limit), so count what actually
  // landed in `file` before the output may take its name.
  Status Complete(const fs::path& file) {
    auto packets =
        RunCapture({"ffprobe", "-v", "error", "-count_packets", "-select_streams", "v:0",
                    "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", file.string()});
    if (packets.ok() && std::atoll(packets->c_str()) == frames_) return Status::Ok();
    const bool full = OutOfSpace(file);
    unlink(tmp_.c_str());
    RemoveIntermediates();
    finished_ = true;
    if (full) return WriteError(path_, ENOSPC);
    return {ErrorCode::kExternalTool,
            fmt::format("{}: the encoder wrote an incomplete video ({} frames expected)",
                        path_.string(), frames_)};
  }

  // Variable frame rate: the original frame times onto the encoded frames, then the final
  // container with the audio.
  Status Retime() {
    auto fail = [&](const std::string& what) {
      unlink(tmp_.c_str());
      RemoveIntermediates();
      finished_ = true;
      const bool full = OutOfSpace(vfr_->timed) || OutOfSpace(tmp_);
      if (full) return WriteError(path_, ENOSPC);
      return Status(ErrorCode::kExternalTool, fmt::format("{}: {}", path_.string(), what));
    };
    {
      std::ofstream times(vfr_->times);
      times << "# timestamp format v2\n";
      times.precision(12);
      for (double t : vfr_->timestamps) times << t * 1000.0 << "\n";
      if (!times.flush()) return fail("cannot write the frame times");
    }
    // mkvmerge: 0 = done, 1 = done with warnings, 2 = failed.
    auto [rc, err] = RunTool({"mkvmerge", "-q", "-o", vfr_->timed.string(), "--timestamps",
                              "0:" + vfr_->times.string(), vfr_->encoded.string()});
    if (rc < 0) {
      return fail("variable frame rate video needs mkvmerge (apt-get install mkvtoolnix): " + err);
    }
    if (rc > 1) return fail("mkvmerge failed (" + err + ")");
    std::vector<std::string> remux = vfr_->remux;
    remux.insert(remux.begin() + 5, {"-i", vfr_->timed.string()});
    remux.push_back(tmp_.string());
    auto [rc2, err2] = RunTool(remux);
    if (rc2 != 0) return fail("remuxing failed (" + err2 + ")");
    return Status::Ok();
  }

  void RemoveIntermediates() {
    if (!vfr_) return;
    for (const auto& f : {vfr_->encoded, vfr_->timed, vfr_->times}) unlink(f.c_str());
  }

  // Whether a failed write of `file` ran out of room: little space left on its filesystem, or
  // the file reached the process's file size limit.
  static bool OutOfSpace(const fs::path& file) {
    struct statvfs vfs {};
    if (statvfs(file.parent_path().empty() ? "." : file.parent_path().c_str(), &vfs) == 0 &&
        static_cast<double>(vfs.f_bavail) * static_cast<double>(vfs.f_frsize) < 8.0 * (1 << 20)) {
      return true;
    }
    struct rlimit lim {};
    std::error_code ec;
    const auto size = fs::file_size(file, ec);
    return getrlimit(RLIMIT_FSIZE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY && !ec &&
           size + 65536 >= lim.rlim_cur;
  }

  Status Fail() {
    proc_.Wait();
    const std::string err = proc_.Stderr();
    const bool full = OutOfSpace(tmp_);
    unlink(tmp_.c_str());
    finished_ = true;
    if (full || err.find("No space left") != std::string::npos ||
        err.find("File too large") != std::string::npos) {
      return WriteError(path_, ENOSPC);
    }
    return {ErrorCode::kExternalTool,
            fmt::format("{}: video encoding failed ({})", path_.string(), LastLine(err))};
  }

  Subprocess proc_;
  fs::path tmp_;
  fs::path path_;
  VideoInfo info_;
  std::optional<VariableRateSteps> vfr_;
  std::int64_t frames_ = 0;
  bool finished_ = false;
};

}  // namespace

Expected<VideoInfo> ProbeVideo(const fs::path& path) {
  std::error_code ec;
  // A stream has nothing to check on disk: ffprobe says whether the source answers.
  const bool stream = IsStream(path);
  if (!stream && !fs::exists(path, ec)) {
    return Status(ErrorCode::kNotFound, fmt::format("{}: no such file", path.string()));
  }
  if (!stream && access(path.c_str(), R_OK) != 0) {
    return Status(ErrorCode::kUnreadable,
                  fmt::format("{}: cannot open (permission denied)", path.string()));
  }
  if (!stream && fs::file_size(path, ec) == 0) {
    return Status(ErrorCode::kCorruptInput, fmt::format("{}: empty file (0 bytes)", path.string()));
  }
  std::vector<std::string> probe = {
      "ffprobe", "-v", "error", "-print_format", "json", "-show_streams", "-show_format"};
  for (const auto& a : InputArgs(path)) {
    if (a != "-i") probe.push_back(a);  // ffprobe takes the input without "-i"
  }
  // The frame times come from a second ffprobe (packets only), run alongside the first: each
  // costs about 0.1 s, mostly ffprobe starting up.
  std::future<Expected<std::vector<double>>> times;
  if (!stream) times = std::async(std::launch::async, FrameTimestamps, path);
  auto out = RunCapture(probe);
  if (!out.ok()) {
    if (out.status().message().find("cannot run") != std::string::npos) return out.status();
    return Status(ErrorCode::kCorruptInput, fmt::format("{}: not a readable video ({})",
                                                        path.string(), out.status().message()));
  }
  VideoInfo info;
  try {
    const auto j = nlohmann::json::parse(*out);
    bool have_video = false;
    for (const auto& s : j.value("streams", nlohmann::json::array())) {
      const std::string type = s.value("codec_type", "");
      if (type == "audio" && !info.has_audio) {
        info.has_audio = true;
        info.audio_codec = s.value("codec_name", "");
      }
      if (type != "video" || have_video) continue;
      if (s.contains("disposition") && s["disposition"].value("attached_pic", 0) == 1) continue;
      have_video = true;
      info.width = s.value("width", 0);
      info.height = s.value("height", 0);
      std::string rate = s.value("avg_frame_rate", "0/0");
      if (ParseRational(rate) <= 0) rate = s.value("r_frame_rate", "0/0");
      info.fps_rational = rate;
      info.fps = ParseRational(rate);
      if (s.contains("nb_frames"))
        info.frames = std::atoll(s["nb_frames"].get<std::string>().c_str());
      int rotation = 0;
      if (s.contains("tags") && s["tags"].contains("rotate")) {
        rotation = std::atoi(s["tags"]["rotate"].get<std::string>().c_str());
      }
      for (const auto& sd : s.value("side_data_list", nlohmann::json::array())) {
        if (sd.contains("rotation")) rotation = -sd["rotation"].get<int>();
      }
      info.rotation = ((rotation % 360) + 360) % 360;
    }
    if (!have_video || info.width <= 0 || info.height <= 0 || info.fps <= 0) {
      return Status(ErrorCode::kCorruptInput,
                    fmt::format("{}: no decodable video stream", path.string()));
    }
  } catch (const std::exception& e) {
    return Status(ErrorCode::kCorruptInput,
                  fmt::format("{}: unexpected ffprobe output ({})", path.string(), e.what()));
  }
  if (info.rotation == 90 || info.rotation == 270) std::swap(info.width, info.height);
  if (stream) {
    info.frames = 0;  // unknown, maybe endless: its frame times cannot be read ahead either
    return info;
  }
  auto timestamps = times.get();
  if (!timestamps.ok()) return timestamps.status();
  if (VariableRate(*timestamps)) info.timestamps = std::move(timestamps).value();
  return info;
}

Expected<std::unique_ptr<VideoReader>> VideoReader::Open(const fs::path& path) {
  auto info = ProbeVideo(path);
  if (!info.ok()) return info.status();
  // -xerror: a decoding error ends the run with a failure instead of silently dropping frames.
  std::vector<std::string> args = {"ffmpeg", "-v", "error", "-nostdin", "-xerror"};
  const auto input = InputArgs(path);
  args.insert(args.end(), input.begin(), input.end());
  args.insert(args.end(), {"-map", "0:v:0", "-fps_mode", "passthrough", "-f", "rawvideo",
                           "-pix_fmt", "bgr24", "pipe:1"});
  auto proc = Subprocess::Start(args, Subprocess::kStdout);
  if (!proc.ok()) return proc.status();
  return std::unique_ptr<VideoReader>(
      std::make_unique<FfmpegReader>(std::move(proc).value(), std::move(info).value(), path));
}

Expected<std::unique_ptr<VideoWriter>> VideoWriter::Open(const fs::path& path,
                                                         const fs::path& source,
                                                         const VideoInfo& info,
                                                         const VideoWriteOptions& options) {
  const Container c = ContainerFor(path);
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string tmpl = (dir / ("." + path.filename().string() + ".standin-XXXXXX")).string();
  const int fd = mkstemp(tmpl.data());
  if (fd < 0) return WriteError(path, errno);
  fchmod(fd, DefaultFileMode());
  close(fd);
  std::vector<std::string> args = {"ffmpeg",
                                   "-v",
                                   "error",
                                   "-nostdin",
                                   "-y",
                                   "-f",
                                   "rawvideo",
                                   "-pix_fmt",
                                   "bgr24",
                                   "-s",
                                   fmt::format("{}x{}", info.width, info.height),
                                   "-framerate",
                                   info.fps_rational,
                                   "-i",
                                   "pipe:0"};
  const std::vector<std::string> video_codec = {"-c:v",      "libx264",
                                                "-preset",   options.preset,
                                                "-crf",      std::to_string(options.crf),
                                                "-pix_fmt",  "yuv420p",
                                                "-threads",  "1",
                                                "-fps_mode", "passthrough"};
  // Audio and metadata come from the source; its video stream is not used.
  std::string audio_codec;
  // A stream is not opened a second time (a camera is busy, a live source moves on).
  const bool from_source = !IsStream(source);
  if (from_source && options.keep_audio && info.has_audio) audio_codec = info.audio_codec;
  if (from_source && options.keep_audio && info.has_audio && audio_codec.empty()) {
    // A VideoInfo not from ProbeVideo (which names the codec): ask ffprobe.
    auto probe = RunCapture({"ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries",
                             "stream=codec_name", "-of", "csv=p=0", source.string()});
    if (probe.ok()) {
      audio_codec = *probe;
      while (!audio_codec.empty() && std::isspace(static_cast<unsigned char>(audio_codec.back()))) {
        audio_codec.pop_back();
      }
    }
  }
  const bool with_audio = !audio_codec.empty();
  // The part of the final command that takes the video from input 0 and the rest from the source.
  std::vector<std::string> final_args;
  const bool metadata = from_source && options.keep_metadata;
  if (with_audio || metadata) final_args.insert(final_args.end(), {"-i", source.string()});
  final_args.insert(final_args.end(), {"-map", "0:v:0"});
  if (with_audio) {
    final_args.insert(final_args.end(), {"-map", "1:a:0"});
    const bool copy =
        std::find(c.audio_copy.begin(), c.audio_copy.end(), "*") != c.audio_copy.end() ||
        std::find(c.audio_copy.begin(), c.audio_copy.end(), audio_codec) != c.audio_copy.end();
    if (copy) {
      final_args.insert(final_args.end(), {"-c:a", "copy"});
    } else {
      final_args.insert(final_args.end(), {"-c:a", c.audio_encoder, "-b:a", "192k"});
    }
  }
  final_args.insert(final_args.end(),
                    {"-map_metadata", options.keep_metadata ? "1" : "-1", "-map_chapters", "-1"});
  std::optional<VariableRateSteps> vfr;
  if (info.timestamps.empty()) {
    args.insert(args.end(), final_args.begin(), final_args.end());
    args.insert(args.end(), video_codec.begin(), video_codec.end());
    if (c.muxer == "mp4" || c.muxer == "mov") args.insert(args.end(), {"-movflags", "+faststart"});
    args.insert(args.end(), {"-f", c.muxer, tmpl});
  } else {
    vfr.emplace();
    vfr->timestamps = info.timestamps;
    vfr->encoded = tmpl + ".video.mkv";
    vfr->timed = tmpl + ".timed.mkv";
    vfr->times = tmpl + ".times.txt";
    args.insert(args.end(), {"-map", "0:v:0"});
    args.insert(args.end(), video_codec.begin(), video_codec.end());
    args.insert(args.end(), {"-f", "matroska", vfr->encoded.string()});
    // The input file is inserted after "-y" when the timed file exists (Retime()).
    vfr->remux = {"ffmpeg", "-v", "error", "-nostdin", "-y"};
    vfr->remux.insert(vfr->remux.end(), final_args.begin(), final_args.end());
    vfr->remux.insert(vfr->remux.end(), {"-c:v", "copy"});
    if (c.muxer == "mp4" || c.muxer == "mov") {
      vfr->remux.insert(vfr->remux.end(), {"-movflags", "+faststart"});
    }
    vfr->remux.insert(vfr->remux.end(), {"-f", c.muxer});
  }
  auto proc = Subprocess::Start(args, Subprocess::kStdin);
  if (!proc.ok()) {
    unlink(tmpl.c_str());
    return proc.status();
  }
  return std::unique_ptr<VideoWriter>(
      std::make_unique<FfmpegWriter>(std::move(proc).value(), tmpl, path, info, std::move(vfr)));
}

}  // namespace standin::io
