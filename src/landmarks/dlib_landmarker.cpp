// 68-point landmarks with dlib's ensemble-of-regression-trees shape predictor (Debian's
// libdlib-data model). dlib is confined to this file.
#include <dlib/image_processing.h>
#include <dlib/opencv/cv_image.h>
#include <fmt/core.h>

#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "standin/landmarker.hpp"

namespace standin {
namespace {

class DlibLandmarker final : public Landmarker {
 public:
  explicit DlibLandmarker(dlib::shape_predictor predictor) : predictor_(std::move(predictor)) {}

  Status Annotate(const cv::Mat& bgr, std::vector<Face>& faces) override {
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
          errors[i] = Fit(bgr, faces[i]);
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

 private:
  // Fits one face's 68 landmarks; an error message, or "" when it worked.
  std::string Fit(const cv::Mat& bgr, Face& f) const {
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
    const dlib::full_object_detection shape = predictor_(img, rect);
    if (shape.num_parts() != 68) return "landmark model did not return 68 points";
    for (unsigned long i = 0; i < 68; ++i) {
      f.landmarks68[i] = cv::Point2f(static_cast<float>(shape.part(i).x() + around.x),
                                     static_cast<float>(shape.part(i).y() + around.y));
    }
    f.kps5 = KeypointsFrom68(f.landmarks68);
    return "";
  }

  dlib::shape_predictor predictor_;
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

Expected<std::unique_ptr<Landmarker>> MakeLandmarker(const ModelStore& models) {
  auto path = models.Path("shape_predictor_68_face_landmarks.dat");
  if (!path.ok()) return path.status();
  dlib::shape_predictor predictor;
  try {
    dlib::deserialize(path->string()) >> predictor;
  } catch (const std::exception& e) {
    return Status(ErrorCode::kModelMissing,
                  fmt::format("model file {} cannot be loaded ({}); restore it with: "
                              "apt-get install --reinstall libdlib-data",
                              path->string(), e.what()));
  }
  if (predictor.num_parts() != 68) {
    return Status(ErrorCode::kModelMissing, "landmark model does not predict 68 points");
  }
  return std::unique_ptr<Landmarker>(std::make_unique<DlibLandmarker>(std::move(predictor)));
}

}  // namespace standin
