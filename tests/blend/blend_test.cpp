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
