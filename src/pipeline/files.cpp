#include "standin/files.hpp"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

namespace standin {
namespace fs = std::filesystem;
namespace {

bool SamePath(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) return fs::equivalent(a, b, ec);
  return fs::weakly_canonical(a, ec) == fs::weakly_canonical(b, ec);
}

std::string Suffix(FileMode mode) {
  return mode == FileMode::kDraw ? "_detections" : "_anonymized";
}

// Default output extension: the input's, except that WebM cannot carry H.264.
std::string OutputExtension(const fs::path& in) {
  std::string ext = in.extension().string();
  std::string lower = ext;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return lower == ".webm" ? ".mp4" : ext;
}

fs::path NextTo(const fs::path& in, FileMode mode) {
  return in.parent_path() / (in.stem().string() + Suffix(mode) + OutputExtension(in));
}

fs::path InFolder(const fs::path& folder, const fs::path& relative) {
  fs::path out = folder / relative;
  out.replace_extension(OutputExtension(relative));
  return out;
}

}  // namespace

Expected<std::vector<FileJob>> PlanJobs(const std::vector<fs::path>& inputs,
                                        const PlanOptions& options) {
  if (inputs.empty()) return Status(ErrorCode::kInvalidArgument, "no input given");
  const bool detect_only = options.mode == FileMode::kDetectOnly;
  std::error_code ec;
  bool any_folder = false;
  for (const auto& in : inputs) {
    if (!io::IsStream(in) && !fs::exists(in, ec))
      return Status(ErrorCode::kNotFound, fmt::format("{}: no such file or folder", in.string()));
    any_folder = any_folder || fs::is_directory(in, ec);
  }
  // Is -o a folder?
  const bool out_is_folder =
      options.output && (inputs.size() > 1 || any_folder || fs::is_directory(*options.output, ec) ||
                         options.output->string().back() == '/');
  std::vector<FileJob> jobs;
  for (const auto& in : inputs) {
    if (io::IsStream(in)) {
      FileJob job{in, {}, io::MediaKind::kVideo};
      if (!detect_only) {
        if (!options.output || out_is_folder) {
          return Status(ErrorCode::kInvalidArgument,
                        fmt::format("{}: a stream or camera needs -o with an output video file "
                                    "(and no other input)",
                                    in.string()));
        }
        job.output = *options.output;
      }
      jobs.push_back(std::move(job));
      continue;
    }
    if (fs::is_directory(in, ec)) {
      const fs::path root =
          options.output ? (inputs.size() > 1 ? *options.output / in.filename() : *options.output)
                         : fs::path(in.string() + Suffix(options.mode));
      std::vector<fs::path> found;
      for (auto it = fs::recursive_directory_iterator(
               in, fs::directory_options::skip_permission_denied, ec);
           !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const fs::path& p = it->path();
        if (it->is_directory(ec)) {
          // Never descend into the output folder (or hidden folders).
          if ((!detect_only && SamePath(p, root)) || p.filename().string().starts_with(".")) {
            it.disable_recursion_pending();
          }
          continue;
        }
        if (!it->is_regular_file(ec) || p.filename().string().starts_with(".")) continue;
        if (io::KindOf(p) == io::MediaKind::kUnsupported) continue;
        found.push_back(p);
      }
      if (ec) {
        return Status(ErrorCode::kUnreadable,
                      fmt::format("{}: cannot list folder ({})", in.string(), ec.message()));
      }
      if (found.empty()) {
        return Status(ErrorCode::kNoInputs,
                      fmt::format("{}: no images or videos in this folder", in.string()));
      }
      std::sort(found.begin(), found.end());
      for (const auto& p : found) {
        FileJob job{p, {}, io::KindOf(p)};
        // Lexically: a symbolic link inside the folder keeps its own name and place in the output.
        if (!detect_only) job.output = InFolder(root, p.lexically_relative(in));
        jobs.push_back(std::move(job));
      }
      continue;
    }
    const io::MediaKind kind = io::KindOf(in);
    if (kind == io::MediaKind::kUnsupported) {
      return Status(ErrorCode::kUnsupported,
                    fmt::format("{}: unsupported file type '{}' (images: jpg png webp bmp tiff; "
                                "videos: mp4 mov mkv avi webm)",
                                in.string(), in.extension().string()));
    }
    FileJob job{in, {}, kind};
    if (!detect_only) {
      if (!options.output) {
        job.output = NextTo(in, options.mode);
      } else if (out_is_folder) {
        job.output = InFolder(*options.output, in.filename());
      } else {
        job.output = *options.output;
      }
    }
    jobs.push_back(std::move(job));
  }
  if (!detect_only) {
    std::set<fs::path> outputs;
    for (const auto& job : jobs) {
      for (const auto& other : jobs) {
        if (SamePath(job.output, other.input)) {
          return Status(ErrorCode::kOutputConflict,
                        fmt::format("{}: output would overwrite an input; choose another -o",
                                    job.output.string()));
        }
      }
      if (options.output && !out_is_folder && io::KindOf(job.output) != job.kind) {
        return Status(
            ErrorCode::kInvalidArgument,
            fmt::format("{}: output extension does not fit a{} input", job.output.string(),
                        job.kind == io::MediaKind::kVideo ? " video" : "n image"));
      }
      if (!outputs.insert(fs::weakly_canonical(job.output, ec)).second) {
        return Status(
            ErrorCode::kOutputConflict,
            fmt::format("{}: two inputs would write the same output", job.output.string()));
      }
    }
  }
  return jobs;
}

