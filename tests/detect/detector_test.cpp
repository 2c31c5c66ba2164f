// The recall floor of issue #2: on dlib's hand-labelled photos, recall at IoU >= 0.4 must be
// at least 0.95 with at most one false positive per image on average.
#include "standin/detector.hpp"

#include <fmt/core.h>
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "standin/eval.hpp"
#include "standin/io.hpp"
#include "support/test_support.hpp"

namespace standin {
namespace {

std::vector<eval::LabelledImage> DlibFaces() {
  std::vector<eval::LabelledImage> all;
  for (const char* xml : {"training.xml", "testing.xml"}) {
    auto d = eval::LoadDlibDataset(test::SamplePhoto(xml));
    EXPECT_TRUE(d.ok()) << d.status().message();
    if (d.ok()) all.insert(all.end(), d->begin(), d->end());
  }
  return all;
}

eval::DetectionScores Score(const DetectorOptions& options,
                            const std::vector<eval::LabelledImage>& truth) {
  auto store = ModelStore::Open();
  EXPECT_TRUE(store.ok());
  auto detector = MakeDetector(options, *store);
  EXPECT_TRUE(detector.ok()) << detector.status().message();
  std::vector<std::vector<Face>> found;
  for (const auto& li : truth) {
    auto img = io::ReadImage(li.file);
    EXPECT_TRUE(img.ok());
    auto faces = (*detector)->Detect(*img);
    EXPECT_TRUE(faces.ok());
    found.push_back(*faces);
  }
  return eval::ScoreDetections(truth, found, 0.4f, options.threshold);
}

TEST(Detector, DlibLabelledFacesRecallFloor) {
  const auto truth = DlibFaces();
  ASSERT_EQ(truth.size(), 9u);
  const auto s = Score({}, truth);
  EXPECT_EQ(s.ground_truth, 43);
  EXPECT_GE(s.recall, 0.95);
  EXPECT_LE(s.fp_per_image, 1.0);
  EXPECT_GE(s.average_precision, 0.95);
}

TEST(Detector, SmallFacesAtHalfSizeWithFinerTiling) {
  // The same photos at half size: faces of 18-55 px.
  auto truth = DlibFaces();
  test::TempDir dir;
  for (auto& li : truth) {
    auto img = io::ReadImage(li.file);
    ASSERT_TRUE(img.ok());
    cv::Mat half;
    cv::resize(*img, half, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
    li.file = dir / li.file.filename();
    ASSERT_TRUE(io::WriteImage(li.file, half, {.jpeg_quality = 98}).ok());
    for (auto& b : li.boxes) b = cv::Rect2f(b.x / 2, b.y / 2, b.width / 2, b.height / 2);
  }
  const auto s = Score({.min_face = 16.f}, truth);
  EXPECT_GE(s.recall, 0.95);
  EXPECT_LE(s.fp_per_image, 1.0);
}

TEST(Detector, CloseUpFacesThatFillTheFrameAreFoundWhole) {
  // AT&T faces upscaled 3x (276x336) fill the frame. At that size the detector used to miss the
  // real face of s34 (all 10 photos) and s37 and find only a small false face in the glasses,
  // which left the real face untouched.
  const auto att = test::SharedData() / "att-faces";
  if (!std::filesystem::is_directory(att)) GTEST_SKIP() << "no ../shared/data";
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  auto detector = MakeDetector({}, *store);
  ASSERT_TRUE(detector.ok());
  for (const char* person : {"s34", "s37"}) {
    for (int i = 1; i <= 10; ++i) {
      const auto file = att / person / fmt::format("{}.pgm", i);
      auto loaded = eval::LoadAttFace(file);
      ASSERT_TRUE(loaded.ok()) << file;
      const cv::Mat& bgr = *loaded;
      auto faces = (*detector)->Detect(bgr);
      ASSERT_TRUE(faces.ok());
      float widest = 0;
      for (const auto& f : *faces) widest = std::max(widest, f.box.width);
      EXPECT_GT(widest, 0.5f * static_cast<float>(bgr.cols)) << file;
    }
  }
}

TEST(Detector, BlankImageHasNoFaces) {
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  auto detector = MakeDetector({}, *store);
  ASSERT_TRUE(detector.ok());
  auto faces = (*detector)->Detect(cv::Mat(720, 1280, CV_8UC3, cv::Scalar(90, 120, 140)));
  ASSERT_TRUE(faces.ok());
  EXPECT_TRUE(faces->empty());
}

TEST(Detector, RejectsBadOptions) {
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(MakeDetector({.model = "nope"}, *store).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(MakeDetector({.threshold = 1.5f}, *store).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace standin
