// `standin eval` end to end on a small subset of the project data: every section runs, the
// figures are where the report says, and they order the methods the way they must.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "support/test_support.hpp"

namespace standin {
namespace {
namespace fs = std::filesystem;

const fs::path kShared = test::SharedData();

TEST(EvalCli, SmallRunOrdersTheMethods) {
  if (!fs::is_directory(kShared / "att-faces")) GTEST_SKIP() << "no ../shared/data";
  test::TempDir dir;
  const auto r =
      test::Standin({"eval", "--methods", "blur,solid", "--shared-data", kShared.string(),
                     "--max-faces", "16", "--max-people", "6", "--max-references", "40",
                     "--no-charts", "-q", "-o", (dir / "ev").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* f : {"eval.json", "report.md", "montage.png"}) {
    EXPECT_TRUE(fs::exists(dir / "ev" / f)) << f;
  }
  const auto j = nlohmann::json::parse(test::ReadBytes(dir / "ev" / "eval.json"));
  EXPECT_EQ(j["method_order"], (nlohmann::json{"original", "blur", "solid"}));
  EXPECT_TRUE(j["skipped"].empty()) << j["skipped"];
  EXPECT_EQ(j["data"]["identity"]["images"], 60);
  EXPECT_EQ(j["data"]["memorisation_references"], 40);
  // Three recognisers; the identity guard never consults the third (held out).
  EXPECT_EQ(j["recognisers"], (nlohmann::json{"arcface", "dlib-resnet", "mobileface"}));
  const auto& m = j["methods"];
  for (const auto& rec : j["recognisers"]) {
    const std::string name = rec;
    // Clean faces are recognised; blurred and blacked-out ones far less.
    EXPECT_GT(m["original"]["reidentification"][name]["rank1"].get<double>(), 0.8) << name;
    EXPECT_LT(m["blur"]["reidentification"][name]["verified"].get<double>(),
              m["original"]["reidentification"][name]["verified"].get<double>() / 2)
        << name;
    EXPECT_LT(m["solid"]["reidentification"][name]["rank1"].get<double>(), 0.5) << name;
    // The same photo: an original is its own original; a black-out is not accepted as it.
    EXPECT_DOUBLE_EQ(m["original"]["same_photo"][name]["verified"].get<double>(), 1.0) << name;
    EXPECT_NEAR(m["original"]["same_photo"][name]["mean_similarity"].get<double>(), 1.0, 1e-4);
    EXPECT_LT(m["solid"]["same_photo"][name]["verified"].get<double>(), 0.25) << name;
    EXPECT_EQ(m["solid"]["same_photo"][name]["faces"], j["data"]["heldout_faces"]["faces"]) << name;
  }
  // A black-out hides faces from the reference detector far more than a blur.
  EXPECT_DOUBLE_EQ(m["original"]["detection"]["ap_retention"].get<double>(), 1.0);
  EXPECT_LT(m["solid"]["detection"]["ap_retention"].get<double>(),
            m["blur"]["detection"]["ap_retention"].get<double>());
  // Held-out faces: the reference detector finds the originals, and none of them again under a
  // black-out (found again = its own detection, same place, in the output).
  EXPECT_GT(m["original"]["realism"]["reference_detector_found"].get<double>(), 0.8);
  EXPECT_DOUBLE_EQ(m["solid"]["realism"]["reference_detector_found"].get<double>(), 0.0);
  // The original against itself: no landmark error, every attribute agrees.
  EXPECT_DOUBLE_EQ(m["original"]["pose"]["landmark_nme"].get<double>(), 0.0);
  for (const char* angle : {"yaw", "pitch", "roll"}) {
    EXPECT_DOUBLE_EQ(m["original"]["pose"]["head_pose_error_deg"][angle].get<double>(), 0.0);
    EXPECT_GT(m["blur"]["pose"]["head_pose_error_deg"][angle].get<double>(), 0.0) << angle;
  }
  EXPECT_DOUBLE_EQ(m["original"]["attributes"]["gender_agreement"].get<double>(), 1.0);
  // The independent judge too, which a black-out changes, and which reads ages closer to the
  // labels than fr_age does (docs/attribute-models.md).
  const auto& judged = m["original"]["attributes"]["independent"];
  EXPECT_EQ(judged["model"], "faceres");
  EXPECT_DOUBLE_EQ(judged["gender_agreement"].get<double>(), 1.0);
  EXPECT_DOUBLE_EQ(judged["age_mae_years"].get<double>(), 0.0);
  EXPECT_GT(m["solid"]["attributes"]["independent"]["age_mae_years"].get<double>(), 0.0);
  EXPECT_LT(j["attribute_models_vs_labels"]["independent"]["age_mae"].get<double>(),
            j["attribute_models_vs_labels"]["age_mae"].get<double>());
  EXPECT_GT(m["blur"]["pose"]["landmark_nme"].get<double>(), 0.0);
  EXPECT_GT(m["blur"]["speed"]["ms_per_face"].get<double>(), 0.0);
  const std::string md = test::ReadBytes(dir / "ev" / "report.md");
  EXPECT_NE(md.find("99.3%"), std::string::npos);  // DeepPrivacy's published figures beside ours
  EXPECT_NE(md.find("| blur |"), std::string::npos);
  EXPECT_NE(md.find("The identity guard never consults mobileface"), std::string::npos);
}

// The user's own photos, no labels and no project data: detection retention against the
// reference detector's own faces, pose and attributes on every face found; the rest says why not.
TEST(EvalCli, RunsOnTheUsersOwnFolder) {
  test::TempDir dir;
  fs::create_directories(dir / "mine");
  for (const char* name : {"2008_002470.jpg", "2008_002506.jpg"}) {
    fs::copy_file(test::SamplePhoto(name), dir / "mine" / name);
  }
  const auto r = test::Standin({"eval", "--methods", "pixelate,generate", "--data",
                                (dir / "mine").string(), "--shared-data", (dir / "none").string(),
                                "--no-charts", "-q", "-o", (dir / "ev").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(test::ReadBytes(dir / "ev" / "eval.json"));
  EXPECT_EQ(j["data"]["detection"]["images"], 2);
  EXPECT_GE(j["data"]["detection"]["faces"].get<int>(), 8);  // 6 + 3 faces, reference detector
  EXPECT_GE(j["data"]["heldout_faces"]["faces"].get<int>(), 8);
  EXPECT_EQ(j["skipped"].size(), 2u);  // re-identification and memorisation need project data
  const auto& p = j["methods"]["pixelate"];
  EXPECT_GT(p["pose"]["landmark_nme"].get<double>(), 0.0);
  EXPECT_LE(p["detection"]["ap_retention"].get<double>(), 1.0);
  EXPECT_FALSE(p.contains("reidentification"));
  // The identity guard's receipts, summed over the faces the generate method painted: every face
  // found has one, and the donors are a part of the faces that passed.
  EXPECT_FALSE(p.contains("identity_guard"));
  const auto& g = j["methods"]["generate"]["identity_guard"];
  EXPECT_EQ(g["faces"].get<int>(), j["data"]["heldout_faces"]["faces"].get<int>());
  EXPECT_GT(g["passed"].get<double>(), 0.5);
  EXPECT_LE(g["passed"].get<double>(), 1.0);
  EXPECT_GE(g["donors"].get<double>(), 0.0);
  EXPECT_LE(g["donors"].get<double>(), g["passed"].get<double>());
  EXPECT_GE(g["candidates_per_face"].get<double>(), 1.0);
  EXPECT_LE(g["candidates_per_face"].get<double>(), 4.0 + 8.0);  // K own + D donors at most
  EXPECT_LT(g["max_similarity"].get<double>(), g["margin_max"].get<double>());
  const std::string md = test::ReadBytes(dir / "ev" / "report.md");
  EXPECT_NE(md.find("of which donors"), std::string::npos);
}

// Rank-1 over the painted faces only: every face found is painted without the guard; a margin
// of 0 (no stand-in may be even slightly like the original) sends faces to the fallback, and
// those leave the count. Methods that paint nothing have no such figures.
TEST(EvalCli, Rank1OverThePaintedFacesLeavesTheFallbacksOut) {
  if (!fs::is_directory(kShared / "att-faces")) GTEST_SKIP() << "no ../shared/data";
  test::TempDir dir;
  const auto r = test::Standin({"eval", "--methods", "generate-unguarded,generate-fixed-m0,blur",
                                "--shared-data", kShared.string(), "--max-faces", "4",
                                "--max-people", "3", "--max-references", "10", "--stranger-control",
                                "--no-charts", "-q", "-o", (dir / "ev").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(test::ReadBytes(dir / "ev" / "eval.json"));
  const int images = j["data"]["identity"]["images"];
  const int missed = j["data"]["identity"]["no_face_found"];
  ASSERT_EQ(images, 30);
  const auto& m = j["methods"];
  EXPECT_FALSE(m["blur"].contains("painted"));
  EXPECT_FALSE(m["original"].contains("painted"));
  const double all = m["generate-unguarded"]["painted"]["share"];
  EXPECT_DOUBLE_EQ(all, static_cast<double>(images - missed) / images);
  const double strict = m["generate-fixed-m0"]["painted"]["share"];
  EXPECT_LT(strict, all);
  // The control paints a real stranger into every face found, on AT&T and on the held-out faces
  // (all but the first, which has no previous face to take).
  const auto& control = m["stranger-control"];
  EXPECT_DOUBLE_EQ(control["painted"]["share"].get<double>(), all);
  EXPECT_EQ(control["same_photo"]["mobileface"]["faces"].get<int>(),
            j["data"]["heldout_faces"]["faces"].get<int>() - 1);
  for (const char* method : {"generate-unguarded", "generate-fixed-m0"}) {
    const auto& p = m[method]["painted"];
    for (const auto& rec : j["recognisers"]) {
      const std::string name = rec;
      const auto& s = p["rank1"][name];
      EXPECT_EQ(s["probes"].get<int>(),
                static_cast<int>(std::lround(p["share"].get<double>() * images)))
          << method << " " << name;
      if (s["probes"].get<int>() == 0) continue;
      EXPECT_GE(s["rank1"].get<double>(), s["rank1_interval95"][0].get<double>());
      EXPECT_LE(s["rank1"].get<double>(), s["rank1_interval95"][1].get<double>());
      EXPECT_GT(s["chance_rank1"].get<double>(), 0.0);
    }
  }
  const std::string md = test::ReadBytes(dir / "ev" / "report.md");
  EXPECT_NE(md.find("| generate-fixed-m0 | " + std::to_string(std::lround(strict * 1000) / 10)),
            std::string::npos);
}

TEST(EvalCli, RejectsAnUnknownMethod) {
  const auto r = test::Standin({"eval", "--methods", "blur,smudge", "-q"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
}

}  // namespace
}  // namespace standin
