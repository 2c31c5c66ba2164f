// The two detection networks standin can use, each as one pass over one tile.
#include <fmt/core.h>

#include <cmath>
#include <opencv2/imgproc.hpp>

#include "detect/tiled_detector.hpp"

namespace standin::detect {
namespace {

float Sigmoid(float x) { return 1.f / (1.f + std::exp(-std::clamp(x, -80.f, 80.f))); }

// Keypoints guessed from a box when the network has none (typical frontal face geometry in the
// dlib box convention); the landmarker replaces them.
std::array<cv::Point2f, 5> KeypointsFromBox(const cv::Rect2f& b) {
  auto at = [&](float fx, float fy) {
    return cv::Point2f(b.x + fx * b.width, b.y + fy * b.height);
  };
  return {at(0.30f, 0.38f), at(0.70f, 0.38f), at(0.50f, 0.58f), at(0.35f, 0.78f), at(0.65f, 0.78f)};
}

Expected<std::vector<cv::Mat>> Forward(cv::dnn::Net& net, const cv::Mat& blob) {
  std::vector<cv::Mat> outs;
  try {
    net.setInput(blob);
    net.forward(outs, net.getUnconnectedOutLayersNames());
  } catch (const cv::Exception& e) {
    return Status(ErrorCode::kProcessingFailed,
                  fmt::format("detector inference failed: {}", e.what()));
  }
  return outs;
}

// MediaPipe BlazeFace: the back-camera (full-range-ish) model at 256x256 or the front-camera
// (short-range: faces filling a fifth of the frame or more) model at 128x128; NHWC RGB in [-1, 1];
// 16x16 cells x 2 anchors and 8x8 cells x 6 anchors; per anchor a score logit and 16 regressors
// (box centre offset and size, then 6 keypoints: eyes, nose, mouth, ears), in input pixels.
class BlazeFace final : public TileNetwork {
 public:
  BlazeFace(cv::dnn::Net net, int input) : net_(std::move(net)), input_(input) {}

  Expected<std::vector<Face>> Run(const cv::Mat& tile, float threshold) override {
    const int sizes[] = {1, input_, input_, 3};
    cv::Mat blob(4, sizes, CV_32F);
    cv::Mat rgb;
    cv::cvtColor(tile, rgb, cv::COLOR_BGR2RGB);
    cv::Mat view(input_, input_, CV_32FC3, blob.ptr<float>());
    rgb.convertTo(view, CV_32FC3, 1.0 / 127.5, -1.0);
    auto outs = Forward(net_, blob);
    if (!outs.ok()) return outs.status();
    const cv::Mat *s16 = nullptr, *s8 = nullptr, *r16 = nullptr, *r8 = nullptr;
    for (const auto& o : *outs) {
      if (o.dims != 3) continue;
      const bool fine = o.size[1] == 512;
      if (o.size[2] == 1) (fine ? s16 : s8) = &o;
      if (o.size[2] == 16) (fine ? r16 : r8) = &o;
    }
    if (!s16 || !s8 || !r16 || !r8) {
      return Status(ErrorCode::kProcessingFailed, "BlazeFace model has unexpected outputs");
    }
    std::vector<Face> faces;
    Decode(*s16, *r16, 16, 2, threshold, faces);
    Decode(*s8, *r8, 8, 6, threshold, faces);
    return faces;
  }

  [[nodiscard]] cv::Size input_size() const override { return {input_, input_}; }
  // Back model, measured on dlib's labelled photos: faces under ~24 input pixels start to be
  // missed. The front model only saw faces of a fifth of its input or more.
  [[nodiscard]] float min_face_input() const override { return input_ >= 256 ? 24.f : 26.f; }
  // Fitted on dlib's training.xml (see docs/detector-comparison.md).
  [[nodiscard]] BoxCalibration calibration() const override {
    return {-0.05f, -0.037f, 1.06f, 1.06f};
  }

