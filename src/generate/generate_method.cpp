#include <algorithm>
#include <atomic>
#include <cmath>
#include <map>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <set>
#include <span>

#include "blend/blend.hpp"
#include "generate/donors.hpp"
#include "standin/analysis.hpp"
#include "standin/generator.hpp"
#include "standin/methods.hpp"

namespace standin {
namespace {

// Faces in the order they are painted: smallest first, so the largest face ends on top where
// faces overlap.
std::vector<size_t> PaintOrder(const std::vector<Face>& faces) {
  std::vector<size_t> order(faces.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return faces[a].box.area() < faces[b].box.area(); });
  return order;
}

std::uint64_t LatentKey(const Face& f, size_t index) {
  return f.track_id >= 0 ? static_cast<std::uint64_t>(f.track_id) : index;
}

class GenerateMethod final : public FaceMethod {
 public:
  explicit GenerateMethod(std::unique_ptr<FaceGenerator> g) : generator_(std::move(g)) {}

  Status Apply(cv::Mat& bgr, std::vector<Face>& faces) override {
    for (size_t i : PaintOrder(faces)) {
      if (Status s = generator_->Replace(bgr, faces[i], LatentKey(faces[i], i)); !s.ok()) return s;
    }
    return Status::Ok();
  }

 private:
  std::unique_ptr<FaceGenerator> generator_;
};

// Runs `job(w)` for w in [0, n) side by side, worker w on its own networks (each single-threaded
// inside, since OpenCV runs a nested parallel loop serially); one job runs alone, with the
// networks' own threads.
template <typename Job>
void OnWorkers(size_t n, const Job& job) {
  if (n == 1) {
    job(0);
    return;
  }
  cv::parallel_for_(
      cv::Range(0, static_cast<int>(n)),
      [&](const cv::Range& range) {
        for (int w = range.start; w < range.end; ++w) job(static_cast<size_t>(w));
      },
      static_cast<double>(n));
}

// Generation with the identity guard: for each face, candidates from different latents are
// judged by an identity network against the original face; those at or above the margin are
// rejected, the best of the others (attributes kept, far from the original) is painted, and when
// none passes the face gets the fallback method. Each face carries a receipt.
//
// A photo is judged in two passes. First, faces side by side, one face per worker at a time
// (GuardNetworks): each face's original is measured and its own candidates are judged in order on
// the untouched image, each painted into a copy of the region around the face, until one is good
// enough. Faces do not wait for one another, and a photo with one face runs its networks with all
// threads. Then, in paint order (smallest first), each face's winner is painted into the image;
// a face none of whose own candidates passed is first offered donors, judged as many at a time as
// there are workers on the image as painted so far (a donor is used once per image), in the order
// one worker would judge them, and the search stops where one worker would have stopped. The
// choices and receipts do not depend on the number of workers; only the time does.
class GuardedGenerateMethod final : public FaceMethod {
 public:
  GuardedGenerateMethod(std::vector<GuardNetworks> workers, const IdentityGuardOptions& o,
                        GuardReferences refs)
      : w_(std::move(workers)),
        o_(o),
        bank_(std::move(refs.bank)),
        second_banks_(std::move(refs.second_banks)),
        donors_(std::move(refs.donors)),
        donor_embeddings_(std::move(refs.donor_embeddings)),
        bank_ages_(std::move(refs.bank_ages)) {
    if (donors_) {
      donor_lab_ = DonorEdgeColours(*donors_, w_[0].generator->CropMask());
      donor_weight_ = w_[0].generator->DonorWeight();
    }
    // The recognisers in the order a candidate is put to them, cheapest first (-1: the first
    // recogniser, i: o_.second[i]): a candidate must pass all, so the first that rejects it
    // spares the dearer ones, and the verdict is the same in any order.
    const auto ms = [&](int j) {
      const std::string& name =
          j < 0 ? o_.recogniser : o_.second[static_cast<size_t>(j)].recogniser;
      return RecogniserMilliseconds(name).value_or(0.f);
    };
    for (int j = -1; j < static_cast<int>(o_.second.size()); ++j) judge_order_.push_back(j);
    std::stable_sort(judge_order_.begin(), judge_order_.end(),
                     [&](int a, int b) { return ms(a) < ms(b); });
  }

