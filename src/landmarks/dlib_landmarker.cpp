// 68-point landmarks with dlib's ensemble-of-regression-trees shape predictor (Debian's
// libdlib-data model). dlib is confined to this file.
#include <dlib/image_processing.h>
#include <dlib/opencv/cv_image.h>
#include <fmt/core.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "standin/landmarker.hpp"

namespace standin {
namespace {

// Cascades of the model used to follow a face between video frames. The 68-point model has 10;
// the first ones place and size the shape, the later ones refine its details. See
// docs/performance.md for the measurement behind 4.
constexpr std::size_t kQuickCascades = 4;

class DlibLandmarker final : public Landmarker {
 public:
  DlibLandmarker(dlib::shape_predictor full, dlib::shape_predictor quick)
      : full_(std::move(full)), quick_(std::move(quick)) {}

  Status Annotate(const cv::Mat& bgr, std::vector<Face>& faces) override {
    return FitAll(full_, bgr, faces);
  }
  Status AnnotateQuick(const cv::Mat& bgr, std::vector<Face>& faces) override {
    return FitAll(quick_, bgr, faces);
  }

 private:
  static Status FitAll(const dlib::shape_predictor& predictor, const cv::Mat& bgr,
                       std::vector<Face>& faces) {
    if (bgr.empty() || bgr.type() != CV_8UC3) {
      return {ErrorCode::kInvalidArgument, "landmarker expects an 8-bit BGR image"};
    }
    // Faces are independent and the predictor is read-only: fit them in parallel (in video the
    // per-frame landmark fits are the largest single cost of following faces).
    std::vector<std::string> errors(faces.size());
    cv::parallel_for_(cv::Range(0, static_cast<int>(faces.size())), [&](const cv::Range& r) {
      for (int k = r.start; k < r.end; ++k) {
        const auto i = static_cast<std::size_t>(k);
        try {
          errors[i] = Fit(predictor, bgr, faces[i]);
        } catch (const std::exception& e) {
          errors[i] = fmt::format("landmarks failed: {}", e.what());
        }
      }
    });
    for (const auto& e : errors) {
      if (!e.empty()) return {ErrorCode::kProcessingFailed, e};
    }
    return Status::Ok();
  }

  // Fits one face's 68 landmarks; an error message, or "" when it worked.
  static std::string Fit(const dlib::shape_predictor& predictor, const cv::Mat& bgr, Face& f) {
    // The predictor reads intensities only, from around the box: convert just that part.
    const cv::Rect2f& b = f.box;
    const cv::Rect around = cv::Rect(static_cast<int>(std::floor(b.x - b.width)),
                                     static_cast<int>(std::floor(b.y - b.height)),
                                     static_cast<int>(std::ceil(3 * b.width)),
                                     static_cast<int>(std::ceil(3 * b.height))) &
                            cv::Rect(0, 0, bgr.cols, bgr.rows);
    f.landmarks68.assign(68, cv::Point2f(b.x + b.width / 2, b.y + b.height / 2));
    if (around.empty()) return "";  // entirely outside the image: nothing to fit
    cv::Mat gray;
    cv::cvtColor(bgr(around), gray, cv::COLOR_BGR2GRAY);
    const dlib::cv_image<unsigned char> img(gray);
    const dlib::rectangle rect(std::lround(b.x - around.x), std::lround(b.y - around.y),
                               std::lround(b.x - around.x + b.width - 1),
                               std::lround(b.y - around.y + b.height - 1));
    const dlib::full_object_detection shape = predictor(img, rect);
    if (shape.num_parts() != 68) return "landmark model did not return 68 points";
    for (unsigned long i = 0; i < 68; ++i) {
      f.landmarks68[i] = cv::Point2f(static_cast<float>(shape.part(i).x() + around.x),
                                     static_cast<float>(shape.part(i).y() + around.y));
    }
    f.kps5 = KeypointsFrom68(f.landmarks68);
    return "";
  }

