// standin: replace every face in photos and videos.
#include <fmt/core.h>
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "progress.hpp"
#include "standin/analysis.hpp"
#include "standin/anonymizer.hpp"
#include "standin/evaluation.hpp"
#include "standin/files.hpp"

namespace fs = std::filesystem;
using standin::ErrorCode;

namespace {

// Distinct exit status for each kind of failure (also listed in --help and README.md).
int ExitCode(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return 0;
    case ErrorCode::kInvalidArgument:
      return 2;
    case ErrorCode::kNotFound:
      return 3;
    case ErrorCode::kUnreadable:
      return 4;
    case ErrorCode::kCorruptInput:
      return 5;
    case ErrorCode::kUnsupported:
      return 6;
    case ErrorCode::kNoInputs:
      return 7;
    case ErrorCode::kOutputConflict:
      return 8;
    case ErrorCode::kOutputNotWritable:
      return 9;
    case ErrorCode::kDiskFull:
      return 10;
    case ErrorCode::kModelMissing:
      return 11;
    case ErrorCode::kProcessingFailed:
      return 12;
    case ErrorCode::kInterrupted:
      return 130;
    case ErrorCode::kExternalTool:
      return 13;
  }
  return 1;
}

constexpr const char* kExitCodes =
    "Exit status: 0 ok, 2 bad arguments, 3 input not found, 4 input unreadable, 5 corrupt or "
    "empty input, 6 unsupported file type, 7 folder without images or videos, 8 output would "
    "overwrite an input, 9 output not writable, 10 disk full, 11 model file missing or corrupt, "
    "12 processing failed (nothing written), 13 ffmpeg missing or failed, 130 interrupted (Ctrl-C: "
    "a stream or camera is finished and written, a file not yet done is not).";

// Ctrl-C / SIGTERM: finish a stream or camera cleanly, abandon a file in progress (its temporary
// output is removed), process no further inputs. A second signal ends the program at once.
std::atomic<bool> g_stop{false};
extern "C" void OnStopSignal(int sig) {
  if (g_stop.exchange(true)) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
}
void InstallStopHandler() {
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
}

int Fail(const standin::Status& s) {
  std::fprintf(stderr, "standin: error: %s\n", s.message().c_str());
  return ExitCode(s.code());
}

struct Args {
  std::vector<std::string> inputs;
  std::string output;
  std::string json;
  std::string method = "generate";
  bool boxes = false;
  bool draw = false;
  bool keep_metadata = false;
  bool no_audio = false;
  bool no_smoothing = false;
  bool quiet = false;
  int threads = 0;
  int jpeg_quality = 95;
  int detect_every = standin::VideoTrackOptions{}.detect_every;
  std::optional<std::uint64_t> seed;
  bool no_identity_guard = false;
  bool strict_guard = false;
  bool fixed_margin = false;
  std::string guard_fallback = "solid";
  std::string unpainted = "blur";
  bool no_colour_match = false;
  // The further recognisers of the identity guard, their margins (none or one per recogniser) and
  // stranger percentiles (none, one for all, or one per recogniser).
  std::vector<std::string> second_recognisers;
  std::vector<float> second_margins;
  std::vector<float> second_percentiles;
  standin::AnonymizerOptions opts;
};

void AddDetectionOptions(CLI::App& app, Args& a) {
  app.add_option("--threshold", a.opts.detector.threshold, "Detector confidence threshold")
      ->check(CLI::Range(0.01f, 0.99f))
      ->capture_default_str();
  app.add_option("--min-face", a.opts.detector.min_face,
                 "Smallest face side to find, in pixels; smaller finds smaller faces but is slower "
                 "(0 = auto: 1/14 of the shorter image side, at least 20)")
      ->check(CLI::Range(0.f, 10000.f))
      ->capture_default_str();
  app.add_option("--detector", a.opts.detector.model, "Detection network")
      ->check(CLI::IsMember({"blazeface", "ultraface"}))
      ->capture_default_str();
  app.add_option("--threads", a.threads, "Inference threads (0: all cores)")
      ->check(CLI::Range(0, 256));
  app.add_option("--detect-every", a.detect_every,
                 "Videos: run the full detector every N-th frame and follow faces by their "
                 "landmarks in between (1 = detect on every frame)")
      ->check(CLI::Range(1, 30))
      ->capture_default_str();
  app.add_flag("-q,--quiet", a.quiet, "No progress bar");
}

