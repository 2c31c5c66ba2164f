#include "standin/methods.hpp"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "support/test_support.hpp"

namespace standin {
namespace {

// A face-sized patch of fine texture in a larger image, and its "face".
struct Scene {
  cv::Mat image;
  Face face;
  Scene() {
    image = test::LoadSample("2008_002506.jpg");  // faces about 100 px
    face.box = {329, 78, 109, 109};               // labelled box of the first face
    face.kps5 = {cv::Point2f(360, 120), cv::Point2f(405, 120), cv::Point2f(383, 145),
                 cv::Point2f(365, 165), cv::Point2f(400, 165)};
  }
};

double DetailInside(const cv::Mat& img, const cv::Rect& r) {
  cv::Mat gray, lap;
  cv::cvtColor(img(r), gray, cv::COLOR_BGR2GRAY);
  cv::Laplacian(gray, lap, CV_64F);
  cv::Scalar mean, stddev;
  cv::meanStdDev(lap, mean, stddev);
  return stddev[0] * stddev[0];
}

cv::Rect Core(const Face& f) {  // the inner face, which every method must cover fully
  return cv::Rect(static_cast<int>(f.box.x + f.box.width * 0.15f),
                  static_cast<int>(f.box.y + f.box.height * 0.1f),
                  static_cast<int>(f.box.width * 0.7f), static_cast<int>(f.box.height * 0.8f));
}

Scene Apply(const MethodOptions& o) {
  Scene s;
  std::vector<Face> faces{s.face};
  EXPECT_TRUE(MakeMethod(o)->Apply(s.image, faces).ok());
  EXPECT_EQ(faces[0].method, MethodName(o.kind));
  return s;
}

TEST(Methods, BlurRemovesFacialDetail) {
  const Scene before;
  const Scene after = Apply({.kind = MethodKind::kBlur});
  const double d0 = DetailInside(before.image, Core(before.face));
  const double d1 = DetailInside(after.image, Core(after.face));
  EXPECT_LT(d1, 0.02 * d0) << d0 << " -> " << d1;
}

TEST(Methods, PixelateLeavesAboutEightBlocksAcross) {
  const Scene after = Apply({.kind = MethodKind::kPixelate});
  // Along a row through the core, colour changes only at block edges: at most ~9 runs.
  cv::Mat row = after.image(Core(after.face)).row(40);
  int changes = 0;
  for (int x = 1; x < row.cols; ++x)
    changes += row.at<cv::Vec3b>(0, x) != row.at<cv::Vec3b>(0, x - 1);
  EXPECT_LE(changes, 9);
  EXPECT_GE(changes, 3);
}

TEST(Methods, SolidFillsTheFace) {
  const Scene after = Apply({.kind = MethodKind::kSolid, .solid_color = cv::Scalar(10, 20, 30)});
  cv::Mat core = after.image(Core(after.face));
  cv::Mat diff;
  cv::absdiff(core, cv::Scalar(10, 20, 30), diff);
  EXPECT_EQ(cv::countNonZero(diff.reshape(1)), 0);
}

TEST(Methods, PixelsFarFromTheFaceAreUntouched) {
  for (auto kind : {MethodKind::kBlur, MethodKind::kPixelate, MethodKind::kSolid}) {
    const Scene before;
    const Scene after = Apply({.kind = kind});
    const cv::Rect far(0, 0, 200, 375);  // the left part of the photo, far from the face
    cv::Mat diff;
    cv::absdiff(before.image(far), after.image(far), diff);
    EXPECT_EQ(cv::countNonZero(diff.reshape(1)), 0) << MethodName(kind);
  }
}

TEST(FaceRegion, SoftEllipseCoversTheFaceAndFadesOut) {
  const Scene s;
  const FaceRegion r = MakeFaceRegion(s.face, s.image.size(), {});
  const cv::Point c(static_cast<int>(s.face.box.x + s.face.box.width / 2) - r.roi.x,
                    static_cast<int>(s.face.box.y + s.face.box.height / 2) - r.roi.y);
  EXPECT_GT(r.alpha(c), 0.99f);
  // The whole inner face is fully covered.
  cv::Rect core = Core(s.face) - r.roi.tl();
  double lo = 0;
  cv::minMaxLoc(r.alpha(core), &lo);
  EXPECT_GT(lo, 0.97);
  // Corners of the region are outside the ellipse.
  EXPECT_LT(r.alpha(0, 0), 0.01f);
}

TEST(FaceRegion, BoxesAreHardRectangles) {
  const Scene s;
  const FaceRegion r = MakeFaceRegion(s.face, s.image.size(), {.boxes = true, .mask_scale = 1.f});
  EXPECT_NEAR(cv::sum(r.alpha)[0], s.face.box.area(), 0.1 * s.face.box.area());
}

TEST(FaceRegion, FaceOutsideTheImageHasAnEmptyRegion) {
  Face f;
  f.box = {-500, -500, 50, 50};
  EXPECT_TRUE(MakeFaceRegion(f, {100, 100}, {}).roi.empty());
}

TEST(Methods, ParseMethod) {
  EXPECT_EQ(*ParseMethod("pixelate"), MethodKind::kPixelate);
  EXPECT_EQ(*ParseMethod("generate"), MethodKind::kGenerate);
  EXPECT_EQ(ParseMethod("nope").status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace standin
