#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/calib3d.hpp>

#include "standin/eval.hpp"
#include "standin/evaluation.hpp"

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

namespace standin::eval {
namespace {

TEST(ThresholdAtFalseAcceptRate, AcceptsAtMostTheRate) {
  std::vector<float> impostor;
  for (int i = 1; i <= 10; ++i) impostor.push_back(0.1f * static_cast<float>(i));
  EXPECT_FLOAT_EQ(ThresholdAtFalseAcceptRate(impostor, 0.1), 0.9f);   // only 1.0 is above
  EXPECT_FLOAT_EQ(ThresholdAtFalseAcceptRate(impostor, 0.0), 1.0f);   // nothing is above
  EXPECT_FLOAT_EQ(ThresholdAtFalseAcceptRate(impostor, 0.25), 0.8f);  // floor(2.5) = 2 above
}

cv::Mat1f Rows(std::initializer_list<std::initializer_list<float>> rows) {
  cv::Mat1f m(static_cast<int>(rows.size()), static_cast<int>(rows.begin()->size()));
  int r = 0;
  for (const auto& row : rows) {
    int c = 0;
    for (float v : row) m(r, c++) = v;
    ++r;
  }
  return m;
}

TEST(ScoreReidentification, HandComputed) {
  // Person 0: a, b; person 1: c, d (unit vectors). Clean impostor scores: a.c = 0, a.d = -0.6,
  // b.c = 0.6, b.d = 0; at FAR 0.25 one impostor may pass: threshold 0.
  const cv::Mat1f clean = Rows({{1, 0}, {0.8f, 0.6f}, {0, 1}, {-0.6f, 0.8f}});
  const std::vector<int> person = {0, 0, 1, 1};
  const auto same = ScoreReidentification(clean, clean, person, 0.25);
  EXPECT_FLOAT_EQ(static_cast<float>(same.threshold), 0.f);
  EXPECT_DOUBLE_EQ(same.verified, 1.0);  // genuine pairs score 0.8
  EXPECT_DOUBLE_EQ(same.rank1, 1.0);
  EXPECT_NEAR(same.mean_genuine_similarity, 0.8, 1e-6);
  EXPECT_NEAR(same.chance_rank1, 1.0 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(same.chance_verified, 0.25);

  // Every probe points at c: similarities to a, b, c, d are 0, 0.6, 1, 0.8.
  const cv::Mat1f probe = Rows({{0, 1}, {0, 1}, {0, 1}, {0, 1}});
  const auto moved = ScoreReidentification(clean, probe, person, 0.25);
  // Genuine pairs: (0,1) 0.6 yes, (1,0) 0 no (not above 0), (2,3) 0.8 yes, (3,2) 1 yes.
  EXPECT_DOUBLE_EQ(moved.verified, 0.75);
  // Best other match: 0 -> c (wrong), 1 -> c (wrong), 2 -> d (right), 3 -> c (right).
  EXPECT_DOUBLE_EQ(moved.rank1, 0.5);
  EXPECT_EQ(moved.rank1_hits_by_person, (std::vector<int>{0, 2}));
  EXPECT_EQ(same.rank1_hits_by_person, (std::vector<int>{2, 2}));
  EXPECT_EQ(moved.probes_by_person, (std::vector<int>{2, 2}));
  // Resampling two people: both hit (1), both missed (0) or one of each; the interval spans it.
  EXPECT_DOUBLE_EQ(moved.rank1_low, 0.0);
  EXPECT_DOUBLE_EQ(moved.rank1_high, 1.0);
  EXPECT_DOUBLE_EQ(same.rank1_low, 1.0);
  EXPECT_DOUBLE_EQ(same.rank1_high, 1.0);
}

TEST(ScoreReidentification, AHiddenPersonLeavesTheProbesGallery) {
  // As in HandComputed, every probe points at c: probes 0 and 1 (person 0) are won by c.
  const cv::Mat1f clean = Rows({{1, 0}, {0.8f, 0.6f}, {0, 1}, {-0.6f, 0.8f}});
  const std::vector<int> person = {0, 0, 1, 1};
  const cv::Mat1f probe = Rows({{0, 1}, {0, 1}, {0, 1}, {0, 1}});
  // Person 1 hidden from probe 0's gallery: its best is then b (0.6), its own person. Hiding a
  // probe's own person changes nothing (probe 2 still finds d), and -1 hides nobody (probe 1).
  const auto r = ScoreReidentification(clean, probe, person, 0.25, {1, -1, 1, -1});
  EXPECT_EQ(r.rank1_hits_by_person, (std::vector<int>{1, 2}));
  EXPECT_DOUBLE_EQ(r.rank1, 0.75);
  // Verification is not a gallery search: unchanged.
  EXPECT_DOUBLE_EQ(r.verified, 0.75);
  // Chance: probe 0 has a gallery of one image, its own person's (1); the others 1/3 each.
  EXPECT_NEAR(r.chance_rank1, (1.0 + 3.0 / 3.0) / 4.0, 1e-12);
  // A hidden list of the wrong length scores nothing.
  EXPECT_EQ(ScoreReidentification(clean, probe, person, 0.25, {1}).rank1, 0.0);
}

TEST(Rank1Among, ScoresOnlyTheCountedProbes) {
  // HandComputed's moved probes (every one points at c): hits 0, 0, 1, 1, chance 1/3 each.
  const cv::Mat1f clean = Rows({{1, 0}, {0.8f, 0.6f}, {0, 1}, {-0.6f, 0.8f}});
  const std::vector<int> person = {0, 0, 1, 1};
  const cv::Mat1f probe = Rows({{0, 1}, {0, 1}, {0, 1}, {0, 1}});
  const auto moved = ScoreReidentification(clean, probe, person, 0.25);
  EXPECT_EQ(moved.rank1_hit, (std::vector<int>{0, 0, 1, 1}));
  ASSERT_EQ(moved.rank1_chance.size(), 4u);
  EXPECT_NEAR(moved.rank1_chance[0], 1.0 / 3.0, 1e-12);

  // Probe 1 left out (say it got the solid fallback): two hits of three.
  const auto some = Rank1Among(moved, person, {true, false, true, true});
  EXPECT_EQ(some.probes, 3);
  EXPECT_DOUBLE_EQ(some.rank1, 2.0 / 3.0);
  EXPECT_NEAR(some.chance_rank1, 1.0 / 3.0, 1e-12);
  // Two people drawn: person 0 twice (0 of 2), person 1 twice (4 of 4) or one each (2 of 3).
  EXPECT_DOUBLE_EQ(some.rank1_low, 0.0);
  EXPECT_DOUBLE_EQ(some.rank1_high, 1.0);

  // Every probe counted: the full score.
  const auto all = Rank1Among(moved, person, {true, true, true, true});
  EXPECT_EQ(all.probes, 4);
  EXPECT_DOUBLE_EQ(all.rank1, moved.rank1);
  EXPECT_DOUBLE_EQ(all.chance_rank1, moved.chance_rank1);
  EXPECT_DOUBLE_EQ(all.rank1_low, moved.rank1_low);
  EXPECT_DOUBLE_EQ(all.rank1_high, moved.rank1_high);

  // Per-probe chance follows the gallery: person 1 hidden from probe 0 leaves it only b (its own
  // person), a hit with chance 1.
  const auto hidden = ScoreReidentification(clean, probe, person, 0.25, {1, -1, 1, -1});
  const auto first = Rank1Among(hidden, person, {true, false, false, false});
  EXPECT_EQ(first.probes, 1);
  EXPECT_DOUBLE_EQ(first.rank1, 1.0);
  EXPECT_DOUBLE_EQ(first.chance_rank1, 1.0);

  // Nothing counted, or a list of the wrong length: nothing scored.
  EXPECT_EQ(Rank1Among(moved, person, {false, false, false, false}).probes, 0);
  EXPECT_EQ(Rank1Among(moved, person, {true}).probes, 0);
  EXPECT_EQ(Rank1Among(moved, {0, 0, 1}, {true, true, true, true}).probes, 0);
}

TEST(ScoreSamePhoto, EachFaceAgainstItsOwnOriginal) {
  // Originals a, b, c (unit vectors); strangers' pairs: a.b = 0, a.c = 0.6, b.c = 0.8.
  const cv::Mat1f original = Rows({{1, 0, 0}, {0, 1, 0}, {0.6f, 0.8f, 0}});
  // At FAR 1/3 one pair of three may pass: the threshold is the second highest, 0.6.
  EXPECT_FLOAT_EQ(static_cast<float>(ThresholdAmongStrangers(original, 1.0 / 3.0)), 0.6f);
  // Nothing may pass: the highest, 0.8.
  EXPECT_FLOAT_EQ(static_cast<float>(ThresholdAmongStrangers(original, 0.0)), 0.8f);
  // Anonymized copies: a unchanged (1), b turned to c's direction (0.8), c turned away (0).
  const cv::Mat1f anonymized = Rows({{1, 0, 0}, {0.6f, 0.8f, 0}, {0, 0, 1}});
  const auto s = ScoreSamePhoto(original, anonymized, 0.6);
  EXPECT_EQ(s.faces, 3);
  EXPECT_NEAR(s.mean_similarity, (1.0 + 0.8 + 0.0) / 3.0, 1e-6);
  EXPECT_DOUBLE_EQ(s.verified, 2.0 / 3.0);  // 1 and 0.8 above 0.6
  EXPECT_DOUBLE_EQ(s.threshold, 0.6);
  EXPECT_DOUBLE_EQ(ScoreSamePhoto(original, anonymized, 0.9).verified, 1.0 / 3.0);
  // Mismatched rows score nothing.
  EXPECT_EQ(ScoreSamePhoto(original, anonymized.rowRange(0, 2), 0.6).faces, 0);
}

// A generic face (the same six points HeadPose fits, in camera axes) turned by known angles and
// projected: HeadPose gives the angles back; wider or narrower proportions, facing the camera,
// give no yaw or roll.
std::vector<cv::Point2f> ProjectedFace(cv::Vec3d yaw_pitch_roll, double mouth_scale = 1.0) {
  const std::vector<cv::Point3d> model = {{0, 0, 0},
                                          {0, 330, 65},
                                          {-225, -170, 135},
                                          {225, -170, 135},
                                          {-150 * mouth_scale, 150, 125},
                                          {150 * mouth_scale, 150, 125}};
  const double d = CV_PI / 180;
  const cv::Matx33d rx(1, 0, 0, 0, std::cos(yaw_pitch_roll[1] * d),
                       -std::sin(yaw_pitch_roll[1] * d), 0, std::sin(yaw_pitch_roll[1] * d),
                       std::cos(yaw_pitch_roll[1] * d));
  const cv::Matx33d ry(std::cos(yaw_pitch_roll[0] * d), 0, std::sin(yaw_pitch_roll[0] * d), 0, 1, 0,
                       -std::sin(yaw_pitch_roll[0] * d), 0, std::cos(yaw_pitch_roll[0] * d));
  const cv::Matx33d rz(std::cos(yaw_pitch_roll[2] * d), -std::sin(yaw_pitch_roll[2] * d), 0,
                       std::sin(yaw_pitch_roll[2] * d), std::cos(yaw_pitch_roll[2] * d), 0, 0, 0,
                       1);
  cv::Vec3d rvec;
  cv::Rodrigues(cv::Mat(rz * ry * rx), rvec);
  std::vector<cv::Point2d> projected;
  const cv::Matx33d camera(1000, 0, 320, 0, 1000, 240, 0, 0, 1);
  cv::projectPoints(model, rvec, cv::Vec3d(0, 0, 4000), camera, cv::noArray(), projected);
  std::vector<cv::Point2f> lm(68, cv::Point2f(0, 0));
  const int index[] = {30, 8, 36, 45, 48, 54};
  for (int k = 0; k < 6; ++k)
    lm[static_cast<std::size_t>(index[k])] = projected[static_cast<std::size_t>(k)];
  return lm;
}

TEST(HeadPose, RecoversKnownAnglesAndIgnoresProportions) {
  for (const cv::Vec3d& angles : {cv::Vec3d(0, 0, 0), cv::Vec3d(25, 0, 0), cv::Vec3d(0, -15, 0),
                                  cv::Vec3d(0, 0, 10), cv::Vec3d(-20, 10, 5)}) {
    const auto pose = HeadPose(ProjectedFace(angles), {320, 240}, 1000);
    ASSERT_TRUE(pose.has_value());
    for (int k = 0; k < 3; ++k) EXPECT_NEAR((*pose)[k], angles[k], 0.5) << angles << " " << k;
  }
  // A wider mouth, facing the camera: still no yaw and no roll.
  const auto wide = HeadPose(ProjectedFace({0, 0, 0}, 1.3), {320, 240}, 1000);
  ASSERT_TRUE(wide.has_value());
  EXPECT_NEAR((*wide)[0], 0.0, 0.5);
  EXPECT_NEAR((*wide)[2], 0.0, 0.5);
  EXPECT_FALSE(HeadPose(std::vector<cv::Point2f>(5), {320, 240}, 1000).has_value());
}

TEST(PersonBootstrapInterval, HitsClusteredOnOnePersonGiveAWideInterval) {
  // Every person hit in 1 of 10 photos: no spread however the people are drawn.
  const std::vector<int> ten(40, 10);
  const auto even = PersonBootstrapInterval(std::vector<int>(40, 1), ten);
  EXPECT_DOUBLE_EQ(even.first, 0.1);
  EXPECT_DOUBLE_EQ(even.second, 0.1);
  // The same 2.5% rank-1 as 10 hits all on one person: drawing 40 people leaves that person out
  // with probability (39/40)^40 = 0.36, and three draws of them (7.5%) are within the top 2.5%.
  std::vector<int> one(40, 0);
  one[7] = 10;
  const auto clustered = PersonBootstrapInterval(one, ten);
  EXPECT_DOUBLE_EQ(clustered.first, 0.0);
  EXPECT_GE(clustered.second, 0.05);
  EXPECT_LE(clustered.second, 0.1);
  EXPECT_EQ(PersonBootstrapInterval(one, ten), clustered);  // fixed seed: repeatable
  // People without probes are not drawn.
  std::vector<int> probes = ten, hits(40, 1);
  probes.push_back(0);
  hits.push_back(0);
  EXPECT_DOUBLE_EQ(PersonBootstrapInterval(hits, probes).first, 0.1);
  EXPECT_EQ(PersonBootstrapInterval({}, {}), (std::pair<double, double>{0.0, 0.0}));
}

TEST(MaxSimilarity, PicksTheClosestReference) {
  const cv::Mat1f refs = Rows({{1, 0}, {0, 1}});
  const auto m = MaxSimilarity(Rows({{0.6f, 0.8f}, {-1, 0}}), refs);
  ASSERT_EQ(m.size(), 2u);
  EXPECT_FLOAT_EQ(m[0], 0.8f);
  EXPECT_FLOAT_EQ(m[1], 0.f);
}

TEST(NormalisedMeanError, HandComputed) {
  // Point errors 0 and 5, normaliser 10: (0 + 5) / 2 / 10.
  EXPECT_DOUBLE_EQ(NormalisedMeanError({{0, 0}, {10, 0}}, {{0, 0}, {10, 5}}, 0, 1), 0.25);
  EXPECT_TRUE(std::isnan(NormalisedMeanError({{0, 0}}, {{0, 0}, {1, 1}}, 0, 0)));
}

TEST(FrechetDistance, IdenticalSetsAreZero) {
  cv::Mat1f x(50, 8);
  cv::randn(x, 0, 1);
  EXPECT_NEAR(FrechetDistance(x, x), 0.0, 1e-6);
}

TEST(FrechetDistance, HandComputedOneAndTwoDimensions) {
  // 1-D: {0, 2} (mean 1, var 2) vs {1, 5} (mean 3, var 8): (3-1)^2 + (sqrt 2 - sqrt 8)^2 = 4 + 2.
  EXPECT_NEAR(FrechetDistance(Rows({{0}, {2}}), Rows({{1}, {5}})), 6.0, 1e-9);
  // 2-D, uncorrelated: a has mean (1, 1) and variances 4/3; b = 3a + (1, 0): mean (4, 3), variances
  // 12. 3^2 + 2^2 + 2 (sqrt(4/3) - sqrt 12)^2 = 13 + 32/3 = 71/3.
  const cv::Mat1f a = Rows({{0, 0}, {2, 0}, {0, 2}, {2, 2}});
  const cv::Mat1f b = Rows({{1, 0}, {7, 0}, {1, 6}, {7, 6}});
  EXPECT_NEAR(FrechetDistance(a, b), 71.0 / 3.0, 1e-9);
}

}  // namespace
}  // namespace standin::eval

namespace standin::eval {
namespace {

TEST(MethodVariant, ParsesCombinedGenerateVariants) {
  auto v = MethodVariant("generate-k2-noattr-m0.2", {});
  ASSERT_TRUE(v.ok()) << v.status().message();
  EXPECT_EQ(v->method.kind, MethodKind::kGenerate);
  EXPECT_EQ(v->generator.guard.candidates, 2);
  EXPECT_EQ(v->generator.guard.attribute_weight, 0.f);
  EXPECT_FLOAT_EQ(v->generator.guard.margin, 0.2f);
  EXPECT_TRUE(v->generator.guard.enabled);
  auto w = MethodVariant("generate-iw0", {});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->generator.guard.identity_weight, 0.f);
  auto fx = MethodVariant("generate-fixed", {});
  ASSERT_TRUE(fx.ok());
  EXPECT_FALSE(fx->generator.guard.relative_margin);
  auto n = MethodVariant("generate-natural", {});
  ASSERT_TRUE(n.ok());
  EXPECT_GT(n->generator.guard.natural_weight, 0.f);
  auto u = MethodVariant("generate-unguarded-all", {});
  ASSERT_TRUE(u.ok());
  EXPECT_FALSE(u->generator.guard.enabled);
  EXPECT_EQ(u->generator.guard.good_enough, 0.f);
  auto nd = MethodVariant("generate-unguarded-nodetail", {});
  ASSERT_TRUE(nd.ok());
  EXPECT_EQ(nd->generator.detail_gain, 0.f);
  // The generator's numeric settings: each variant sets its field to the number it carries, and
  // the prefix alone is refused.
  struct Numeric {
    const char* name;
    float GeneratorOptions::*field;
    float value;
    const char* bare;
  };
  for (const Numeric& c :
       {Numeric{"generate-detail1.5", &GeneratorOptions::detail_gain, 1.5f, "generate-detail"},
        Numeric{"generate-unguarded-smooth0.4", &GeneratorOptions::smooth_sigma, 0.4f,
                "generate-smooth"},
        Numeric{"generate-unguarded-kps0.5", &GeneratorOptions::keypoint_shrink, 0.5f,
                "generate-kps"},
        Numeric{"generate-z2.5", &GeneratorOptions::latent_scale, 2.5f, "generate-z"}}) {
    auto parsed = MethodVariant(c.name, {});
    ASSERT_TRUE(parsed.ok()) << c.name;
    EXPECT_FLOAT_EQ(parsed->generator.*c.field, c.value) << c.name;
    EXPECT_FALSE(MethodVariant(c.bare, {}).ok()) << c.bare;
  }
  EXPECT_FALSE(MethodVariant("generate-m", {}).ok());
  EXPECT_FALSE(MethodVariant("generate-kx", {}).ok());
  auto fb = MethodVariant("generate-fallbackblur", {});
  ASSERT_TRUE(fb.ok());
  EXPECT_EQ(fb->generator.guard.fallback, MethodKind::kBlur);
  EXPECT_FALSE(MethodVariant("generate-fallbackgenerate", {}).ok());
  EXPECT_FALSE(MethodVariant("generate-fallback", {}).ok());
  auto two = MethodVariant("generate-plusmobileface-sp60-sm0.5", {});
  ASSERT_TRUE(two.ok()) << two.status().message();
  ASSERT_EQ(two->generator.guard.second.size(), 1u);
  EXPECT_EQ(two->generator.guard.second[0].recogniser, "mobileface");
  EXPECT_FLOAT_EQ(two->generator.guard.second[0].stranger_percentile, 60.f);
  EXPECT_FLOAT_EQ(two->generator.guard.second[0].Margin(), 0.5f);
  // dlib's ResNet by its short name ("-" separates variants), at its own margin.
  auto dlib = MethodVariant("generate-plusdlib", {});
  ASSERT_TRUE(dlib.ok()) << dlib.status().message();
  ASSERT_EQ(dlib->generator.guard.second.size(), 1u);
  EXPECT_EQ(dlib->generator.guard.second[0].recogniser, "dlib-resnet");
  EXPECT_FLOAT_EQ(dlib->generator.guard.second[0].Margin(), 0.961f);
  // Both, in the order named; spP and smM belong to the recogniser named just before them.
  auto both = MethodVariant("generate-plusmobileface-sm0.4-plusdlib-sp75", {});
  ASSERT_TRUE(both.ok()) << both.status().message();
  ASSERT_EQ(both->generator.guard.second.size(), 2u);
  EXPECT_EQ(both->generator.guard.second[0].recogniser, "mobileface");
  EXPECT_FLOAT_EQ(both->generator.guard.second[0].Margin(), 0.4f);
  EXPECT_FLOAT_EQ(both->generator.guard.second[0].stranger_percentile, 40.f);
  EXPECT_EQ(both->generator.guard.second[1].recogniser, "dlib-resnet");
  EXPECT_FLOAT_EQ(both->generator.guard.second[1].Margin(), 0.961f);
  EXPECT_FLOAT_EQ(both->generator.guard.second[1].stranger_percentile, 75.f);
  // The strict preset (48 donors, far from the original first), then what follows it.
  auto strict = MethodVariant("generate-strict", {});
  ASSERT_TRUE(strict.ok());
  EXPECT_EQ(strict->generator.guard.donors, 48);
  EXPECT_FLOAT_EQ(strict->generator.guard.donor_identity_weight, 1.f);
  auto old_strict = MethodVariant("generate-strict-donors128-diw0", {});
  ASSERT_TRUE(old_strict.ok()) << old_strict.status().message();
  EXPECT_EQ(old_strict->generator.guard.donors, 128);
  EXPECT_FLOAT_EQ(old_strict->generator.guard.donor_identity_weight, 0.f);
  EXPECT_EQ(old_strict->generator.guard.second.size(), 2u);
  EXPECT_FALSE(MethodVariant("generate-diw", {}).ok());
  EXPECT_FALSE(MethodVariant("generate-sp60", {}).ok());  // no recogniser to give it to
  EXPECT_FALSE(MethodVariant("generate-plus", {}).ok());
  EXPECT_FALSE(MethodVariant("blur-k2", {}).ok());
  auto px = MethodVariant("pixelate-b5", {});
  ASSERT_TRUE(px.ok());
  EXPECT_EQ(px->method.kind, MethodKind::kPixelate);
  EXPECT_EQ(px->method.pixel_blocks, 5);
  EXPECT_FALSE(MethodVariant("pixelate-b", {}).ok());
  EXPECT_FALSE(MethodVariant("pixelate-k2", {}).ok());
  EXPECT_FALSE(MethodVariant("sketch", {}).ok());
}

}  // namespace
}  // namespace standin::eval
