// Compositing: the alpha blend and the colour matching at the soft edge.
#include "blend/blend.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

namespace standin {
namespace {

// A disc of alpha 1 with a soft edge, on a 64 x 64 square.
cv::Mat1f SoftDisc() {
  cv::Mat1f a(64, 64);
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) {
      const float r = std::hypot(static_cast<float>(x) - 32.f, static_cast<float>(y) - 32.f);
      a(y, x) = std::clamp((24.f - r) / 6.f, 0.f, 1.f);
    }
  }
  return a;
}

cv::Scalar EdgeMeanLab(const cv::Mat& bgr, const cv::Mat1f& alpha) {
  cv::Mat f, lab;
  bgr.convertTo(f, CV_32F, 1.0 / 255);
  cv::cvtColor(f, lab, cv::COLOR_BGR2Lab);
  return cv::mean(lab, (alpha > 0.f) & (alpha < 1.f));
}

TEST(Blend, AlphaOneReplacesExactlyAndZeroKeeps) {
  cv::Mat dst(64, 64, CV_8UC3, cv::Scalar(10, 20, 30));
  const cv::Mat src(64, 64, CV_8UC3, cv::Scalar(200, 100, 50));
  const cv::Mat1f a = SoftDisc();
  blend::AlphaBlend(dst, src, a);
  EXPECT_EQ(dst.at<cv::Vec3b>(32, 32), cv::Vec3b(200, 100, 50));
  EXPECT_EQ(dst.at<cv::Vec3b>(0, 0), cv::Vec3b(10, 20, 30));
}

TEST(Blend, EdgeColourOfTheReplacementMatchesItsSurroundings) {
  // The surroundings: a warm gradient; the replacement: the same gradient, darker and greener.
  cv::Mat dst(64, 64, CV_8UC3), src(64, 64, CV_8UC3);
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) {
      dst.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uchar>(60 + x), 90, static_cast<uchar>(150 + y));
      src.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uchar>(20 + x), 70, static_cast<uchar>(80 + y));
    }
  }
  const cv::Mat1f a = SoftDisc();
  const cv::Scalar before = EdgeMeanLab(src, a), target = EdgeMeanLab(dst, a);
  ASSERT_GT(std::abs(before[0] - target[0]), 5.0);
  cv::Mat matched = src.clone();
  const cv::Scalar shift = blend::MatchEdgeColour(matched, dst, a, 50.0);
  const cv::Scalar after = EdgeMeanLab(matched, a);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(after[c], target[c], 1.0) << "channel " << c;  // 8-bit rounding aside
    EXPECT_GT(std::abs(shift[c]), 0.5) << "channel " << c;
  }
  // The shift is bounded.
  cv::Mat capped = src.clone();
  const cv::Scalar small = blend::MatchEdgeColour(capped, dst, a, 2.0);
  for (int c = 0; c < 3; ++c) EXPECT_LE(std::abs(small[c]), 2.0 + 1e-9);
  // No soft edge (a hard mask): nothing to match, nothing changes.
  cv::Mat1f hard = a.clone();
  hard.setTo(1.f, hard > 0.f);
  cv::Mat same = src.clone();
  EXPECT_EQ(blend::MatchEdgeColour(same, dst, hard, 50.0), cv::Scalar());
  EXPECT_EQ(cv::norm(same, src, cv::NORM_INF), 0.0);
}

// A dark-skinned face against a white wall: half the soft edge is wall. Matched on the whole
// edge, a pale stand-in stays halfway to white; matched on the skin-coloured edge pixels, it
// takes the skin's tone.
TEST(Blend, SkinToneIsTakenFromSkinNotFromTheWallBesideIt) {
  const cv::Mat1f a = SoftDisc();
  cv::Mat dst(64, 64, CV_8UC3, cv::Scalar(250, 250, 250));        // white wall
  dst(cv::Rect(32, 0, 32, 64)).setTo(cv::Scalar(45, 60, 90));     // dark skin (BGR)
  const cv::Mat src(64, 64, CV_8UC3, cv::Scalar(185, 200, 240));  // pale, pinkish stand-in
  const cv::Mat1b skin = blend::SkinColoured(dst);
  EXPECT_EQ(cv::countNonZero(skin(cv::Rect(0, 0, 32, 64))), 0);
  EXPECT_EQ(cv::countNonZero(skin(cv::Rect(32, 0, 32, 64))), 32 * 64);
  EXPECT_EQ(cv::countNonZero(blend::SkinColoured(src)), 64 * 64);  // pale skin is skin too
  // The Lab mean of dark skin, where the edge lies on it.
  const cv::Scalar target = EdgeMeanLab(dst(cv::Rect(32, 0, 32, 64)), a(cv::Rect(32, 0, 32, 64)));
  cv::Mat on_skin = src.clone(), whole = src.clone();
  blend::MatchEdgeColour(on_skin, dst, a, 100.0, /*skin_only=*/true);
  blend::MatchEdgeColour(whole, dst, a, 100.0, /*skin_only=*/false);
  const cv::Scalar got = EdgeMeanLab(on_skin, a), halfway = EdgeMeanLab(whole, a);
  EXPECT_NEAR(got[0], target[0], 1.5);
  EXPECT_NEAR(got[1], target[1], 1.5);
  EXPECT_NEAR(got[2], target[2], 1.5);
  EXPECT_GT(halfway[0] - target[0], 20.0);  // the whole edge is much lighter than the skin
}

