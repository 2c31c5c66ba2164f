// The trained generator as the product runs it: the golden input/output pair exported with the
// model, the condition rebuilt in C++, privacy by design, and reproducible seeds.
#include "standin/generator.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "standin/anonymizer.hpp"
#include "standin/methods.hpp"
#include "support/test_support.hpp"

namespace standin {
namespace {
namespace fs = std::filesystem;

GeneratorSpec Spec() {
  auto store = ModelStore::Open();
  EXPECT_TRUE(store.ok());
  auto manifest = store->Path("generator");
  EXPECT_TRUE(manifest.ok()) << manifest.status().message();
  auto spec = LoadGeneratorSpec(*manifest);
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return *spec;
}

std::vector<float> ReadF32(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<float> v;
  float x;
  while (in.read(reinterpret_cast<char*>(&x), sizeof x)) v.push_back(x);
  return v;
}

fs::path Golden(const GeneratorSpec& s, const std::string& what) {
  return s.onnx.parent_path() / "golden" / (s.name + "_" + what);
}

double MaxAbsDiff(const cv::Mat& m, const std::vector<float>& ref) {
  EXPECT_EQ(m.total(), ref.size());
  const float* p = m.ptr<float>();
  double worst = 0;
  for (size_t i = 0; i < ref.size() && i < m.total(); ++i)
    worst = std::max(worst, std::abs(double(p[i]) - ref[i]));
  return worst;
}

TEST(Generator, MatchesTheGoldenOutputExportedWithTheModel) {
  const GeneratorSpec spec = Spec();
  auto gen = FaceGenerator::Create(spec, {});
  ASSERT_TRUE(gen.ok()) << gen.status().message();
  const int R = spec.resolution;
  const auto cond = ReadF32(Golden(spec, "condition.f32"));
  const auto z = ReadF32(Golden(spec, "z.f32"));
  const auto image = ReadF32(Golden(spec, "image.f32"));
  const int K = static_cast<int>(spec.keypoint_sets.size());
  ASSERT_EQ(cond.size(), static_cast<size_t>((4 + K) * R * R));
  const int shape[] = {1, 4 + K, R, R};
  cv::Mat c(4, shape, CV_32F, const_cast<float*>(cond.data()));
  cv::Mat zm(1, spec.z_dim, CV_32F, const_cast<float*>(z.data()));
  auto out = (*gen)->Run(c, zm);
  ASSERT_TRUE(out.ok());
  // Tolerance: float32 inference in two engines (torch at export, OpenCV dnn here).
  EXPECT_LT(MaxAbsDiff(*out, image), 1e-3);
}

TEST(Generator, BuildsTheConditionExactlyAsTraining) {
  const GeneratorSpec spec = Spec();
  auto gen = FaceGenerator::Create(spec, {});
  ASSERT_TRUE(gen.ok());
  cv::Mat crop = cv::imread(Golden(spec, "crop.png").string());
  ASSERT_FALSE(crop.empty());
  cv::cvtColor(crop, crop, cv::COLOR_BGR2RGB);
  const auto kp = ReadF32(Golden(spec, "kp.f32"));
  std::vector<cv::Point2f> pts;
  for (size_t i = 0; i + 1 < kp.size(); i += 2) pts.emplace_back(kp[i], kp[i + 1]);
  ASSERT_EQ(pts.size(), spec.keypoint_sets.size());
  EXPECT_LT(MaxAbsDiff((*gen)->BuildCondition(crop, pts), ReadF32(Golden(spec, "condition.f32"))),
            1e-4);
}

using test::Scene;

cv::Mat Replace(const cv::Mat& img, std::vector<Face> faces, std::uint64_t seed,
                bool harmonic_colour = false) {
  auto gen = FaceGenerator::Create(Spec(), {.seed = seed, .harmonic_colour = harmonic_colour});
  EXPECT_TRUE(gen.ok());
  auto method = MakeGenerateMethod(std::move(gen).value());
  cv::Mat out = img.clone();
  EXPECT_TRUE(method->Apply(out, faces).ok());
  for (const auto& f : faces) EXPECT_EQ(f.method, "generate");
  return out;
}

bool Same(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat d;
  cv::absdiff(a, b, d);
  return cv::countNonZero(d.reshape(1)) == 0;
}

TEST(Generator, OutputDoesNotDependOnTheFacesOwnPixels) {
  const Scene s;
  ASSERT_EQ(s.faces.size(), 3u);
  auto gen = FaceGenerator::Create(Spec(), {});
  ASSERT_TRUE(gen.ok());
  // Scribble over every face's regenerated region (where the mask is fully on).
  cv::Mat tampered = s.image.clone();
  cv::RNG rng(1);
  for (const auto& f : s.faces) {
    const cv::Rect inner(
        cv::Point(static_cast<int>(f.box.x + 0.3f * f.box.width),
                  static_cast<int>(f.box.y + 0.3f * f.box.height)),
        cv::Size(static_cast<int>(0.4f * f.box.width), static_cast<int>(0.4f * f.box.height)));
    rng.fill(tampered(inner), cv::RNG::UNIFORM, 0, 255);
  }
  ASSERT_FALSE(Same(tampered, s.image));
  EXPECT_TRUE(Same(Replace(s.image, s.faces, 5), Replace(tampered, s.faces, 5)));
  // The harmonic edge match reads the photo's soft edge, never the region inside it; it does
  // change the output (the faces' edges hold skin).
  const cv::Mat harmonic = Replace(s.image, s.faces, 5, true);
  EXPECT_FALSE(Same(harmonic, Replace(s.image, s.faces, 5)));
  EXPECT_TRUE(Same(harmonic, Replace(tampered, s.faces, 5, true)));
}

// The soft band at the region's edge (cheek and jaw contour, hairline) is where most of the
// identity that survives generation came from (docs/identity-guard.md): a sealed-band generator
// sees none of it. Scribbling over everything the mask touches leaves its input unchanged; the
// same scribble changes the input of an unsealed one.
TEST(Generator, SealedBandConditionSeesNoPixelOfTheBand) {
  const Scene s;
  const Face& face = s.faces.front();
  for (const bool sealed : {true, false}) {
    GeneratorSpec spec = Spec();
    spec.sealed_band = sealed;
    auto gen = FaceGenerator::Create(spec, {});
    ASSERT_TRUE(gen.ok());
    auto p = (*gen)->Prepare(s.image, face);
    ASSERT_TRUE(p.ok() && p->has_value() && !(*p)->roi.empty());
    // Every pixel the mask touches at all (the band included), not only the fully generated ones.
    cv::Mat tampered = s.image.clone();
    cv::Mat noise(tampered.size(), tampered.type());
    cv::RNG rng(3);
    rng.fill(noise, cv::RNG::UNIFORM, 0, 255);
    cv::Mat1b touched = cv::Mat1b::zeros(tampered.size());
    touched((*p)->roi).setTo(255, (*p)->mask_back > 0.f);
    cv::Mat1b band = touched.clone();
    band((*p)->roi).setTo(0, (*p)->mask_back >= 1.f);
    ASSERT_GT(cv::countNonZero(band), 100);
    noise.copyTo(tampered, touched);
    auto q = (*gen)->Prepare(tampered, face);
    ASSERT_TRUE(q.ok() && q->has_value());
    cv::Mat d;
    cv::absdiff((*p)->condition, (*q)->condition, d);
    double worst = 0;
    cv::minMaxIdx(d.reshape(1, 1), nullptr, &worst);
    if (sealed) {
      EXPECT_EQ(worst, 0.0);
    } else {
      EXPECT_GT(worst, 0.1);
    }
  }
}

// jaw_margin: the stand-in ends below the jaw line (the photo's neck and collar stay); the
// condition still blanks the whole ellipse.
TEST(Generator, JawMarginEndsTheStandInBelowTheJaw) {
  const Scene s;
  const Face& face = s.faces.front();
  auto whole = FaceGenerator::Create(Spec(), {});
  GeneratorOptions o;
  o.jaw_margin = 0.f;
  auto cut = FaceGenerator::Create(Spec(), o);
  ASSERT_TRUE(whole.ok() && cut.ok());
  auto p = (*whole)->Prepare(s.image, face);
  auto q = (*cut)->Prepare(s.image, face);
  ASSERT_TRUE(p.ok() && p->has_value() && q.ok() && q->has_value());
  const auto& a = **p;
  const auto& b = **q;
  EXPECT_EQ(cv::norm(a.paint_back, a.mask_back, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(a.mask_back, b.mask_back, cv::NORM_INF), 0.0);
  EXPECT_EQ(cv::norm(a.condition, b.condition, cv::NORM_INF), 0.0);
  cv::Mat1f over;
  cv::subtract(b.paint_back, b.mask_back, over);
  double most = 0;
  cv::minMaxIdx(over.reshape(1, 1), nullptr, &most);
  EXPECT_LE(most, 1e-6);  // never more than the ellipse
  auto at = [&](const cv::Mat1f& m, cv::Point2f pt) {
    return m(cvRound(pt.y) - b.roi.y, cvRound(pt.x) - b.roi.x);
  };
  const cv::Point2f nose = face.landmarks68[30], chin = face.landmarks68[8];
  // A tenth of the nose-to-chin distance below the chin: in the ellipse (its lower edge fades
  // soon after), but not painted.
  const cv::Point2f neck = chin + 0.1f * (chin - nose);
  EXPECT_GT(at(b.mask_back, neck), 0.5f);
  EXPECT_LT(at(b.paint_back, neck), 0.2f * at(b.mask_back, neck));
  EXPECT_GT(at(b.paint_back, nose), 0.99f);
}

// keypoint_shrink = 1 paints every face in the training set's average shape: each keypoint
// heatmap peaks at the mean keypoint; at 0 they follow the face (the chin, at least, differs).
TEST(Generator, KeypointShrinkMovesTheConditionToTheAverageShape) {
  const Scene s;
  const GeneratorSpec spec = Spec();
  ASSERT_EQ(spec.mean_keypoints.size(), spec.keypoint_sets.size());
  const int R = spec.resolution;
  auto peaks = [&](float shrink) {
    auto gen = FaceGenerator::Create(spec, {.keypoint_shrink = shrink});
    EXPECT_TRUE(gen.ok());
    auto p = (*gen)->Prepare(s.image, s.faces.front());
    EXPECT_TRUE(p.ok() && p->has_value());
    std::vector<cv::Point> out;
    for (int k = 0; k < static_cast<int>(spec.keypoint_sets.size()); ++k) {
      cv::Mat plane(R, R, CV_32F, (*p)->condition.ptr<float>(0, 4 + k));
      cv::Point at;
      cv::minMaxLoc(plane, nullptr, nullptr, nullptr, &at);
      out.push_back(at);
    }
    return out;
  };
  const auto mean = peaks(1.f), found = peaks(0.f);
  double moved = 0;
  for (size_t k = 0; k < mean.size(); ++k) {
    const cv::Point2f target = spec.mean_keypoints[k] * static_cast<float>(R);
    EXPECT_LE(cv::norm(cv::Point2f(mean[k]) - target), 1.0) << "keypoint " << k;
    moved = std::max(moved, cv::norm(mean[k] - found[k]));
  }
  EXPECT_GE(moved, 1.0);
}

TEST(Generator, LatentScaleSpreadsTheSameDraws) {
  auto one = FaceGenerator::Create(Spec(), {.seed = 5});
  auto two = FaceGenerator::Create(Spec(), {.seed = 5, .latent_scale = 2.5f});
  ASSERT_TRUE(one.ok() && two.ok());
  const cv::Mat a = (*one)->Latent(7, 2), b = (*two)->Latent(7, 2);
  EXPECT_GT(cv::norm(a), 1.0);
  EXPECT_LT(cv::norm(b - 2.5 * a), 1e-4 * cv::norm(b));
}

TEST(Generator, SeedsAreReproducibleAndFacesDiffer) {
  const Scene s;
  const cv::Mat a = Replace(s.image, s.faces, 11);
  EXPECT_TRUE(Same(a, Replace(s.image, s.faces, 11)));
  EXPECT_FALSE(Same(a, Replace(s.image, s.faces, 12)));
  auto gen = FaceGenerator::Create(Spec(), {.seed = 3});
  ASSERT_TRUE(gen.ok());
  cv::Mat d;
  cv::absdiff((*gen)->Latent(0), (*gen)->Latent(1), d);
  EXPECT_GT(cv::sum(d)[0], 1.0);
}

TEST(Generator, TooSmallFacesArePixelatedAndSaySo) {
  Scene s;
  cv::Mat small;
  cv::resize(s.image, small, cv::Size(), 0.1, 0.1, cv::INTER_AREA);
  Face f = s.faces[0];
  f.box = cv::Rect2f(f.box.x * 0.1f, f.box.y * 0.1f, f.box.width * 0.1f, f.box.height * 0.1f);
  for (auto& p : f.landmarks68) p *= 0.1f;
  std::vector<Face> faces{f};
  auto gen = FaceGenerator::Create(Spec(), {});
  ASSERT_TRUE(gen.ok());
  auto method = MakeGenerateMethod(std::move(gen).value());
  ASSERT_TRUE(method->Apply(small, faces).ok());
  EXPECT_EQ(faces[0].method, "pixelate");
  EXPECT_NE(faces[0].reason.find("too small for the generator"), std::string::npos)
      << faces[0].reason;
}

// A face the 64 px stand-in would be scaled up more than max_upscale for gets the unpainted
// method instead, and says why; no limit (0) paints it.
TEST(Generator, TooLargeFacesGetTheLargeFaceMethodAndSaySo) {
  const Scene s;
  auto gen = FaceGenerator::Create(Spec(), {});
  ASSERT_TRUE(gen.ok());
  const Face& face = s.faces.front();
  auto v0 = (*gen)->Verdict(face);
  ASSERT_TRUE(v0.ok());
  ASSERT_EQ(v0->why, FaceGenerator::Unpainted::kNo) << "the sample face itself is painted";
  ASSERT_GT(v0->upscale, 0.3);
  // The photo enlarged so that this face's stand-in would be scaled up 6 times.
  const double k = 6.0 / v0->upscale;
  cv::Mat large;
  cv::resize(s.image, large, cv::Size(), k, k, cv::INTER_CUBIC);
  Face f = face;
  f.box = cv::Rect2f(f.box.x * k, f.box.y * k, f.box.width * k, f.box.height * k);
  for (auto& p : f.landmarks68) p *= static_cast<float>(k);
  auto v = (*gen)->Verdict(f);
  ASSERT_TRUE(v.ok());
  EXPECT_NEAR(v->upscale, 6.0, 0.01);  // photo pixels per generated pixel grow with the photo
  EXPECT_EQ(v->why, FaceGenerator::Unpainted::kTooLarge);

  auto paint = [&](GeneratorOptions o) {
    auto g = FaceGenerator::Create(Spec(), o);
    EXPECT_TRUE(g.ok());
    Face copy = f;
    cv::Mat out = large.clone();
    EXPECT_TRUE((*g)->Replace(out, copy, 0).ok());
    return std::pair(copy, out);
  };
  const auto [blurred, blurred_img] = paint({});
  EXPECT_EQ(blurred.method, "blur");
  EXPECT_NE(blurred.reason.find("too large for the 64 px generator"), std::string::npos)
      << blurred.reason;
  EXPECT_NE(blurred.reason.find("6.0x"), std::string::npos) << blurred.reason;
  EXPECT_FALSE(Same(blurred_img, large));  // covered all the same
  EXPECT_TRUE(Same(blurred_img, paint({.unpainted = MethodKind::kBlur}).second));
  const auto [solid, solid_img] = paint({.unpainted = MethodKind::kSolid});
  EXPECT_EQ(solid.method, "solid");
  EXPECT_FALSE(Same(solid_img, blurred_img));
  for (const float limit : {0.f, 6.5f}) {
    const auto [painted, painted_img] = paint({.max_upscale = limit});
    EXPECT_EQ(painted.method, "generate") << limit;
    EXPECT_TRUE(painted.reason.empty()) << painted.reason;
  }
  // A face that fits says nothing.
  Face fits = face;
  cv::Mat out = s.image.clone();
  ASSERT_TRUE((*gen)->Replace(out, fits, 0).ok());
  EXPECT_EQ(fits.method, "generate");
  EXPECT_TRUE(fits.reason.empty());
}

// A detection scored under paint_above is blurred, not given a face (it may be a fist or a dog),
// and says why; at or above it, or with paint_above 0, it is painted.
TEST(Generator, UnsureDetectionsAreNotGivenAFace) {
  const Scene s;
  Face f = s.faces.front();
  auto paint = [&](float score, GeneratorOptions o) {
    auto g = FaceGenerator::Create(Spec(), o);
    EXPECT_TRUE(g.ok());
    Face copy = f;
    copy.score = score;
    cv::Mat out = s.image.clone();
    EXPECT_TRUE((*g)->Replace(out, copy, 0).ok());
    EXPECT_FALSE(Same(out, s.image));
    return copy;
  };
  const Face unsure = paint(0.62f, {});
  EXPECT_EQ(unsure.method, "blur");
  EXPECT_EQ(unsure.reason, "maybe not a face (detected with a score of 0.62, under 0.7)");
  EXPECT_EQ(paint(0.62f, {.unpainted = MethodKind::kPixelate}).method, "pixelate");
  EXPECT_EQ(paint(0.7f, {}).method, "generate");
  EXPECT_EQ(paint(0.62f, {.paint_above = 0}).method, "generate");
  EXPECT_EQ(paint(0.62f, {.paint_above = 0.6f}).method, "generate");
}

// Mean absolute chroma (|Cr - 128| + |Cb - 128|) of `bgr` inside the faces' boxes.
double ChromaInFaces(const cv::Mat& bgr, const std::vector<Face>& faces) {
  cv::Mat ycc, chroma;
  cv::cvtColor(bgr, ycc, cv::COLOR_BGR2YCrCb);
  cv::absdiff(ycc, cv::Scalar(0, 128, 128), chroma);
  cv::Mat1b inside = cv::Mat1b::zeros(bgr.size());
  for (const auto& f : faces) inside(cv::Rect(f.box) & cv::Rect({}, bgr.size())).setTo(255);
  const cv::Scalar m = cv::mean(chroma, inside);
  return m[1] + m[2];
}

TEST(Generator, BlackAndWhitePhotosGetGreyStandIns) {
  const Scene s;
  EXPECT_GT(ChromaInFaces(Replace(s.image, s.faces, 4), s.faces), 4.0);  // colour in, colour out
  cv::Mat grey;
  cv::cvtColor(s.image, grey, cv::COLOR_BGR2GRAY);
  cv::cvtColor(grey, grey, cv::COLOR_GRAY2BGR);
  EXPECT_LT(ChromaInFaces(Replace(grey, s.faces, 4), s.faces), 0.5);
}

// Standard deviation of the luminance band between Gaussian scales 1.2 and 3 (of a 64 px crop's
// pixels) inside the faces' inner boxes: how strongly eyes, nostrils and lips stand out.
double FeatureContrast(const cv::Mat& bgr, const std::vector<Face>& faces) {
  cv::Mat1f y, a, b;
  cv::Mat grey;
  cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
  grey.convertTo(y, CV_32F);
  double sum = 0;
  for (const auto& f : faces) {
    const double px = f.box.width / 40.0;  // about a 64 px crop pixel
    cv::GaussianBlur(y, a, {}, 1.2 * px);
    cv::GaussianBlur(y, b, {}, 3.0 * px);
    const cv::Rect inner(
        cv::Point(cvRound(f.box.x + 0.25f * f.box.width), cvRound(f.box.y + 0.25f * f.box.height)),
        cv::Size(cvRound(0.5f * f.box.width), cvRound(0.5f * f.box.height)));
    cv::Scalar mean, sd;
    cv::meanStdDev(cv::Mat(a - b)(inner & cv::Rect({}, bgr.size())), mean, sd);
    sum += sd[0];
  }
  return sum / static_cast<double>(faces.size());
}

TEST(Generator, FeatureGainStrengthensFacialStructureNotColour) {
  const Scene s;
  auto paint = [&](float gain) {
    auto gen = FaceGenerator::Create(Spec(), {.seed = 9, .detail_gain = gain});
    EXPECT_TRUE(gen.ok());
    auto method = MakeGenerateMethod(std::move(gen).value());
    cv::Mat out = s.image.clone();
    std::vector<Face> faces = s.faces;
    EXPECT_TRUE(method->Apply(out, faces).ok());
    return out;
  };
  const cv::Mat plain = paint(0.f), strong = paint(2.5f);
  EXPECT_GT(FeatureContrast(strong, s.faces), 1.4 * FeatureContrast(plain, s.faces));  // 1.78x
  // Colour stays: the mean chroma inside the faces moves by less than 1.5 levels (27.0 and 27.1
  // measured).
  EXPECT_NEAR(ChromaInFaces(strong, s.faces), ChromaInFaces(plain, s.faces), 1.5);
}

// The second stage, loaded as the product loads it (the manifest's "refiner" entry).
std::unique_ptr<FaceGenerator> WithRefiner(const GeneratorOptions& options = {}) {
  auto store = ModelStore::Open();
  EXPECT_TRUE(store.ok());
  auto gen = FaceGenerator::Create(*store, options);
  EXPECT_TRUE(gen.ok()) << gen.status().message();
  EXPECT_EQ((*gen)->refiner_resolution(), 2 * (*gen)->spec().resolution);
  return std::move(gen).value();
}

// The refiner's manifest, as Spec() reads the generator's.
RefinerSpec RefinerManifest() {
  auto store = ModelStore::Open();
  EXPECT_TRUE(store.ok());
  auto manifest = store->Path("refiner");
  EXPECT_TRUE(manifest.ok()) << manifest.status().message();
  auto spec = LoadRefinerSpec(*manifest);
  EXPECT_TRUE(spec.ok()) << spec.status().message();
  return *spec;
}

TEST(Refiner, MatchesTheGoldenOutputExportedWithTheModel) {
  const RefinerSpec spec = RefinerManifest();
  auto gen = WithRefiner();
  const int H = spec.resolution;
  const fs::path gold = spec.onnx.parent_path() / "golden" / spec.name;
  auto coarse = ReadF32(gold.string() + "_coarse.f32");
  auto context = ReadF32(gold.string() + "_context.f32");
  const auto image = ReadF32(gold.string() + "_image.f32");
  ASSERT_EQ(coarse.size(), static_cast<size_t>(3 * H * H));
  ASSERT_EQ(context.size(), static_cast<size_t>(4 * H * H));
  const int s3[] = {1, 3, H, H}, s4[] = {1, 4, H, H};
  auto out = gen->RunRefiner(cv::Mat(4, s3, CV_32F, coarse.data()),
                             cv::Mat(4, s4, CV_32F, context.data()));
  ASSERT_TRUE(out.ok()) << out.status().message();
  // Tolerance: float32 inference in two engines (torch at export, OpenCV dnn here).
  EXPECT_LT(MaxAbsDiff(*out, image), 1e-3);
  // It is not the identity: the golden pair shows the learned detail.
  EXPECT_GT(MaxAbsDiff(*out, coarse), 1e-2);
}

// The refiner belongs to the generator it was trained on: standin refuses another pairing (and
// says what to do) rather than paint with a refiner that never saw that generator's faces.
TEST(Refiner, RefusesAGeneratorItWasNotTrainedFor) {
  const RefinerSpec refiner = RefinerManifest();
  EXPECT_TRUE(FaceGenerator::Create(Spec(), refiner, {}).ok());
  RefinerSpec other = refiner;
  other.generator_sha256 = std::string(64, '0');
  auto g = FaceGenerator::Create(Spec(), other, {});
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), ErrorCode::kModelMissing);
  EXPECT_NE(g.status().message().find("training/refine.py"), std::string::npos);
}

// A face whose crop spans more than 1.5 R photo pixels is painted at 2R, from the same sealed
// surroundings: scribbling over everything the mask touches changes neither the refiner's input nor
// the output; the refined stand-in differs from the one painted at R; a small face is not refined.
TEST(Refiner, PaintsLargeFacesAtTwiceTheResolutionFromTheSurroundingsOnly) {
  // The sample photo's faces, three times larger.
  const Scene photo;
  Scene s = photo;
  const float up = 3.f;
  cv::resize(photo.image, s.image, cv::Size(), up, up, cv::INTER_CUBIC);
  for (auto& f : s.faces) {
    for (auto& pt : f.landmarks68) pt *= up;
  }
  // No upscale limit: 3x takes this face past the default (GeneratorOptions::max_upscale).
  auto gen = WithRefiner({.max_upscale = 0, .seed = 2, .refine = true});
  const Face& face = s.faces.front();
  auto p = gen->Prepare(s.image, face);
  ASSERT_TRUE(p.ok() && p->has_value() && !(*p)->roi.empty());
  ASSERT_FALSE((*p)->refine_context.empty()) << "the test face should span more than 96 px";
  cv::Mat tampered = s.image.clone();
  cv::Mat noise(tampered.size(), tampered.type());
  cv::RNG rng(5);
  rng.fill(noise, cv::RNG::UNIFORM, 0, 255);
  cv::Mat1b touched = cv::Mat1b::zeros(tampered.size());
  touched((*p)->roi).setTo(255, (*p)->mask_back > 0.f);
  noise.copyTo(tampered, touched);
  auto q = gen->Prepare(tampered, face);
  ASSERT_TRUE(q.ok() && q->has_value());
  EXPECT_EQ(cv::norm((*p)->refine_context, (*q)->refine_context, cv::NORM_INF), 0.0);
  // The output: scribbled where the stand-in replaces the photo wholly, identical everywhere.
  cv::Mat1b full = cv::Mat1b::zeros(tampered.size());
  full((*p)->roi).setTo(255, (*p)->mask_back >= 1.f);
  cv::Mat inside = s.image.clone();
  noise.copyTo(inside, full);
  auto u = gen->Prepare(inside, face);
  ASSERT_TRUE(u.ok() && u->has_value());
  const cv::Mat z = gen->Latent(0);
  cv::Mat a = s.image.clone(), b = inside.clone();
  ASSERT_TRUE(gen->Paint(a, {0, 0}, **p, z).ok());
  ASSERT_TRUE(gen->Paint(b, {0, 0}, **u, z).ok());
  EXPECT_TRUE(Same(a, b));

  auto plain = WithRefiner({.max_upscale = 0, .seed = 2, .refine = false});
  auto r = plain->Prepare(s.image, face);
  ASSERT_TRUE(r.ok() && r->has_value());
  EXPECT_TRUE((*r)->refine_context.empty());
  cv::Mat c = s.image.clone();
  ASSERT_TRUE(plain->Paint(c, {0, 0}, **r, z).ok());
  cv::Mat d;
  cv::absdiff(a, c, d);
  EXPECT_GT(cv::mean(d, touched)[1], 0.5);  // the refiner's detail changes the painted face

  cv::Mat small;
  const float k = 0.3f;
  cv::resize(photo.image, small, cv::Size(), k, k, cv::INTER_AREA);
  Face f = photo.faces.front();
  for (auto& pt : f.landmarks68) pt *= k;
  auto t = gen->Prepare(small, f);
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_TRUE((*t)->refine_context.empty()) << "a face under 96 px is painted at 64 px";
  // The JSON says which.
  Face large = face, tiny = f;
  ASSERT_TRUE(gen->Replace(a, large, 0).ok());
  ASSERT_TRUE(gen->Replace(small, tiny, 0).ok());
  EXPECT_EQ(large.resolution, 128);
  EXPECT_EQ(tiny.resolution, 64);
}

}  // namespace
}  // namespace standin