namespace {

Status PrepareOutputFolder(const fs::path& output) {
  const fs::path dir = output.has_parent_path() ? output.parent_path() : fs::path(".");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir) || access(dir.c_str(), W_OK) != 0) {
    return {ErrorCode::kOutputNotWritable,
            fmt::format("{}: output folder is not writable", dir.string())};
  }
  return Status::Ok();
}

Expected<cv::Mat> Render(Anonymizer& anonymizer, const cv::Mat& frame, FileMode mode,
                         std::vector<Face>& faces) {
  if (mode == FileMode::kAnonymize) {
    auto out = anonymizer.Process(frame);
    if (!out.ok()) return out.status();
    faces = std::move(out->faces);
    return std::move(out->image);
  }
  auto found = anonymizer.Detect(frame);
  if (!found.ok()) return found.status();
  faces = std::move(found).value();
  return mode == FileMode::kDraw ? DrawFaces(frame, faces) : cv::Mat();
}

// A bounded, closable queue of frames between the tracking and the rendering thread.
class FrameQueue {
 public:
  explicit FrameQueue(size_t capacity) : capacity_(capacity) {}
  // False if the queue was closed (the consumer gave up).
  bool Push(VideoFrame vf) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(vf));
    not_empty_.notify_one();
    return true;
  }
  // False when closed and drained.
  bool Pop(VideoFrame& vf) {
    std::unique_lock lock(mu_);
    not_empty_.wait(lock, [&] { return closed_ || !items_.empty(); });
    if (items_.empty()) return false;
    vf = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return true;
  }
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_empty_.notify_all();
    not_full_.notify_all();
  }

 private:
  size_t capacity_;
  std::deque<VideoFrame> items_;
  std::mutex mu_;
  std::condition_variable not_empty_, not_full_;
  bool closed_ = false;
};

}  // namespace

