// Networks that look at a face without changing it: identity embeddings (to measure and bound how
// recognisable a stand-in is), attributes (age, gender, expression) and an independent landmark
// model (to measure kept pose). Used by `standin eval` and by identity checks on stand-ins.
#pragma once

#include <array>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <string>
#include <vector>

#include "standin/face.hpp"
#include "standin/models.hpp"
#include "standin/status.hpp"

namespace standin {
namespace detect {
class TileNetwork;
}  // namespace detect

// Warps `bgr` so that the 5 keypoints land on `template_px` (similarity transform, least
// squares) in a size x size crop.
cv::Mat AlignFace(const cv::Mat& bgr, const std::array<cv::Point2f, 5>& kps5,
                  const std::array<cv::Point2f, 5>& template_px, int size);

// An identity embedding network: similar vectors for the same person.
class IdentityEmbedder {
 public:
  virtual ~IdentityEmbedder() = default;
  // 1 x dims, L2-normalised, for the face whose keypoints (eyes, nose, mouth corners) are `kps5`.
  virtual Expected<cv::Mat1f> Embed(const cv::Mat& bgr, const std::array<cv::Point2f, 5>& kps5) = 0;
  [[nodiscard]] virtual const std::string& name() const = 0;
};

// The recognisers available: "arcface" (fr_feature, 512-d, 112 px ArcFace alignment) and
// "dlib-resnet" (dlib's ResNet face descriptor as ported by face-api, 128-d, 150 px).
std::vector<std::string> IdentityEmbedderNames();
Expected<std::unique_ptr<IdentityEmbedder>> MakeIdentityEmbedder(const std::string& name,
                                                                 const ModelStore& models);

// Age, gender and expression of a face (faceplugin fr_age, fr_gender and fr_expression; see
// docs/attribute-models.md for their inputs and measured accuracy).
struct FaceAttributes {
  float age = 0;                        // years
  float p_female = 0;                   // probability that the face is read as female
  int expression = -1;                  // index into ExpressionNames()
  std::vector<float> expression_probs;  // one per expression
};
const std::vector<std::string>& ExpressionNames();

class AttributeEstimator {
 public:
  static Expected<std::unique_ptr<AttributeEstimator>> Create(const ModelStore& models);
  // Attributes of the face at `face.box` in `bgr`. The expression network costs ~20x the age and
  // gender networks together; without `expression` it is skipped (expression stays -1).
  Expected<FaceAttributes> Estimate(const cv::Mat& bgr, const Face& face, bool expression = true);

 private:
  AttributeEstimator() = default;
  cv::dnn::Net age_, gender_, expression_;
};

// How much a face reads as a face to a face detector: the identity guard's "looks natural"
// criterion. MediaPipe BlazeFace's short-range (front-camera) model at 128x128 (about 3.5 ms) on
// a square crop of twice the face box around it; the highest score of a detection overlapping the
// box (IoU >= 0.3), 0 when there is none. Its own network, not standin's detector nor the
// evaluation's reference detector, so choosing by it does not grade the choice by itself.
class FacenessJudge {
 public:
  static Expected<std::unique_ptr<FacenessJudge>> Create(const ModelStore& models);
  ~FacenessJudge();
  FacenessJudge(const FacenessJudge&) = delete;
  FacenessJudge& operator=(const FacenessJudge&) = delete;
  // In [0, 1]. Not thread-safe (one network instance).
  Expected<float> Score(const cv::Mat& bgr, const Face& face);

 private:
  FacenessJudge() = default;
  std::unique_ptr<detect::TileNetwork> net_;
};

// A second 68-point landmark model (faceplugin fr_landmark), independent of dlib's, so the pose
// kept by a stand-in is not judged by the model that posed it.
class LandmarkNet {
 public:
  static Expected<std::unique_ptr<LandmarkNet>> Create(const ModelStore& models);
  // 68 points (iBUG order) of the face at `face.box` in `bgr`, in image pixels.
  Expected<std::vector<cv::Point2f>> Locate(const cv::Mat& bgr, const Face& face);

 private:
  LandmarkNet() = default;
  cv::dnn::Net net_;
};

}  // namespace standin
