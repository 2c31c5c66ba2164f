#include "standin/landmarker.hpp"

#include <gtest/gtest.h>

#include "standin/detector.hpp"
#include "support/test_support.hpp"

namespace standin {
namespace {

TEST(Landmarker, SixtyEightPointsInsideEachFace) {
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  auto detector = MakeDetector({}, *store);
  auto landmarker = MakeLandmarker(*store);
  ASSERT_TRUE(detector.ok() && landmarker.ok()) << landmarker.status().message();
  const cv::Mat img = test::LoadSample("2008_002506.jpg");
  auto faces = (*detector)->Detect(img);
  ASSERT_TRUE(faces.ok());
  ASSERT_EQ(faces->size(), 3u);
  ASSERT_TRUE((*landmarker)->Annotate(img, *faces).ok());
  for (const auto& f : *faces) {
    ASSERT_EQ(f.landmarks68.size(), 68u);
    cv::Rect2f grown(f.box.x - f.box.width * 0.25f, f.box.y - f.box.height * 0.25f,
                     f.box.width * 1.5f, f.box.height * 1.5f);
    for (const auto& p : f.landmarks68) EXPECT_TRUE(grown.contains(p));
    // Anatomy: eyes above the nose above the mouth; left eye left of right eye.
    EXPECT_LT(f.kps5[kLeftEye].x, f.kps5[kRightEye].x);
    EXPECT_LT(std::max(f.kps5[kLeftEye].y, f.kps5[kRightEye].y), f.kps5[kNose].y);
    EXPECT_LT(f.kps5[kNose].y, std::min(f.kps5[kMouthLeft].y, f.kps5[kMouthRight].y) + 2.f);
  }
}

TEST(Landmarker, KeypointsFrom68AreEyeCentresNoseAndMouthCorners) {
  std::vector<cv::Point2f> p(68);
  for (int i = 0; i < 68; ++i)
    p[static_cast<size_t>(i)] = {static_cast<float>(i), static_cast<float>(2 * i)};
  const auto k = KeypointsFrom68(p);
  EXPECT_FLOAT_EQ(k[kLeftEye].x, 38.5f);   // mean of 36..41
  EXPECT_FLOAT_EQ(k[kRightEye].x, 44.5f);  // mean of 42..47
  EXPECT_FLOAT_EQ(k[kNose].x, 30.f);
  EXPECT_FLOAT_EQ(k[kMouthLeft].x, 48.f);
  EXPECT_FLOAT_EQ(k[kMouthRight].y, 108.f);
}

}  // namespace
}  // namespace standin
