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
#include <optional>
#include <string>
#include <vector>

#include "standin/face.hpp"
#include "standin/methods.hpp"
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

// The identity guard: each face gets the best of several generated candidates whose identity is
// provably far from the original's (FALCO's obfuscation margin, checked per face).
struct IdentityGuardOptions {
  bool enabled = true;
  // Candidates drawn per face (different latent vectors). Cost grows linearly; see
  // docs/identity-guard.md for the measured trade-off behind the default.
  int candidates = 4;
  // Identity network that judges candidates ("arcface" or "dlib-resnet", standin/analysis.hpp).
  std::string recogniser = "arcface";
  // A candidate is rejected when its cosine similarity to the original face is at or above this.
  // Default: arcface's threshold at a 1% false-accept rate on clean impostor pairs of the AT&T
  // faces (standin eval: 0.315), so a verifier tuned to accept strangers 1% of the time never
  // accepts a stand-in as its original. Must be set anew for another recogniser.
  float margin = 0.315f;
  // Weights of the choice among passing candidates (lowest weighted cost wins):
  // attributes: |age difference| / 20 years (capped at 1) and the difference in the probability
  // of being read as female, averaged;
  float attribute_weight = 1.f;
  // expression: 1 - the candidate's probability of the original's expression (the expression
  // network costs ~90 ms per call, so it only runs when this weight is above 0);
  float expression_weight = 0.f;
  // identity: the candidate's similarity to the original (further is better);
  float identity_weight = 0.5f;
  // looks natural: 1 - the candidate's faceness (FacenessJudge: how confidently a face detector
  // reads it, in place, as a face; about 3.5 ms per candidate, not run at weight 0). Off by
  // default: at 0.5 it changed nothing measurable (docs/identity-guard.md) for 19% more time.
  float natural_weight = 0.f;
  // Candidates are drawn one by one; the search stops early at a passing candidate whose cost is
  // at most this (0: always draw all `candidates`).
  float good_enough = 0.25f;
  // When no candidate passes, the face gets this method instead (never the too-similar face).
  MethodKind fallback = MethodKind::kSolid;
  // Videos: a track keeps its stand-in (the same latent) and is judged again every N frames; in
  // between, the verdict of the last check stands (its receipt says how many frames ago).
  // 1 = judge every frame.
  int recheck_every = 10;
};

struct GeneratorOptions {
  // Faces whose eyes are closer than this (pixels) are pixelated instead: too small to paint.
  float min_eye_distance = 6.f;
  // Seed of the latent vectors; each face draws from (seed, face key). Same seed, same faces.
  std::uint64_t seed = 0;
  // Low-pass of the generated crop before it is warped back (Gaussian sigma in crop pixels, 3x3;
  // 0 = off): removes the generator's pixel-period checkerboard, which upscaling magnifies.
  float smooth_sigma = 0.8f;
  // Shift the stand-in's colour (CIE Lab mean) to continue the surroundings at the mask's soft
  // edge, so skin tone and light match the neck and the scene.
  bool match_colour = true;
  // Only used by the generate method (MakeGenerateMethod with an embedder; the Anonymizer builds
  // it from these options).
  IdentityGuardOptions guard;
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
  // The latent vector of candidate `candidate` for a face key (face index, or track id in videos).
  // Candidate 0 is the face's default stand-in.
  [[nodiscard]] cv::Mat Latent(std::uint64_t key, int candidate = 0) const;

  // A face made ready for painting: its crop transform and the network input, built from the
  // face's surroundings only.
  struct Prepared {
    cv::Rect roi;         // the part of the image the generated crop covers
    cv::Mat Minv_roi;     // crop -> roi coordinates
    cv::Mat1f mask_back;  // roi-sized: how much of each pixel is generated
    cv::Mat condition;    // [1, 4 + K, R, R]
  };
  // Nothing when the face is too small (or degenerate) to paint; an empty roi when the face lies
  // outside the image. Needs the face's 68 landmarks.
  Expected<std::optional<Prepared>> Prepare(const cv::Mat& bgr, const Face& face) const;
  // Paints the stand-in for latent `z` into `target`, whose top-left pixel is image pixel
  // `origin` (the whole image: origin (0, 0)); `target` must contain p.roi.
  Status Paint(cv::Mat& target, cv::Point origin, const Prepared& p, const cv::Mat& z);

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

class IdentityEmbedder;
class AttributeEstimator;
class FacenessJudge;
// The "generate" method: every face replaced by a stand-in, largest last; the latent key of a face
// is its track id in videos (one stable stand-in per person) and its index in a photo. Without an
// embedder each face gets candidate 0 (Replace()); with one, the identity guard chooses among
// `guard.candidates` candidates and writes face.receipt (attributes may be null when both
// attribute weights are 0, faceness when the natural weight is 0).
std::unique_ptr<FaceMethod> MakeGenerateMethod(std::unique_ptr<FaceGenerator> generator);
std::unique_ptr<FaceMethod> MakeGenerateMethod(std::unique_ptr<FaceGenerator> generator,
                                               const IdentityGuardOptions& guard,
                                               std::shared_ptr<IdentityEmbedder> embedder,
                                               std::shared_ptr<AttributeEstimator> attributes,
                                               std::shared_ptr<FacenessJudge> faceness = nullptr);

}  // namespace standin
