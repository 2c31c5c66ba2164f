// The identity guard's "looks natural" criterion: how confidently a face detector reads a
// candidate stand-in, in place, as a face.
#include <fmt/core.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>

#include "analyze/onnx.hpp"
#include "detect/tiled_detector.hpp"
#include "standin/analysis.hpp"
#include "standin/eval.hpp"

namespace standin {
namespace {

constexpr int kInput = 128;         // the front-camera BlazeFace model's input
constexpr float kCropScale = 2.0f;  // crop side / face box side: the face fills about half of it
constexpr float kLowestScore = 0.01f;
constexpr float kMinIoU = 0.3f;  // a detection this close to the face's box is that face

}  // namespace

Expected<std::unique_ptr<FacenessJudge>> FacenessJudge::Create(const ModelStore& models) {
  auto net = LoadOnnxNet(models, "blazeface_front_128.onnx");
  if (!net.ok()) return net.status();
  std::unique_ptr<FacenessJudge> judge(new FacenessJudge());
  judge->net_ = detect::MakeBlazeFace(std::move(net).value(), kInput);
  return judge;
}

FacenessJudge::~FacenessJudge() = default;

cv::Rect FacenessJudge::Reads(const Face& face) {
  const cv::Rect2f& b = face.box;
  const float side = std::max(4.f, kCropScale * std::max(b.width, b.height));
  const cv::Point2f c(b.x + b.width / 2, b.y + b.height / 2);
  return {cvRound(c.x - side / 2), cvRound(c.y - side / 2), cvRound(side), cvRound(side)};
}

Expected<float> FacenessJudge::Score(const cv::Mat& bgr, const Face& face) {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    return Status(ErrorCode::kInvalidArgument, "faceness: expected an 8-bit BGR image");
  }
  const cv::Rect2f& b = face.box;
  const cv::Rect want = Reads(face);
  // Padded with black outside the image, as the detector's own tiles are.
  auto found = net_->Run(detect::TileInput(bgr, want, {kInput, kInput}), kLowestScore);
  if (!found.ok()) return found.status();
  const float s = static_cast<float>(kInput) / static_cast<float>(want.width);
  const cv::Rect2f expected((b.x - static_cast<float>(want.x)) * s,
                            (b.y - static_cast<float>(want.y)) * s, b.width * s, b.height * s);
  float best = 0.f;
  for (const auto& f : *found) {
    if (eval::IoU(f.box, expected) >= kMinIoU) best = std::max(best, f.score);
  }
  return best;
}

}  // namespace standin
