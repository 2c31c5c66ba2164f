#include "blend/blend.hpp"

#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace standin::blend {

void AlphaBlend(cv::Mat& dst, const cv::Mat& src, const cv::Mat1f& alpha) {
  CV_Assert(dst.size() == src.size() && dst.size() == alpha.size() && dst.type() == CV_8UC3 &&
            src.type() == CV_8UC3);
  for (int y = 0; y < dst.rows; ++y) {
    auto* d = dst.ptr<cv::Vec3b>(y);
    const auto* s = src.ptr<cv::Vec3b>(y);
    const float* a = alpha.ptr<float>(y);
    for (int x = 0; x < dst.cols; ++x) {
      if (a[x] <= 0.f) continue;
      if (a[x] >= 1.f) {
        d[x] = s[x];
        continue;
      }
      for (int c = 0; c < 3; ++c) {
        d[x][c] =
            cv::saturate_cast<uchar>(d[x][c] + a[x] * (static_cast<float>(s[x][c]) - d[x][c]));
      }
    }
  }
}

cv::Mat1b SkinColoured(const cv::Mat& bgr) {
  CV_Assert(bgr.type() == CV_8UC3);
  cv::Mat ycc;
  cv::cvtColor(bgr, ycc, cv::COLOR_BGR2YCrCb);
  cv::Mat1b skin;
  cv::inRange(ycc, cv::Scalar(25, 135, 80), cv::Scalar(255, 180, 130), skin);
  return skin;
}

namespace {
cv::Mat BgrToLab(const cv::Mat& bgr) {
  cv::Mat f, lab;
  bgr.convertTo(f, CV_32F, 1.0 / 255);
  cv::cvtColor(f, lab, cv::COLOR_BGR2Lab);
  return lab;
}

cv::Scalar WeightedSum(const cv::Mat& lab, const cv::Mat1f& w) {
  cv::Mat w3;
  cv::merge(std::vector<cv::Mat>{w, w, w}, w3);
  return cv::sum(lab.mul(w3));
}
}  // namespace

EdgeColour ColourUnder(const cv::Mat& bgr, const cv::Mat1f& weights) {
  CV_Assert(bgr.size() == weights.size() && bgr.type() == CV_8UC3);
  return {weights, WeightedSum(BgrToLab(bgr), weights), cv::sum(weights)[0]};
}

EdgeColour EdgeColourOf(const cv::Mat& dst, const cv::Mat1f& alpha, bool skin_only) {
  CV_Assert(dst.size() == alpha.size() && dst.type() == CV_8UC3);
  EdgeColour e;
  e.weights = alpha.mul(1.f - alpha);
  e.weights.setTo(0, (alpha <= 0.f) | (alpha >= 1.f));
  e.total = cv::sum(e.weights)[0];
  if (e.total <= 1e-6) return e;
  if (skin_only) {
    cv::Mat1f on_skin = e.weights.clone();
    on_skin.setTo(0, SkinColoured(dst) == 0);
    const double skin_total = cv::sum(on_skin)[0];
    if (skin_total >= 0.2 * e.total) {
      e.weights = on_skin;
      e.total = skin_total;
    }
  }
  e.lab_sum = WeightedSum(BgrToLab(dst), e.weights);
  return e;
}

cv::Scalar ShiftToEdgeColour(cv::Mat& src, const EdgeColour& edge, double max_shift) {
  CV_Assert(src.size() == edge.weights.size() && src.type() == CV_8UC3);
  if (edge.total <= 1e-6) return {};
  cv::Mat src_lab = BgrToLab(src);
  const cv::Scalar ms = WeightedSum(src_lab, edge.weights);
  cv::Scalar shift;
  for (int c = 0; c < 3; ++c) {
    shift[c] = std::clamp((edge.lab_sum[c] - ms[c]) / edge.total, -max_shift, max_shift);
  }
  src_lab += shift;
  cv::Mat f;
  cv::cvtColor(src_lab, f, cv::COLOR_Lab2BGR);
  f.convertTo(src, CV_8U, 255);
  return shift;
}

cv::Scalar MatchEdgeColour(cv::Mat& src, const cv::Mat& dst, const cv::Mat1f& alpha,
                           double max_shift, bool skin_only) {
  CV_Assert(dst.size() == src.size());
  return ShiftToEdgeColour(src, EdgeColourOf(dst, alpha, skin_only), max_shift);
}

bool IsGreyAround(const cv::Mat& bgr, const cv::Mat1f& alpha, double tolerance) {
  CV_Assert(bgr.size() == alpha.size() && bgr.type() == CV_8UC3);
  const cv::Mat kept = alpha < 0.5f;
  if (cv::countNonZero(kept) == 0) return false;
  cv::Mat ycc;
  cv::cvtColor(bgr, ycc, cv::COLOR_BGR2YCrCb);
  cv::Mat chroma;
  cv::absdiff(ycc, cv::Scalar(0, 128, 128), chroma);
  const cv::Scalar mean = cv::mean(chroma, kept);
  return mean[1] + mean[2] < tolerance;
}

}  // namespace standin::blend