Expected<FileReport> ProcessFile(Anonymizer& anonymizer, const FileJob& job,
                                 const FileOptions& options, const ProgressFn& progress) {
  FileReport report;
  report.job = job;
  const bool write = options.mode != FileMode::kDetectOnly;
  if (write) {
    if (Status s = PrepareOutputFolder(job.output); !s.ok()) return s;
  }
  if (job.kind == io::MediaKind::kImage) {
    auto img = io::ReadImage(job.input);
    if (!img.ok()) return img.status();
    report.width = img->cols;
    report.height = img->rows;
    std::vector<Face> faces;
    auto out = Render(anonymizer, *img, options.mode, faces);
    if (!out.ok()) return out.status();
    report.frames.push_back(std::move(faces));
    if (write) {
      io::ImageWriteOptions w;
      w.jpeg_quality = options.jpeg_quality;
      if (options.keep_metadata) w.metadata_from = job.input;
      if (Status s = io::WriteImage(job.output, *out, w); !s.ok()) return s;
    }
    if (progress) progress(1, 1);
    return report;
  }
  auto reader = io::VideoReader::Open(job.input);
  if (!reader.ok()) return reader.status();
  const io::VideoInfo& info = (*reader)->info();
  report.width = info.width;
  report.height = info.height;
  report.fps = info.fps;
  report.frame_times = info.timestamps;
  std::unique_ptr<io::VideoWriter> writer;
  if (write) {
    io::VideoWriteOptions vw = options.video;
    vw.keep_audio = options.keep_audio;
    vw.keep_metadata = options.keep_metadata;
    auto w = io::VideoWriter::Open(job.output, job.input, info, vw);
    if (!w.ok()) return w.status();
    writer = std::move(w).value();
  }
  // Two stages on two threads: this one decodes, detects and tracks; a renderer applies the
  // method and feeds the encoder. A small bounded queue between them keeps memory constant.
  VideoTrackOptions tracking = options.tracking;
  if (options.mode != FileMode::kAnonymize) tracking.quick_follow = false;  // draws landmarks
  FaceTracker tracker(anonymizer, tracking);
  FrameQueue queue(4);
  Status render_status;
  std::int64_t written = 0;
  std::thread renderer([&] {
    VideoFrame vf;
    while (queue.Pop(vf)) {
      if (writer) {
        cv::Mat out;
        if (options.mode == FileMode::kAnonymize) {
          // The frame is this thread's own: anonymized where it lies, no copy.
          if (Status s = anonymizer.ApplyInPlace(vf.image, vf.faces); !s.ok()) {
            render_status = {s.code(), fmt::format("{}: frame {}: {}", job.input.string(), vf.index,
                                                   s.message())};
            queue.Close();
            return;
          }
          out = vf.image;
        } else {
          out = DrawFaces(vf.image, vf.faces);
        }
        if (Status s = writer->Write(out); !s.ok()) {
          render_status = s;
          queue.Close();
          return;
        }
      }
      report.frames.push_back(std::move(vf.faces));
      ++written;
      if (progress) progress(written, info.frames);
    }
  });
  Status read_status = [&]() -> Status {
    std::vector<VideoFrame> ready;
    while (true) {
      cv::Mat frame;  // a new buffer each time: the frame moves on to the tracker and renderer
      if (options.stop && options.stop->load()) {
        // A stream or camera ends here and is written; a file left half done is not.
        if (io::IsStream(job.input)) break;
        return {ErrorCode::kInterrupted,
                fmt::format("{}: interrupted; nothing written for it", job.input.string())};
      }
      auto more = (*reader)->Read(frame);
      if (!more.ok()) return more.status();
      if (!*more) break;
      if (Status s = tracker.Push(std::move(frame), ready); !s.ok()) {
        return {s.code(), fmt::format("{}: {}", job.input.string(), s.message())};
      }
      for (auto& vf : ready) {
        if (!queue.Push(std::move(vf))) return Status::Ok();  // the renderer failed
      }
      ready.clear();
    }
    tracker.Flush(ready);
    for (auto& vf : ready) {
      if (!queue.Push(std::move(vf))) break;
    }
    return Status::Ok();
  }();
  queue.Close();
  renderer.join();
  // Fail closed: on any error the writer is dropped and its temporary file removed.
  if (!read_status.ok()) return read_status;
  if (!render_status.ok()) return render_status;
  const std::int64_t n = written;
  if (options.stop && options.stop->load() && io::IsStream(job.input)) {
    (*reader)->Stop();  // the source would go on: end the decoder
  } else if (Status s = (*reader)->Finish(); !s.ok()) {
    return s;
  }
  if (n == 0) {
    return Status(ErrorCode::kCorruptInput,
                  fmt::format("{}: video has no frames", job.input.string()));
  }
  if (writer) {
    if (Status s = writer->Finish(); !s.ok()) return s;
  }
  return report;
}

