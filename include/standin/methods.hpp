// What is done to each face: the anonymization methods and the shape of the region they cover.
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "standin/face.hpp"
#include "standin/status.hpp"

namespace standin {

enum class MethodKind {
  kBlur,
  kPixelate,
  kSolid,
  kGenerate,  // a generated stand-in face (standin/generator.hpp); needs the trained model
};

const char* MethodName(MethodKind kind);
// Parses "blur", "pixelate", "solid" or "generate".
Expected<MethodKind> ParseMethod(const std::string& name);

struct MethodOptions {
  MethodKind kind = MethodKind::kBlur;
  // Cover each face with a rectangle instead of a soft-edged ellipse.
  bool boxes = false;
  // Size of the covered region relative to the face box (1.3 reaches hairline and chin).
  float mask_scale = 1.3f;
  // Width of the soft edge of the ellipse, as a fraction of the face size (0 = hard edge).
  float feather = 0.08f;
  // Blur: Gaussian sigma as a fraction of the face width. 0.25 leaves no facial detail.
  float blur_strength = 0.25f;
  // Pixelate: number of blocks across the face width.
  int pixel_blocks = 8;
  // Solid: fill colour (B, G, R).
  cv::Scalar solid_color{0, 0, 0};
};

// The region covered for a face, as a float mask in [0, 1] the size of `size`, restricted to
// `roi` (the returned rectangle, clipped to the image).
struct FaceRegion {
  cv::Rect roi;     // where the mask sits in the image
  cv::Mat1f alpha;  // roi-sized, 1 = fully replaced
};
FaceRegion MakeFaceRegion(const Face& face, cv::Size image_size, const MethodOptions& options);

class FaceMethod {
 public:
  virtual ~FaceMethod() = default;
  // Anonymizes every face of `faces` in `bgr` in place and records the method in each face.
  virtual Status Apply(cv::Mat& bgr, std::vector<Face>& faces) = 0;
};

// Blur, pixelate or solid (generate is made by the Anonymizer, which holds the models).
std::unique_ptr<FaceMethod> MakeMethod(const MethodOptions& options);

}  // namespace standin
