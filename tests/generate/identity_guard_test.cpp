// The identity guard of the generate method: the margin is honoured and checked independently,
// a face with no passing candidate fails closed to the fallback, receipts say what happened,
// and a video track keeps its stand-in.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "standin/analysis.hpp"
#include "standin/anonymizer.hpp"
#include "standin/generator.hpp"
#include "support/test_support.hpp"

namespace standin {
namespace {

using test::Scene;

Anonymizer Guarded(const IdentityGuardOptions& guard, std::uint64_t seed = 7) {
  AnonymizerOptions o;
  o.method.kind = MethodKind::kGenerate;
  o.generator.seed = seed;
  o.generator.guard = guard;
  auto a = Anonymizer::Create(o);
  EXPECT_TRUE(a.ok()) << a.status().message();
  return std::move(a).value();
}

// The scene's faces after the guard with `guard` painted them; the painted image in `out`.
std::vector<Face> GuardedFaces(const Scene& s, const IdentityGuardOptions& guard,
                               cv::Mat* out = nullptr) {
  auto a = Guarded(guard);
  auto faces = s.faces;
  auto image = a.Apply(s.image, faces);
  EXPECT_TRUE(image.ok()) << image.status().message();
  if (out != nullptr && image.ok()) *out = *image;
  return faces;
}

TEST(IdentityGuard, ReceiptsMatchAnIndependentMeasurementOfTheOutput) {
  const Scene s;
  ASSERT_EQ(s.faces.size(), 3u);
  IdentityGuardOptions g;
  g.natural_weight = 0.5f;  // the faceness criterion on, so its receipt is checked too
  auto a = Guarded(g);
  auto faces = s.faces;
  auto out = a.Apply(s.image, faces);
  ASSERT_TRUE(out.ok()) << out.status().message();
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  auto arcface = MakeIdentityEmbedder("arcface", *store);
  ASSERT_TRUE(arcface.ok());
  for (const auto& f : faces) {
    ASSERT_TRUE(f.receipt.has_value());
    const IdentityReceipt& r = *f.receipt;
    EXPECT_EQ(r.recogniser, "arcface");
    EXPECT_GE(r.margin, g.margin);  // raised per face by the relative margin (tested below)
    EXPECT_GE(r.drawn, 1);
    EXPECT_LE(r.drawn, g.candidates + g.donors);
    EXPECT_LT(r.rejected, r.drawn);
    ASSERT_TRUE(r.passed);
    EXPECT_EQ(f.method, "generate");
    EXPECT_LT(r.similarity, r.margin);
    EXPECT_GT(r.age_before, 0.f);
    EXPECT_GT(r.age_after, 0.f);
    // The similarity of the stand-in in the final image to the original face, measured again
    // from the two images (the faces of this photo do not overlap).
    auto e0 = (*arcface)->Embed(s.image, f.kps5);
    auto e1 = (*arcface)->Embed(*out, f.kps5);
    ASSERT_TRUE(e0.ok() && e1.ok());
    EXPECT_NEAR(e0->dot(*e1), r.similarity, 2e-3);
    // Its faceness, scored again on the final image (the candidate was scored on a copy of the
    // region around the face, so its crop may round to another pixel).
    ASSERT_GE(r.faceness, 0.f);
    auto judge = FacenessJudge::Create(*store);
    ASSERT_TRUE(judge.ok());
    auto again = (*judge)->Score(*out, f);
    ASSERT_TRUE(again.ok());
    EXPECT_NEAR(*again, r.faceness, 0.01);
  }
}

// Faces are judged side by side on the untouched image, but painted one after another: where a
// face painted first reaches into another's region (here a doubtful detection over a face's chin
// and neck, filled solid because it scores under paint_above, and painted first as the smaller
// face), the other's receipt must still describe the output. The guard judges its winner again as
// painted, so the receipt matches an independent measurement of the output, as it does for faces
// nothing reaches into. Without that second look the receipt is off by about 0.004 here.
TEST(IdentityGuard, ReceiptsDescribeTheOutputWhereAnotherFacesMethodReachesIn) {
  const Scene s;
  ASSERT_FALSE(s.faces.empty());
  auto faces = s.faces;
  Face chin = faces[0];
  const cv::Point2f c(chin.box.x + chin.box.width / 2, chin.box.y + chin.box.height);
  auto shrink = [&](cv::Point2f q) {
    return c + 0.9f * (q - (chin.box.tl() + cv::Point2f(chin.box.width / 2, chin.box.height / 2)));
  };
  for (auto& q : chin.kps5) q = shrink(q);
  for (auto& q : chin.landmarks68) q = shrink(q);
  chin.box = cv::Rect2f(c.x - chin.box.width * 0.45f, c.y - chin.box.height * 0.45f,
                        chin.box.width * 0.9f, chin.box.height * 0.9f);
  chin.score = 0.6f;  // under paint_above: no stand-in
  faces.push_back(chin);
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  auto arcface = MakeIdentityEmbedder("arcface", *store);
  ASSERT_TRUE(arcface.ok());
  for (const int workers : {1, 2}) {
    AnonymizerOptions o;
    o.method.kind = MethodKind::kGenerate;
    o.generator.seed = 7;
    o.generator.unpainted = MethodKind::kSolid;
    o.generator.guard.workers = workers;
    auto a = Anonymizer::Create(o);
    ASSERT_TRUE(a.ok()) << a.status().message();
    auto painted = faces;
    auto out = a->Apply(s.image, painted);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(painted.back().method, "solid");
    // The solid fill is in the output below the first face's chin, inside its region.
    const cv::Point below(cvRound(c.x), cvRound(c.y + 0.3f * chin.box.height));
    EXPECT_EQ(out->at<cv::Vec3b>(below), cv::Vec3b(0, 0, 0));
    const IdentityReceipt& r = *painted[0].receipt;
    ASSERT_TRUE(r.passed);
    EXPECT_EQ(painted[0].method, "generate");
    EXPECT_LT(r.similarity, r.margin);
    auto e0 = (*arcface)->Embed(s.image, painted[0].kps5);
    auto e1 = (*arcface)->Embed(*out, painted[0].kps5);
    ASSERT_TRUE(e0.ok() && e1.ok());
    EXPECT_NEAR(e0->dot(*e1), r.similarity, 2e-3) << workers << " workers";
  }
}

// The "looks natural" judge: real faces read as faces, a face painted over in flat grey and a
// patch of background do not.
TEST(FacenessJudge, RealFacesScoreHighFlatPatchesLow) {
  const Scene s;
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  auto judge = FacenessJudge::Create(*store);
  ASSERT_TRUE(judge.ok()) << judge.status().message();
  for (const auto& f : s.faces) {
    auto real = (*judge)->Score(s.image, f);
    ASSERT_TRUE(real.ok());
    EXPECT_GT(*real, 0.6f);
    cv::Mat painted = s.image.clone();
    cv::rectangle(painted, f.box, cv::Scalar::all(128), cv::FILLED);
    auto flat = (*judge)->Score(painted, f);
    ASSERT_TRUE(flat.ok());
    EXPECT_LT(*flat, 0.2f);
  }
  Face nowhere;
  nowhere.box = cv::Rect2f(2, 2, 40, 40);  // a corner of the scene, no face there
  auto none = (*judge)->Score(s.image, nowhere);
  ASSERT_TRUE(none.ok());
  EXPECT_LT(*none, 0.2f);
  Face outside;
  outside.box = cv::Rect2f(-500, -500, 40, 40);  // entirely off the image: black, no face
  auto off = (*judge)->Score(s.image, outside);
  ASSERT_TRUE(off.ok());
  EXPECT_EQ(*off, 0.f);
}

TEST(IdentityGuard, NaturalWeightZeroSkipsTheFacenessJudge) {
  const Scene s;
  IdentityGuardOptions g;
  ASSERT_EQ(g.natural_weight, 0.f);  // the default
  auto a = Guarded(g);
  auto faces = s.faces;
  ASSERT_TRUE(a.Apply(s.image, faces).ok());
  for (const auto& f : faces) {
    ASSERT_TRUE(f.receipt.has_value());
    EXPECT_EQ(f.receipt->faceness, -1.f);
  }
}

TEST(IdentityGuard, NoPassingCandidateFailsClosedToTheFallback) {
  const Scene s;
  IdentityGuardOptions g;
  g.margin = -1.f;  // no cosine similarity is below -1: every candidate is rejected
  g.relative_margin = false;
  g.candidates = 2;
  g.donors = 3;  // the donors fail too
  g.fallback = MethodKind::kSolid;
  auto a = Guarded(g);
  auto faces = s.faces;
  auto out = a.Apply(s.image, faces);
  ASSERT_TRUE(out.ok()) << out.status().message();
  for (const auto& f : faces) {
    ASSERT_TRUE(f.receipt.has_value());
    EXPECT_FALSE(f.receipt->passed);
    EXPECT_EQ(f.receipt->drawn, 2 + 3);
    EXPECT_EQ(f.receipt->rejected, 2 + 3);
    EXPECT_EQ(f.receipt->donor, -1);
    EXPECT_EQ(f.method, "solid");
    // The face's centre is the solid fill, not a rejected stand-in.
    const cv::Point c(cvRound(f.box.x + f.box.width / 2), cvRound(f.box.y + f.box.height / 2));
    EXPECT_EQ(out->at<cv::Vec3b>(c), cv::Vec3b(0, 0, 0));
  }
  // A larger fallback region (fallback_scale) covers what the default one leaves: the pixels it
  // changes include all the default's, and more.
  g.donors = 0;
  cv::Mat normal, large;
  GuardedFaces(s, g, &normal);
  g.fallback_scale = 2.f;
  GuardedFaces(s, g, &large);
  ASSERT_FALSE(normal.empty() || large.empty());
  cv::Mat changed_normal, changed_large;
  cv::compare(normal, s.image, changed_normal, cv::CMP_NE);
  cv::compare(large, s.image, changed_large, cv::CMP_NE);
  const int n = cv::countNonZero(changed_normal.reshape(1));
  EXPECT_GT(cv::countNonZero(changed_large.reshape(1)), n + n / 4);
  EXPECT_EQ(cv::countNonZero(changed_normal.reshape(1) & ~changed_large.reshape(1)), 0);
  // and what it covers is the solid fill, not a larger soft edge: half as many black pixels again
  // at least.
  const auto black = [](const cv::Mat& m) {
    cv::Mat b;
    cv::inRange(m, cv::Scalar(0, 0, 0), cv::Scalar(0, 0, 0), b);
    return cv::countNonZero(b);
  };
  EXPECT_GT(black(large), 3 * black(normal) / 2) << black(normal);
}

TEST(IdentityGuard, ATighterMarginRejectsMoreAndNeverKeepsACandidateAboveIt) {
  const Scene s;
  IdentityGuardOptions loose, tight;
  loose.candidates = tight.candidates = 6;
  loose.margin = 0.9f;
  tight.margin = 0.05f;
  loose.relative_margin = tight.relative_margin = false;  // the fixed margins themselves
  loose.stranger_percentile = tight.stranger_percentile = 0;
  loose.donors = tight.donors = 0;
  int rejected_loose = 0, rejected_tight = 0;
  for (auto [opts, rejected] : {std::pair{loose, &rejected_loose}, {tight, &rejected_tight}}) {
    auto a = Guarded(opts);
    auto faces = s.faces;
    ASSERT_TRUE(a.Apply(s.image, faces).ok());
    for (const auto& f : faces) {
      ASSERT_TRUE(f.receipt.has_value());
      *rejected += f.receipt->rejected;
      if (f.receipt->passed) {
        EXPECT_LT(f.receipt->similarity, opts.margin);
      } else {
        EXPECT_EQ(f.method, "solid");
      }
    }
  }
  EXPECT_EQ(rejected_loose, 0);  // stand-ins of strangers are far below 0.9
  EXPECT_GT(rejected_tight, rejected_loose);
}

TEST(IdentityGuard, TheSearchStopsAtAGoodEnoughCandidateOrDrawsAll) {
  const Scene s;
  IdentityGuardOptions all, first;
  all.candidates = first.candidates = 5;
  all.stranger_percentile = first.stranger_percentile = 0;  // every face passes: margins only
  all.good_enough = 0;      // draw every candidate and keep the best
  first.good_enough = 100;  // any passing candidate is good enough
  for (auto [opts, name] : {std::pair{all, "all"}, {first, "first"}}) {
    auto a = Guarded(opts);
    auto faces = s.faces;
    ASSERT_TRUE(a.Apply(s.image, faces).ok());
    for (const auto& f : faces) {
      const IdentityReceipt& r = *f.receipt;
      ASSERT_TRUE(r.passed) << name;
      if (opts.good_enough == 0) {
        EXPECT_EQ(r.drawn, 5) << name;
      } else {
        EXPECT_EQ(r.drawn, r.rejected + 1) << name;  // stopped at the first that passed
      }
    }
  }
}

// Workers judge a face's candidates side by side, but the choice is the one a single worker
// makes: the same stand-ins, donors, fallbacks and receipts, pixel for pixel, for 1 to 3 workers.
// The strict setting sends one face through rejected candidates and another through all its
// candidates and donors to the fallback; the attribute choice stops at good-enough costs.
TEST(IdentityGuard, WorkersJudgeSideBySideAndChooseAsOneWorkerWould) {
  const Scene s;
  IdentityGuardOptions strict;
  strict.relative_margin = false;
  strict.margin = 0.05f;
  strict.stranger_percentile = 30;
  strict.candidates = 5;
  // The attribute choice stops at a good-enough cost rather than at the first that passes.
  IdentityGuardOptions chooser;
  chooser.attribute_weight = 1.f;
  for (const auto& [g, name] : {std::pair{chooser, "attribute choice"}, {strict, "strict"}}) {
    IdentityGuardOptions alone = g;
    alone.workers = 1;
    auto one = Guarded(alone, 7);
    auto reference = s.faces;
    auto expected = one.Apply(s.image, reference);
    ASSERT_TRUE(expected.ok()) << expected.status().message();
    int drawn = 0, rejected = 0;
    for (const auto& f : reference) {
      drawn += f.receipt->drawn;
      rejected += f.receipt->rejected;
    }
    EXPECT_GT(drawn, static_cast<int>(reference.size())) << name;  // some faces drew several
    if (g.margin < 0.2f) {
      EXPECT_GT(rejected, 0) << name;
    }
    for (const int workers : {2, 3}) {
      IdentityGuardOptions side_by_side = g;
      side_by_side.workers = workers;
      auto several = Guarded(side_by_side, 7);
      auto faces = s.faces;
      auto out = several.Apply(s.image, faces);
      ASSERT_TRUE(out.ok()) << out.status().message();
      cv::Mat diff;
      cv::absdiff(*expected, *out, diff);
      EXPECT_EQ(cv::countNonZero(diff.reshape(1)), 0) << name << ", " << workers << " workers";
      for (size_t i = 0; i < faces.size(); ++i) {
        const IdentityReceipt& r = *faces[i].receipt;
        const IdentityReceipt& r1 = *reference[i].receipt;
        EXPECT_EQ(faces[i].method, reference[i].method) << name;
        EXPECT_EQ(r.drawn, r1.drawn) << name << ", face " << i;
        EXPECT_EQ(r.rejected, r1.rejected) << name << ", face " << i;
        EXPECT_EQ(r.donor, r1.donor) << name << ", face " << i;
        EXPECT_EQ(r.passed, r1.passed) << name << ", face " << i;
        EXPECT_FLOAT_EQ(r.similarity, r1.similarity) << name << ", face " << i;
      }
    }
  }
}

TEST(IdentityGuard, AVideoTrackKeepsItsStandInFromFrameToFrame) {
  const Scene s;
  for (const int recheck : {1, 3}) {
    IdentityGuardOptions g;
    g.recheck_every = recheck;
    auto a = Guarded(g);
    auto frame = s.faces;
    for (size_t i = 0; i < frame.size(); ++i) frame[i].track_id = static_cast<int>(i);
    std::vector<cv::Mat> outputs;
    std::vector<std::vector<Face>> results;
    for (int f = 0; f < 4; ++f) {
      auto faces = frame;
      auto out = a.Apply(s.image, faces);
      ASSERT_TRUE(out.ok());
      outputs.push_back(*out);
      results.push_back(faces);
    }
    for (int f = 1; f < 4; ++f) {
      cv::Mat d;
      cv::absdiff(outputs[0], outputs[static_cast<size_t>(f)], d);
      EXPECT_EQ(cv::countNonZero(d.reshape(1)), 0) << "frame " << f << ", recheck " << recheck;
      for (size_t i = 0; i < frame.size(); ++i) {
        const IdentityReceipt& r = *results[static_cast<size_t>(f)][i].receipt;
        EXPECT_FLOAT_EQ(r.similarity, results[0][i].receipt->similarity);
        if (f % recheck == 0) {
          EXPECT_EQ(r.drawn, 1);  // the kept candidate, judged again
          EXPECT_EQ(r.frames_since_check, 0);
        } else {
          EXPECT_EQ(r.frames_since_check, f % recheck);  // the verdict of the last check
        }
      }
    }
    for (size_t i = 0; i < frame.size(); ++i) EXPECT_GE(results[0][i].receipt->drawn, 1);
  }
}

TEST(IdentityGuard, RejectsSettingsThatCannotWork) {
  AnonymizerOptions o;
  o.method.kind = MethodKind::kGenerate;
  o.generator.guard.candidates = 0;
  EXPECT_EQ(Anonymizer::Create(o).status().code(), ErrorCode::kInvalidArgument);
  o.generator.guard.candidates = 2;
  o.generator.guard.fallback = MethodKind::kGenerate;
  EXPECT_EQ(Anonymizer::Create(o).status().code(), ErrorCode::kInvalidArgument);
  o.generator.guard.fallback = MethodKind::kPixelate;
  o.generator.guard.recheck_every = 0;
  EXPECT_EQ(Anonymizer::Create(o).status().code(), ErrorCode::kInvalidArgument);
  o.generator.guard.recheck_every = 5;
  o.generator.guard.workers = -1;
  EXPECT_EQ(Anonymizer::Create(o).status().code(), ErrorCode::kInvalidArgument);
  o.generator.guard.workers = 0;
  o.generator.guard.recogniser = "nobody";
  EXPECT_EQ(Anonymizer::Create(o).status().code(), ErrorCode::kInvalidArgument);
  // The stranger test ranks against the reference bank, which only arcface has: with another
  // recogniser it is not used (as the relative margin is not).
  IdentityGuardOptions dlib;
  dlib.recogniser = "dlib-resnet";
  EXPECT_FALSE(dlib.UsesStrangerTest());
  EXPECT_FALSE(dlib.UsesRelativeMargin());
  EXPECT_TRUE(IdentityGuardOptions{}.UsesStrangerTest());  // on by default
  o.generator.guard.recogniser = "arcface";
  o.generator.guard.stranger_percentile = 101.f;
  EXPECT_EQ(Anonymizer::Create(o).status().code(), ErrorCode::kInvalidArgument);
  o.generator.guard.stranger_percentile = 0.f;
  o.generator.guard.donors = -1;
  EXPECT_EQ(Anonymizer::Create(o).status().code(), ErrorCode::kInvalidArgument);
  o.generator.guard.donors = 0;
  o.generator.guard.donor_identity_weight = -1.f;
  EXPECT_EQ(Anonymizer::Create(o).status().code(), ErrorCode::kInvalidArgument);
  o.generator.guard.donor_identity_weight = 1.f;
  o.generator.guard.second = {{.recogniser = "arcface"}};  // the first again
  EXPECT_EQ(Anonymizer::Create(o).status().code(), ErrorCode::kInvalidArgument);
  o.generator.guard.second = {{.recogniser = "mobileface"}, {.recogniser = "mobileface"}};
  EXPECT_EQ(Anonymizer::Create(o).status().code(), ErrorCode::kInvalidArgument);  // twice
  o.generator.guard.second = {{.recogniser = "mobileface", .stranger_percentile = -1.f}};
  EXPECT_EQ(Anonymizer::Create(o).status().code(), ErrorCode::kInvalidArgument);
  o.generator.guard.second = {{.recogniser = "nobody"}};  // no such recogniser
  EXPECT_EQ(Anonymizer::Create(o).status().code(), ErrorCode::kInvalidArgument);
}

// The reference banks: 1000 unit-length embeddings of generated stand-ins, per recogniser.
TEST(IdentityBank, HoldsUnitEmbeddingsForEachRecogniser) {
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  auto bank = LoadIdentityBank(*store, "arcface");
  ASSERT_TRUE(bank.ok()) << bank.status().message();
  EXPECT_EQ(bank->rows, 1000);
  EXPECT_EQ(bank->cols, 512);
  for (int r = 0; r < bank->rows; ++r) EXPECT_NEAR(cv::norm(bank->row(r)), 1.0, 2e-3) << r;
  EXPECT_FALSE(LoadIdentityBank(*store, "nobody").ok());
  for (const auto& [name, dims] : {std::pair{"mobileface", 256}, {"dlib-resnet", 128}}) {
    auto second = LoadIdentityBank(*store, name);
    ASSERT_TRUE(second.ok()) << second.status().message();
    EXPECT_EQ(second->rows, bank->rows) << name;  // the same training crops, in the same order
    EXPECT_EQ(second->cols, dims) << name;
    for (int r = 0; r < second->rows; ++r) {
      EXPECT_NEAR(cv::norm(second->row(r)), 1.0, 2e-3) << name << " " << r;
    }
  }
  // Its labelled ages, one per entry: UTKFace's range, infants among them.
  auto ages = LoadIdentityBankAges(*store);
  ASSERT_TRUE(ages.ok()) << ages.status().message();
  ASSERT_EQ(ages->size(), static_cast<size_t>(bank->rows));
  EXPECT_GE(*std::min_element(ages->begin(), ages->end()), 0.f);
  EXPECT_LE(*std::max_element(ages->begin(), ages->end()), 116.f);
  EXPECT_GT(std::count_if(ages->begin(), ages->end(), [](float a) { return a <= 2.f; }), 50);
}

// A face's age read from the bank: the median label of its nearest entries; and the age band of
// the stranger test. Synthetic bank: entry i points along axis i % 8, aged i.
TEST(IdentityBank, ReadsAnAgeFromTheNearestEntriesAndKeepsTheAgeBand) {
  cv::Mat1f bank = cv::Mat1f::zeros(80, 8);
  std::vector<float> ages(80);
  for (int i = 0; i < 80; ++i) {
    bank(i, i % 8) = 1.f;
    ages[static_cast<size_t>(i)] = static_cast<float>(i);
  }
  cv::Mat1f e = cv::Mat1f::zeros(1, 8);
  e(0, 3) = 1.f;  // nearest: entries 3, 11, ..., 75 (ages 3 + 8j); median of 10 -> 43
  EXPECT_FLOAT_EQ(BankAge(bank, ages, e, -1.f), 43.f);
  EXPECT_FLOAT_EQ(BankAge(bank, {}, e, -1.f), -1.f);  // no ages: the fallback
  // Band of 30 years: max(3, 0.3 x 30) = 9, so ages 21..39, 19 entries: fewer than 50 -> all.
  EXPECT_EQ(BankAgeBand(bank, ages, 30.f).rows, 80);
  const cv::Mat1f band = BankAgeBand(bank, ages, 30.f, 10);
  ASSERT_EQ(band.rows, 19);
  EXPECT_FLOAT_EQ(band(0, 21 % 8), 1.f);               // the first row is entry 21
  EXPECT_EQ(BankAgeBand(bank, ages, 1.f, 3).rows, 5);  // infants: at least 3 years, ages 0..4
}

// An embedding's similarities to every face of the bank, ascending (index k is rank k + 1).
std::vector<float> SortedBankSimilarities(const cv::Mat1f& bank, const cv::Mat1f& embedding) {
  std::vector<float> sims;
  for (int r = 0; r < bank.rows; ++r)
    sims.push_back(static_cast<float>(bank.row(r).dot(embedding)));
  std::sort(sims.begin(), sims.end());
  return sims;
}

// Each face's margin is the 99th percentile (nearest rank) of its original's similarities to the
// bank, never below the fixed margin; recomputed here from the bank and the original.
TEST(IdentityGuard, RelativeMarginIsThePercentileOfTheOriginalAgainstTheBank) {
  const Scene s;
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  auto bank = LoadIdentityBank(*store, "arcface");
  auto arcface = MakeIdentityEmbedder("arcface", *store);
  ASSERT_TRUE(bank.ok() && arcface.ok());
  IdentityGuardOptions g;
  ASSERT_TRUE(g.relative_margin);  // the default
  auto a = Guarded(g);
  auto faces = s.faces;
  ASSERT_TRUE(a.Apply(s.image, faces).ok());
  for (const auto& f : faces) {
    auto e = (*arcface)->Embed(s.image, f.kps5);
    ASSERT_TRUE(e.ok());
    const std::vector<float> sims = SortedBankSimilarities(*bank, *e);
    const float expected = std::max(g.margin, sims[989]);  // rank ceil(0.99 x 1000) = 990
    ASSERT_TRUE(f.receipt.has_value());
    EXPECT_NEAR(f.receipt->margin, expected, 1e-4);
    EXPECT_GE(f.receipt->margin, g.margin);
    if (f.receipt->passed) {
      EXPECT_LT(f.receipt->similarity, f.receipt->margin);
    }
  }
  // Fixed: the same margin for every face.
  g.relative_margin = false;
  auto fixed = Guarded(g);
  faces = s.faces;
  ASSERT_TRUE(fixed.Apply(s.image, faces).ok());
  for (const auto& f : faces) EXPECT_FLOAT_EQ(f.receipt->margin, g.margin);
  // A bank that finds this face close to everyone raises its margin: a bank made of the face's
  // own embedding (a stand-in for "every stranger looks like this face").
  auto e0 = (*arcface)->Embed(s.image, s.faces[0].kps5);
  ASSERT_TRUE(e0.ok());
  cv::Mat1f same;
  for (int r = 0; r < 10; ++r) same.push_back(*e0);
  EXPECT_NEAR(RelativeMargin(same, *e0, 99.f, 0.315f), 1.f, 1e-4);
  EXPECT_FLOAT_EQ(RelativeMargin(-same, *e0, 99.f, 0.315f), 0.315f);
}

// The stranger test: a stand-in is kept only if, among the bank's faces ranked by their similarity
// to the stand-in, the original is no closer than the given percentile. Checked again from the
// final image: the kept stand-in's own similarities to the bank give the threshold in its receipt.
TEST(IdentityGuard, TheStrangerTestKeepsOnlyStandInsToWhichTheOriginalIsAStranger) {
  const Scene s;
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  auto bank = LoadIdentityBank(*store, "arcface");
  auto ages = LoadIdentityBankAges(*store);
  auto arcface = MakeIdentityEmbedder("arcface", *store);
  ASSERT_TRUE(bank.ok() && ages.ok() && arcface.ok());
  IdentityGuardOptions off;
  off.stranger_percentile = 0;
  off.donors = 0;
  const auto plain_faces = GuardedFaces(s, off);
  IdentityGuardOptions g;
  g.stranger_percentile = 50.f;
  g.donors = 0;  // a face whose candidates all fail gets the fallback
  cv::Mat out;
  const auto faces = GuardedFaces(s, g, &out);
  ASSERT_FALSE(out.empty());
  int passed = 0;
  for (std::size_t i = 0; i < faces.size(); ++i) {
    const Face& f = faces[i];
    ASSERT_TRUE(f.receipt.has_value() && plain_faces[i].receipt.has_value());
    EXPECT_FLOAT_EQ(plain_faces[i].receipt->stranger_threshold, -1.f);  // off
    // Same seed, same candidates in the same order: the test only adds rejections.
    EXPECT_GE(f.receipt->rejected, plain_faces[i].receipt->rejected);
    if (!f.receipt->passed) {
      EXPECT_EQ(f.method, "solid");
      continue;
    }
    ++passed;
    auto e = (*arcface)->Embed(out, f.kps5);
    ASSERT_TRUE(e.ok());
    // The strangers are the bank's entries of the face's own age band, read from the original.
    auto e0 = (*arcface)->Embed(s.image, f.kps5);
    ASSERT_TRUE(e0.ok());
    const cv::Mat1f band =
        BankAgeBand(*bank, *ages, BankAge(*bank, *ages, *e0, f.receipt->age_before));
    ASSERT_GE(band.rows, 50);
    const std::vector<float> sims = SortedBankSimilarities(band, *e);
    const auto rank = static_cast<size_t>(std::ceil(0.5 * band.rows));  // nearest rank
    EXPECT_NEAR(f.receipt->stranger_threshold, sims[rank - 1], 3e-3);
    EXPECT_LT(f.receipt->similarity, f.receipt->stranger_threshold);
    EXPECT_LT(f.receipt->similarity, f.receipt->margin);
  }
  EXPECT_GT(passed, 0);  // the scene's faces are not all fallbacks, so the check above ran
}

// Further recognisers: a stand-in must pass each too, on its own scale; each one's receipt is
// measured again from the output; and where nothing can pass the last, every face fails closed.
// Each recogniser the guard can judge second with (each has its own reference bank), and both.
class SecondRecogniser : public ::testing::TestWithParam<std::vector<std::string>> {};

TEST_P(SecondRecogniser, MustAlsoPass) {
  const std::vector<std::string>& names = GetParam();
  const Scene s;
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  std::vector<std::unique_ptr<IdentityEmbedder>> nets;
  IdentityGuardOptions one;
  one.donors = 0;
  IdentityGuardOptions more = one;
  for (const std::string& name : names) {
    auto net = MakeIdentityEmbedder(name, *store);
    ASSERT_TRUE(net.ok());
    nets.push_back(std::move(net).value());
    const SecondJudge& judge = more.second.emplace_back(SecondJudge{.recogniser = name});
    ASSERT_FALSE(judge.margin.has_value());
    EXPECT_FLOAT_EQ(judge.Margin(), *RecogniserMargin(name));  // its own 1% false accepts
    more.second.back().stranger_percentile = 50.f;
  }
  const auto plain_faces = GuardedFaces(s, one);
  cv::Mat out;
  const auto faces = GuardedFaces(s, more, &out);
  ASSERT_FALSE(out.empty());
  int passed = 0;
  for (std::size_t i = 0; i < faces.size(); ++i) {
    const Face& f = faces[i];
    ASSERT_TRUE(f.receipt.has_value() && plain_faces[i].receipt.has_value());
    const IdentityReceipt& r = *f.receipt;
    EXPECT_TRUE(plain_faces[i].receipt->second.empty());
    ASSERT_EQ(r.second.size(), names.size());
    // Same seed, same candidates in the same order: the further recognisers only add rejections.
    EXPECT_GE(r.rejected, plain_faces[i].receipt->rejected);
    if (!r.passed) {
      EXPECT_EQ(f.method, "solid");
      continue;
    }
    ++passed;
    for (std::size_t j = 0; j < names.size(); ++j) {
      const IdentityReceipt::Second& v = r.second[j];
      EXPECT_EQ(v.recogniser, names[j]);
      EXPECT_GE(v.margin, more.second[j].Margin());  // raised per face by its own bank
      auto e0 = nets[j]->Embed(s.image, f.kps5);
      auto e1 = nets[j]->Embed(out, f.kps5);
      ASSERT_TRUE(e0.ok() && e1.ok());
      EXPECT_NEAR(e0->dot(*e1), v.similarity, 2e-3) << names[j];
      EXPECT_LT(v.similarity, v.margin);
      EXPECT_GT(v.stranger_threshold, -1.f);
      EXPECT_LT(v.similarity, v.stranger_threshold);
    }
  }
  EXPECT_GT(passed, 0);
  // A margin no stand-in can stay below on the last recogniser (fixed margins): every face fails
  // closed.
  IdentityGuardOptions none = more;
  none.relative_margin = false;
  none.second.back().margin = -1.f;
  for (const Face& f : GuardedFaces(s, none)) {
    ASSERT_TRUE(f.receipt.has_value());
    EXPECT_FALSE(f.receipt->passed);
    EXPECT_EQ(f.receipt->rejected, f.receipt->drawn);
    EXPECT_EQ(f.method, "solid");
  }
}

std::string SecondRecogniserName(const ::testing::TestParamInfo<std::vector<std::string>>& p) {
  std::string name;
  for (const std::string& r : p.param) name += r == "mobileface" ? "MobileFace" : "DlibResnet";
  return name;
}
INSTANTIATE_TEST_SUITE_P(IdentityGuard, SecondRecogniser,
                         ::testing::Values(std::vector<std::string>{"mobileface"},
                                           std::vector<std::string>{"dlib-resnet"},
                                           std::vector<std::string>{"mobileface", "dlib-resnet"}),
                         SecondRecogniserName);

// The donor pool: stand-ins the generator painted for training crops, with their poses and labels.
TEST(DonorPool, HoldsTemplateFacesWithPosesAndLabelsForItsGenerator) {
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  auto gen = FaceGenerator::Create(*store, {});
  ASSERT_TRUE(gen.ok());
  const GeneratorSpec& spec = (*gen)->spec();
  auto pool = LoadDonorPool(*store, spec);
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  ASSERT_EQ(pool->faces.size(), 512u);
  ASSERT_EQ(pool->keypoints.size(), pool->faces.size());
  for (size_t d = 0; d < pool->faces.size(); ++d) {
    EXPECT_EQ(pool->faces[d].size(), cv::Size(spec.resolution, spec.resolution));
    EXPECT_EQ(pool->faces[d].type(), CV_8UC3);
    ASSERT_EQ(pool->keypoints[d].size(), spec.keypoint_sets.size());
    // Its eyes lie near the template's: the faces are aligned as the generator's crops are.
    for (int k = 0; k < 2; ++k) {
      EXPECT_LT(cv::norm(pool->keypoints[d][static_cast<size_t>(k)] -
                         spec.template5[static_cast<size_t>(k)]),
                0.08)
          << d;
    }
    EXPECT_GE(pool->age[d], 0.f);
    EXPECT_LE(pool->age[d], 116.f);
    EXPECT_TRUE(pool->female[d] == 0.f || pool->female[d] == 1.f);
  }
  // Distinct faces, not one face repeated.
  cv::Mat d01;
  cv::absdiff(pool->faces[0], pool->faces[1], d01);
  EXPECT_GT(cv::mean(d01)[0], 5.0);
  // A pool made for another generator is refused with one clear message.
  GeneratorSpec other = spec;
  other.name = "another-generator";
  auto refused = LoadDonorPool(*store, other);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kModelMissing);
  EXPECT_NE(refused.status().message().find("donor_pool.py"), std::string::npos);
}

// A face none of whose own candidates passes takes a donor that passes the same guard, measured
// again on the final image, instead of the fallback; without donors it fails closed as before.
// With the donors in the order of pose, colour and attributes (weight 0) and with those far from
// the original first (1).
class DonorsStandIn : public ::testing::TestWithParam<float> {};
TEST_P(DonorsStandIn, WhereOwnCandidatesFailAndPassTheSameGuard) {
  const Scene s;
  auto store = ModelStore::Open();
  auto arcface = MakeIdentityEmbedder("arcface", *store);
  ASSERT_TRUE(store.ok() && arcface.ok());
  IdentityGuardOptions g;
  g.donor_identity_weight = GetParam();
  g.candidates = 1;
  g.relative_margin = false;
  g.stranger_percentile = 0;  // the margin alone decides, so the test can set it
  g.donors = 0;
  g.margin = 0.9f;
  auto loose = Guarded(g);
  auto first = s.faces;
  ASSERT_TRUE(loose.Apply(s.image, first).ok());
  // The margin that the most similar face's only candidate fails: that face must find a donor.
  float most = -1.f;
  for (const auto& f : first) most = std::max(most, f.receipt->similarity);
  g.margin = most;
  auto none = Guarded(g);
  auto without = s.faces;
  ASSERT_TRUE(none.Apply(s.image, without).ok());
  g.donors = 16;
  auto with_donors = Guarded(g);
  auto faces = s.faces;
  auto out = with_donors.Apply(s.image, faces);
  ASSERT_TRUE(out.ok()) << out.status().message();
  int donated = 0;
  std::vector<int> used;
  for (size_t i = 0; i < faces.size(); ++i) {
    const IdentityReceipt& r = *faces[i].receipt;
    const IdentityReceipt& r0 = *without[i].receipt;
    if (r0.passed) {  // its own candidate passed: the donors are never consulted
      EXPECT_EQ(r.donor, -1);
      EXPECT_EQ(r.drawn, 1);
      EXPECT_FLOAT_EQ(r.similarity, r0.similarity);
      continue;
    }
    EXPECT_EQ(without[i].method, "solid");
    EXPECT_GT(r.drawn, 1);  // its own candidate, then donors one by one
    EXPECT_LE(r.drawn, 1 + g.donors);
    if (!r.passed) {
      EXPECT_EQ(faces[i].method, "solid");
      EXPECT_EQ(r.rejected, r.drawn);
      continue;
    }
    ++donated;
    EXPECT_EQ(faces[i].method, "generate");
    EXPECT_EQ(r.rejected, r.drawn - 1);  // it stopped at the first donor that passed
    ASSERT_GE(r.donor, 0);
    EXPECT_LT(r.donor, 512);
    EXPECT_EQ(std::count(used.begin(), used.end(), r.donor), 0);  // each donor once per image
    used.push_back(r.donor);
    EXPECT_LT(r.similarity, g.margin);
    auto e0 = (*arcface)->Embed(s.image, faces[i].kps5);
    auto e1 = (*arcface)->Embed(*out, faces[i].kps5);
    ASSERT_TRUE(e0.ok() && e1.ok());
    EXPECT_NEAR(e0->dot(*e1), r.similarity, 2e-3);
  }
  EXPECT_GT(donated, 0);  // the most similar face got a donor, so the checks above ran
  // In a video a track keeps its donor: painted again as it was (recheck every 10 frames), or
  // judged again alone (every frame).
  for (const int recheck : {10, 1}) {
    g.recheck_every = recheck;
    auto video = Guarded(g);
    auto frame = s.faces;
    for (size_t i = 0; i < frame.size(); ++i) frame[i].track_id = static_cast<int>(i);
    auto first_faces = frame, second_faces = frame;
    auto first_out = video.Apply(s.image, first_faces);
    auto second_out = video.Apply(s.image, second_faces);
    ASSERT_TRUE(first_out.ok() && second_out.ok());
    cv::Mat diff;
    cv::absdiff(*first_out, *second_out, diff);
    EXPECT_EQ(cv::countNonZero(diff.reshape(1)), 0) << "recheck " << recheck;
    for (size_t i = 0; i < frame.size(); ++i) {
      const IdentityReceipt& r1 = *first_faces[i].receipt;
      const IdentityReceipt& r2 = *second_faces[i].receipt;
      EXPECT_EQ(r2.donor, r1.donor);
      EXPECT_EQ(r2.donor, faces[i].receipt->donor);  // as in the photo: same seed, same choice
      if (recheck == 1 && r1.passed) {
        EXPECT_EQ(r2.drawn, 1);  // the kept one, judged again
      }
    }
  }
}
INSTANTIATE_TEST_SUITE_P(IdentityGuard, DonorsStandIn, ::testing::Values(0.f, 1.f),
                         [](const ::testing::TestParamInfo<float>& p) {
                           return p.param > 0 ? "IdentityOrder" : "PoseOrder";
                         });

}  // namespace
}  // namespace standin
