#include "blend/blend.hpp"

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

}  // namespace standin::blend
