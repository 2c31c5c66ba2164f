// Compositing a replacement into the image through a soft mask.
#pragma once

#include <opencv2/core.hpp>

namespace standin::blend {

// dst = dst * (1 - alpha) + src * alpha, per pixel; all three the same size (8-bit BGR, float
// alpha in [0, 1]). Where alpha is exactly 1, dst becomes src exactly.
void AlphaBlend(cv::Mat& dst, const cv::Mat& src, const cv::Mat1f& alpha);

// Shifts the colour of `src` (in CIE Lab, by at most `max_shift` per channel) so that its mean over
// the soft edge of `alpha` (pixels with 0 < alpha < 1, weighted by alpha (1 - alpha)) equals
// `dst`'s there: what is laid over `dst` then continues its colour and light without a seam.
// Returns the shift (L, a, b); zero when there is no soft edge.
// With `skin_only`, the edge pixels where `dst` is skin-coloured (SkinColoured) are matched
// alone when they carry at least a fifth of the edge's weight: a face's tone is then taken from
// the cheeks, jaw and neck at the edge, not from a white wall or green grass beside them.
cv::Scalar MatchEdgeColour(cv::Mat& src, const cv::Mat& dst, const cv::Mat1f& alpha,
                           double max_shift, bool skin_only = false);

// MatchEdgeColour in two halves, for painting several replacements over the same `dst`: what
// depends on `dst` alone is found once. EdgeColourOf gives the edge's weights (all zero when there
// is no soft edge) and dst's Lab sum under them; ShiftToEdgeColour moves `src` onto it.
struct EdgeColour {
  cv::Mat1f weights;   // alpha (1 - alpha) on the soft edge (its skin part with skin_only)
  cv::Scalar lab_sum;  // sum of dst's CIE Lab values under `weights`
  double total = 0;    // sum of `weights`
};
EdgeColour EdgeColourOf(const cv::Mat& dst, const cv::Mat1f& alpha, bool skin_only);
cv::Scalar ShiftToEdgeColour(cv::Mat& src, const EdgeColour& edge, double max_shift);
// The colour of `bgr` under any weights (same size), to shift another image onto it.
EdgeColour ColourUnder(const cv::Mat& bgr, const cv::Mat1f& weights);

// The colour of `src` matched to `dst` along the soft edge of `alpha`, place by place: adds to
// `src` the smooth (harmonic: no Laplacian) field that equals dst - src on the edge (0 < alpha
// < 1) where `dst` is skin-coloured (SkinColoured), and is solved for inside (alpha == 1), as
// Poisson image editing (Pérez et al. 2003) does for its boundary. The replacement then continues
// the photo's light and tone all around (a lit cheek on one side, a shadowed jaw on the other)
// while keeping its own detail. Off-skin edge pixels (hair, a collar, a wall) constrain nothing:
// the field runs on past them, so they do not bleed in. Only `dst`'s skin-coloured edge pixels
// are read, the same pixels MatchEdgeColour averages. The field is solved on a coarse grid (the
// longer side at `grid` cells, so it holds no detail) and clamped to +-`max_shift` (8-bit units);
// `src` changes only where alpha > 0. Returns the mean |correction| there (0: no skin on the
// edge, nothing changed).
double HarmonicMatch(cv::Mat& src, const cv::Mat& dst, const cv::Mat1f& alpha, double max_shift,
                     int grid = 32);

// 255 where a BGR pixel's chroma lies in the skin locus of 8-bit YCrCb (Cr 135-180, Cb 80-130,
// Y above 25): every human skin tone, from the palest to the darkest, falls there under ordinary
// light; grey, white, green and blue surroundings do not.
cv::Mat1b SkinColoured(const cv::Mat& bgr);

// Whether `bgr` is grey where `alpha` < 0.5 (what is kept around a replaced region): the mean
// chroma distance from grey (|Cr - 128| + |Cb - 128| in 8-bit YCrCb) is below `tolerance`.
// A black-and-white photo (or a JPEG of one) then gets a grey replacement.
bool IsGreyAround(const cv::Mat& bgr, const cv::Mat1f& alpha, double tolerance = 2.0);

}  // namespace standin::blend
