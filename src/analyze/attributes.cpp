// Attribute and landmark networks of the faceplugin package (see docs/attribute-models.md for the
// preprocessing, found by experiment, and the accuracy measured with it).
#include <fmt/core.h>

#include <opencv2/imgproc.hpp>

#include "analyze/onnx.hpp"
#include "standin/analysis.hpp"

namespace standin {
namespace {

// Crops and channel order, chosen by measurement (docs/attribute-models.md).
constexpr float kAgeCropScale = 1.8f;
constexpr float kAgeCropShift = -0.2f;
constexpr bool kAgeSwapRB = false;
constexpr float kExpressionCropScale = 1.0f;
constexpr float kExpressionCropShift = -0.1f;
constexpr float kFaceResCropScale = 1.4f;
constexpr int kFaceResSize = 224;
constexpr float kLandmarkCropScale = 1.1f;
constexpr float kLandmarkCropShift = 0.05f;
constexpr double kLandmarkDivisor = 256.0;

// The square of side `scale` x the box's mean side, centred on the box shifted down by `dy` x
// that side.
cv::Rect SquareOf(const cv::Rect2f& box, float scale, float dy) {
  const float s = (box.width + box.height) / 2;
  const float side = std::max(2.f, scale * s);
  const cv::Point2f c(box.x + box.width / 2, box.y + box.height / 2 + dy * s);
  return {cvRound(c.x - side / 2), cvRound(c.y - side / 2), cvRound(side), cvRound(side)};
}

// That square cropped, with the border replicated where it leaves the image.
cv::Mat SquareCrop(const cv::Mat& bgr, const cv::Rect2f& box, float scale, float dy) {
  const cv::Rect r = SquareOf(box, scale, dy);
  const int pad = std::max({0, -r.x, -r.y, r.br().x - bgr.cols, r.br().y - bgr.rows});
  if (pad == 0) return bgr(r);
  cv::Mat padded;
  cv::copyMakeBorder(bgr, padded, pad, pad, pad, pad, cv::BORDER_REPLICATE);
  return padded(r + cv::Point(pad, pad));
}

// The SSR-Net head shared by fr_age and fr_gender: three stages of 3 bins with learned shifts
// and scales; returns a value in [0, 1] (age / 101, or the probability of "male").
float SsrDecode(cv::dnn::Net& net, const cv::Mat& blob) {
  static const std::vector<std::string> kOutputs = {
      "prob_stage_1",        "prob_stage_2",        "prob_stage_3",
      "stage1_delta_k",      "stage2_delta_k",      "stage3_delta_k",
      "index_offset_stage1", "index_offset_stage2", "index_offset_stage3"};
  net.setInput(blob);
  std::vector<cv::Mat> out;
  net.forward(out, kOutputs);
  auto at = [&](int k, int i) { return out[static_cast<std::size_t>(k)].ptr<float>()[i]; };
  constexpr float kBins = 3;
  double value = 0, denom = 1;
  for (int stage = 0; stage < 3; ++stage) {
    denom *= kBins * (1 + at(3 + stage, 0));
    double sum = 0;
    for (int i = 0; i < 3; ++i) sum += (i + at(6 + stage, i)) * at(stage, i);
    value += sum / denom;
  }
  return static_cast<float>(value);
}

}  // namespace

const std::vector<std::string>& ExpressionNames() {
  static const std::vector<std::string> kNames = {"angry", "disgust",  "fear",   "happy",
                                                  "sad",   "surprise", "neutral"};
  return kNames;
}

Expected<std::unique_ptr<AttributeEstimator>> AttributeEstimator::Create(const ModelStore& models) {
  std::unique_ptr<AttributeEstimator> a(new AttributeEstimator());
  for (auto [file, net] :
       {std::pair{"fr_age.onnx", &a->age_}, std::pair{"fr_gender.onnx", &a->gender_},
        std::pair{"fr_expression.onnx", &a->expression_}}) {
    auto n = LoadOnnxNet(models, file);
    if (!n.ok()) return n.status();
    *net = std::move(n).value();
  }
  return a;
}

cv::Rect AttributeEstimator::Reads(const Face& face, bool expression) {
  const cv::Rect r = SquareOf(face.box, kAgeCropScale, kAgeCropShift);
  return expression ? r | SquareOf(face.box, kExpressionCropScale, kExpressionCropShift) : r;
}

Expected<FaceAttributes> AttributeEstimator::Estimate(const cv::Mat& bgr, const Face& face,
                                                      bool expression) {
  FaceAttributes out;
  try {
    // Age and gender: 64x64, ImageNet mean/std normalisation.
    cv::Mat small;
    cv::resize(SquareCrop(bgr, face.box, kAgeCropScale, kAgeCropShift), small, {64, 64}, 0, 0,
               cv::INTER_LINEAR);
    cv::Mat f;
    small.convertTo(f, CV_32F, 1.0 / 255);
    cv::Mat blob = cv::dnn::blobFromImage(f, 1.0, {}, cv::Scalar(), kAgeSwapRB);
    // (x - mean) / std with the ImageNet constants in R, G, B order applied to B, G, R planes as
    // they are: measured best (docs/attribute-models.md), whatever the vendor intended.
    const cv::Scalar mean(0.485, 0.456, 0.406), stdev(0.229, 0.224, 0.225);
    for (int c = 0; c < 3; ++c) {
      cv::Mat plane(64, 64, CV_32F, blob.ptr<float>(0, c));
      plane = (plane - mean[c]) / stdev[c];
    }
    out.age = 101.f * SsrDecode(age_, blob);
    out.p_female = 1.f - SsrDecode(gender_, blob);
    if (!expression) return out;

    cv::Mat big;
    cv::resize(SquareCrop(bgr, face.box, kExpressionCropScale, kExpressionCropShift), big,
               {224, 224}, 0, 0, cv::INTER_LINEAR);
    // B, G, R planes as OpenCV holds them: measured better than RGB (docs/attribute-models.md).
    expression_.setInput(cv::dnn::blobFromImage(big, 1.0 / 255, {}, cv::Scalar(), false));
    cv::Mat logits = expression_.forward().reshape(1, 1);
    double mx = 0;
    cv::minMaxLoc(logits, nullptr, &mx);
    cv::Mat e;
    cv::exp(logits - mx, e);
    e /= cv::sum(e)[0];
    out.expression_probs.assign(e.ptr<float>(), e.ptr<float>() + e.cols);
    cv::Point best;
    cv::minMaxLoc(e, nullptr, nullptr, nullptr, &best);
    out.expression = best.x;
  } catch (const cv::Exception& ex) {
    return Status(ErrorCode::kProcessingFailed, fmt::format("attributes: {}", ex.what()));
  }
  return out;
}

Expected<std::unique_ptr<AgeGenderJudge>> AgeGenderJudge::Create(const ModelStore& models) {
  std::unique_ptr<AgeGenderJudge> j(new AgeGenderJudge());
  auto n = LoadOnnxNet(models, "faceres.onnx");
  if (!n.ok()) return n.status();
  j->net_ = std::move(n).value();
  return j;
}

Expected<FaceAttributes> AgeGenderJudge::Estimate(const cv::Mat& bgr, const Face& face) {
  FaceAttributes out;
  try {
    // A square of 1.4x the box, 224 px, B, G, R planes of raw 0..255 values: measured best on
    // UTKFace labels (docs/attribute-models.md); the graph holds no normalisation of its own.
    cv::Mat crop;
    cv::resize(SquareCrop(bgr, face.box, kFaceResCropScale, 0.f), crop,
               {kFaceResSize, kFaceResSize}, 0, 0, cv::INTER_LINEAR);
    net_.setInput(cv::dnn::blobFromImage(crop, 1.0, {}, cv::Scalar(), false));
    std::vector<cv::Mat> o;
    net_.forward(o, std::vector<std::string>{"gender", "age"});
    out.p_female = 1.f - o[0].ptr<float>()[0];  // the graph's sigmoid is P(male)
    const float* years = o[1].ptr<float>();
    for (int y = 0; y < static_cast<int>(o[1].total()); ++y)
      out.age += static_cast<float>(y) * years[y];
  } catch (const cv::Exception& ex) {
    return Status(ErrorCode::kProcessingFailed, fmt::format("faceres: {}", ex.what()));
  }
  return out;
}

Expected<std::unique_ptr<LandmarkNet>> LandmarkNet::Create(const ModelStore& models) {
  std::unique_ptr<LandmarkNet> l(new LandmarkNet());
  auto n = LoadOnnxNet(models, "fr_landmark.onnx");
  if (!n.ok()) return n.status();
  l->net_ = std::move(n).value();
  return l;
}

Expected<std::vector<cv::Point2f>> LandmarkNet::Locate(const cv::Mat& bgr, const Face& face) {
  // 64x64 grey in [0, 1) of the box scaled about its centre; 136 outputs in crop units.
  const cv::Rect2f& b = face.box;
  const float w = b.width * kLandmarkCropScale, h = b.height * kLandmarkCropScale;
  const cv::Point2f c(b.x + b.width / 2, b.y + b.height / 2 + kLandmarkCropShift * b.height);
  cv::Mat crop;
  cv::getRectSubPix(bgr, cv::Size(cvRound(w), cvRound(h)), c - cv::Point2f(0.5f, 0.5f), crop);
  cv::Mat gray, small;
  cv::cvtColor(crop, gray, cv::COLOR_BGR2GRAY);
  cv::resize(gray, small, {64, 64}, 0, 0, cv::INTER_LINEAR);
  std::vector<cv::Point2f> pts;
  try {
    net_.setInput(cv::dnn::blobFromImage(small, 1.0 / kLandmarkDivisor));
    const cv::Mat o = net_.forward();
    const float* v = o.ptr<float>();
    const cv::Point2f origin(c.x - w / 2, c.y - h / 2);
    for (int k = 0; k < 68; ++k)
      pts.emplace_back(origin.x + v[2 * k] * w, origin.y + v[2 * k + 1] * h);
  } catch (const cv::Exception& ex) {
    return Status(ErrorCode::kProcessingFailed, fmt::format("landmarks: {}", ex.what()));
  }
  return pts;
}

}  // namespace standin