 private:
  void Decode(const cv::Mat& scores, const cv::Mat& regs, int cells, int anchors, float threshold,
              std::vector<Face>& faces) const {
    const float* sc = scores.ptr<float>();
    const float* rg = regs.ptr<float>();
    for (int cy = 0; cy < cells; ++cy) {
      for (int cx = 0; cx < cells; ++cx) {
        for (int a = 0; a < anchors; ++a) {
          const int i = (cy * cells + cx) * anchors + a;
          const float score = Sigmoid(sc[i]);
          if (score < threshold) continue;
          const float* r = rg + static_cast<ptrdiff_t>(i) * 16;
          const float ax = (static_cast<float>(cx) + 0.5f) * static_cast<float>(input_) /
                           static_cast<float>(cells);
          const float ay = (static_cast<float>(cy) + 0.5f) * static_cast<float>(input_) /
                           static_cast<float>(cells);
          Face f;
          f.score = score;
          const float w = r[2], h = r[3];
          f.box = cv::Rect2f(ax + r[0] - w / 2, ay + r[1] - h / 2, w, h);
          const cv::Point2f eye_l(ax + r[4], ay + r[5]), eye_r(ax + r[6], ay + r[7]);
          const cv::Point2f nose(ax + r[8], ay + r[9]), mouth(ax + r[10], ay + r[11]);
          const cv::Point2f half = 0.35f * (eye_r - eye_l);
          f.kps5 = {eye_l, eye_r, nose, mouth - half, mouth + half};
          faces.push_back(std::move(f));
        }
      }
    }
  }

  cv::dnn::Net net_;
  int input_;
};

// Ultra-Light-Fast-Generic-Face-Detector RFB-320: 320x240 NCHW RGB, (x - 127) / 128; outputs
// softmax scores [1, N, 2] and decoded corner boxes [1, N, 4] normalised to the input.
class UltraFace final : public TileNetwork {
 public:
  explicit UltraFace(cv::dnn::Net net) : net_(std::move(net)) {}

  Expected<std::vector<Face>> Run(const cv::Mat& tile, float threshold) override {
    const cv::Mat blob = cv::dnn::blobFromImage(tile, 1.0 / 128.0, {}, cv::Scalar::all(127.0),
                                                /*swapRB=*/true, /*crop=*/false);
    auto outs = Forward(net_, blob);
    if (!outs.ok()) return outs.status();
    const cv::Mat *scores = nullptr, *boxes = nullptr;
    for (const auto& o : *outs) {
      if (o.dims == 3 && o.size[2] == 2) scores = &o;
      if (o.dims == 3 && o.size[2] == 4) boxes = &o;
    }
    if (!scores || !boxes || scores->size[1] != boxes->size[1]) {
      return Status(ErrorCode::kProcessingFailed, "UltraFace model has unexpected outputs");
    }
    std::vector<Face> faces;
    const float* sc = scores->ptr<float>();
    const float* bx = boxes->ptr<float>();
    for (int i = 0; i < scores->size[1]; ++i) {
      const float score = sc[2 * i + 1];
      if (score < threshold) continue;
      Face f;
      f.score = score;
      const float* b = bx + 4 * i;
      f.box = cv::Rect2f(b[0] * kW, b[1] * kH, (b[2] - b[0]) * kW, (b[3] - b[1]) * kH);
      f.kps5 = KeypointsFromBox(f.box);
      faces.push_back(std::move(f));
    }
    return faces;
  }

  [[nodiscard]] cv::Size input_size() const override { return {kW, kH}; }
  // Measured on dlib's labelled photos: finds 24-pixel faces at its input.
  [[nodiscard]] float min_face_input() const override { return 20.f; }
  // Fitted on dlib's training.xml (see docs/detector-comparison.md).
  [[nodiscard]] BoxCalibration calibration() const override {
    return {-0.068f, 0.079f, 1.18f, 0.83f};
  }

 private:
  static constexpr int kW = 320;
  static constexpr int kH = 240;
  cv::dnn::Net net_;
};

}  // namespace

std::unique_ptr<TileNetwork> MakeBlazeFace(cv::dnn::Net net, int input) {
  return std::make_unique<BlazeFace>(std::move(net), input);
}
std::unique_ptr<TileNetwork> MakeUltraFace(cv::dnn::Net net) {
  return std::make_unique<UltraFace>(std::move(net));
}

}  // namespace standin::detect