// The harmonic edge match: a face lit from the right gets the light across, its own detail stays,
// and nothing but the skin at the soft edge is read.
TEST(Blend, HarmonicMatchCarriesTheEdgesLightAcrossAndKeepsTheDetail) {
  const cv::Mat1f a = SoftDisc();
  // The photo: skin, darker on the left (x 0) than on the right (x 63), all in the skin locus.
  cv::Mat dst(64, 64, CV_8UC3);
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) {
      const float lit = 0.6f + 0.4f * static_cast<float>(x) / 63.f;
      dst.at<cv::Vec3b>(y, x) =
          cv::Vec3b(cv::saturate_cast<uchar>(120 * lit), cv::saturate_cast<uchar>(150 * lit),
                    cv::saturate_cast<uchar>(200 * lit));
    }
  }
  ASSERT_EQ(cv::countNonZero(blend::SkinColoured(dst)), 64 * 64);
  // The stand-in: evenly lit, with a fine checker (its detail).
  cv::Mat before(64, 64, CV_8UC3, cv::Scalar(100, 125, 165));
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) {
      if ((x + y) % 2) before.at<cv::Vec3b>(y, x) = cv::Vec3b(110, 135, 175);
    }
  }
  cv::Mat src = before.clone();
  const double moved = blend::HarmonicMatch(src, dst, a, 60.0);
  EXPECT_GT(moved, 5.0);
  // Light: the inner left side is now darker than the inner right side (red, 8-bit).
  const cv::Rect left(14, 26, 8, 12), right(42, 26, 8, 12);
  const double red_left = cv::mean(src(left))[2], red_right = cv::mean(src(right))[2];
  EXPECT_GT(red_right - red_left, 15.0);
  EXPECT_NEAR(cv::mean(before(right))[2] - cv::mean(before(left))[2], 0.0, 1e-9);
  // The edge continues the photo: on the soft edge the stand-in is far closer to it than before.
  const cv::Mat1b edge = (a > 0.f) & (a < 1.f);
  cv::Mat d_before, d_after;
  cv::absdiff(before, dst, d_before);
  cv::absdiff(src, dst, d_after);
  EXPECT_LT(cv::mean(d_after, edge)[2], 0.35 * cv::mean(d_before, edge)[2]);
  // Detail: the correction is smooth at the pixel scale, so the checker is kept.
  cv::Mat s16, b16;
  src.convertTo(s16, CV_16SC3);
  before.convertTo(b16, CV_16SC3);
  const cv::Mat corr = s16 - b16;
  int worst_step = 0;
  for (int y = 14; y < 50; ++y) {
    for (int x = 14; x < 49; ++x) {
      if (a(y, x) < 1.f || a(y, x + 1) < 1.f) continue;
      const auto p = corr.at<cv::Vec3s>(y, x), q = corr.at<cv::Vec3s>(y, x + 1);
      for (int c = 0; c < 3; ++c) worst_step = std::max(worst_step, std::abs(p[c] - q[c]));
    }
  }
  EXPECT_LE(worst_step, 3);
  // Nothing outside the region changes.
  EXPECT_EQ(src.at<cv::Vec3b>(0, 0), before.at<cv::Vec3b>(0, 0));
  // The photo's pixels inside the region (alpha 1) are never read.
  cv::Mat scribbled = dst.clone();
  cv::Mat noise(64, 64, CV_8UC3);
  cv::RNG(5).fill(noise, cv::RNG::UNIFORM, 0, 255);
  noise.copyTo(scribbled, a >= 1.f);
  cv::Mat again = before.clone();
  blend::HarmonicMatch(again, scribbled, a, 60.0);
  EXPECT_EQ(cv::norm(again, src, cv::NORM_INF), 0.0);
  // An edge with no skin on it (a blue wall all round) constrains nothing: nothing changes.
  cv::Mat wall(64, 64, CV_8UC3, cv::Scalar(200, 120, 40));
  cv::Mat untouched = before.clone();
  EXPECT_EQ(blend::HarmonicMatch(untouched, wall, a, 60.0), 0.0);
  EXPECT_EQ(cv::norm(untouched, before, cv::NORM_INF), 0.0);
  // The clamp bounds the correction.
  cv::Mat clamped = before.clone();
  blend::HarmonicMatch(clamped, dst, a, 4.0);
  cv::Mat c16;
  clamped.convertTo(c16, CV_16SC3);
  EXPECT_LE(cv::norm(c16 - b16, cv::NORM_INF), 4.0);
}

TEST(Blend, GreyIsJudgedOnlyOnWhatIsKept) {
  const cv::Mat1f a = SoftDisc();
  cv::Mat grey(64, 64, CV_8UC3);
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) grey.at<cv::Vec3b>(y, x) = cv::Vec3b::all(uchar(60 + x + y));
  }
  EXPECT_TRUE(blend::IsGreyAround(grey, a));
  // Colour inside the region does not count; colour around it does.
  cv::Mat coloured_inside = grey.clone();
  coloured_inside.setTo(cv::Scalar(20, 90, 200), a >= 0.5f);
  EXPECT_TRUE(blend::IsGreyAround(coloured_inside, a));
  cv::Mat coloured_around = grey.clone();
  coloured_around.setTo(cv::Scalar(120, 140, 170), a < 0.5f);  // skin-like, mildly saturated
  EXPECT_FALSE(blend::IsGreyAround(coloured_around, a));
}

}  // namespace
}  // namespace standin