void AddIdentityGuardOptions(CLI::App& app, Args& a) {
  standin::IdentityGuardOptions& g = a.opts.generator.guard;
  const char* group = "Generate";
  app.add_option("--smooth", a.opts.generator.smooth_sigma,
                 "Generate: low-pass sigma of the generated crop against pixel-level artefacts "
                 "(0 = off)")
      ->check(CLI::Range(0.f, 3.f))
      ->capture_default_str()
      ->group(group);
  app.add_option("--detail", a.opts.generator.detail_gain,
                 "Generate: contrast gain of the stand-in's eyes, brows, nose and mouth (0 = off)")
      ->check(CLI::Range(0.f, 3.f))
      ->capture_default_str()
      ->group(group);
  app.add_option("--max-upscale", a.opts.generator.max_upscale,
                 "Generate: faces the 64 px stand-in would be scaled up more than this for (eyes "
                 "more than about 21 x this many pixels apart) get --unpainted-method instead, as "
                 "a smear would be all it could paint (0 = no limit; docs/generator.md)")
      ->check(CLI::Range(0.f, 100.f))
      ->capture_default_str()
      ->group(group);
  app.add_option("--paint-above", a.opts.generator.paint_above,
                 "Generate: detections scored below this get --unpainted-method instead of a "
                 "stand-in, so a false detection (a fist, a dog) is not given a face (0 = paint "
                 "every detection)")
      ->check(CLI::Range(0.f, 1.f))
      ->capture_default_str()
      ->group(group);
  app.add_option("--unpainted-method", a.unpainted,
                 "Generate: method for faces over --max-upscale or under --paint-above")
      ->check(CLI::IsMember({"blur", "pixelate", "solid"}))
      ->capture_default_str()
      ->group(group);
  app.add_flag("--refine", a.opts.generator.refine,
               "Generate: paint large faces at 128 px with the refiner, the generator's second "
               "stage (crisper, but re-identified more often; docs/generator.md)")
      ->group(group);
  app.add_option("--refine-above", a.opts.generator.refine_above,
                 "Generate, with --refine: refine the stand-in at 128 px when the face's crop "
                 "spans more than "
                 "this many times 64 photo pixels")
      ->check(CLI::Range(0.f, 100.f))
      ->capture_default_str()
      ->group(group);
  app.add_option("--keypoint-shrink", a.opts.generator.keypoint_shrink,
                 "Generate: pull the keypoints the stand-in is painted from this far toward the "
                 "average face (0: the face's own; 1: the average shape), so it does not take "
                 "the face's own proportions")
      ->check(CLI::Range(0.f, 1.f))
      ->capture_default_str()
      ->group(group);
  app.add_option("--jaw-margin", a.opts.generator.jaw_margin,
                 "Generate: end the painted stand-in this far (in crop sides) below the jaw "
                 "line, keeping the photo's neck and collar (negative: the whole mask)")
      ->check(CLI::Range(-1.f, 1.f))
      ->capture_default_str()
      ->group(group);
  app.add_flag("--no-colour-match", a.no_colour_match,
               "Generate: do not shift each stand-in's colour to continue its surroundings")
      ->group(group);
  app.add_flag("--harmonic-colour", a.opts.generator.harmonic_colour,
               "Generate: also match each stand-in's colour place by place to the skin at its "
               "edge (the photo's light across the face; no rim), at some cost in identity "
               "distance")
      ->group(group);
  app.add_flag("--no-identity-guard", a.no_identity_guard,
               "Generate: paint one stand-in per face without checking its identity distance "
               "(faster; no privacy receipt)")
      ->group(group);
  app.add_flag("--strict-guard", a.strict_guard,
               "Generate: MobileFace and dlib's ResNet judge every stand-in after arcface, with "
               "48 donors tried far from the original first (the stand-ins' rank-1 at chance for "
               "all three recognisers on AT&T; more faces fail closed; about twice the default "
               "guard's time). Options given explicitly still apply")
      ->group(group);
  app.add_option("--candidates", g.candidates,
                 "Generate: stand-ins drawn per face; the best one below the identity margin is "
                 "kept")
      ->check(CLI::Range(1, 64))
      ->capture_default_str()
      ->group(group);
  app.add_option("--identity-margin", g.margin,
                 "Generate: reject stand-ins whose cosine similarity to the original face (by the "
                 "recogniser) is at or above this; default = the recogniser's similarity at 1% "
                 "false accepts (arcface 0.315, dlib-resnet 0.961)")
      ->check(CLI::Range(-1.f, 1.f))
      ->capture_default_str()
      ->group(group);
  app.add_option("--recogniser", g.recogniser, "Generate: identity network of the guard")
      ->check(CLI::IsMember(standin::GuardRecogniserNames()))
      ->capture_default_str()
      ->group(group);
  // Each occurrence takes one value (or a comma-separated list), so inputs after it stay inputs.
  app.add_option("--second-recogniser", a.second_recognisers,
                 "Generate: a further identity network every stand-in must also pass, with its own "
                 "margin and stranger test; repeat it (or separate by commas) for both; the "
                 "cheapest recogniser judges first (default: none)")
      ->check(CLI::IsMember({"mobileface", "dlib-resnet"}))
      ->delimiter(',')
      ->allow_extra_args(false)
      ->group(group);
  app.add_option("--second-margin", a.second_margins,
                 "Generate: each further recogniser's margin, on its own scale, raised per face "
                 "unless --fixed-margin (one per --second-recogniser); default = its "
                 "similarity at 1% false accepts (mobileface 0.452, dlib-resnet 0.961)")
      ->check(CLI::Range(-1.f, 1.f))
      ->delimiter(',')
      ->allow_extra_args(false)
      ->group(group);
  app.add_option(
         "--second-stranger-percentile", a.second_percentiles,
         "Generate: each further recogniser's stranger test, 0 = off (one value for all, or "
         "one per --second-recogniser; default 40)")
      ->check(CLI::Range(0.f, 100.f))
      ->delimiter(',')
      ->allow_extra_args(false)
      ->group(group);
  app.add_option("--attribute-weight", g.attribute_weight,
                 "Generate: weight of keeping age and gender (as fr_age and fr_gender read "
                 "them) when choosing among stand-ins; 0: the first that passes (an independent "
                 "judge saw no gain at 1, for 1.7x the guard's time; docs/identity-guard.md)")
      ->check(CLI::Range(0.f, 100.f))
      ->capture_default_str()
      ->group(group);
  app.add_option("--expression-weight", g.expression_weight,
                 "Generate: weight of keeping the expression (above 0 runs the expression "
                 "network, ~90 ms per stand-in)")
      ->check(CLI::Range(0.f, 100.f))
      ->capture_default_str()
      ->group(group);
  app.add_option("--identity-weight", g.identity_weight,
                 "Generate: weight of distance from the original when choosing among stand-ins")
      ->check(CLI::Range(0.f, 100.f))
      ->capture_default_str()
      ->group(group);
  app.add_flag("--fixed-margin", a.fixed_margin,
               "Generate: one identity margin for every face, not raised per face to what "
               "strangers score (arcface's relative margin)")
      ->group(group);
  app.add_option(
         "--stranger-percentile", g.stranger_percentile,
         "Generate: also reject a stand-in unless the original is no closer to it than this "
         "percentile of the reference bank's strangers (arcface only; 0 = off; lower is "
         "stricter, and more faces take donors or the fallback)")
      ->check(CLI::Range(0.f, 100.f))
      ->capture_default_str()
      ->group(group);
  app.add_option(
         "--donors", g.donors,
         "Generate: when none of a face's own stand-ins passes the guard, try up to this "
         "many stand-ins generated for other faces (nearest in pose, colour, age and gender "
         "first) before the fallback (0 = off)")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str()
      ->group(group);
  app.add_option("--donor-identity-weight", g.donor_identity_weight,
                 "Generate: how much the order donors are tried in also follows how far each "
                 "donor's own face is from the original, by the guard's recognisers (0: pose, "
                 "colour, age and gender alone; --strict-guard sets 1: as many faces painted "
                 "with fewer donors tried)")
      ->check(CLI::Range(0.f, 100.f))
      ->capture_default_str()
      ->group(group);
  app.add_option("--natural-weight", g.natural_weight,
                 "Generate: weight of looking natural (a face detector's confidence in the "
                 "stand-in, ~3.5 ms per stand-in) when choosing among stand-ins")
      ->check(CLI::Range(0.f, 100.f))
      ->capture_default_str()
      ->group(group);
  app.add_option("--good-enough", g.good_enough,
                 "Generate: stop drawing stand-ins at the first one below the margin whose choice "
                 "cost (attributes, similarity, naturalness) is at most this (0 = always draw "
                 "all)")
      ->check(CLI::Range(0.f, 100.f))
      ->capture_default_str()
      ->group(group);
  app.add_option("--recheck-every", g.recheck_every,
                 "Generate, videos: judge each person's stand-in again every N frames (1 = every "
                 "frame); in between the last verdict stands")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str()
      ->group(group);
  app.add_option("--guard-fallback", a.guard_fallback,
                 "Generate: method for a face none of whose stand-ins passes the margin")
      ->check(CLI::IsMember({"blur", "pixelate", "solid"}))
      ->capture_default_str()
      ->group(group);
  app.add_option("--guard-fallback-scale", g.fallback_scale,
                 "Generate: size of the region the guard's fallback covers, relative to the face "
                 "box (what gives away a face that fails closed is its surroundings)")
      ->check(CLI::Range(0.5f, 4.f))
      ->capture_default_str()
      ->group(group);
}