namespace {

nlohmann::json PointJson(const cv::Point2f& p) {
  return {std::round(p.x * 100) / 100, std::round(p.y * 100) / 100};
}

// `v` to a multiple of `unit` (0.001, 0.1, ...), for short numbers in the JSON.
double Rounded(double v, double unit) { return std::round(v / unit) * unit; }

nlohmann::json AttributesJson(float age, float p_female, const std::string& expression) {
  nlohmann::json j = {{"age", Rounded(age, 0.1)}, {"p_female", Rounded(p_female, 0.001)}};
  if (!expression.empty()) j["expression"] = expression;
  return j;
}

nlohmann::json FaceJson(const Face& f) {
  nlohmann::json j;
  j["box"] = {std::round(f.box.x * 100) / 100, std::round(f.box.y * 100) / 100,
              std::round(f.box.width * 100) / 100, std::round(f.box.height * 100) / 100};
  j["score"] = std::round(f.score * 1000) / 1000;
  j["keypoints5"] = nlohmann::json::array();
  for (const auto& p : f.kps5) j["keypoints5"].push_back(PointJson(p));
  if (!f.landmarks68.empty()) {
    j["landmarks68"] = nlohmann::json::array();
    for (const auto& p : f.landmarks68) j["landmarks68"].push_back(PointJson(p));
  }
  if (!f.method.empty()) j["method"] = f.method;
  if (!f.reason.empty()) j["reason"] = f.reason;
  if (f.resolution > 0) j["resolution"] = f.resolution;
  if (f.receipt) {
    const IdentityReceipt& r = *f.receipt;
    nlohmann::json g;
    g["recogniser"] = r.recogniser;
    g["margin"] = Rounded(r.margin, 0.001);
    g["passed"] = r.passed;
    if (r.passed) g["similarity"] = Rounded(r.similarity, 0.001);
    if (r.passed && r.donor >= 0) g["donor"] = r.donor;
    if (r.passed && r.faceness >= 0) g["faceness"] = Rounded(r.faceness, 0.001);
    if (r.passed && r.stranger_threshold > -1) {
      g["stranger_threshold"] = Rounded(r.stranger_threshold, 0.001);
    }
    g["candidates_drawn"] = r.drawn;
    g["candidates_rejected"] = r.rejected;
    if (!r.second.empty()) {  // each further recogniser, in the order named
      nlohmann::json seconds = nlohmann::json::array();
      for (const IdentityReceipt::Second& v : r.second) {
        nlohmann::json s;
        s["recogniser"] = v.recogniser;
        s["margin"] = Rounded(v.margin, 0.001);
        if (r.passed) s["similarity"] = Rounded(v.similarity, 0.001);
        if (r.passed && v.stranger_threshold > -1) {
          s["stranger_threshold"] = Rounded(v.stranger_threshold, 0.001);
        }
        seconds.push_back(std::move(s));
      }
      g["second"] = std::move(seconds);
    }
    if (r.frames_since_check > 0) g["checked_frames_ago"] = r.frames_since_check;
    g["attributes_before"] = AttributesJson(r.age_before, r.female_before, r.expression_before);
    if (r.passed) {
      g["attributes_after"] = AttributesJson(r.age_after, r.female_after, r.expression_after);
    }
    j["identity_guard"] = std::move(g);
  }
  if (f.track_id >= 0) {
    j["track"] = f.track_id;
    j["origin"] = f.origin;
  }
  return j;
}

}  // namespace

