// Classic anonymization methods: blur, pixelate, solid, through a soft-edged face mask.
#include "standin/methods.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "blend/blend.hpp"

namespace standin {
namespace {

// Face size used to scale every method's strength: the larger side of the face box.
float FaceSize(const Face& f) { return std::max(f.box.width, f.box.height); }

// Roll of the face from the eye line, in degrees; 0 without keypoints.
float RollDegrees(const Face& f) {
  const cv::Point2f d = f.kps5[kRightEye] - f.kps5[kLeftEye];
  if (d.x <= 0.f || std::hypot(d.x, d.y) < 1e-3f) return 0.f;
  const float deg = static_cast<float>(std::atan2(d.y, d.x) * 180.0 / CV_PI);
  return std::clamp(deg, -60.f, 60.f);
}

class ClassicMethod final : public FaceMethod {
 public:
  explicit ClassicMethod(MethodOptions options) : options_(std::move(options)) {}

  Status Apply(cv::Mat& bgr, std::vector<Face>& faces) override {
    if (bgr.empty() || bgr.type() != CV_8UC3) {
      return {ErrorCode::kInvalidArgument, "methods expect an 8-bit BGR image"};
    }
    // Largest face last, so a large face covering a small one wins where they overlap.
    std::vector<size_t> order(faces.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return faces[a].box.area() < faces[b].box.area(); });
    for (size_t i : order) {
      Face& face = faces[i];
      const FaceRegion region = MakeFaceRegion(face, bgr.size(), options_);
      face.method = MethodName(options_.kind);
      if (region.roi.empty()) continue;  // entirely outside the image: nothing to hide
      cv::Mat roi = bgr(region.roi);
      cv::Mat replaced = Render(roi, face);
      blend::AlphaBlend(roi, replaced, region.alpha);
    }
    return Status::Ok();
  }

 private:
  cv::Mat Render(const cv::Mat& roi, const Face& face) const {
    const float size = FaceSize(face);
    cv::Mat out;
    switch (options_.kind) {
      case MethodKind::kBlur: {
        // A Gaussian of sigma = strength * face size, computed on a downscaled copy so the cost
        // does not grow with the face.
        const double sigma = std::max(1.0, static_cast<double>(options_.blur_strength * size));
        const double shrink = std::max(1.0, sigma / 2.0);
        cv::Mat small;
        const cv::Size small_size(std::max(1, static_cast<int>(roi.cols / shrink)),
                                  std::max(1, static_cast<int>(roi.rows / shrink)));
        cv::resize(roi, small, small_size, 0, 0, cv::INTER_AREA);
        cv::GaussianBlur(small, small, cv::Size(), sigma / shrink, sigma / shrink,
                         cv::BORDER_REPLICATE);
        cv::resize(small, out, roi.size(), 0, 0, cv::INTER_LINEAR);
        break;
      }
      case MethodKind::kPixelate: {
        const float block =
            std::max(1.f, face.box.width / static_cast<float>(options_.pixel_blocks));
        const cv::Size grid(std::max(1, static_cast<int>(std::ceil(roi.cols / block))),
                            std::max(1, static_cast<int>(std::ceil(roi.rows / block))));
        cv::Mat small;
        cv::resize(roi, small, grid, 0, 0, cv::INTER_AREA);
        cv::resize(small, out, roi.size(), 0, 0, cv::INTER_NEAREST);
        break;
      }
      case MethodKind::kSolid:
      case MethodKind::kGenerate:  // not a classic method; MakeMethod never builds it
        out = cv::Mat(roi.size(), roi.type(), options_.solid_color);
        break;
    }
    return out;
  }

  MethodOptions options_;
};

}  // namespace

const char* MethodName(MethodKind kind) {
  switch (kind) {
    case MethodKind::kBlur:
      return "blur";
    case MethodKind::kPixelate:
      return "pixelate";
    case MethodKind::kSolid:
      return "solid";
    case MethodKind::kGenerate:
      return "generate";
  }
  return "unknown";
}