// The identity guard's further recognisers from --second-recogniser, --second-margin and
// --second-stranger-percentile: one margin per recogniser (each is on its own recogniser's scale),
// in the same order; a percentile given once holds for every recogniser. Without
// --second-recogniser the recognisers are the preset's (--strict-guard's, or none), and what is
// not given stays as the preset has it.
standin::Expected<std::vector<standin::SecondJudge>> SecondJudges(
    const Args& a, const std::vector<standin::SecondJudge>& preset) {
  std::vector<standin::SecondJudge> judges =
      a.second_recognisers.empty() ? preset : std::vector<standin::SecondJudge>{};
  for (const std::string& name : a.second_recognisers) {
    const auto same = std::find_if(preset.begin(), preset.end(),
                                   [&](const auto& j) { return j.recogniser == name; });
    judges.push_back(same != preset.end() ? *same : standin::SecondJudge{.recogniser = name});
  }
  const size_t n = judges.size();
  const auto per_judge = [n](const std::vector<float>& v, const char* flag,
                             bool one_for_all) -> standin::Status {
    if (v.empty() || v.size() == n || (one_for_all && v.size() == 1)) return standin::Status::Ok();
    return {standin::ErrorCode::kInvalidArgument,
            fmt::format("{} takes {}one value per --second-recogniser ({}), not {}", flag,
                        one_for_all ? "one value for all or " : "", n, v.size())};
  };
  if (n == 0 && (!a.second_margins.empty() || !a.second_percentiles.empty())) {
    return standin::Status(standin::ErrorCode::kInvalidArgument,
                           "--second-margin and --second-stranger-percentile need "
                           "--second-recogniser (or --strict-guard)");
  }
  if (auto s = per_judge(a.second_margins, "--second-margin", false); !s.ok()) return s;
  if (auto s = per_judge(a.second_percentiles, "--second-stranger-percentile", true); !s.ok()) {
    return s;
  }
  for (size_t i = 0; i < n; ++i) {
    standin::SecondJudge& j = judges[i];
    if (!a.second_margins.empty()) j.margin = a.second_margins[i];
    if (!a.second_percentiles.empty()) {
      j.stranger_percentile = a.second_percentiles[std::min(i, a.second_percentiles.size() - 1)];
    }
  }
  return judges;
}

