// Generated stand-in faces: a conditional generator (trained in training/, run with OpenCV dnn)
// paints a new face from the pose keypoints and the surroundings of the face, never from the
// face's own pixels.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <string>
#include <vector>

#include "standin/face.hpp"
#include "standin/models.hpp"
#include "standin/status.hpp"

namespace standin {

// The condition contract of a trained generator, read from its manifest (models/generator/).
struct GeneratorSpec {
  std::string name;
  std::filesystem::path onnx;
  int resolution = 64;                          // R: the aligned crop is R x R
  std::array<cv::Point2f, 5> template5{};       // alignment targets, normalised to [0, 1]
  std::vector<std::vector<int>> keypoint_sets;  // each heatmap = mean of these landmarks68
  float sigma = 0.025f;                         // heatmap sigma, fraction of R
  float mask_cx = 0.5f, mask_cy = 0.47f, mask_ax = 0.46f,
        mask_ay = 0.48f;   // ellipse, fraction of R
  float mask_edge = 0.1f;  // soft edge width, in ellipse radii
  int z_dim = 64;
};

Expected<GeneratorSpec> LoadGeneratorSpec(const std::filesystem::path& manifest);

struct GeneratorOptions {
  // Faces whose eyes are closer than this (pixels) are pixelated instead: too small to paint.
  float min_eye_distance = 6.f;
  // Seed of the latent vectors; each face draws from (seed, face key). Same seed, same faces.
  std::uint64_t seed = 0;
};

class FaceGenerator {
 public:
  static Expected<std::unique_ptr<FaceGenerator>> Create(const ModelStore& models,
                                                         const GeneratorOptions& options);
  static Expected<std::unique_ptr<FaceGenerator>> Create(const GeneratorSpec& spec,
                                                         const GeneratorOptions& options);

  [[nodiscard]] const GeneratorSpec& spec() const { return spec_; }

  // The R x R soft mask of the region to regenerate (1 = generated).
  [[nodiscard]] cv::Mat1f CropMask() const;
  // The network input for an aligned RGB crop and keypoints in crop pixels: [1, 4 + K, R, R].
  [[nodiscard]] cv::Mat BuildCondition(const cv::Mat& crop_rgb,
                                       const std::vector<cv::Point2f>& kp) const;
  // One forward pass: condition [1, 4 + K, R, R] and z [1, Z] -> image [1, 3, R, R] in [-1, 1].
  Expected<cv::Mat> Run(const cv::Mat& condition, const cv::Mat& z);
  // The latent vector for a face key (face index, or track id in videos).
  [[nodiscard]] cv::Mat Latent(std::uint64_t key) const;

  // Replaces `face` in `bgr` in place with a generated face; sets face.method ("generate", or
  // "pixelate" when the face is too small for the model). Needs the face's 68 landmarks.
  Status Replace(cv::Mat& bgr, Face& face, std::uint64_t key);

 private:
  FaceGenerator() = default;
  GeneratorSpec spec_;
  GeneratorOptions options_;
  cv::dnn::Net net_;
  cv::Mat1f mask_;
};

class FaceMethod;
// The "generate" method: every face replaced by Replace(), largest last; the latent key of a face
// is its track id in videos (one stable stand-in per person) and its index in a photo.
std::unique_ptr<FaceMethod> MakeGenerateMethod(std::unique_ptr<FaceGenerator> generator);

}  // namespace standin