  dlib::shape_predictor full_;
  dlib::shape_predictor quick_;
};

// Reads dlib's shape_predictor file member by member (the layout of dlib's own deserialize()),
// so that besides the whole model a quick one made of its first cascades can be built.
Expected<std::unique_ptr<Landmarker>> LoadDlib(const std::filesystem::path& path) {
  auto failed = [&](const std::string& why) {
    return Status(ErrorCode::kModelMissing,
                  fmt::format("model file {} cannot be loaded ({}); restore it with: "
                              "apt-get install --reinstall libdlib-data",
                              path.string(), why));
  };
  dlib::matrix<float, 0, 1> initial;
  std::vector<std::vector<dlib::impl::regression_tree>> forests;
  std::vector<std::vector<unsigned long>> anchor_idx;
  std::vector<std::vector<dlib::vector<float, 2>>> deltas;
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) return failed("cannot open");
    int version = 0;
    dlib::deserialize(version, in);
    if (version != 1) return failed(fmt::format("unknown shape_predictor version {}", version));
    dlib::deserialize(initial, in);
    dlib::deserialize(forests, in);
    dlib::deserialize(anchor_idx, in);
    dlib::deserialize(deltas, in);
  } catch (const std::exception& e) {
    return failed(e.what());
  }
  if (initial.size() != 2 * 68) return failed("the model does not predict 68 points");
  if (forests.empty() || anchor_idx.size() != forests.size() || deltas.size() != forests.size()) {
    return failed("inconsistent cascades");
  }
  // Back from dlib's shape-relative encoding (anchor landmark + offset) to the feature pixels'
  // coordinates in the mean shape, which is what its constructor takes.
  std::vector<std::vector<dlib::vector<float, 2>>> pixels(forests.size());
  for (std::size_t c = 0; c < forests.size(); ++c) {
    if (anchor_idx[c].size() != deltas[c].size()) return failed("inconsistent feature pixels");
    for (std::size_t k = 0; k < deltas[c].size(); ++k) {
      if (anchor_idx[c][k] >= 68) return failed("feature pixel anchored outside the shape");
      pixels[c].push_back(dlib::impl::location(initial, anchor_idx[c][k]) + deltas[c][k]);
    }
  }
  const std::size_t quick = std::min(kQuickCascades, forests.size());
  dlib::shape_predictor quick_predictor(
      initial, {forests.begin(), forests.begin() + static_cast<long>(quick)},
      {pixels.begin(), pixels.begin() + static_cast<long>(quick)});
  dlib::shape_predictor full_predictor(initial, forests, pixels);
  return std::unique_ptr<Landmarker>(
      std::make_unique<DlibLandmarker>(std::move(full_predictor), std::move(quick_predictor)));
}

// A landmarker still being loaded by another thread: the first call waits for it.
class BackgroundLandmarker final : public Landmarker {
 public:
  explicit BackgroundLandmarker(std::future<Expected<std::unique_ptr<Landmarker>>> loading)
      : loading_(std::move(loading)) {}

  Status Annotate(const cv::Mat& bgr, std::vector<Face>& faces) override {
    auto ready = Ready();
    if (!ready.ok()) return ready.status();
    return (*ready)->Annotate(bgr, faces);
  }
  Status AnnotateQuick(const cv::Mat& bgr, std::vector<Face>& faces) override {
    auto ready = Ready();
    if (!ready.ok()) return ready.status();
    return (*ready)->AnnotateQuick(bgr, faces);
  }

 private:
  // The loaded landmarker (waiting for it the first time).
  Expected<Landmarker*> Ready() {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (loading_.valid()) {
      auto loaded = loading_.get();
      if (loaded.ok()) {
        ready_ = std::move(loaded).value();
      } else {
        error_ = loaded.status();
      }
    }
    if (!ready_) return error_;
    return ready_.get();
  }

  std::mutex mutex_;
  std::future<Expected<std::unique_ptr<Landmarker>>> loading_;
  std::unique_ptr<Landmarker> ready_;
  Status error_;
};

}  // namespace

std::array<cv::Point2f, 5> KeypointsFrom68(const std::vector<cv::Point2f>& p) {
  auto mean = [&](int from, int to) {
    cv::Point2f s(0, 0);
    for (int i = from; i <= to; ++i) s += p[static_cast<size_t>(i)];
    return s * (1.f / static_cast<float>(to - from + 1));
  };
  return {mean(36, 41), mean(42, 47), p[30], p[48], p[54]};
}

Expected<std::unique_ptr<Landmarker>> MakeLandmarker(const ModelStore& models, bool in_background) {
  auto path = models.Path("shape_predictor_68_face_landmarks.dat");
  if (!path.ok()) return path.status();
  if (!in_background) return LoadDlib(*path);
  return std::unique_ptr<Landmarker>(std::make_unique<BackgroundLandmarker>(
      std::async(std::launch::async, LoadDlib, std::filesystem::path(*path))));
}

}  // namespace standin