int Run(Args& a, standin::FileMode mode) {
  InstallStopHandler();  // before the models load: a Ctrl-C then ends the run before any input
  a.opts.detector.threads = a.threads;
  a.opts.generator.guard.workers = a.threads;
  auto kind = standin::ParseMethod(a.method);
  if (!kind.ok()) return Fail(kind.status());
  // Finding or drawing faces changes none: no generator to load.
  a.opts.method.kind = mode == standin::FileMode::kAnonymize ? *kind : standin::MethodKind::kBlur;
  a.opts.method.boxes = a.boxes;
  a.opts.generator.guard.enabled = !a.no_identity_guard;
  if (a.fixed_margin) a.opts.generator.guard.relative_margin = false;
  a.opts.generator.match_colour = !a.no_colour_match;
  a.opts.generator.guard.fallback = *standin::ParseMethod(a.guard_fallback);
  a.opts.generator.unpainted = *standin::ParseMethod(a.unpainted);
  a.opts.generator.seed =
      a.seed ? *a.seed
             : (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();

  std::vector<fs::path> inputs(a.inputs.begin(), a.inputs.end());
  standin::PlanOptions plan;
  plan.mode = mode;
  if (!a.output.empty()) plan.output = fs::path(a.output);
  auto jobs = standin::PlanJobs(inputs, plan);
  if (!jobs.ok()) return Fail(jobs.status());
  if (!a.json.empty()) {
    for (const auto& job : *jobs) {
      std::error_code ec;
      if (fs::equivalent(job.input, a.json, ec)) {
        return Fail({ErrorCode::kOutputConflict,
                     fmt::format("{}: --json would overwrite an input", a.json)});
      }
    }
  }

  auto anonymizer = standin::Anonymizer::Create(a.opts);
  if (!anonymizer.ok()) return Fail(anonymizer.status());

  standin::FileOptions fopts;
  fopts.mode = mode;
  fopts.keep_metadata = a.keep_metadata;
  fopts.keep_audio = !a.no_audio;
  fopts.jpeg_quality = a.jpeg_quality;
  fopts.tracking.detect_every = a.detect_every;
  fopts.tracking.smooth = !a.no_smoothing;
  fopts.stop = &g_stop;

  std::vector<standin::FileReport> reports;
  standin::Status first_error;
  const bool many = jobs->size() > 1;
  standin::cli::Progress files_bar(!a.quiet && many, "files ");
  std::int64_t done = 0;
  for (const auto& job : *jobs) {
    if (g_stop.load()) {
      if (first_error.ok()) first_error = {ErrorCode::kInterrupted, "interrupted"};
      std::fprintf(stderr, "standin: error: interrupted; %s and the rest not processed\n",
                   job.input.string().c_str());
      break;
    }
    standin::cli::Progress frames_bar(!a.quiet && job.kind == standin::io::MediaKind::kVideo,
                                      job.input.filename().string());
    auto report = standin::ProcessFile(
        *anonymizer, job, fopts,
        [&](std::int64_t n, std::int64_t total) { frames_bar.Update(n, total); });
    frames_bar.Done();
    if (!report.ok()) {
      files_bar.Done();
      std::fprintf(stderr, "standin: error: %s\n", report.status().message().c_str());
      if (first_error.ok()) first_error = report.status();
    } else {
      reports.push_back(std::move(report).value());
    }
    files_bar.Update(++done, static_cast<std::int64_t>(jobs->size()));
  }
  files_bar.Done();
  if (!a.quiet && mode == standin::FileMode::kAnonymize && !reports.empty()) {
    std::fprintf(stderr, "standin: %s\n", standin::SummarizeFaces(reports).c_str());
  }
  if (!a.json.empty()) {
    const std::string text = standin::ReportsToJson(reports, a.opts);
    if (auto s = standin::io::WriteFileAtomic(a.json,
                                              std::vector<std::uint8_t>(text.begin(), text.end()));
        !s.ok()) {
      return Fail(s);
    }
  }
  if (mode == standin::FileMode::kDetectOnly && a.json.empty()) {
    std::fputs(standin::ReportsToJson(reports, a.opts).c_str(), stdout);
    std::fputs("\n", stdout);
  }
  return ExitCode(first_error.code());
}

struct EvalArgs {
  std::string methods = "generate,generate-unguarded,blur,pixelate,solid";
  std::string out = "standin-eval";
  std::string data;
  std::string shared = "../shared/data";
  int max_faces = 0;
  int max_people = 0;
  int max_references = 0;
  std::uint64_t seed = 1;
  int threads = 0;
  bool quiet = false;
  bool no_charts = false;
  bool stranger_control = false;
};

// The chart renderer: installed next to the binary, or the source tree's copy in a build tree.
fs::path ChartScript() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec && fs::exists(self.parent_path() / "standin-eval-charts")) {
    return self.parent_path() / "standin-eval-charts";
  }
  const fs::path source = fs::path(STANDIN_SOURCE_DIR) / "tools/eval/charts.py";
  return fs::exists(source) ? source : fs::path();
}