std::string SummarizeFaces(const std::vector<FileReport>& reports) {
  std::map<std::string, std::map<std::string, std::int64_t>> by_method;  // method -> reason -> n
  std::int64_t total = 0;
  for (const auto& r : reports) {
    for (const auto& frame : r.frames) {
      for (const auto& f : frame) {
        ++by_method[f.method][f.reason.substr(0, f.reason.find(" ("))];
        ++total;
      }
    }
  }
  std::vector<std::pair<std::int64_t, std::string>> order;
  for (const auto& [method, reasons] : by_method) {
    std::int64_t n = 0;
    for (const auto& [reason, k] : reasons) n += k;
    order.emplace_back(-n, method);
  }
  std::sort(order.begin(), order.end());
  std::string line = fmt::format("{} face{}", total, total == 1 ? "" : "s");
  for (std::size_t i = 0; i < order.size(); ++i) {
    const auto& reasons = by_method[order[i].second];
    line += fmt::format("{} {} {}", i == 0 ? ":" : ";", -order[i].first,
                        order[i].second.empty() ? "untouched" : order[i].second);
    std::string why;
    for (const auto& [reason, k] : reasons) {
      if (!reason.empty()) why += fmt::format("{}{} {}", why.empty() ? "" : ", ", k, reason);
    }
    if (!why.empty()) line += " (" + why + ")";
  }
  return line;
}

std::string ReportsToJson(const std::vector<FileReport>& reports,
                          const AnonymizerOptions& options) {
  nlohmann::json doc;
  doc["standin"] = "0.1.0";
  doc["box_format"] = "x, y, width, height in pixels (dlib face box convention)";
  doc["keypoints5_order"] = {"left_eye", "right_eye", "nose", "mouth_left", "mouth_right"};
  doc["detector"] = {{"model", options.detector.model},
                     {"threshold", options.detector.threshold},
                     {"min_face", options.detector.min_face}};
  doc["method"] = MethodName(options.method.kind);
  if (options.method.kind == MethodKind::kGenerate) {
    doc["seed"] = options.generator.seed;
    const IdentityGuardOptions& g = options.generator.guard;
    doc["identity_guard"] = {{"enabled", g.enabled}};
    if (g.enabled) {
      doc["identity_guard"].update(
          {{"recogniser", g.recogniser},
           {"margin", Rounded(g.margin, 0.001)},
           {"relative_margin", g.UsesRelativeMargin()},
           {"stranger_percentile", g.UsesStrangerTest() ? g.stranger_percentile : 0.f},
           {"candidates", g.candidates},
           {"donors", g.donors},
           {"donor_identity_weight", g.donor_identity_weight},
           {"good_enough", Rounded(g.good_enough, 0.001)},
           {"recheck_every", g.recheck_every},
           {"attribute_weight", g.attribute_weight},
           {"expression_weight", g.expression_weight},
           {"identity_weight", g.identity_weight},
           {"natural_weight", g.natural_weight},
           {"fallback", MethodName(g.fallback)},
           {"fallback_scale", Rounded(g.fallback_scale, 0.01)},
           {"note",
            "similarity = cosine similarity of the stand-in to the "
            "original face; the original's embedding is never written"}});
      for (const SecondJudge& judge : g.second) {
        doc["identity_guard"]["second"].push_back(
            {{"recogniser", judge.recogniser},
             {"margin", Rounded(judge.Margin(), 0.001)},
             {"stranger_percentile", judge.stranger_percentile}});
      }
    }
  }
  doc["files"] = nlohmann::json::array();
  for (const auto& r : reports) {
    nlohmann::json f;
    f["input"] = r.job.input.string();
    if (!r.job.output.empty()) f["output"] = r.job.output.string();
    f["width"] = r.width;
    f["height"] = r.height;
    if (r.job.kind == io::MediaKind::kImage) {
      f["faces"] = nlohmann::json::array();
      for (const auto& face : r.frames.at(0)) f["faces"].push_back(FaceJson(face));
    } else {
      f["fps"] = r.fps;
      f["variable_frame_rate"] = !r.frame_times.empty();
      f["frames"] = nlohmann::json::array();
      for (size_t i = 0; i < r.frames.size(); ++i) {
        nlohmann::json fr;
        fr["index"] = i;
        if (i < r.frame_times.size()) fr["time"] = Rounded(r.frame_times[i], 1e-6);
        fr["faces"] = nlohmann::json::array();
        for (const auto& face : r.frames[i]) fr["faces"].push_back(FaceJson(face));
        f["frames"].push_back(std::move(fr));
      }
    }
    doc["files"].push_back(std::move(f));
  }
  return doc.dump(1);
}

}  // namespace standin
