#include <gtest/gtest.h>

#include "detect/tiled_detector.hpp"

namespace standin::detect {
namespace {

// Every pixel of the image lies in at least one tile of every level.
void ExpectLevelsCoverImage(const std::vector<Tile>& tiles, cv::Size image) {
  int levels = 0;
  for (const auto& t : tiles) levels = std::max(levels, t.level + 1);
  for (int level = 0; level < levels; ++level) {
    cv::Mat1b covered = cv::Mat1b::zeros(image);
    for (const auto& t : tiles) {
      if (t.level == level) covered(t.region & cv::Rect(0, 0, image.width, image.height)).setTo(1);
    }
    EXPECT_EQ(cv::countNonZero(covered), image.area()) << "level " << level;
  }
}

TEST(PlanTiles, SmallFacesNeedFinerLevels) {
  const cv::Size image(1920, 1080), input(256, 256);
  const auto coarse = PlanTiles(image, input, 200.f, 24.f);
  const auto fine = PlanTiles(image, input, 30.f, 24.f);
  // The whole image in one pass, and once more zoomed out (the image in the middle half).
  ASSERT_EQ(coarse.size(), 2u);
  EXPECT_EQ(coarse[0].region, cv::Rect(-960, -1380, 3840, 3840));  // centred, twice the side
  EXPECT_EQ(coarse[0].level, -1);
  EXPECT_EQ(coarse[1].level, 0);
  EXPECT_EQ(coarse[1].region.width, 1920);
  EXPECT_GT(fine.size(), 10u);
  // The finest level brings faces of min_face pixels to the network's minimum size.
  int finest_side = 1 << 30;
  for (const auto& t : fine) finest_side = std::min(finest_side, t.region.width);
  EXPECT_NEAR(30.0 * 256 / finest_side, 24.0, 0.5);
  ExpectLevelsCoverImage(coarse, image);
  ExpectLevelsCoverImage(fine, image);
}

TEST(PlanTiles, TilesOverlapByAQuarter) {
  const auto tiles = PlanTiles({1000, 1000}, {256, 256}, 40.f, 24.f);
  std::vector<cv::Rect> level1;
  for (const auto& t : tiles) {
    if (t.level == 1) level1.push_back(t.region);
  }
  ASSERT_GE(level1.size(), 4u);
  const int overlap = (level1[0] & level1[1]).width;
  EXPECT_GE(overlap, level1[0].width / 4 - 1);
}

TEST(SuppressOverlaps, KeepsBestOfDuplicatesAndSeparateFaces) {
  Face a, b, c, d;
  a.box = {0, 0, 100, 100};
  a.score = 0.9f;
  b.box = {5, 5, 100, 100};  // duplicate of a
  b.score = 0.8f;
  c.box = {300, 0, 100, 100};  // separate
  c.score = 0.7f;
  d.box = {20, 20, 30, 30};  // nested inside a
  d.score = 0.95f;
  const auto kept = SuppressOverlaps({a, b, c, d}, 0.3f);
  // The nested box merges into the larger one (covering more is the safe side).
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0].box, a.box);
  EXPECT_FLOAT_EQ(kept[0].score, 0.95f);
  EXPECT_EQ(kept[1].box, c.box);
}

TEST(BoxCalibration, ShiftsAndScalesAroundTheCentre) {
  const BoxCalibration c{0.1f, -0.1f, 2.f, 1.f};
  const cv::Rect2f r = c.Apply({0, 0, 10, 10});
  EXPECT_FLOAT_EQ(r.x + r.width / 2, 6.f);
  EXPECT_FLOAT_EQ(r.y + r.height / 2, 4.f);
  EXPECT_FLOAT_EQ(r.width, 20.f);
  EXPECT_FLOAT_EQ(r.height, 10.f);
}

}  // namespace
}  // namespace standin::detect
