// The `standin eval` runner: every method on the same faces, every figure from the same run.
#include "standin/evaluation.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <set>

#include "standin/analysis.hpp"
#include "standin/io.hpp"

namespace standin::eval {
namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr float kMatchIoU = 0.4f;   // detection match, as in the detector comparison
constexpr float kOperating = 0.5f;  // reference detector's operating threshold
// A face the reference detector found in the original is found again in the output when it
// detects a face there overlapping its own original box this much (same detector, same box
// convention; PASCAL's 0.5).
constexpr float kFoundAgainIoU = 0.5f;
constexpr int kMontageFaces = 8;
constexpr int kMontageCell = 96;

using Clock = std::chrono::steady_clock;
double MsSince(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double Mean(const std::vector<double>& v) {
  if (v.empty()) return kNaN;
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

std::size_t Largest(const std::vector<Face>& faces) {
  std::size_t best = 0;
  for (std::size_t i = 1; i < faces.size(); ++i) {
    if (faces[i].box.area() > faces[best].box.area()) best = i;
  }
  return best;
}

// The reference detector's best score for a face overlapping `box` (0 if none).
float ScoreAt(const std::vector<Face>& dets, const cv::Rect2f& box, float min_iou = kMatchIoU) {
  float best = 0.f;
  for (const auto& d : dets) {
    if (IoU(d.box, box) >= min_iou) best = std::max(best, d.score);
  }
  return best;
}

// The reference detector's own box for `box`: its best detection at the operating threshold
// overlapping it; empty when it finds none.
cv::Rect2f ReferenceBoxAt(const std::vector<Face>& dets, const cv::Rect2f& box) {
  cv::Rect2f best;
  float best_score = 0.f;
  for (const auto& d : dets) {
    if (IoU(d.box, box) >= kMatchIoU && d.score >= kOperating && d.score > best_score) {
      best = d.box;
      best_score = d.score;
    }
  }
  return best;
}

cv::Mat1f Stack(const std::vector<cv::Mat1f>& rows) {
  cv::Mat1f m;
  if (!rows.empty()) cv::vconcat(rows, m);
  return m;
}

cv::Mat FaceCell(const cv::Mat& bgr, const cv::Rect2f& box) {
  const float side = 1.5f * std::max(box.width, box.height);
  const cv::Point2f c(box.x + box.width / 2, box.y + box.height / 2);
  const cv::Rect r(cvRound(c.x - side / 2), cvRound(c.y - side / 2), cvRound(side), cvRound(side));
  cv::Mat padded;
  const int pad = cvRound(side);
  cv::copyMakeBorder(bgr, padded, pad, pad, pad, pad, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  cv::Mat cell;
  cv::resize(padded(r + cv::Point(pad, pad)), cell, {kMontageCell, kMontageCell}, 0, 0,
             cv::INTER_AREA);
  return cell;
}

std::vector<fs::path> ImagesUnder(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file() && io::KindOf(it->path()) == io::MediaKind::kImage) {
      out.push_back(it->path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The number after `prefix` in a variant ("k4", "m0.2", "iw0"), or nullopt when `part` is not
// `prefix` followed by digits (and, with `decimal`, dots).
std::optional<double> NumberAfter(const std::string& part, const std::string& prefix,
                                  bool decimal) {
  if (part.size() <= prefix.size() || !part.starts_with(prefix)) return std::nullopt;
  const char* digits = decimal ? "0123456789." : "0123456789";
  if (part.find_first_not_of(digits, prefix.size()) != std::string::npos) return std::nullopt;
  return std::strtod(part.c_str() + prefix.size(), nullptr);
}

// The guard's fallback named in a variant ("fallbackblur"), or nullopt when `part` is not
// "fallback" followed by blur, pixelate or solid.
std::optional<MethodKind> FallbackIn(const std::string& part) {
  const std::string prefix = "fallback";
  if (!part.starts_with(prefix)) return std::nullopt;
  auto kind = ParseMethod(part.substr(prefix.size()));
  if (!kind.ok() || *kind == MethodKind::kGenerate) return std::nullopt;
  return *kind;
}

}  // namespace

Expected<AnonymizerOptions> MethodVariant(const std::string& name, AnonymizerOptions opts) {
  std::vector<std::string> parts;
  for (std::size_t start = 0; start <= name.size();) {
    const std::size_t dash = std::min(name.find('-', start), name.size());
    parts.push_back(name.substr(start, dash - start));
    start = dash + 1;
  }
  auto kind = ParseMethod(parts[0]);
  if (!kind.ok()) return kind.status();
  opts.method.kind = *kind;
  IdentityGuardOptions& g = opts.generator.guard;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (*kind == MethodKind::kPixelate) {
      if (auto b = NumberAfter(p, "b", false)) {
        opts.method.pixel_blocks = static_cast<int>(*b);  // e.g. pixelate-b4
        continue;
      }
      return Status(ErrorCode::kInvalidArgument,
                    fmt::format("unknown pixelate variant '{}' in '{}' (bBLOCKS)", p, name));
    }
    if (*kind != MethodKind::kGenerate) {
      return Status(ErrorCode::kInvalidArgument,
                    "only generate and pixelate have variants: " + name);
    }
    if (p == "unguarded") {
      g.enabled = false;
    } else if (p == "strict") {
      g = StrictIdentityGuard(g);  // later variants change it: generate-strict-donors64
    } else if (p == "noattr") {
      g.attribute_weight = 0;
    } else if (p == "attr") {
      g.attribute_weight = 1;  // the attribute-guided choice (the default until session 21)
    } else if (p == "fixed") {
      g.relative_margin = false;
    } else if (p == "natural") {
      g.natural_weight = 0.5f;
    } else if (p == "all") {
      g.good_enough = 0;
    } else if (p == "nosmooth") {
      opts.generator.smooth_sigma = 0;
    } else if (p == "nocolour") {
      opts.generator.match_colour = false;
    } else if (p == "harmonic") {
      opts.generator.harmonic_colour = true;
    } else if (p == "nodetail") {
      opts.generator.detail_gain = 0;
    } else if (auto j = NumberAfter(p, "jaw", true)) {
      opts.generator.jaw_margin = static_cast<float>(*j);  // e.g. generate-jaw0.06
    } else if (p == "refine") {
      opts.generator.refine = true;
    } else if (auto d = NumberAfter(p, "detail", true)) {
      opts.generator.detail_gain = static_cast<float>(*d);  // e.g. generate-detail1.5
    } else if (auto sm = NumberAfter(p, "smooth", true)) {
      opts.generator.smooth_sigma = static_cast<float>(*sm);  // e.g. generate-smooth0.4
    } else if (auto ks = NumberAfter(p, "kps", true)) {
      opts.generator.keypoint_shrink = static_cast<float>(*ks);  // e.g. generate-kps0.5
    } else if (auto q = NumberAfter(p, "stranger", true)) {
      g.stranger_percentile = static_cast<float>(*q);  // e.g. generate-stranger50
    } else if (auto dn = NumberAfter(p, "donors", false)) {
      g.donors = static_cast<int>(*dn);  // e.g. generate-donors4
    } else if (auto dw = NumberAfter(p, "diw", true)) {
      g.donor_identity_weight = static_cast<float>(*dw);  // e.g. generate-strict-diw0
    } else if (auto z = NumberAfter(p, "z", true)) {
      opts.generator.latent_scale = static_cast<float>(*z);  // e.g. generate-z1.5
    } else if (auto k = NumberAfter(p, "k", false)) {
      g.candidates = static_cast<int>(*k);
    } else if (auto w = NumberAfter(p, "iw", true)) {
      g.identity_weight = static_cast<float>(*w);  // e.g. generate-iw0
    } else if (auto m = NumberAfter(p, "m", true)) {
      g.margin = static_cast<float>(*m);  // e.g. generate-m0.2
    } else if (auto fs = NumberAfter(p, "fbs", true)) {
      g.fallback_scale = static_cast<float>(*fs);  // e.g. generate-fbs2
    } else if (auto fb = FallbackIn(p)) {
      g.fallback = *fb;  // e.g. generate-fallbackblur
    } else if (auto sp = NumberAfter(p, "sp", true); sp && !g.second.empty()) {
      // e.g. generate-plusmobileface-sp70: the stranger test of the recogniser named just before
      g.second.back().stranger_percentile = static_cast<float>(*sp);
    } else if (auto sm2 = NumberAfter(p, "sm", true); sm2 && !g.second.empty()) {
      g.second.back().margin = static_cast<float>(*sm2);  // e.g. generate-plusmobileface-sm0.5
    } else if (p.starts_with("plus") && p.size() > 4) {
      // e.g. generate-plusmobileface, generate-plusdlib-sp75-plusmobileface (both; the receipt
      // lists them in that order); a name with a "-" (which separates variants) by its first
      // part: plusdlib.
      SecondJudge& judge = g.second.emplace_back(SecondJudge{.recogniser = p.substr(4)});
      for (const std::string& n : IdentityEmbedderNames()) {
        if (n.starts_with(judge.recogniser + "-")) judge.recogniser = n;
      }
    } else {
      return Status(
          ErrorCode::kInvalidArgument,
          fmt::format("unknown generate variant '{}' in '{}' (unguarded, strict, attr, noattr, "
                      "natural, fixed, kN, mMARGIN, iwWEIGHT, all, nosmooth, nocolour, harmonic, "
                      "nodetail, "
                      "refine, jawMARGIN, detailGAIN, smoothSIGMA, kpsSHRINK, strangerPERCENTILE, "
                      "donorsN, diwWEIGHT, zSCALE, fallbackMETHOD, fbsSCALE, plusRECOGNISER, then "
                      "spP and smM)",
                      p, name));
    }
  }
  return opts;
}

namespace {

// Everything measured on one version (original or a method's output) of a set of faces.
struct FaceMeasures {
  std::map<std::string, std::vector<cv::Mat1f>> embeddings;
  std::vector<FaceAttributes> attributes;
  std::vector<FaceAttributes> judged;  // by the independent judge (AgeGenderJudge)
  std::vector<std::vector<cv::Point2f>> landmarks;
  std::vector<float> detector_scores;
  // Outputs only: per face, 1 if the reference detector finds it again, 0 if not, -1 if it did
  // not find it in the original either.
  std::vector<int> found_again;
};

// The evaluation paints a stand-in on every face it finds, whatever its size or score, as it
// measures the stand-ins: att-faces are enlarged 3x only so that the detector finds them, which
// scales their stand-ins up about 5x, at or over GeneratorOptions::max_upscale, though each is a
// 92 x 112 photo. No held-out face reaches that limit (2.4-4.7x); 2 of 471 score under
// paint_above (docs/generator.md).
EvalOptions EveryFacePainted(EvalOptions o) {
  o.anonymizer.generator.max_upscale = 0.f;
  o.anonymizer.generator.paint_above = 0.f;
  return o;
}

class Runner {
 public:
  explicit Runner(const EvalOptions& o) : o_(EveryFacePainted(o)) {}

  Expected<EvalReport> Run() {
    const auto t0 = Clock::now();
    if (Status s = Setup(); !s.ok()) return s;
    report_.far = o_.far;
    report_.reference_detector = o_.reference_detector;
    report_.rows.resize(methods_.size() + 1);
    report_.rows[0].method = "original";
    for (std::size_t m = 0; m < methods_.size(); ++m) report_.rows[m + 1].method = methods_[m];
    for (auto& r : report_.rows) Clear(r);

    if (Status s = Identity(); !s.ok()) return s;
    if (Status s = Detection(); !s.ok()) return s;
    if (Status s = HeldOut(); !s.ok()) return s;
    SummariseReceipts();
    report_.seconds = MsSince(t0) / 1000.0;
    return std::move(report_);
  }

 private:
  // One att-faces photo, the faces standin finds in it, and its person's index.
  struct AttFace {
    cv::Mat image;
    std::vector<Face> faces;
    int person;
  };

  static void Clear(MethodResult& r) {
    r.ap = r.recall = r.ap_retention = r.recall_retention = kNaN;
    r.landmark_nme = r.age_mae = r.gender_agreement = r.expression_agreement = kNaN;
    r.judged_age_mae = r.judged_gender_agreement = kNaN;
    r.yaw_error = r.pitch_error = r.roll_error = kNaN;
    r.detector_confidence = r.detector_found = kNaN;
    r.memorisation_max = r.memorisation_median = r.memorisation_share =
        r.memorisation_share_domain = kNaN;
    r.ms_per_face = r.ms_per_image = r.painted_share = kNaN;
  }

  void Progress(const std::string& what, int done, int total) const {
    if (o_.progress) o_.progress(what, done, total);
  }

  Status Setup() {
    auto store = ModelStore::Open(o_.anonymizer.models);
    if (!store.ok()) return store.status();
    store_ = std::move(store).value();
    AnonymizerOptions finder_opts = o_.anonymizer;
    finder_opts.landmarks = true;
    finder_opts.method.kind = MethodKind::kBlur;  // it only finds faces: no generator to load
    auto finder = Anonymizer::Create(finder_opts);
    if (!finder.ok()) return finder.status();
    finder_.emplace(std::move(finder).value());
    guard_.resize(o_.methods.size());
    for (const auto& name : o_.methods) {
      auto opts = MethodVariant(name, finder_opts);
      if (!opts.ok()) return opts.status();
      opts->generator.seed = o_.seed;
      auto a = Anonymizer::Create(*opts);
      if (!a.ok()) return a.status();
      methods_.push_back(name);
      anonymizers_.push_back(std::move(a).value());
    }
    DetectorOptions ref;
    ref.model = o_.reference_detector;
    ref.threshold = 0.2f;  // low, so AP sees the whole precision-recall curve
    ref.threads = o_.anonymizer.detector.threads;
    auto det = MakeDetector(ref, store_);
    if (!det.ok()) return det.status();
    reference_ = std::move(det).value();
    for (const auto& name : IdentityEmbedderNames()) {
      auto e = MakeIdentityEmbedder(name, store_);
      if (!e.ok()) return e.status();
      recognisers_.push_back(std::move(e).value());
      report_.recognisers.push_back(name);
    }
    auto attrs = AttributeEstimator::Create(store_);
    if (!attrs.ok()) return attrs.status();
    attributes_ = std::move(attrs).value();
    auto judge = AgeGenderJudge::Create(store_);
    if (!judge.ok()) return judge.status();
    judge_ = std::move(judge).value();
    auto lm = LandmarkNet::Create(store_);
    if (!lm.ok()) return lm.status();
    landmarks_ = std::move(lm).value();
    return Status::Ok();
  }

  // Adds the identity guard's receipts of `faces` (after method m) to its summary.
  void CollectReceipts(std::size_t m, const std::vector<Face>& faces) {
    for (const auto& f : faces) {
      if (!f.receipt) continue;
      GuardTally& t = guard_[m];
      ++t.faces;
      t.margins.push_back(f.receipt->margin);
      t.drawn += f.receipt->drawn;
      t.rejected += f.receipt->rejected;
      if (f.receipt->donor >= 0) ++t.donors;
      if (f.receipt->passed) {
        ++t.passed;
        t.similarity.push_back(f.receipt->similarity);
      }
    }
  }

  void SummariseReceipts() {
    for (std::size_t m = 0; m < guard_.size(); ++m) {
      const GuardTally& t = guard_[m];
      MethodResult& r = report_.rows[m + 1];
      r.guard_faces = t.faces;
      if (t.faces == 0) continue;
      r.guard_margin = Mean(t.margins);
      r.guard_margin_max = *std::max_element(t.margins.begin(), t.margins.end());
      r.guard_passed = static_cast<double>(t.passed) / t.faces;
      r.guard_donors = static_cast<double>(t.donors) / t.faces;
      r.guard_mean_similarity = Mean(t.similarity);
      r.guard_max_similarity =
          t.similarity.empty() ? kNaN : *std::max_element(t.similarity.begin(), t.similarity.end());
      r.guard_candidates = static_cast<double>(t.drawn) / t.faces;
      r.guard_rejected = t.drawn ? static_cast<double>(t.rejected) / t.drawn : kNaN;
    }
  }

  // Standin's own faces in `img` (detection and landmarks), as every method would find them.
  Expected<std::vector<Face>> Find(const cv::Mat& img) {
    return finder_->Detect(img);  // landmarks included
  }

  // --- Re-identification on att-faces ------------------------------------------------------
  Status Identity() {
    const fs::path att = o_.shared_data / "att-faces";
    if (!fs::is_directory(att)) {
      report_.skipped.push_back(fmt::format("re-identification: {} not found", att.string()));
      return Status::Ok();
    }
    std::vector<fs::path> people;
    for (const auto& e : fs::directory_iterator(att)) {
      if (e.is_directory()) people.push_back(e.path());
    }
    std::sort(people.begin(), people.end(), [](const fs::path& a, const fs::path& b) {
      return std::atoi(a.filename().c_str() + 1) < std::atoi(b.filename().c_str() + 1);
    });
    if (o_.max_people > 0 && static_cast<int>(people.size()) > o_.max_people) {
      people.resize(static_cast<std::size_t>(o_.max_people));
    }
    std::vector<AttFace> items;
    for (std::size_t p = 0; p < people.size(); ++p) {
      std::vector<fs::path> files;
      for (const auto& e : fs::directory_iterator(people[p])) {
        if (e.path().extension() == ".pgm") files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        auto bgr = LoadAttFace(f);
        if (!bgr.ok()) return bgr.status();
        items.push_back({std::move(bgr).value(), {}, static_cast<int>(p)});
      }
    }
    const int n = static_cast<int>(items.size());
    const int total = n * static_cast<int>(1 + methods_.size());
    // Where the face is: standin's detection; for images where it finds none, the mean keypoints
    // (att-faces are centred), and that image stays unchanged in every method's output.
    std::vector<std::array<cv::Point2f, 5>> kps(items.size());
    std::array<cv::Point2f, 5> mean{};
    int found = 0;
    for (int i = 0; i < n; ++i) {
      auto faces = Find(items[static_cast<std::size_t>(i)].image);
      if (!faces.ok()) return faces.status();
      if (!faces->empty()) {
        const Face& f = (*faces)[Largest(*faces)];
        kps[static_cast<std::size_t>(i)] = f.kps5;
        for (int k = 0; k < 5; ++k)
          mean[static_cast<std::size_t>(k)] += f.kps5[static_cast<std::size_t>(k)];
        ++found;
        items[static_cast<std::size_t>(i)].faces = std::move(faces).value();
      }
      Progress("identity", i + 1, total);
    }
    if (found == 0) return {ErrorCode::kProcessingFailed, "att-faces: no face found at all"};
    for (auto& p : mean) p *= 1.f / static_cast<float>(found);
    for (int i = 0; i < n; ++i) {
      if (items[static_cast<std::size_t>(i)].faces.empty()) kps[static_cast<std::size_t>(i)] = mean;
    }
    report_.identity_images = n;
    report_.identity_people = static_cast<int>(people.size());
    report_.identity_missed = n - found;

    std::vector<int> person;
    for (const auto& it : items) person.push_back(it.person);
    std::map<std::string, cv::Mat1f> clean;
    for (const auto& rec : recognisers_) {
      std::vector<cv::Mat1f> rows;
      for (int i = 0; i < n; ++i) {
        auto e =
            rec->Embed(items[static_cast<std::size_t>(i)].image, kps[static_cast<std::size_t>(i)]);
        if (!e.ok()) return e.status();
        rows.push_back(*e);
      }
      clean[rec->name()] = Stack(rows);
      const auto s = ScoreReidentification(clean[rec->name()], clean[rec->name()], person, o_.far);
      report_.rows[0].reid[rec->name()] = s;
      report_.verification_threshold[rec->name()] = s.threshold;
    }
    for (std::size_t m = 0; m < methods_.size(); ++m) {
      std::map<std::string, std::vector<cv::Mat1f>> rows;
      // Probes whose embedded (largest) face got a stand-in, not the guard's fallback.
      std::vector<bool> painted(static_cast<std::size_t>(n), false);
      for (int i = 0; i < n; ++i) {
        auto& item = items[static_cast<std::size_t>(i)];
        std::vector<Face> faces = item.faces;
        auto out = anonymizers_[m].Apply(item.image, faces);
        if (!out.ok()) return out.status();
        CollectReceipts(m, faces);
        painted[static_cast<std::size_t>(i)] =
            !faces.empty() && faces[Largest(faces)].method == "generate";
        if (Status st = EmbedInto(rows, *out, kps[static_cast<std::size_t>(i)]); !st.ok()) {
          return st;
        }
        Progress("identity", n * static_cast<int>(m + 1) + i + 1, total);
      }
      const bool paints = anonymizers_[m].options().method.kind == MethodKind::kGenerate;
      ScoreInto(report_.rows[m + 1], rows, clean, person, {},
                paints ? painted : std::vector<bool>{});
    }
    if (o_.stranger_control) return StrangerControl(items, person, kps, clean);
    return Status::Ok();
  }

  // The control row: each att-faces face replaced by a real stranger's face (the same photo
  // number of the next person with a face), aligned to the generator's template and painted
  // through exactly the generator's post-processing, colour match and blend. What it is
  // re-identified at is what the kept surroundings alone give away, with a perfect stand-in:
  // a stand-in is a face of nobody, so the painted-in person's photos are hidden from the probe's
  // rank-1 gallery (they would win it, and a stand-in has no such photos to win it).
  Status StrangerControl(const std::vector<AttFace>& items, const std::vector<int>& person,
                         const std::vector<std::array<cv::Point2f, 5>>& kps,
                         const std::map<std::string, cv::Mat1f>& clean) {
    auto gen = FaceGenerator::Create(store_, o_.anonymizer.generator);
    if (!gen.ok()) return gen.status();
    const int n = static_cast<int>(items.size());
    std::map<std::string, std::vector<cv::Mat1f>> rows;
    // Per probe, the person whose face was painted in: left out of that probe's rank-1 gallery.
    std::vector<int> hidden(static_cast<std::size_t>(n), -1);
    std::vector<bool> painted(static_cast<std::size_t>(n), false);
    for (int i = 0; i < n; ++i) {
      const auto& item = items[static_cast<std::size_t>(i)];
      cv::Mat out = item.image.clone();
      if (!item.faces.empty()) {
        const Face& face = item.faces[Largest(item.faces)];
        // The donor: the first later photo (cyclically, 10 photos per person on) of somebody else.
        std::optional<cv::Mat> donor;
        for (int step = 0; step < n && !donor; ++step) {
          const int di = (i + 10 + step) % n;
          const auto& d = items[static_cast<std::size_t>(di)];
          if (d.person == item.person || d.faces.empty()) continue;
          auto aligned = (*gen)->AlignedFace(d.image, d.faces[Largest(d.faces)]);
          if (!aligned.ok()) return aligned.status();
          donor = std::move(aligned).value();
          if (donor) hidden[static_cast<std::size_t>(i)] = person[static_cast<std::size_t>(di)];
        }
        auto prepared = (*gen)->Prepare(item.image, face);
        if (!prepared.ok()) return prepared.status();
        if (donor && prepared->has_value()) {
          if (Status st = (*gen)->PaintFace(out, {0, 0}, **prepared, *donor); !st.ok()) return st;
          painted[static_cast<std::size_t>(i)] = true;
        }
      }
      if (Status st = EmbedInto(rows, out, kps[static_cast<std::size_t>(i)]); !st.ok()) return st;
    }
    MethodResult row;
    Clear(row);
    row.method = "stranger-control";
    ScoreInto(row, rows, clean, person, hidden, painted);
    report_.rows.push_back(std::move(row));
    return Status::Ok();
  }

  // Appends each recogniser's embedding of `image` (aligned by `kps`) to its rows.
  Status EmbedInto(std::map<std::string, std::vector<cv::Mat1f>>& rows, const cv::Mat& image,
                   const std::array<cv::Point2f, 5>& kps) const {
    for (const auto& rec : recognisers_) {
      auto e = rec->Embed(image, kps);
      if (!e.ok()) return e.status();
      rows[rec->name()].push_back(*e);
    }
    return Status::Ok();
  }

  // Each recogniser's re-identification of the probes in `rows` against the clean embeddings;
  // for methods that paint faces (`painted` not empty: per probe, whether its face was painted),
  // also the share painted and the rank-1 over those probes alone.
  void ScoreInto(MethodResult& row, const std::map<std::string, std::vector<cv::Mat1f>>& rows,
                 const std::map<std::string, cv::Mat1f>& clean, const std::vector<int>& person,
                 const std::vector<int>& hidden, const std::vector<bool>& painted) const {
    for (const auto& rec : recognisers_) {
      const ReidScores s = ScoreReidentification(clean.at(rec->name()), Stack(rows.at(rec->name())),
                                                 person, o_.far, hidden);
      if (!painted.empty()) row.reid_painted[rec->name()] = Rank1Among(s, person, painted);
      row.reid[rec->name()] = s;
    }
    if (!painted.empty()) {
      row.painted_share = static_cast<double>(std::count(painted.begin(), painted.end(), true)) /
                          static_cast<double>(painted.size());
    }
  }

  // --- Detection retention on labelled photos ----------------------------------------------
  Status Detection() {
    std::vector<LabelledImage> truth;
    bool labels_from_reference = false;
    if (!o_.user_data.empty()) {
      report_.detection_data = o_.user_data.string();
      std::vector<fs::path> xmls;
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(o_.user_data, ec)) {
        if (e.path().extension() == ".xml") xmls.push_back(e.path());
      }
      std::sort(xmls.begin(), xmls.end());
      for (const auto& x : xmls) {
        auto d = LoadDlibDataset(x);
        if (!d.ok()) return d.status();
        truth.insert(truth.end(), d->begin(), d->end());
      }
      if (truth.empty()) {
        labels_from_reference = true;
        for (const auto& f : ImagesUnder(o_.user_data)) truth.push_back({f, {}, {}});
        if (truth.empty()) {
          return {ErrorCode::kNoInputs, o_.user_data.string() + ": no images to evaluate on"};
        }
      }
      report_.detection_labels =
          labels_from_reference
              ? fmt::format(
                    "none given: the reference detector's faces (score >= {}) on the "
                    "originals",
                    kOperating)
              : "dlib imglab XML in the folder";
    } else {
      report_.detection_data = o_.dlib_faces.string();
      report_.detection_labels = "hand-labelled boxes (training.xml + testing.xml)";
      for (const char* x : {"training.xml", "testing.xml"}) {
        auto d = LoadDlibDataset(o_.dlib_faces / x);
        if (!d.ok()) {
          report_.skipped.push_back(
              fmt::format("detection retention: {} (install libdlib-dev or pass --data)",
                          d.status().message()));
          return Status::Ok();
        }
        truth.insert(truth.end(), d->begin(), d->end());
      }
    }
    const int n = static_cast<int>(truth.size());
    const int total = n * static_cast<int>(1 + methods_.size());
    std::vector<cv::Mat> images;
    std::vector<std::vector<Face>> found, reference;
    double detect_ms = 0;
    for (int i = 0; i < n; ++i) {
      auto img = io::ReadImage(truth[static_cast<std::size_t>(i)].file);
      if (!img.ok()) return img.status();
      const auto t0 = Clock::now();
      auto faces = Find(*img);
      detect_ms += MsSince(t0);
      if (!faces.ok()) return faces.status();
      auto ref = reference_->Detect(*img);
      if (!ref.ok()) return ref.status();
      if (labels_from_reference) {
        for (const auto& f : *ref) {
          if (f.score >= kOperating) truth[static_cast<std::size_t>(i)].boxes.push_back(f.box);
        }
      }
      images.push_back(std::move(img).value());
      found.push_back(std::move(faces).value());
      reference.push_back(std::move(ref).value());
      Progress("detection", i + 1, total);
    }
    report_.detection_images = n;
    for (const auto& t : truth) report_.detection_faces += static_cast<int>(t.boxes.size());
    report_.ms_detect_per_image = detect_ms / std::max(1, n);
    const auto base = ScoreDetections(truth, reference, kMatchIoU, kOperating);
    report_.rows[0].ap = base.average_precision;
    report_.rows[0].recall = base.recall;
    report_.rows[0].ap_retention = report_.rows[0].recall_retention = 1.0;
    for (std::size_t m = 0; m < methods_.size(); ++m) {
      std::vector<std::vector<Face>> dets;
      double ms = 0;
      for (int i = 0; i < n; ++i) {
        std::vector<Face> faces = found[static_cast<std::size_t>(i)];
        const auto t0 = Clock::now();
        auto out = anonymizers_[m].Apply(images[static_cast<std::size_t>(i)], faces);
        ms += MsSince(t0);
        if (!out.ok()) return out.status();
        auto ref = reference_->Detect(*out);
        if (!ref.ok()) return ref.status();
        dets.push_back(std::move(ref).value());
        Progress("detection", n * static_cast<int>(m + 1) + i + 1, total);
      }
      auto& row = report_.rows[m + 1];
      const auto s = ScoreDetections(truth, dets, kMatchIoU, kOperating);
      row.ap = s.average_precision;
      row.recall = s.recall;
      row.ap_retention =
          base.average_precision > 0 ? s.average_precision / base.average_precision : kNaN;
      row.recall_retention = base.recall > 0 ? s.recall / base.recall : kNaN;
      row.ms_per_image = ms / std::max(1, n);
    }
    return Status::Ok();
  }

  // Measures `face` in `img`; `reference` are the reference detector's faces in `img` (found
  // once per image, shared by all its faces).
  Status Measure(const cv::Mat& img, const std::vector<Face>& reference, const Face& face,
                 FaceMeasures& out) {
    for (const auto& rec : recognisers_) {
      auto e = rec->Embed(img, face.kps5);
      if (!e.ok()) return e.status();
      out.embeddings[rec->name()].push_back(*e);
    }
    auto a = attributes_->Estimate(img, face);
    if (!a.ok()) return a.status();
    out.attributes.push_back(*a);
    auto judged = judge_->Estimate(img, face);
    if (!judged.ok()) return judged.status();
    out.judged.push_back(*judged);
    auto l = landmarks_->Locate(img, face);
    if (!l.ok()) return l.status();
    out.landmarks.push_back(*l);
    out.detector_scores.push_back(ScoreAt(reference, face.box));
    return Status::Ok();
  }

  // The held-out stranger control for one face: `stranger` (the previous face, aligned) painted
  // into `img` at `face`, both versions embedded (only when painted), and `face` becomes the
  // next one's stranger.
  Status ControlFace(FaceGenerator& gen, const cv::Mat& img, const Face& face,
                     std::optional<cv::Mat>& stranger,
                     std::map<std::string, std::vector<cv::Mat1f>>& original,
                     std::map<std::string, std::vector<cv::Mat1f>>& painted) const {
    auto prepared = gen.Prepare(img, face);
    if (!prepared.ok()) return prepared.status();
    if (stranger && prepared->has_value() && !(*prepared)->roi.empty()) {
      cv::Mat out = img.clone();
      if (Status st = gen.PaintFace(out, {0, 0}, **prepared, *stranger); !st.ok()) return st;
      if (Status st = EmbedInto(original, img, face.kps5); !st.ok()) return st;
      if (Status st = EmbedInto(painted, out, face.kps5); !st.ok()) return st;
    }
    auto aligned = gen.AlignedFace(img, face);
    if (!aligned.ok()) return aligned.status();
    stranger = std::move(aligned).value();
    return Status::Ok();
  }

  // --- Held-out faces: pose, attributes, realism, memorisation, per-face speed -------------
  Status HeldOut() {
    // The user's own images (every face in them), else UTKFace's held-out split (the largest
    // face of each crop, with age and gender labels, and the training set for memorisation).
    const bool user = !o_.user_data.empty();
    const fs::path utk = o_.shared_data / "utkface-crop";
    std::vector<fs::path> files;
    std::set<std::string> heldout;
    if (user) {
      files = ImagesUnder(o_.user_data);
      report_.heldout_data = o_.user_data.string();
    } else {
      fs::path list = o_.heldout_list;
      if (list.empty()) {
        for (const fs::path& p : {fs::path(STANDIN_INSTALLED_DATA_DIR) / "utkface-val.txt",
                                  fs::path(STANDIN_SOURCE_DIR) / "training/split/val.txt"}) {
          if (fs::exists(p)) {
            list = p;
            break;
          }
        }
      }
      if (!fs::is_directory(utk) || list.empty() || !fs::exists(list)) {
        report_.skipped.push_back(fmt::format(
            "held-out faces (pose, attributes, realism, memorisation): {} or the split list not "
            "found (pass --data to measure on your own images)",
            utk.string()));
        return Status::Ok();
      }
      std::ifstream in(list);
      for (std::string line; std::getline(in, line);) {
        if (!line.empty()) {
          heldout.insert(line);
          files.push_back(utk / line);
        }
      }
      report_.heldout_data = "UTKFace validation split, never trained on";
    }
    if (o_.max_faces > 0 && static_cast<int>(files.size()) > o_.max_faces) {
      files.resize(static_cast<std::size_t>(o_.max_faces));
    }
    const int total = static_cast<int>(files.size());
    std::vector<FaceMeasures> measures(methods_.size() + 1);
    std::vector<UtkLabels> labels;
    std::vector<double> face_ms(methods_.size(), 0);
    int faces_done = 0;
    std::vector<std::vector<cv::Mat>> cells(methods_.size() + 1);
    // The stranger control in colour (UTKFace only): each held-out face replaced by the previous
    // one's real face, aligned and painted as a stand-in is, and held against its own original.
    std::unique_ptr<FaceGenerator> control_gen;
    if (o_.stranger_control && !user) {
      auto gen = FaceGenerator::Create(store_, o_.anonymizer.generator);
      if (!gen.ok()) return gen.status();
      control_gen = std::move(gen).value();
    }
    std::optional<cv::Mat> stranger;  // the previous held-out face, aligned
    std::map<std::string, std::vector<cv::Mat1f>> control_original, control_painted;
    std::array<cv::Point2f, 5> mean_kps{};
    for (int i = 0; i < total; ++i) {
      Progress("held-out faces", i, total);
      const fs::path& file = files[static_cast<std::size_t>(i)];
      auto img = io::ReadImage(file);
      if (!img.ok()) return img.status();
      auto faces = Find(*img);
      if (!faces.ok()) return faces.status();
      if (faces->empty()) {
        ++report_.heldout_missed;
        continue;
      }
      std::vector<Face> subjects = *faces;
      if (!user) subjects = {(*faces)[Largest(*faces)]};
      auto ref = reference_->Detect(*img);
      if (!ref.ok()) return ref.status();
      std::vector<cv::Rect2f> ref_boxes;
      for (const auto& subject : subjects) ref_boxes.push_back(ReferenceBoxAt(*ref, subject.box));
      for (const auto& subject : subjects) {
        for (int k = 0; k < 5; ++k) {
          mean_kps[static_cast<std::size_t>(k)] += subject.kps5[static_cast<std::size_t>(k)];
        }
        labels.push_back(user ? UtkLabels{} : ParseUtkName(file.filename().string()));
        if (Status s = Measure(*img, *ref, subject, measures[0]); !s.ok()) return s;
        if (static_cast<int>(cells[0].size()) < kMontageFaces) {
          cells[0].push_back(FaceCell(*img, subject.box));
        }
      }
      for (std::size_t m = 0; m < methods_.size(); ++m) {
        std::vector<Face> copy = *faces;
        const auto t0 = Clock::now();
        auto out = anonymizers_[m].Apply(*img, copy);
        face_ms[m] +=
            MsSince(t0) / static_cast<double>(copy.size()) * static_cast<double>(subjects.size());
        if (!out.ok()) return out.status();
        CollectReceipts(m, copy);
        auto out_ref = reference_->Detect(*out);
        if (!out_ref.ok()) return out_ref.status();
        for (std::size_t s_i = 0; s_i < subjects.size(); ++s_i) {
          const Face& subject = subjects[s_i];
          if (Status s = Measure(*out, *out_ref, subject, measures[m + 1]); !s.ok()) return s;
          const cv::Rect2f& was = ref_boxes[s_i];
          measures[m + 1].found_again.push_back(
              was.empty() ? -1 : (ScoreAt(*out_ref, was, kFoundAgainIoU) >= kOperating ? 1 : 0));
          if (static_cast<int>(cells[m + 1].size()) < kMontageFaces) {
            cells[m + 1].push_back(FaceCell(*out, subject.box));
          }
        }
      }
      if (control_gen) {
        if (Status s = ControlFace(*control_gen, *img, subjects.front(), stranger, control_original,
                                   control_painted);
            !s.ok()) {
          return s;
        }
      }
      faces_done += static_cast<int>(subjects.size());
    }
    Progress("held-out faces", total, total);
    report_.heldout_faces = faces_done;
    if (faces_done < 4) {
      report_.skipped.push_back("held-out faces: fewer than 4 faces found");
      return Status::Ok();
    }
    for (auto& p : mean_kps) p *= 1.f / static_cast<float>(faces_done);

    // The model's own error against the labels, for scale.
    auto vs_labels = [&](const std::vector<FaceAttributes>& read, double& age_mae,
                         double& gender_accuracy) {
      std::vector<double> age_err;
      int gender_right = 0, gender_n = 0;
      for (std::size_t k = 0; k < labels.size(); ++k) {
        if (labels[k].age >= 0) age_err.push_back(std::abs(read[k].age - labels[k].age));
        if (labels[k].gender >= 0) {
          ++gender_n;
          gender_right += (read[k].p_female > 0.5f) == (labels[k].gender == 1);
        }
      }
      age_mae = Mean(age_err);
      gender_accuracy = gender_n ? static_cast<double>(gender_right) / gender_n : kNaN;
    };
    vs_labels(measures[0].attributes, report_.original_age_mae_vs_label,
              report_.original_gender_accuracy_vs_label);
    vs_labels(measures[0].judged, report_.judge_age_mae_vs_label,
              report_.judge_gender_accuracy_vs_label);

    // Realism: even-indexed originals are the real reference, odd-indexed faces the sample, so no
    // face is compared with its own original.
    auto half = [](const std::vector<cv::Mat1f>& rows, int parity) {
      std::vector<cv::Mat1f> out;
      for (std::size_t k = static_cast<std::size_t>(parity); k < rows.size(); k += 2) {
        out.push_back(rows[k]);
      }
      return Stack(out);
    };
    cv::Mat1f train_refs;
    if (user) {
      report_.skipped.push_back(
          "memorisation: measured on UTKFace's held-out faces only (run without --data)");
    } else if (Status s = TrainingReferences(utk, heldout, mean_kps, train_refs); !s.ok()) {
      return s;
    }
    // Each recogniser's threshold among the held-out originals taken as strangers: for the
    // same-photo figures, and (the first recogniser's) for memorisation.
    std::map<std::string, double> stranger_threshold;
    for (const auto& rec : report_.recognisers) {
      stranger_threshold[rec] =
          ThresholdAmongStrangers(Stack(measures[0].embeddings.at(rec)), o_.far);
    }
    report_.memorisation_domain_threshold = stranger_threshold.at(report_.recognisers[0]);

    for (std::size_t r = 0; r < measures.size(); ++r) {
      auto& row = report_.rows[r];
      const auto& me = measures[r];
      const auto& orig = measures[0];
      std::vector<double> nme, age, gender, expr, conf, judged_age, judged_gender;
      std::array<std::vector<double>, 3> pose_error;
      int detected = 0;
      for (std::size_t k = 0; k < me.attributes.size(); ++k) {
        nme.push_back(NormalisedMeanError(orig.landmarks[k], me.landmarks[k]));
        // One camera for both versions of the face: centred on it, focal length 4 face widths.
        const cv::Rect2f around = cv::boundingRect(orig.landmarks[k]);
        const cv::Point2f centre(around.x + around.width / 2, around.y + around.height / 2);
        const auto was = HeadPose(orig.landmarks[k], centre, 4.0 * around.width);
        const auto now = HeadPose(me.landmarks[k], centre, 4.0 * around.width);
        if (was && now) {
          for (int a = 0; a < 3; ++a) {
            pose_error[static_cast<std::size_t>(a)].push_back(
                std::abs(std::remainder((*now)[a] - (*was)[a], 360.0)));
          }
        }
        age.push_back(std::abs(me.attributes[k].age - orig.attributes[k].age));
        gender.push_back((me.attributes[k].p_female > 0.5f) ==
                         (orig.attributes[k].p_female > 0.5f));
        expr.push_back(me.attributes[k].expression == orig.attributes[k].expression);
        judged_age.push_back(std::abs(me.judged[k].age - orig.judged[k].age));
        judged_gender.push_back((me.judged[k].p_female > 0.5f) == (orig.judged[k].p_female > 0.5f));
        conf.push_back(me.detector_scores[k]);
        detected += me.detector_scores[k] >= kOperating;
      }
      row.landmark_nme = Mean(nme);
      row.yaw_error = Mean(pose_error[0]);
      row.pitch_error = Mean(pose_error[1]);
      row.roll_error = Mean(pose_error[2]);
      row.age_mae = Mean(age);
      row.gender_agreement = Mean(gender);
      row.expression_agreement = Mean(expr);
      row.judged_age_mae = Mean(judged_age);
      row.judged_gender_agreement = Mean(judged_gender);
      row.detector_confidence = Mean(conf);
      if (r == 0) {
        // The original row: the share of faces the reference detector finds at all.
        row.detector_found = static_cast<double>(detected) / static_cast<double>(conf.size());
      } else {
        // A method's row: the share of those found again in its output by the same detector.
        int base = 0, again = 0;
        for (int f : me.found_again) {
          base += f >= 0;
          again += f == 1;
        }
        row.detector_found = base > 0 ? static_cast<double>(again) / base : kNaN;
      }
      for (const auto& rec : report_.recognisers) {
        row.frechet[rec] =
            FrechetDistance(half(orig.embeddings.at(rec), 0), half(me.embeddings.at(rec), 1));
        row.same_photo[rec] = ScoreSamePhoto(Stack(orig.embeddings.at(rec)),
                                             Stack(me.embeddings.at(rec)), stranger_threshold[rec]);
      }
      if (r > 0) row.ms_per_face = face_ms[r - 1] / faces_done;
      if (train_refs.rows > 0) {
        const auto sims =
            MaxSimilarity(Stack(me.embeddings.at(report_.recognisers[0])), train_refs);
        row.memorisation_max = *std::max_element(sims.begin(), sims.end());
        std::vector<float> sorted = sims;
        std::nth_element(sorted.begin(), sorted.begin() + static_cast<long>(sorted.size() / 2),
                         sorted.end());
        row.memorisation_median = sorted[sorted.size() / 2];
        auto share_above = [&](double t) {
          return static_cast<double>(
                     std::count_if(sims.begin(), sims.end(), [&](float v) { return v > t; })) /
                 static_cast<double>(sims.size());
        };
        row.memorisation_share_domain = share_above(report_.memorisation_domain_threshold);
        const auto thr = report_.verification_threshold.find(report_.recognisers[0]);
        if (thr != report_.verification_threshold.end()) {
          row.memorisation_share = share_above(thr->second);
        }
      }
    }
    if (control_gen) {
      MethodResult* row = nullptr;
      for (auto& r : report_.rows) {
        if (r.method == "stranger-control") row = &r;
      }
      if (row == nullptr) {
        report_.rows.emplace_back();
        row = &report_.rows.back();
        Clear(*row);
        row->method = "stranger-control";
      }
      for (const auto& rec : report_.recognisers) {
        if (control_original[rec].empty()) continue;
        row->same_photo[rec] = ScoreSamePhoto(Stack(control_original[rec]),
                                              Stack(control_painted[rec]), stranger_threshold[rec]);
      }
    }
    report_.montage = Montage(cells);
    return Status::Ok();
  }

  // Identity embeddings of the generator's training images (every UTKFace crop not held out).
  // The crops are aligned by the dataset, so one alignment (the held-out faces' mean keypoints)
  // serves them all.
  Status TrainingReferences(const fs::path& utk, const std::set<std::string>& heldout,
                            const std::array<cv::Point2f, 5>& kps, cv::Mat1f& out) {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(utk)) {
      if (heldout.count(e.path().filename().string()) == 0 &&
          io::KindOf(e.path()) == io::MediaKind::kImage) {
        files.push_back(e.path());
      }
    }
    std::sort(files.begin(), files.end());
    if (o_.max_references > 0 && static_cast<int>(files.size()) > o_.max_references) {
      // An even spread over the sorted names (sorted by age first).
      std::vector<fs::path> some;
      const double step = static_cast<double>(files.size()) / o_.max_references;
      for (int k = 0; k < o_.max_references; ++k) {
        some.push_back(files[static_cast<std::size_t>(k * step)]);
      }
      files.swap(some);
    }
    std::vector<cv::Mat1f> rows;
    const int n = static_cast<int>(files.size());
    for (int k = 0; k < n; ++k) {
      if (k % 64 == 0) Progress("memorisation references", k, n);
      cv::Mat img = cv::imread(files[static_cast<std::size_t>(k)].string(), cv::IMREAD_COLOR);
      if (img.empty()) continue;
      auto e = recognisers_[0]->Embed(img, kps);
      if (!e.ok()) return e.status();
      rows.push_back(*e);
    }
    Progress("memorisation references", n, n);
    out = Stack(rows);
    report_.memorisation_references = out.rows;
    return Status::Ok();
  }

  cv::Mat Montage(const std::vector<std::vector<cv::Mat>>& cells) const {
    // The label column fits the longest method name.
    int label = 110;
    for (const auto& row : report_.rows) {
      int base = 0;
      const cv::Size t = cv::getTextSize(row.method, cv::FONT_HERSHEY_SIMPLEX, 0.55, 1, &base);
      label = std::max(label, t.width + 12);
    }
    const int cols = static_cast<int>(cells[0].size());
    cv::Mat m(kMontageCell * static_cast<int>(cells.size()), label + kMontageCell * cols, CV_8UC3,
              cv::Scalar::all(255));
    for (std::size_t r = 0; r < cells.size(); ++r) {
      const int y = static_cast<int>(r) * kMontageCell;
      cv::putText(m, report_.rows[r].method, {6, y + kMontageCell / 2 + 6},
                  cv::FONT_HERSHEY_SIMPLEX, 0.55, cv::Scalar::all(0), 1, cv::LINE_AA);
      for (int c = 0; c < cols && c < static_cast<int>(cells[r].size()); ++c) {
        cells[r][static_cast<std::size_t>(c)].copyTo(
            m(cv::Rect(label + c * kMontageCell, y, kMontageCell, kMontageCell)));
      }
    }
    return m;
  }

  const EvalOptions o_;
  EvalReport report_;
  ModelStore store_;
  std::optional<Anonymizer> finder_;
  std::vector<std::string> methods_;
  struct GuardTally {
    int faces = 0, passed = 0, donors = 0, drawn = 0, rejected = 0;
    std::vector<double> margins, similarity;
  };
  std::vector<GuardTally> guard_;  // per method
  std::vector<Anonymizer> anonymizers_;
  std::unique_ptr<FaceDetector> reference_;
  std::vector<std::unique_ptr<IdentityEmbedder>> recognisers_;
  std::unique_ptr<AttributeEstimator> attributes_;
  std::unique_ptr<AgeGenderJudge> judge_;
  std::unique_ptr<LandmarkNet> landmarks_;
};

}  // namespace

Expected<EvalReport> RunEvaluation(const EvalOptions& options) {
  if (options.methods.empty()) return Status(ErrorCode::kInvalidArgument, "no methods to evaluate");
  if (!(options.far > 0 && options.far < 1)) {
    return Status(ErrorCode::kInvalidArgument, "the false-accept rate must be in (0, 1)");
  }
  return Runner(options).Run();
}

}  // namespace standin::eval
