// The identity recognisers: each tells AT&T people apart on untouched photos (so a low
// re-identification score after anonymization means something), and the evaluation-only one is
// never offered to the identity guard.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "standin/analysis.hpp"
#include "standin/detector.hpp"
#include "standin/eval.hpp"
#include "support/test_support.hpp"

namespace standin {
namespace {

TEST(Recognisers, EachTellsAttPeopleApart) {
  const auto att = test::SharedData() / "att-faces";
  if (!std::filesystem::is_directory(att)) GTEST_SKIP() << "no ../shared/data";
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  auto detector = MakeDetector({}, *store);
  ASSERT_TRUE(detector.ok());
  // 8 people x 4 photos, each face's five keypoints from the default detector.
  std::vector<cv::Mat> images;
  std::vector<std::array<cv::Point2f, 5>> kps;
  std::vector<int> person;
  for (int p = 1; p <= 8; ++p) {
    for (int i = 1; i <= 4; ++i) {
      const auto file = att / fmt::format("s{}", p * 5) / fmt::format("{}.pgm", i);
      auto bgr = eval::LoadAttFace(file);
      ASSERT_TRUE(bgr.ok()) << file;
      auto faces = (*detector)->Detect(*bgr);
      ASSERT_TRUE(faces.ok() && !faces->empty()) << file;
      const auto& f = *std::max_element(faces->begin(), faces->end(), [](auto& a, auto& b) {
        return a.box.area() < b.box.area();
      });
      images.push_back(*bgr);
      kps.push_back(f.kps5);
      person.push_back(p);
    }
  }
  ASSERT_EQ(IdentityEmbedderNames().size(), 3u);
  for (const auto& name : IdentityEmbedderNames()) {
    auto rec = MakeIdentityEmbedder(name, *store);
    ASSERT_TRUE(rec.ok()) << rec.status().message();
    EXPECT_EQ((*rec)->name(), name);
    cv::Mat1f e;
    for (size_t k = 0; k < images.size(); ++k) {
      auto v = (*rec)->Embed(images[k], kps[k]);
      ASSERT_TRUE(v.ok());
      EXPECT_NEAR(cv::norm(*v), 1.0, 1e-4) << name;
      e.push_back(*v);
    }
    const cv::Mat1f sim = e * e.t();
    std::vector<float> genuine, impostor;
    int rank1 = 0;
    for (int a = 0; a < sim.rows; ++a) {
      int best = -1;
      for (int b = 0; b < sim.cols; ++b) {
        if (a == b) continue;
        const bool same = person[static_cast<size_t>(a)] == person[static_cast<size_t>(b)];
        if (b > a) (same ? genuine : impostor).push_back(sim(a, b));
        if (best < 0 || sim(a, b) > sim(a, best)) best = b;
      }
      rank1 += person[static_cast<size_t>(best)] == person[static_cast<size_t>(a)] ? 1 : 0;
    }
    // AUC: the share of (genuine, impostor) pairs the similarity orders correctly.
    double ordered = 0;
    for (float g : genuine) {
      for (float i : impostor) ordered += g > i ? 1.0 : (g == i ? 0.5 : 0.0);
    }
    const double auc = ordered / static_cast<double>(genuine.size() * impostor.size());
    SCOPED_TRACE(fmt::format("{}: AUC {:.3f}, rank-1 {}/{}", name, auc, rank1, sim.rows));
    EXPECT_GT(auc, 0.9);
    EXPECT_GE(rank1, sim.rows - 2);
  }
}

TEST(Recognisers, TheEvaluationOnlyOneIsNotOfferedToTheGuard) {
  const auto all = IdentityEmbedderNames();
  const auto guard = GuardRecogniserNames();
  EXPECT_NE(std::find(all.begin(), all.end(), "mobileface"), all.end());
  EXPECT_EQ(std::find(guard.begin(), guard.end(), "mobileface"), guard.end());
  EXPECT_NE(std::find(guard.begin(), guard.end(), "arcface"), guard.end());
  EXPECT_NE(std::find(guard.begin(), guard.end(), "dlib-resnet"), guard.end());
  auto photo = test::SamplePhoto("2008_002506.jpg");
  test::TempDir dir;
  const auto r = test::Standin({photo.string(), "-o", (dir / "x.jpg").string(), "-m", "generate",
                                "--recogniser", "mobileface", "-q"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_FALSE(std::filesystem::exists(dir / "x.jpg"));
}

}  // namespace
}  // namespace standin
