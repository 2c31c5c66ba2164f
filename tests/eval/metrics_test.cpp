#include <gtest/gtest.h>

#include "standin/eval.hpp"

namespace standin::eval {
namespace {

Face F(float x, float y, float w, float h, float score) {
  Face f;
  f.box = {x, y, w, h};
  f.score = score;
  return f;
}

TEST(IoU, HandComputed) {
  EXPECT_FLOAT_EQ(IoU({0, 0, 10, 10}, {0, 0, 10, 10}), 1.f);
  EXPECT_FLOAT_EQ(IoU({0, 0, 10, 10}, {5, 0, 10, 10}), 50.f / 150.f);
  EXPECT_FLOAT_EQ(IoU({0, 0, 10, 10}, {20, 20, 5, 5}), 0.f);
}

TEST(ScoreDetections, ApOnThreeBoxes) {
  // Three faces; detections by score: TP (0.9), FP (0.8), TP (0.7); third face missed.
  LabelledImage img;
  img.boxes = {{0, 0, 10, 10}, {100, 0, 10, 10}, {200, 0, 10, 10}};
  const std::vector<std::vector<Face>> dets = {
      {F(0, 0, 10, 10, 0.9f), F(50, 50, 10, 10, 0.8f), F(100, 0, 10, 10, 0.7f)}};
  const auto s = ScoreDetections({img}, dets, 0.5f, 0.75f);
  // PR points: (1/3, 1), (1/3, 1/2), (2/3, 2/3). Interpolated AP = 1/3*1 + 1/3*2/3 = 5/9.
  EXPECT_NEAR(s.average_precision, 5.0 / 9.0, 1e-9);
  // At threshold 0.75 only the first two count: 1 TP, 1 FP.
  EXPECT_EQ(s.true_positives, 1);
  EXPECT_EQ(s.false_positives, 1);
  EXPECT_NEAR(s.recall, 1.0 / 3.0, 1e-9);
  ASSERT_EQ(s.missed_sizes.size(), 2u);
}

TEST(ScoreDetections, DuplicateDetectionIsAFalsePositive) {
  LabelledImage img;
  img.boxes = {{0, 0, 10, 10}};
  const auto s =
      ScoreDetections({img}, {{F(0, 0, 10, 10, 0.9f), F(1, 0, 10, 10, 0.8f)}}, 0.4f, 0.5f);
  EXPECT_EQ(s.true_positives, 1);
  EXPECT_EQ(s.false_positives, 1);
  EXPECT_DOUBLE_EQ(s.average_precision, 1.0);
}

TEST(ScoreDetections, IgnoredBoxesCountNeitherWay) {
  LabelledImage img;
  img.boxes = {{0, 0, 10, 10}};
  img.ignore = {{100, 100, 10, 10}};
  const auto s =
      ScoreDetections({img}, {{F(0, 0, 10, 10, 0.9f), F(100, 100, 10, 10, 0.95f)}}, 0.4f, 0.5f);
  EXPECT_EQ(s.false_positives, 0);
  EXPECT_DOUBLE_EQ(s.average_precision, 1.0);
}

TEST(LoadDlibDataset, ReadsBoxes) {
  auto d = LoadDlibDataset("/usr/share/doc/libdlib19.1/examples/faces/testing.xml");
  ASSERT_TRUE(d.ok());
  ASSERT_EQ(d->size(), 5u);
  EXPECT_EQ((*d)[0].file.filename(), "2008_002470.jpg");
  ASSERT_EQ((*d)[0].boxes.size(), 6u);
  EXPECT_EQ((*d)[0].boxes[0], cv::Rect2f(274, 181, 52, 53));
  EXPECT_FALSE(LoadDlibDataset("/nonexistent.xml").ok());
}

}  // namespace
}  // namespace standin::eval