  Status Apply(cv::Mat& bgr, std::vector<Face>& faces) override {
    // A video track judged less than `recheck_every` frames ago keeps its verdict.
    std::vector<bool> reuse(faces.size(), false);
    std::vector<size_t> judged;
    for (size_t i = 0; i < faces.size(); ++i) {
      const auto it = tracks_.find(faces[i].track_id);
      reuse[i] =
          faces[i].track_id >= 0 && it != tracks_.end() && it->second.since + 1 < o_.recheck_every;
      // A face that gets no stand-in is not judged: it gets another method (Replace).
      auto verdict = generator().Verdict(faces[i]);
      if (!verdict.ok()) return verdict.status();
      if (!reuse[i] && verdict->why == FaceGenerator::Unpainted::kNo) judged.push_back(i);
    }
    // First pass: each worker takes the next face not yet taken. The originals' embeddings stay
    // in `state` (this function's memory): they are never stored, returned or written.
    std::vector<FaceState> state(faces.size());
    std::atomic<size_t> next{0};
    OnWorkers(std::min(w_.size(), std::max<size_t>(judged.size(), 1)), [&](size_t w) {
      for (size_t j = next++; j < judged.size(); j = next++) {
        const size_t i = judged[j];
        state[i].status = JudgeOwn(w_[w], bgr, faces[i], LatentKey(faces[i], i), state[i]);
      }
    });
    for (const FaceState& f : state) {
      if (!f.status.ok()) return f.status;
    }
    // A track that keeps its verdict is prepared on the untouched image too, as it was when judged.
    for (size_t i = 0; i < faces.size(); ++i) {
      if (!reuse[i]) continue;
      auto prepared = generator().Prepare(bgr, faces[i]);
      if (!prepared.ok()) return prepared.status();
      state[i].prepared = std::move(prepared).value();
    }
    // Second pass, in paint order.
    used_donors_.clear();
    for (size_t i : PaintOrder(faces)) {
      const std::uint64_t key = LatentKey(faces[i], i);
      Status s;
      if (reuse[i]) {
        s = Reuse(bgr, faces[i], key, state[i].prepared, tracks_.at(faces[i].track_id));
      } else if (state[i].job) {
        s = Finish(bgr, faces[i], key, state[i]);
      } else {  // no stand-in for this face (Verdict): another method (Replace says which, and why)
        s = generator().Replace(bgr, faces[i], key);
      }
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }

 private:
  // A video track's verdict: its stand-in (candidate index; -1: the fallback) and receipt, and the
  // frames since it was judged.
  struct TrackState {
    int candidate = -1;
    int donor = -1;  // the stand-in is this donor (candidate is then -1)
    int since = 0;
    IdentityReceipt receipt;
  };

  FaceGenerator& generator() const { return *w_[0].generator; }

  // The face's own first candidate in the template, which a donor is mixed over.
  Expected<cv::Mat> OwnFace(FaceGenerator& g, const FaceGenerator::Prepared& p,
                            std::uint64_t key) const {
    return g.Generate(p, g.Latent(key, 0));
  }

  // Paints a track's kept stand-in (or fallback) without judging it again, `prepared` on the
  // untouched image.
  Status Reuse(cv::Mat& bgr, Face& face, std::uint64_t key,
               const std::optional<FaceGenerator::Prepared>& prepared, TrackState& t) {
    ++t.since;
    face.receipt = t.receipt;
    face.receipt->frames_since_check = t.since;
    if (t.candidate < 0 && t.donor < 0) return Fallback(bgr, face);
    if (!prepared) {  // no stand-in now (Verdict), so no receipt
      face.receipt.reset();
      return generator().Replace(bgr, face, key);
    }
    const FaceGenerator::Prepared& p = *prepared;
    if (t.donor >= 0) {
      auto own = OwnFace(generator(), p, key);
      if (!own.ok()) return own.status();
      if (Status s = generator().PaintFace(bgr, {0, 0}, p, DonorFace(p, t.donor, *own)); !s.ok()) {
        return s;
      }
    } else if (Status s = generator().Paint(bgr, {0, 0}, p, generator().Latent(key, t.candidate));
               !s.ok()) {
      return s;
    }
    face.method = "generate";
    face.resolution = generator().PaintedResolution(p);
    return Status::Ok();
  }

  // Donor `d` fitted to the face's pose and mixed over `own`, the face's own first candidate in
  // the template (OwnFace), ready for PaintFace. `own` keeps the outer part of the region, the
  // contour that continues the surroundings; the donor's colour is first moved onto it (their mean
  // CIE Lab under the weights), so skin tone and light continue from the contour inward.
  cv::Mat DonorFace(const FaceGenerator::Prepared& p, int d, const cv::Mat& own) const {
    constexpr double kDonorColourShift = 40.0;  // CIE Lab units
    cv::Mat donor = FitDonor(*donors_, d, p.keypoints);
    blend::ShiftToEdgeColour(donor, blend::ColourUnder(own, donor_weight_), kDonorColourShift);
    cv::Mat mixed;
    cv::blendLinear(donor, own, donor_weight_, 1.f - donor_weight_, mixed);
    return mixed;
  }

  // Fail closed: the fallback method, never a too-similar candidate.
  Status Fallback(cv::Mat& bgr, Face& face) const {
    std::vector<Face> one{face};
    if (Status s =
            MakeMethod({.kind = o_.fallback, .mask_scale = o_.fallback_scale})->Apply(bgr, one);
        !s.ok()) {
      return s;
    }
    face.method = MethodName(o_.fallback);
    face.reason = "no stand-in passed the identity guard";
    return Status::Ok();
  }

  // What a candidate is judged against by one recogniser: the original's embedding, the face's
  // margin, and the bank's strangers of the face's age band (the stranger test), or empty.
  struct Reference {
    cv::Mat1f original;
    float margin = 0;
    cv::Mat1f strangers;
    float percentile = 0;  // of the stranger test
  };
  // A candidate's verdict by one recogniser.
  struct Judgement {
    float similarity = 0;
    float stranger_threshold = -1;
    bool passed = false;
  };

  struct Candidate {
    int index = -1;       // the face's own candidate k, or -1
    int donor = -1;       // or this donor of the pool
    bool passed = false;  // by every recogniser
    // By the first recogniser and by each further one (IdentityGuardOptions::second), as far as
    // they judged: a recogniser judges only a candidate that all asked before it passed (cheapest
    // first, judge_order_).
    Judgement first;
    std::vector<Judgement> second;
    float faceness = -1;
    double cost = 0;
    FaceAttributes attributes;
    cv::Mat face;  // R x R, in the template: what PaintFace painted to be judged
  };

  // What judging a face's candidates needs, the same for all of them.
  struct FaceJob {
    const cv::Mat& bgr;  // the image candidates are painted into copies of
    const FaceGenerator::Prepared& p;
    std::uint64_t key;
    cv::Rect region;  // where candidates are painted and judged
    Face local;       // the face in region coordinates
    Reference first;
    std::vector<Reference> second;  // one per further recogniser
    const FaceAttributes& before;
    cv::Mat own_face;  // OwnFace, for donors (the face's candidate 0 once judged)
  };

  // A face the guard judges, between the two passes of Apply.
  struct FaceState {
    Status status;
    cv::Mat1f original;                // the original's embedding by the first recogniser
    std::vector<cv::Mat1f> originals;  // and by each further recogniser
    FaceAttributes before;
    std::optional<FaceGenerator::Prepared> prepared;
    std::optional<FaceJob> job;  // empty: no stand-in (Prepare), so another method
    cv::Rect read;               // JudgedArea within the job's region
    cv::Mat untouched;           // the untouched image there
    IdentityReceipt receipt;
    float bank_age = 0;
    Candidate best;
  };

  // How recogniser `net` judges the candidate painted in `pixels` against `ref`: its similarity to
  // the original must lie below the margin and (stranger test) below the threshold the candidate's
  // own similarities to the bank's strangers set.
  Expected<Judgement> JudgeBy(IdentityEmbedder& net, const cv::Mat& pixels, const FaceJob& job,
                              const Reference& ref) const {
    auto e = net.Embed(pixels, job.local.kps5);
    if (!e.ok()) return e.status();
    Judgement v;
    v.similarity = static_cast<float>(ref.original.dot(*e));
    if (!ref.strangers.empty()) {  // the original, ranked among the bank's faces by the candidate
      v.stranger_threshold = RelativeMargin(ref.strangers, *e, ref.percentile, -1.f);
    }
    v.passed =
        v.similarity < ref.margin && (ref.strangers.empty() || v.similarity < v.stranger_threshold);
    return v;
  }

  // Paints the face's own candidate k (donor < 0) or donor `donor` into a copy of the region and
  // judges it on worker `w`'s networks: its similarity to the original, the margin and stranger
  // test by each recogniser in turn, cheapest first, as long as it passes; for one that passes
  // all, its choice cost. `given`, when not empty, is the candidate's face, already generated.
  Expected<Candidate> Judge(GuardNetworks& w, const FaceJob& job, int k, int donor,
                            const cv::Mat& given = cv::Mat()) const {
    Candidate c;
    c.index = donor < 0 ? k : -1;
    c.donor = donor;
    if (!given.empty()) {
      c.face = given;
    } else if (donor < 0) {
      auto face = w.generator->Generate(job.p, generator().Latent(job.key, k));
      if (!face.ok()) return face.status();
      c.face = std::move(face).value();
    } else {
      c.face = DonorFace(job.p, donor, job.own_face);
    }
    cv::Mat pixels = job.bgr(job.region).clone();
    // PaintFace works on its own copy of the face, which is kept to be painted again.
    if (Status s = w.generator->PaintFace(pixels, job.region.tl(), job.p, c.face.clone());
        !s.ok()) {
      return s;
    }
    c.second.resize(w.second.size());
    c.passed = true;
    // Only a candidate that every recogniser before it passed is judged by the next.
    for (size_t n = 0; c.passed && n < judge_order_.size(); ++n) {
      const int j = judge_order_[n];
      const auto i = static_cast<size_t>(std::max(j, 0));
      auto v = j < 0 ? JudgeBy(*w.embedder, pixels, job, job.first)
                     : JudgeBy(*w.second[i], pixels, job, job.second[i]);
      if (!v.ok()) return v.status();
      (j < 0 ? c.first : c.second[i]) = *v;
      c.passed = v->passed;
    }
    if (!c.passed) return c;
    c.cost = o_.identity_weight * c.first.similarity;
    if (w.faceness && o_.natural_weight > 0) {
      auto f = w.faceness->Score(pixels, job.local);
      if (!f.ok()) return f.status();
      c.faceness = *f;
      c.cost += o_.natural_weight * (1.0 - c.faceness);
    }
    if (w.attributes) {
      auto a = w.attributes->Estimate(pixels, job.local, o_.expression_weight > 0);
      if (!a.ok()) return a.status();
      c.attributes = std::move(a).value();
      const FaceAttributes& before = job.before;
      const double age = std::min(1.0, std::abs(c.attributes.age - before.age) / 20.0);
      const double gender = std::abs(c.attributes.p_female - before.p_female);
      c.cost += o_.attribute_weight * 0.5 * (age + gender);
      if (before.expression >= 0 && !c.attributes.expression_probs.empty()) {
        c.cost += o_.expression_weight *
                  (1.0 - c.attributes.expression_probs[static_cast<size_t>(before.expression)]);
      }
    }
    return c;
  }

  // Judges `todo` ((own candidate k, -1) or (-1, donor) pairs) in order on the workers `nets`, up
  // to one per worker at a time, taking the verdicts in order into the receipt and `best` until
  // `enough()` holds. The face's candidate 0, when judged, becomes the job's own face for donors.
  template <typename Enough>
  Status JudgeInOrder(std::span<GuardNetworks> nets, FaceJob& job,
                      const std::vector<std::pair<int, int>>& todo, IdentityReceipt& r,
                      Candidate& best, const Enough& enough) const {
    for (size_t start = 0; start < todo.size(); start += nets.size()) {
      const size_t n = std::min(nets.size(), todo.size() - start);
      std::vector<Expected<Candidate>> got(n, Candidate{});
      OnWorkers(n, [&](size_t w) {
        got[w] = Judge(nets[w], job, todo[start + w].first, todo[start + w].second);
      });
      for (auto& c : got) {
        if (!c.ok()) return c.status();
        if (c->index == 0 && job.own_face.empty()) job.own_face = c->face;
        ++r.drawn;
        if (!c->passed) {
          ++r.rejected;
        } else if (!Chosen(best) || c->cost < best.cost) {
          best = std::move(c).value();
        }
        if (enough()) return Status::Ok();
      }
    }
    return Status::Ok();
  }

  // The first pass for one face on worker `w`, on the untouched image: the original's embeddings
  // and attributes, the face's margins, and its own candidates (a video track's kept stand-in
  // first) judged in order until one is good enough.
  Status JudgeOwn(GuardNetworks& w, const cv::Mat& bgr, const Face& face, std::uint64_t key,
                  FaceState& st) const {
    auto e = w.embedder->Embed(bgr, face.kps5);
    if (!e.ok()) return e.status();
    st.original = std::move(e).value();
    for (const auto& net : w.second) {
      auto e2 = net->Embed(bgr, face.kps5);
      if (!e2.ok()) return e2.status();
      st.originals.push_back(std::move(e2).value());
    }
    if (w.attributes) {
      auto a = w.attributes->Estimate(bgr, face, o_.expression_weight > 0);
      if (!a.ok()) return a.status();
      st.before = std::move(a).value();
    }
    auto prepared = w.generator->Prepare(bgr, face);
    if (!prepared.ok()) return prepared.status();
    if (!prepared->has_value()) return Status::Ok();  // no stand-in (Verdict): Replace
    st.prepared = std::move(**prepared);
    const FaceGenerator::Prepared& p = *st.prepared;
    // Candidates are painted into a copy of the region around the face that the judging
    // networks look at (the generated crop, and twice the face box for the attribute crops).
    const cv::Rect2f& b = face.box;
    const cv::Rect around(cvFloor(b.x - b.width), cvFloor(b.y - b.height), cvCeil(3 * b.width),
                          cvCeil(3 * b.height));
    const cv::Rect region = (p.roi | around) & cv::Rect(0, 0, bgr.cols, bgr.rows);
    const cv::Point2f shift(static_cast<float>(region.x), static_cast<float>(region.y));
    Face local = face;
    local.box.x -= shift.x;
    local.box.y -= shift.y;
    for (auto& q : local.kps5) q -= shift;

    IdentityReceipt& r = st.receipt;
    r.recogniser = w.embedder->name();
    // This face's margin: the fixed one, or raised to what strangers score against it.
    r.margin = o_.UsesRelativeMargin()
                   ? RelativeMargin(bank_, st.original, o_.relative_percentile, o_.margin)
                   : o_.margin;
    r.age_before = st.before.age;
    r.female_before = st.before.p_female;
    if (st.before.expression >= 0) {
      r.expression_before = ExpressionNames()[static_cast<size_t>(st.before.expression)];
    }
    // The face's age read from the bank (fr_age's estimate without the bank's ages), and the
    // strangers of its age band.
    st.bank_age = BankAge(bank_, bank_ages_, st.original, st.before.age);
    // Each further recogniser's margin and strangers come from its own bank, whose rows are the
    // first's stand-ins in the same order (so the first's age band picks the same strangers).
    std::vector<Reference> seconds;
    for (size_t i = 0; i < w.second.size(); ++i) {
      const SecondJudge& judge = o_.second[i];
      const cv::Mat1f bank = i < second_banks_.size() ? second_banks_[i] : cv::Mat1f();
      const float margin =
          o_.relative_margin
              ? RelativeMargin(bank, st.originals[i], o_.relative_percentile, judge.Margin())
              : judge.Margin();
      r.second.push_back({w.second[i]->name(), margin});
      seconds.push_back(
          {st.originals[i], margin,
           judge.stranger_percentile > 0 ? BankAgeBand(bank, bank_ages_, st.bank_age) : cv::Mat1f(),
           judge.stranger_percentile});
    }
    st.read = JudgedArea(face, p) & region;
    st.untouched = bgr(st.read).clone();
    FaceJob& job = st.job.emplace(
        FaceJob{bgr,
                p,
                key,
                region,
                local,
                {st.original, r.margin,
                 o_.UsesStrangerTest() ? BankAgeBand(bank_, bank_ages_, st.bank_age) : cv::Mat1f(),
                 o_.stranger_percentile},
                std::move(seconds),
                st.before,
                cv::Mat()});
    if (p.roi.empty()) return Status::Ok();  // nothing of this face is inside the image
    // In videos a track keeps the candidate chosen when it first appeared (one stable stand-in
    // per person); it is judged again every `recheck_every` frames, and all candidates are judged
    // anew only if it fails.
    const std::span<GuardNetworks> one(&w, 1);
    const auto it = tracks_.find(face.track_id);
    const int kept = face.track_id >= 0 && it != tracks_.end() ? it->second.candidate : -1;
    const int kept_donor =
        face.track_id >= 0 && it != tracks_.end() && donors_ ? it->second.donor : -1;
    if (kept_donor >= 0) {
      auto own = OwnFace(*w.generator, p, key);
      if (!own.ok()) return own.status();
      job.own_face = std::move(own).value();
    }
    if (kept >= 0 || kept_donor >= 0) {
      if (Status s = JudgeInOrder(one, job, {{kept, kept_donor}}, r, st.best, [] { return false; });
          !s.ok()) {
        return s;
      }
    }
    if (Chosen(st.best)) return Status::Ok();
    return JudgeOwnCandidates(one, job, kept, r, st.best);
  }

  // Judges the face's own candidates but `skip` (-1: none) in order on `nets` until one is good
  // enough: no need to look further.
  Status JudgeOwnCandidates(std::span<GuardNetworks> nets, FaceJob& job, int skip,
                            IdentityReceipt& r, Candidate& best) const {
    std::vector<std::pair<int, int>> own;
    for (int k = 0; k < o_.candidates; ++k) {
      if (k != skip) own.emplace_back(k, -1);
    }
    return JudgeInOrder(nets, job, own, r, best, [&] {
      // 0 draws all: a cost can be below 0 (a negative similarity).
      return Chosen(best) && o_.good_enough > 0 && best.cost <= o_.good_enough;
    });
  }

  // The image pixels a candidate's judgement of `face` depends on: what its recognisers, attribute
  // networks and faceness judge read, and, with the harmonic colour match (which reads what it is
  // painted over), all that its stand-in covers; PaintFace otherwise blends pixel by pixel.
  cv::Rect JudgedArea(const Face& face, const FaceGenerator::Prepared& p) const {
    const GuardNetworks& w = w_[0];
    cv::Rect area = w.embedder->Reads(face.kps5);
    for (const auto& net : w.second) area |= net->Reads(face.kps5);
    if (w.attributes) area |= AttributeEstimator::Reads(face, o_.expression_weight > 0);
    if (w.faceness && o_.natural_weight > 0) area |= FacenessJudge::Reads(face);
    const GeneratorOptions& g = generator().options();
    if (g.match_colour && g.harmonic_colour) area |= p.roi;
    return area;
  }

  // The second pass for a face the first judged: when none of its own candidates passed, the
  // donors nearest in pose and attributes, one by one, each used at most once per image (the
  // first that passes is painted: choosing among several costs time); then the winner is painted,
  // or the fallback.
  Status Finish(cv::Mat& bgr, Face& face, std::uint64_t key, FaceState& st) {
    const FaceGenerator::Prepared& p = *st.prepared;
    if (p.roi.empty()) {
      face.method = "generate";  // nothing of this face is inside the image
      return Status::Ok();
    }
    FaceJob& job = *st.job;
    IdentityReceipt& r = st.receipt;
    Candidate& best = st.best;
    // A face painted before this one (or the method of one that gets no stand-in) may have reached
    // into what the judging networks read since its own candidates were judged on the untouched
    // image. The winner is then judged again as it would now be painted; if it no longer passes,
    // the face's other candidates are judged again on the image as it is now. The receipt is the
    // final pixels'.
    if (Chosen(best) && best.donor < 0 && cv::norm(bgr(st.read), st.untouched, cv::NORM_INF) > 0) {
      auto again = Judge(w_[0], job, best.index, -1, best.face);
      if (!again.ok()) return again.status();
      const int failed = best.index;
      best = Candidate{};
      if (again->passed) {
        best = std::move(again).value();
      } else {
        ++r.rejected;
        if (Status s = JudgeOwnCandidates(w_, job, failed, r, best); !s.ok()) return s;
      }
    }
    if (!Chosen(best) && donors_ && o_.donors > 0) {
      std::vector<std::pair<int, int>> donors;
      // The original's embeddings order the donors here and are then dropped with `st`.
      std::vector<const cv::Mat1f*> originals{&st.original};
      for (const cv::Mat1f& e : st.originals) originals.push_back(&e);
      for (int d :
           DonorOrder(*donors_, donor_lab_, p, generator().spec().resolution,
                      w_[0].attributes ? &st.before : nullptr, st.bank_age,
                      DonorIdentity(donor_embeddings_, originals), o_.donor_identity_weight)) {
        if (static_cast<int>(donors.size()) == o_.donors) break;
        if (used_donors_.count(d) == 0) donors.emplace_back(-1, d);
      }
      if (job.own_face.empty()) {
        auto own = OwnFace(generator(), p, key);
        if (!own.ok()) return own.status();
        job.own_face = std::move(own).value();
      }
      if (Status s = JudgeInOrder(w_, job, donors, r, best, [&] { return Chosen(best); });
          !s.ok()) {
        return s;
      }
    }
    r.passed = Chosen(best);
    if (r.passed) {
      // Painted again, now into the image as painted so far: where no face painted before it
      // reaches into its region, the same pixels as were judged.
      if (Status s = generator().PaintFace(bgr, {0, 0}, p, best.face.clone()); !s.ok()) return s;
      face.method = "generate";
      face.resolution = generator().PaintedResolution(p);
      r.donor = best.donor;
      if (best.donor >= 0) used_donors_.insert(best.donor);
      r.similarity = best.first.similarity;
      r.stranger_threshold = best.first.stranger_threshold;
      for (size_t i = 0; i < r.second.size(); ++i) {  // the winner passed every recogniser
        r.second[i].similarity = best.second[i].similarity;
        r.second[i].stranger_threshold = best.second[i].stranger_threshold;
      }
      r.faceness = best.faceness;
      r.age_after = best.attributes.age;
      r.female_after = best.attributes.p_female;
      if (best.attributes.expression >= 0) {
        r.expression_after = ExpressionNames()[static_cast<size_t>(best.attributes.expression)];
      }
    } else if (Status s = Fallback(bgr, face); !s.ok()) {
      return s;
    }
    if (face.track_id >= 0) tracks_[face.track_id] = {best.index, best.donor, 0, r};
    face.receipt = std::move(r);
    return Status::Ok();
  }

  std::vector<GuardNetworks> w_;  // one per worker; w_[0] also paints and prepares
  IdentityGuardOptions o_;
  static bool Chosen(const Candidate& c) { return c.index >= 0 || c.donor >= 0; }

  cv::Mat1f bank_;  // reference bank for relative margins and the stranger test (or empty)
  std::vector<cv::Mat1f> second_banks_;      // each further recogniser's bank, in order
  std::vector<int> judge_order_;             // the recognisers, cheapest first (-1: the first)
  std::shared_ptr<const DonorPool> donors_;  // or null
  std::vector<cv::Mat1f> donor_embeddings_;  // GuardReferences::donor_embeddings, or empty
  std::vector<float> bank_ages_;             // the bank's labelled ages (or empty)
  std::vector<cv::Scalar> donor_lab_;        // DonorEdgeColours (with donors)
  cv::Mat1f donor_weight_;                   // FaceGenerator::DonorWeight (with donors)
  std::set<int> used_donors_;                // donors painted in the current image
  std::map<int, TrackState> tracks_;         // by track id
};

}  // namespace

float SecondJudge::Margin() const {
  return margin.value_or(RecogniserMargin(recogniser).value_or(0.f));
}

IdentityGuardOptions StrictIdentityGuard(IdentityGuardOptions base) {
  base.second = {{.recogniser = "mobileface", .stranger_percentile = 40.f},
                 {.recogniser = "dlib-resnet", .stranger_percentile = 75.f}};
  base.donors = 48;
  base.donor_identity_weight = 1.f;
  return base;
}

std::unique_ptr<FaceMethod> MakeGenerateMethod(std::unique_ptr<FaceGenerator> generator) {
  return std::make_unique<GenerateMethod>(std::move(generator));
}

std::unique_ptr<FaceMethod> MakeGenerateMethod(std::vector<GuardNetworks> workers,
                                               const IdentityGuardOptions& guard,
                                               GuardReferences references) {
  if (!workers[0].embedder) return MakeGenerateMethod(std::move(workers[0].generator));
  return std::make_unique<GuardedGenerateMethod>(std::move(workers), guard, std::move(references));
}

}  // namespace standin
