#include "blend/blend.hpp"

#include <algorithm>
#include <cmath>
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
// cv::cvtColor to or from CIE Lab. OpenCV 4.6 builds its Lab tables on the first such conversion
// without a lock: two threads converting for the first time at once (the identity guard's
// workers) both build them, and one copy leaks. The first conversion is made here once, under
// C++'s thread-safe initialisation of statics.
void ConvertLab(const cv::Mat& in, cv::Mat& out, int code) {
  static const bool kTablesBuilt = [] {
    cv::Mat lab, bgr;
    cv::cvtColor(cv::Mat(1, 1, CV_32FC3, cv::Scalar::all(0.5)), lab, cv::COLOR_BGR2Lab);
    cv::cvtColor(lab, bgr, cv::COLOR_Lab2BGR);
    return true;
  }();
  (void)kTablesBuilt;
  cv::cvtColor(in, out, code);
}

cv::Mat BgrToLab(const cv::Mat& bgr) {
  cv::Mat f, lab;
  bgr.convertTo(f, CV_32F, 1.0 / 255);
  ConvertLab(f, lab, cv::COLOR_BGR2Lab);
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
  ConvertLab(src_lab, f, cv::COLOR_Lab2BGR);
  f.convertTo(src, CV_8U, 255);
  return shift;
}

cv::Scalar MatchEdgeColour(cv::Mat& src, const cv::Mat& dst, const cv::Mat1f& alpha,
                           double max_shift, bool skin_only) {
  CV_Assert(dst.size() == src.size());
  return ShiftToEdgeColour(src, EdgeColourOf(dst, alpha, skin_only), max_shift);
}

double HarmonicMatch(cv::Mat& src, const cv::Mat& dst, const cv::Mat1f& alpha, double max_shift,
                     int grid) {
  CV_Assert(src.size() == dst.size() && src.size() == alpha.size() && src.type() == CV_8UC3 &&
            dst.type() == CV_8UC3 && grid >= 4);
  // Known: the skin-coloured soft edge, weighted as MatchEdgeColour weights it.
  cv::Mat1f known = alpha.mul(1.f - alpha);
  known.setTo(0.f, (alpha <= 0.f) | (alpha >= 1.f) | (SkinColoured(dst) == 0));
  const cv::Mat1b painted = alpha > 0.f;
  if (cv::countNonZero(known) == 0) return 0;
  cv::Mat srcf, dstf;
  src.convertTo(srcf, CV_32F);
  dst.convertTo(dstf, CV_32F);
  cv::Mat diff = dstf - srcf;
  cv::Mat known3;
  cv::merge(std::vector<cv::Mat>{known, known, known}, known3);
  diff = diff.mul(known3);  // nothing of dst off the known edge enters

  const double scale = static_cast<double>(grid) / std::max(src.cols, src.rows);
  const cv::Size gs(std::max(2, static_cast<int>(std::lround(src.cols * scale))),
                    std::max(2, static_cast<int>(std::lround(src.rows * scale))));
  cv::Mat1f known_g, inside_g, inside;
  cv::Mat diff_g;
  cv::resize(known, known_g, gs, 0, 0, cv::INTER_AREA);
  cv::resize(diff, diff_g, gs, 0, 0, cv::INTER_AREA);
  cv::Mat1b(alpha >= 1.f).convertTo(inside, CV_32F, 1.0 / 255);
  cv::resize(inside, inside_g, gs, 0, 0, cv::INTER_AREA);
  // Cells: known (the weighted mean of its edge differences), free (inside, solved for), or
  // neither (no flux through them, nor through the grid's border).
  enum : uchar { kNeither = 0, kFree = 1, kKnown = 2 };
  cv::Mat1b state(gs, kNeither);
  cv::Mat3f h(gs, cv::Vec3f(0, 0, 0));
  for (int y = 0; y < gs.height; ++y) {
    for (int x = 0; x < gs.width; ++x) {
      if (known_g(y, x) > 1e-4f) {
        state(y, x) = kKnown;
        h(y, x) = diff_g.at<cv::Vec3f>(y, x) / known_g(y, x);
      } else if (inside_g(y, x) > 0.f) {
        state(y, x) = kFree;
      }
    }
  }
  // Successive over-relaxation (the optimal factor for a square grid of this side); 4 x grid
  // sweeps take the residual far below an 8-bit level.
  const double omega = 2.0 / (1.0 + std::sin(CV_PI / std::max(gs.width, gs.height)));
  constexpr int kDx[] = {1, -1, 0, 0}, kDy[] = {0, 0, 1, -1};
  for (int sweep = 0; sweep < 4 * grid; ++sweep) {
    for (int y = 0; y < gs.height; ++y) {
      for (int x = 0; x < gs.width; ++x) {
        if (state(y, x) != kFree) continue;
        cv::Vec3f sum(0, 0, 0);
        int n = 0;
        for (int k = 0; k < 4; ++k) {
          const int u = x + kDx[k], v = y + kDy[k];
          if (u < 0 || v < 0 || u >= gs.width || v >= gs.height || state(v, u) == kNeither) {
            continue;
          }
          sum += h(v, u);
          ++n;
        }
        if (n > 0) h(y, x) += static_cast<float>(omega) * (sum / n - h(y, x));
      }
    }
  }
  cv::Mat field;
  cv::resize(h, field, src.size(), 0, 0, cv::INTER_LINEAR);
  cv::min(field, cv::Scalar::all(max_shift), field);
  cv::max(field, cv::Scalar::all(-max_shift), field);
  cv::Mat out;
  cv::Mat(srcf + field).convertTo(out, CV_8U);
  out.copyTo(src, painted);
  const cv::Scalar mean_abs = cv::mean(cv::abs(field), painted);
  return (mean_abs[0] + mean_abs[1] + mean_abs[2]) / 3;
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
