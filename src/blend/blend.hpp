// Compositing a replacement into the image through a soft mask.
#pragma once

#include <opencv2/core.hpp>

namespace standin::blend {

// dst = dst * (1 - alpha) + src * alpha, per pixel; all three the same size (8-bit BGR, float
// alpha in [0, 1]). Where alpha is exactly 1, dst becomes src exactly.
void AlphaBlend(cv::Mat& dst, const cv::Mat& src, const cv::Mat1f& alpha);

}  // namespace standin::blend