int RunEval(const EvalArgs& e) {
  standin::eval::EvalOptions o;
  o.methods.clear();
  for (std::size_t start = 0; start <= e.methods.size();) {
    const std::size_t comma = std::min(e.methods.find(',', start), e.methods.size());
    const std::string m = e.methods.substr(start, comma - start);
    if (!m.empty()) {
      if (auto k = standin::eval::MethodVariant(m, {}); !k.ok()) return Fail(k.status());
      o.methods.push_back(m);
    }
    start = comma + 1;
  }
  o.shared_data = e.shared;
  if (!e.data.empty()) {
    if (!fs::is_directory(e.data)) {
      return Fail({ErrorCode::kNotFound, fmt::format("{}: no such folder", e.data)});
    }
    o.user_data = e.data;
  }
  o.max_faces = e.max_faces;
  o.max_people = e.max_people;
  o.stranger_control = e.stranger_control;
  o.max_references = e.max_references;
  o.seed = e.seed;
  o.anonymizer.detector.threads = e.threads;
  o.anonymizer.generator.guard.workers = e.threads;
  std::optional<standin::cli::Progress> bar;
  std::string section;
  if (!e.quiet) {
    o.progress = [&](const std::string& what, int done, int total) {
      if (what != section) {
        bar.reset();
        bar.emplace(true, what);
        section = what;
      }
      bar->Update(done, total);
    };
  }
  auto report = standin::eval::RunEvaluation(o);
  bar.reset();
  if (!report.ok()) return Fail(report.status());
  auto charts =
      standin::eval::WriteEvaluation(*report, e.out, e.no_charts ? fs::path() : ChartScript());
  if (!charts.ok()) return Fail(charts.status());
  if (!charts->empty() && !e.no_charts) {
    std::fprintf(stderr, "standin: warning: %s\n", charts->c_str());
  }
  if (!e.quiet) {
    std::fprintf(stderr,
                 "standin: evaluation written to %s (report.md, eval.json, montage.png%s)\n",
                 e.out.c_str(), charts->empty() ? ", charts/" : "");
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // A write past a file size limit fails with EFBIG (reported as a full disk) instead of
  // killing the process; ffmpeg children inherit this.
  std::signal(SIGXFSZ, SIG_IGN);
  // Video frames are multi-megabyte buffers allocated and freed at frame rate: keep them in the
  // heap instead of mapping and faulting in fresh pages for every frame.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  CLI::App app{
      "standin: anonymize every face in photos and videos.\n"
      "Images (jpg png webp bmp tiff), folders (recursive) and videos (mp4 mov mkv avi webm)."};
  app.footer(kExitCodes);
  app.set_version_flag("--version", "standin 0.1.0");
  app.require_subcommand(0, 1);
  app.allow_extras(false);

  Args a;
  app.add_option("inputs", a.inputs,
                 "Images, folders or videos; or one stream URL (rtsp://, http://, srt://, ...) or "
                 "camera (/dev/video0) with -o FILE.mp4: Ctrl-C ends it and writes the output")
      ->required(false);
  app.add_option("-o,--output", a.output,
                 "Output file (one input) or folder; default: <stem>_anonymized.<ext> next to "
                 "each input, <folder>_anonymized for folders");
  app.add_option("-m,--method", a.method,
                 "What replaces each face: generate (a generated face of nobody, painted in the "
                 "face's pose and light from its surroundings by standin's own 64 px generator, "
                 "each checked by the identity guard; see models/generator), blur, pixelate or "
                 "solid")
      ->check(CLI::IsMember({"blur", "pixelate", "solid", "generate"}))
      ->capture_default_str();
  app.add_option("--seed", a.seed,
                 "Seed for generated faces: the same seed gives the same stand-ins (default: a new "
                 "random seed each run)");
  AddIdentityGuardOptions(app, a);
  app.add_flag("--boxes", a.boxes, "Cover rectangles instead of soft-edged ellipses");
  app.add_option("--mask-scale", a.opts.method.mask_scale,
                 "Size of the covered region relative to the face")
      ->check(CLI::Range(0.6f, 4.f))
      ->capture_default_str();
  app.add_option("--blocks", a.opts.method.pixel_blocks,
                 "Pixelate: blocks across the face (fewer hide more; see docs/evaluation.md)")
      ->check(CLI::Range(2, 64))
      ->capture_default_str();
  app.add_option("--json", a.json,
                 "Also write the detections (boxes, scores, keypoints, landmarks) as JSON");
  app.add_flag("--draw", a.draw, "Write a debug overlay of the detections instead of anonymizing");
  app.add_flag("--keep-metadata", a.keep_metadata,
               "Keep EXIF/GPS/XMP and container metadata (stripped by default)");
  app.add_flag("--no-audio", a.no_audio, "Drop the audio track of videos");
  app.add_flag("--no-smoothing", a.no_smoothing,
               "Videos: do not smooth each face's landmarks over time (stand-ins may jitter)");
  app.add_option("--jpeg-quality", a.jpeg_quality, "JPEG/WebP output quality")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  AddDetectionOptions(app, a);

  Args d;
  auto* detect = app.add_subcommand(
      "detect", "Detect faces only and write them as JSON (stdout without --json)");
  detect->add_option("inputs", d.inputs, "Images, folders or videos")->required();
  detect->add_option("--json", d.json, "Where to write the JSON");
  AddDetectionOptions(*detect, d);

  EvalArgs ev;
  auto* eval = app.add_subcommand(
      "eval",
      "Measure what each method keeps and removes, side by side: detection retention, "
      "re-identification by two recognisers, pose, attributes, realism, memorisation and speed. "
      "Writes eval.json, report.md, montage.png and charts/");
  eval->add_option(
          "--methods", ev.methods,
          "Comma-separated methods to compare; generate variants: generate-unguarded "
          "(no identity guard), generate-attr (attribute-guided choice, --attribute-weight 1), "
          "generate-noattr (none: the default), generate-natural "
          "(faceness in the choice, weight 0.5), generate-fixed (one margin for all faces), "
          "generate-kN (N candidates), generate-mX (identity margin X), generate-iwX "
          "(identity weight X), generate-all (no "
          "early stop), generate-nosmooth, generate-nocolour, generate-nodetail, "
          "generate-refine (the 128 px refiner), "
          "generate-detailX (feature contrast gain X), generate-smoothX (crop low-pass sigma X), "
          "generate-kpsX (keypoints pulled a "
          "fraction X toward the average face), generate-zX (latent vectors scaled by X), "
          "generate-donorsN, generate-diwW (donor identity weight W), generate-strangerP, "
          "generate-fallbackMETHOD, "
          "generate-plusmobileface or generate-plusdlib (a further recogniser; -spP after it "
          "its stranger test, -smX its margin; both: generate-plusdlib-plusmobileface), "
          "combinable: generate-k2-attr")
      ->capture_default_str();
  eval->add_option("-o,--out", ev.out, "Output folder")->capture_default_str();
  eval->add_option("--data", ev.data,
                   "Your own folder of images for detection retention (labels from dlib imglab "
                   "XML files in it, else the reference detector's faces on the originals)");
  eval->add_option("--shared-data", ev.shared,
                   "The project's data folder (utkface-crop, att-faces)")
      ->capture_default_str();
  eval->add_option("--max-faces", ev.max_faces, "Use at most N held-out faces (0: all)")
      ->check(CLI::NonNegativeNumber);
  eval->add_option("--max-people", ev.max_people, "Use at most N att-faces people (0: all)")
      ->check(CLI::NonNegativeNumber);
  eval->add_flag(
      "--stranger-control", ev.stranger_control,
      "Add a re-identification row where each att-faces face is replaced by another "
      "person's real face, blended as a stand-in is: what the kept surroundings give away");
  eval->add_option("--max-references", ev.max_references,
                   "Compare generated faces with at most N training images (0: all)")
      ->check(CLI::NonNegativeNumber);
  eval->add_option("--seed", ev.seed, "Seed of the generated faces")->capture_default_str();
  eval->add_option("--threads", ev.threads, "Inference threads (0: all cores)")
      ->check(CLI::Range(0, 256));
  eval->add_flag("--no-charts", ev.no_charts, "Do not render charts/ (needs python3-matplotlib)");
  eval->add_flag("-q,--quiet", ev.quiet, "No progress bar");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  if (detect->parsed()) return Run(d, standin::FileMode::kDetectOnly);
  if (eval->parsed()) return RunEval(ev);
  if (a.inputs.empty()) {
    std::fputs("standin: error: no input given (see standin --help)\n", stderr);
    return 2;
  }
  // The margin is on the recogniser's own scale: dlib's ResNet puts strangers far higher than
  // arcface does (1% false accepts on the AT&T faces: 0.961 vs 0.315, docs/eval.json).
  if (app.count("--identity-margin") == 0) {
    a.opts.generator.guard.margin = *standin::RecogniserMargin(a.opts.generator.guard.recogniser);
  }
  standin::IdentityGuardOptions& g = a.opts.generator.guard;
  if (a.strict_guard) {  // the preset, then what was given explicitly
    const standin::IdentityGuardOptions strict = standin::StrictIdentityGuard(g);
    g.second = strict.second;
    if (app.count("--donors") == 0) g.donors = strict.donors;
    if (app.count("--donor-identity-weight") == 0) {
      g.donor_identity_weight = strict.donor_identity_weight;
    }
  }
  if (auto second = SecondJudges(a, g.second); second.ok()) {
    g.second = std::move(second).value();
  } else {
    return Fail(second.status());
  }
  // The first recogniser's stranger test and relative margin are arcface's (measured with it;
  // another recogniser judges with its own bank as the second): asked for with another first
  // recogniser it is an error; by default it is just not used.
  if (a.opts.generator.guard.recogniser != "arcface" && app.count("--stranger-percentile") > 0 &&
      a.opts.generator.guard.stranger_percentile > 0) {
    return Fail({standin::ErrorCode::kInvalidArgument,
                 "--stranger-percentile needs the arcface recogniser (another can judge second, "
                 "with its own stranger test: --second-recogniser)"});
  }
  return Run(a, a.draw ? standin::FileMode::kDraw : standin::FileMode::kAnonymize);
}
