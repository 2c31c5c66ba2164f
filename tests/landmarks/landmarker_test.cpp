#include "standin/landmarker.hpp"

#include <dlib/image_processing.h>
#include <dlib/opencv/cv_image.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <opencv2/imgproc.hpp>

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

// The faces of three sample photos, as the detector finds them.
struct Sample {
  cv::Mat image;
  std::vector<Face> faces;
};
std::vector<Sample> Samples(const ModelStore& store) {
  auto detector = MakeDetector({}, store);
  std::vector<Sample> out;
  if (!detector.ok()) return out;
  for (const char* name : {"2008_002506.jpg", "2008_002470.jpg", "2009_004587.jpg"}) {
    Sample s{test::LoadSample(name), {}};
    auto faces = (*detector)->Detect(s.image);
    if (faces.ok()) s.faces = *faces;
    out.push_back(std::move(s));
  }
  return out;
}

// standin reads dlib's model file member by member (to build the quick predictor too); its full
// fits must be exactly those of dlib's own loader.
TEST(Landmarker, FullFitsEqualDlibsOwnLoader) {
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  auto path = store->Path("shape_predictor_68_face_landmarks.dat");
  ASSERT_TRUE(path.ok());
  dlib::shape_predictor reference;
  dlib::deserialize(path->string()) >> reference;
  for (bool background : {false, true}) {
    auto landmarker = MakeLandmarker(*store, background);
    ASSERT_TRUE(landmarker.ok()) << landmarker.status().message();
    int faces = 0;
    for (auto& s : Samples(*store)) {
      ASSERT_TRUE((*landmarker)->Annotate(s.image, s.faces).ok());
      cv::Mat gray;
      cv::cvtColor(s.image, gray, cv::COLOR_BGR2GRAY);
      const dlib::cv_image<unsigned char> img(gray);
      for (const auto& f : s.faces) {
        // standin fits on a crop around the box; dlib's features are relative to the box, so the
        // whole image gives the same points.
        const dlib::full_object_detection shape =
            reference(img, dlib::rectangle(std::lround(f.box.x), std::lround(f.box.y),
                                           std::lround(f.box.x + f.box.width - 1),
                                           std::lround(f.box.y + f.box.height - 1)));
        ASSERT_EQ(shape.num_parts(), 68u);
        for (unsigned long i = 0; i < 68; ++i) {
          EXPECT_NEAR(f.landmarks68[i].x, shape.part(i).x(), 1e-3) << "point " << i;
          EXPECT_NEAR(f.landmarks68[i].y, shape.part(i).y(), 1e-3) << "point " << i;
        }
        ++faces;
      }
    }
    EXPECT_GE(faces, 10);
  }
}

// The quick fit (first cascades only) that follows faces between video frames must put the face
// where the full fit does, at the same size: that is what moves the box.
TEST(Landmarker, QuickFitPlacesAndSizesTheFaceLikeTheFullFit) {
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  auto landmarker = MakeLandmarker(*store);
  ASSERT_TRUE(landmarker.ok());
  double worst_centre = 0, worst_scale = 0, mean_point = 0;
  int n = 0;
  for (auto& s : Samples(*store)) {
    std::vector<Face> quick = s.faces;
    ASSERT_TRUE((*landmarker)->Annotate(s.image, s.faces).ok());
    ASSERT_TRUE((*landmarker)->AnnotateQuick(s.image, quick).ok());
    for (size_t k = 0; k < quick.size(); ++k) {
      const auto& a = s.faces[k].landmarks68;
      const auto& b = quick[k].landmarks68;
      ASSERT_EQ(b.size(), 68u);
      cv::Point2f ca(0, 0), cb(0, 0);
      for (size_t i = 0; i < 68; ++i) {
        ca += a[i] / 68.f;
        cb += b[i] / 68.f;
      }
      double sa = 0, sb = 0, d = 0;
      for (size_t i = 0; i < 68; ++i) {
        sa += cv::norm(a[i] - ca);
        sb += cv::norm(b[i] - cb);
        d += cv::norm(a[i] - b[i]);
      }
      const double iod = cv::norm(s.faces[k].kps5[kRightEye] - s.faces[k].kps5[kLeftEye]);
      worst_centre = std::max(worst_centre, cv::norm(ca - cb) / iod);
      worst_scale = std::max(worst_scale, std::abs(sb / sa - 1.0));
      mean_point += d / 68 / iod;
      ++n;
    }
  }
  ASSERT_GE(n, 10);
  mean_point /= n;
  std::printf(
      "[ quick    ] %d faces: worst centre shift %.3f IOD, worst scale error %.1f%%, "
      "mean point distance %.3f IOD\n",
      n, worst_centre, 100 * worst_scale, mean_point);
  EXPECT_LT(worst_centre, 0.08);  // measured 0.032
  EXPECT_LT(worst_scale, 0.10);   // measured 6.4% (4 cascades, from the detector box)
  EXPECT_GT(mean_point, 0.0);     // it is a different, coarser fit
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
