// Per-stage cost of anonymizing a 1920x1080 group photo (10 labelled faces, four dlib sample
// photos in a 2x2 grid) with blur. bench/run.sh turns the figures into shares of the end-to-end
// time and ratios against the baselines measured in the same run (single-pass detection).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>

#include "standin/analysis.hpp"
#include "standin/anonymizer.hpp"
#include "standin/generator.hpp"

namespace {

const char* kFaces = "/usr/share/doc/libdlib19.1/examples/faces/";

cv::Mat GroupPhoto1080() {
  std::vector<cv::Mat> parts;
  for (const char* f :
       {"2008_002506.jpg", "2008_001009.jpg", "2008_001322.jpg", "2009_004587.jpg"}) {
    cv::Mat img = cv::imread(std::string(kFaces) + f);
    if (img.empty()) {
      std::fprintf(stderr, "missing %s%s (apt-get install libdlib-dev)\n", kFaces, f);
      std::exit(1);
    }
    cv::resize(img, img, cv::Size(960, 540), 0, 0, cv::INTER_CUBIC);
    parts.push_back(img);
  }
  cv::Mat top, bottom, out;
  cv::hconcat(parts[0], parts[1], top);
  cv::hconcat(parts[2], parts[3], bottom);
  cv::vconcat(top, bottom, out);
  return out;
}

struct Fixture {
  cv::Mat image = GroupPhoto1080();
  std::vector<uchar> jpeg;
  standin::ModelStore models = *standin::ModelStore::Open();
  std::unique_ptr<standin::FaceDetector> detector = *standin::MakeDetector({}, models);
  std::unique_ptr<standin::Landmarker> landmarker = *standin::MakeLandmarker(models);
  std::unique_ptr<standin::FaceMethod> blur = standin::MakeMethod({});
  std::vector<standin::Face> faces;
  Fixture() {
    cv::imencode(".jpg", image, jpeg, {cv::IMWRITE_JPEG_QUALITY, 92});
    faces = *detector->Detect(image);
    (void)landmarker->Annotate(image, faces);
  }
};

Fixture& F() {
  static Fixture f;
  return f;
}

void Record(benchmark::State& state) {
  state.counters["faces"] = static_cast<double>(F().faces.size());
}

void BM_Decode(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(cv::imdecode(F().jpeg, cv::IMREAD_COLOR));
  Record(state);
}
void BM_Detect(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(F().detector->Detect(F().image));
  Record(state);
}
void BM_DetectSinglePass(benchmark::State& state) {  // baseline: no tiling at all
  static auto single = *standin::MakeDetector({.min_face = 10000.f}, F().models);
  for (auto _ : state) benchmark::DoNotOptimize(single->Detect(F().image));
}
void BM_Landmarks(benchmark::State& state) {
  auto faces = F().faces;
  for (auto _ : state) benchmark::DoNotOptimize(F().landmarker->Annotate(F().image, faces));
  Record(state);
}
void BM_Blur(benchmark::State& state) {
  cv::Mat img;
  auto faces = F().faces;
  for (auto _ : state) {
    state.PauseTiming();
    F().image.copyTo(img);
    state.ResumeTiming();
    benchmark::DoNotOptimize(F().blur->Apply(img, faces));
  }
  Record(state);
}
void BM_Encode(benchmark::State& state) {
  std::vector<uchar> out;
  for (auto _ : state) cv::imencode(".jpg", F().image, out, {cv::IMWRITE_JPEG_QUALITY, 95});
  Record(state);
}
// An anonymizer that has processed the photo once: OpenCV dnn sets each network up on its first
// run, which would otherwise land in the first timed iteration (and the guarded runs, over a
// second each, get only one iteration).
standin::Anonymizer Warm(standin::Anonymizer anonymizer) {
  (void)anonymizer.Process(F().image);
  return anonymizer;
}

// Decode, detect, landmarks, the method, encode: what one photo costs in-process.
void EndToEnd(benchmark::State& state, standin::Anonymizer& anonymizer) {
  std::vector<uchar> out;
  for (auto _ : state) {
    cv::Mat img = cv::imdecode(F().jpeg, cv::IMREAD_COLOR);
    auto result = anonymizer.Process(img);
    cv::imencode(".jpg", result->image, out, {cv::IMWRITE_JPEG_QUALITY, 95});
  }
  Record(state);
}
void BM_EndToEnd(benchmark::State& state) {
  static auto anonymizer =
      Warm(*standin::Anonymizer::Create({.method = {.kind = standin::MethodKind::kBlur}}));
  EndToEnd(state, anonymizer);
}

// Generated stand-ins: one face through align, condition, network, warp back and blend; and the
// whole photo with --method generate.
void BM_GenerateOneFace(benchmark::State& state) {
  static auto gen = *standin::FaceGenerator::Create(F().models, {.seed = 1});
  cv::Mat img = F().image.clone();
  auto face = F().faces.at(0);
  for (auto _ : state) benchmark::DoNotOptimize(gen->Replace(img, face, 0));
  state.counters["resolution"] = gen->spec().resolution;
}
// One large face, painted at 128 px by the refiner and, as the baseline in the same run, at the
// generator's 64 px (without --refine): the photo's first face cut out with a margin and enlarged
// 3x, so its crop spans well over 96 photo pixels.
struct LargeFace {
  cv::Mat image;
  standin::Face face;
};
const LargeFace& Large() {
  static const LargeFace large = [] {
    const standin::Face& f = F().faces.at(0);
    const cv::Rect around =
        cv::Rect(cvRound(f.box.x - f.box.width), cvRound(f.box.y - f.box.height),
                 cvRound(3 * f.box.width), cvRound(3 * f.box.height)) &
        cv::Rect({}, F().image.size());
    constexpr float kUp = 3.f;
    LargeFace l;
    cv::resize(F().image(around), l.image, cv::Size(), kUp, kUp, cv::INTER_CUBIC);
    l.face = f;
    const cv::Point2f tl(static_cast<float>(around.x), static_cast<float>(around.y));
    for (auto& p : l.face.landmarks68) p = (p - tl) * kUp;
    return l;
  }();
  return large;
}
void GenerateLargeFace(benchmark::State& state, bool refine) {
  // No upscale limit: the enlarged face may lie past the default max_upscale, and this measures
  // painting it.
  auto gen =
      *standin::FaceGenerator::Create(F().models, {.max_upscale = 0, .seed = 1, .refine = refine});
  cv::Mat img = Large().image.clone();
  auto face = Large().face;
  for (auto _ : state) benchmark::DoNotOptimize(gen->Replace(img, face, 0));
  state.counters["resolution"] = refine ? gen->refiner_resolution() : gen->spec().resolution;
}
void BM_GenerateLargeFace(benchmark::State& state) { GenerateLargeFace(state, true); }
void BM_GenerateLargeFaceNoRefine(benchmark::State& state) { GenerateLargeFace(state, false); }
// What the identity guard adds per candidate: one identity embedding and one age + gender estimate.
// Arg: index into IdentityEmbedderNames() (0 arcface, the guard's default).
void BM_IdentityEmbed(benchmark::State& state) {
  const auto name = standin::IdentityEmbedderNames().at(static_cast<size_t>(state.range(0)));
  auto embedder = *standin::MakeIdentityEmbedder(name, F().models);
  state.SetLabel(name);
  const auto& face = F().faces.at(0);
  for (auto _ : state) benchmark::DoNotOptimize(embedder->Embed(F().image, face.kps5));
}
void BM_AgeGender(benchmark::State& state) {
  static auto attributes = *standin::AttributeEstimator::Create(F().models);
  const auto& face = F().faces.at(0);
  for (auto _ : state) benchmark::DoNotOptimize(attributes->Estimate(F().image, face, false));
}

standin::AnonymizerOptions GenerateOptions(bool guard, int candidates) {
  standin::AnonymizerOptions opts;
  opts.method.kind = standin::MethodKind::kGenerate;
  opts.generator.seed = 1;
  opts.generator.guard.enabled = guard;
  opts.generator.guard.candidates = candidates;
  return opts;
}
// The generate method alone on the photo's 10 faces (detection and landmarks done once, outside
// the loop).
void GenerateFaces(benchmark::State& state, const standin::AnonymizerOptions& opts) {
  auto anonymizer = Warm(*standin::Anonymizer::Create(opts));
  int drawn = 0;
  for (auto _ : state) {
    auto faces = F().faces;
    benchmark::DoNotOptimize(anonymizer.Apply(F().image, faces));
    drawn = 0;
    for (const auto& f : faces) drawn += f.receipt ? f.receipt->drawn : 0;
  }
  Record(state);
  state.counters["drawn"] = drawn;  // candidates judged in all (own and donors)
}
// Without the identity guard (the baseline), and with it at K candidates per face.
void BM_GenerateFaces(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0));
  GenerateFaces(state, GenerateOptions(k > 0, k));
  state.counters["candidates"] = static_cast<double>(k);
}
// The default guard with the attribute-guided choice (--attribute-weight 1, the default until
// session 21): candidates are drawn until one passes whose age and gender cost is under
// --good-enough. By default (weight 0) the first candidate that passes is painted.
standin::AnonymizerOptions AttributeChoiceOptions() {
  auto opts = GenerateOptions(true, standin::IdentityGuardOptions{}.candidates);
  opts.generator.guard.attribute_weight = 1.f;
  return opts;
}
void BM_GenerateFacesAttributeChoice(benchmark::State& state) {
  GenerateFaces(state, AttributeChoiceOptions());
}
// The default K without the stranger test and donors (the default guard until session 11:
// --stranger-percentile 0 --donors 0).
void BM_GenerateFacesMarginsOnly(benchmark::State& state) {
  auto opts = GenerateOptions(true, standin::IdentityGuardOptions{}.candidates);
  opts.generator.guard.stranger_percentile = 0.f;
  opts.generator.guard.donors = 0;
  GenerateFaces(state, opts);
}
// Session 22's strict guard, the baseline of the current one in the same run: `g` with the strict
// preset's recognisers and 128 donors tried in the order of pose, colour and attributes alone
// (--strict-guard --donors 128 --donor-identity-weight 0).
standin::IdentityGuardOptions Session22StrictGuard(const standin::IdentityGuardOptions& g) {
  standin::IdentityGuardOptions strict = standin::StrictIdentityGuard(g);
  strict.donors = 128;
  strict.donor_identity_weight = 0.f;
  return strict;
}
// The default guard with a second recogniser: Arg 0 MobileFace's margin only
// (--second-recogniser mobileface --second-stranger-percentile 0), 1 its margin and stranger test,
// 2 the strict setting (and 128 donors); 3 dlib's ResNet, margin and stranger test at 75, with 32
// donors (--second-recogniser dlib-resnet --second-stranger-percentile 75 --donors 32); 4 the
// strict guard (--strict-guard: MobileFace then dlib's ResNet, stranger tests at 40 and 75, its
// donors tried far from the original first); 5 session 22's strict guard (128 donors, in the
// order of pose, colour and attributes alone).
void BM_GenerateFacesSecondRecogniser(benchmark::State& state) {
  auto opts = GenerateOptions(true, standin::IdentityGuardOptions{}.candidates);
  standin::IdentityGuardOptions& g = opts.generator.guard;
  g.second = {{.recogniser = state.range(0) == 3 ? "dlib-resnet" : "mobileface"}};
  if (state.range(0) == 0) g.second[0].stranger_percentile = 0.f;
  if (state.range(0) == 2) g.donors = 128;
  if (state.range(0) == 3) {
    g.second[0].stranger_percentile = 75.f;
    g.donors = 32;
  }
  if (state.range(0) == 4) g = standin::StrictIdentityGuard(g);
  if (state.range(0) == 5) g = Session22StrictGuard(g);
  GenerateFaces(state, opts);
}
// The default guard on one worker (one set of networks, each threaded inside): faces judged one
// after another; the same choice, so only the time differs.
void BM_GenerateFacesOneWorker(benchmark::State& state) {
  auto opts = GenerateOptions(true, standin::IdentityGuardOptions{}.candidates);
  opts.generator.guard.workers = 1;
  GenerateFaces(state, opts);
}
// With the harmonic edge match (--harmonic-colour), without the guard (0) and with the default
// one (4): what it costs, against BM_GenerateFaces.
void BM_GenerateFacesHarmonic(benchmark::State& state) {
  const int k = static_cast<int>(state.range(0));
  auto opts = GenerateOptions(k > 0, k);
  opts.generator.harmonic_colour = true;
  GenerateFaces(state, opts);
}
void BM_EndToEndGenerate(benchmark::State& state) {
  static auto anonymizer = Warm(*standin::Anonymizer::Create(GenerateOptions(false, 1)));
  EndToEnd(state, anonymizer);
}
void BM_EndToEndGenerateGuardedAttributeChoice(benchmark::State& state) {
  static auto anonymizer = Warm(*standin::Anonymizer::Create(AttributeChoiceOptions()));
  EndToEnd(state, anonymizer);
}
void BM_EndToEndGenerateGuarded(benchmark::State& state) {
  static auto anonymizer = Warm(*standin::Anonymizer::Create(
      GenerateOptions(true, standin::IdentityGuardOptions{}.candidates)));
  EndToEnd(state, anonymizer);
}
// The strict guard (--strict-guard), end to end.
void BM_EndToEndGenerateStrict(benchmark::State& state) {
  auto opts = GenerateOptions(true, standin::IdentityGuardOptions{}.candidates);
  opts.generator.guard = standin::StrictIdentityGuard(opts.generator.guard);
  static auto anonymizer = Warm(*standin::Anonymizer::Create(opts));
  EndToEnd(state, anonymizer);
}
// Session 22's strict guard, end to end.
void BM_EndToEndGenerateStrictPoseOrder(benchmark::State& state) {
  auto opts = GenerateOptions(true, standin::IdentityGuardOptions{}.candidates);
  opts.generator.guard = Session22StrictGuard(opts.generator.guard);
  static auto anonymizer = Warm(*standin::Anonymizer::Create(opts));
  EndToEnd(state, anonymizer);
}

BENCHMARK(BM_Decode)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Detect)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_DetectSinglePass)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Landmarks)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Blur)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_Encode)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EndToEnd)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GenerateOneFace)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GenerateLargeFace)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GenerateLargeFaceNoRefine)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EndToEndGenerate)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_IdentityEmbed)->DenseRange(0, 2)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_AgeGender)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EndToEndGenerateGuarded)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EndToEndGenerateStrict)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EndToEndGenerateStrictPoseOrder)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_EndToEndGenerateGuardedAttributeChoice)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GenerateFacesAttributeChoice)->Unit(benchmark::kMillisecond)->UseRealTime();
// 0 = no guard; 1..8 = the guard with that many candidates per face.
BENCHMARK(BM_GenerateFaces)
    ->Arg(0)
    ->Arg(1)
    ->Arg(2)
    ->Arg(4)
    ->Arg(8)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_GenerateFacesHarmonic)->Arg(0)->Arg(4)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GenerateFacesSecondRecogniser)
    ->DenseRange(0, 5)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_GenerateFacesMarginsOnly)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GenerateFacesOneWorker)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  F();  // build the fixture (models, test photo) before anything is timed
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