Expected<MethodKind> ParseMethod(const std::string& name) {
  if (name == "blur") return MethodKind::kBlur;
  if (name == "pixelate") return MethodKind::kPixelate;
  if (name == "solid") return MethodKind::kSolid;
  if (name == "generate") return MethodKind::kGenerate;
  return Status(ErrorCode::kInvalidArgument,
                fmt::format("unknown method '{}' (generate, blur, pixelate, solid)", name));
}

FaceRegion MakeFaceRegion(const Face& face, cv::Size image_size, const MethodOptions& options) {
  const float size = FaceSize(face);
  const float scale = options.mask_scale;
  // The dlib-convention box spans brows to chin; the ellipse reaches up to the hairline.
  const cv::Point2f centre(face.box.x + face.box.width / 2,
                           face.box.y + face.box.height * (options.boxes ? 0.5f : 0.42f));
  const cv::Size2f axes =
      options.boxes ? cv::Size2f(face.box.width * scale / 2, face.box.height * scale / 2)
                    : cv::Size2f(face.box.width * scale / 2, face.box.height * scale * 0.62f);
  const float sigma = options.boxes ? 0.f : options.feather * size;
  // Grow the hard shape by the soft edge so that alpha is ~1 over the whole nominal shape.
  const float grow = 1.5f * sigma;
  const float reach = std::max(axes.width, axes.height) + 3.f * sigma + grow + 2.f;
  const cv::Rect bounds(static_cast<int>(std::floor(centre.x - reach)),
                        static_cast<int>(std::floor(centre.y - reach)),
                        static_cast<int>(std::ceil(2 * reach)),
                        static_cast<int>(std::ceil(2 * reach)));
  FaceRegion region;
  region.roi = bounds & cv::Rect(0, 0, image_size.width, image_size.height);
  if (region.roi.empty()) return region;
  const cv::Point2f local =
      centre - cv::Point2f(static_cast<float>(region.roi.x), static_cast<float>(region.roi.y));
  if (options.boxes) {
    cv::Mat1b hard = cv::Mat1b::zeros(region.roi.size());
    const cv::Point tl(static_cast<int>(std::floor(local.x - axes.width)),
                       static_cast<int>(std::floor(local.y - axes.height)));
    const cv::Point br(static_cast<int>(std::ceil(local.x + axes.width)),
                       static_cast<int>(std::ceil(local.y + axes.height)));
    cv::rectangle(hard, tl, br, cv::Scalar(255), cv::FILLED);
    hard.convertTo(region.alpha, CV_32F, 1.0 / 255.0);
    return region;
  }
  // The soft ellipse is smooth, so it is drawn and blurred on a grid `f` times coarser and
  // resized up: the cost stays flat as faces grow.
  const float f = std::max(1.f, sigma / 2.f);
  const cv::Size small(std::max(1, static_cast<int>(std::ceil(region.roi.width / f))),
                       std::max(1, static_cast<int>(std::ceil(region.roi.height / f))));
  cv::Mat1b hard = cv::Mat1b::zeros(small);
  cv::ellipse(hard,
              cv::RotatedRect(local / f,
                              cv::Size2f(2 * (axes.width + grow) / f, 2 * (axes.height + grow) / f),
                              RollDegrees(face)),
              cv::Scalar(255), cv::FILLED, cv::LINE_AA);
  cv::Mat1f soft;
  hard.convertTo(soft, CV_32F, 1.0 / 255.0);
  if (sigma > 0.5f) cv::GaussianBlur(soft, soft, cv::Size(), sigma / f, sigma / f);
  if (small == region.roi.size()) {
    region.alpha = soft;
  } else {
    cv::resize(soft, region.alpha, region.roi.size(), 0, 0, cv::INTER_LINEAR);
  }
  return region;
}

std::unique_ptr<FaceMethod> MakeMethod(const MethodOptions& options) {
  return std::make_unique<ClassicMethod>(options);
}

}  // namespace standin
