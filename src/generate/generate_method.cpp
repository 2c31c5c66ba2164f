#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <opencv2/imgproc.hpp>
#include <set>

#include "blend/blend.hpp"
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

// Donor `d` moved onto the face's keypoints (crop pixels): the least-squares affine map of its
// keypoints to the face's, so that its eyes, mouth and chin land where the face's pose puts them.
cv::Mat FitDonor(const DonorPool& pool, int d, const std::vector<cv::Point2f>& kp) {
  const cv::Mat& face = pool.faces[static_cast<size_t>(d)];
  const auto& from = pool.keypoints[static_cast<size_t>(d)];
  const auto n = static_cast<int>(std::min(from.size(), kp.size()));
  cv::Mat1d A(2 * n, 6, 0.0), b(2 * n, 1);
  for (int i = 0; i < n; ++i) {
    const cv::Point2f q = from[static_cast<size_t>(i)] * static_cast<float>(face.cols);
    A(2 * i, 0) = A(2 * i + 1, 3) = q.x;
    A(2 * i, 1) = A(2 * i + 1, 4) = q.y;
    A(2 * i, 2) = A(2 * i + 1, 5) = 1;
    b(2 * i) = kp[static_cast<size_t>(i)].x;
    b(2 * i + 1) = kp[static_cast<size_t>(i)].y;
  }
  cv::Mat1d m;
  if (n < 3 || !cv::solve(A, b, m, cv::DECOMP_SVD)) return face.clone();
  cv::Mat out;
  cv::warpAffine(face, out, m.reshape(1, 2), face.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  return out;
}

// The mean CIE Lab colour of each donor's skin at the mask's soft edge, where the colour match
// compares a stand-in with the photo.
std::vector<cv::Scalar> DonorEdgeColours(const DonorPool& pool, const cv::Mat1f& mask) {
  std::vector<cv::Scalar> lab;
  for (const cv::Mat& face : pool.faces) {
    const blend::EdgeColour e = blend::EdgeColourOf(face, mask, /*skin_only=*/true);
    lab.push_back(e.total > 1e-6 ? e.lab_sum / e.total : cv::Scalar::all(-1));
  }
  return lab;
}

// The order in which donors are tried for a face, cheapest first: the pose distance (mean
// keypoint distance, in crop sides, per 0.02); the colour distance of the donor's skin from the
// photo's at the mask's edge (CIE Lab, per 25 units, the colour match's largest shift; lightness
// only in a grey photo); and the distance of its labelled age and gender from the original's
// age (read from the reference bank, BankAge) and gender estimate, as in the guard's choice cost,
// when the original's attributes are known.
std::vector<int> DonorOrder(const DonorPool& pool, const std::vector<cv::Scalar>& donor_lab,
                            const FaceGenerator::Prepared& p, int R, const FaceAttributes* before,
                            float age) {
  const std::vector<cv::Point2f>& kp = p.keypoints;
  const bool colour = p.edge_total > 1e-6;
  const cv::Scalar lab = colour ? p.edge_lab_sum / p.edge_total : cv::Scalar();
  std::vector<std::pair<double, int>> ranked;
  for (size_t d = 0; d < pool.faces.size(); ++d) {
    double pose = 0;
    const auto& from = pool.keypoints[d];
    const size_t n = std::min(from.size(), kp.size());
    for (size_t i = 0; i < n; ++i) pose += cv::norm(from[i] * static_cast<float>(R) - kp[i]);
    double cost = pose / static_cast<double>(std::max<size_t>(n, 1) * R) / 0.02;
    if (colour && donor_lab[d][0] >= 0) {
      const cv::Scalar diff = donor_lab[d] - lab;
      cost += (p.grey ? std::abs(diff[0]) : cv::norm(cv::Vec3d(diff[0], diff[1], diff[2]))) / 25.0;
    }
    if (before) {
      cost += 0.5 * (std::min(1.0, std::abs(pool.age[d] - age) / 20.0) +
                     std::abs(pool.female[d] - before->p_female));
    }
    ranked.emplace_back(cost, static_cast<int>(d));
  }
  std::sort(ranked.begin(), ranked.end());
  std::vector<int> order;
  for (const auto& r : ranked) order.push_back(r.second);
  return order;
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
// With several workers (GuardNetworks), the originals of a photo's faces are judged side by side,
// and a face's candidates are judged as many at a time as there are workers, in the order one
// worker would judge them. Their verdicts are then taken in that order, and the search stops
// where one worker would have stopped: a candidate judged beyond that point is dropped unseen.
// The choice and the receipt are those of one worker; only the time differs.
class GuardedGenerateMethod final : public FaceMethod {
 public:
  GuardedGenerateMethod(std::vector<GuardNetworks> workers, const IdentityGuardOptions& o,
                        GuardReferences refs)
      : w_(std::move(workers)),
        o_(o),
        bank_(std::move(refs.bank)),
        second_bank_(std::move(refs.second_bank)),
        donors_(std::move(refs.donors)),
        bank_ages_(std::move(refs.bank_ages)) {
    if (donors_) {
      donor_lab_ = DonorEdgeColours(*donors_, w_[0].generator->CropMask());
      donor_weight_ = w_[0].generator->DonorWeight();
    }
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
    // The originals are judged first, on the untouched image, worker w taking faces w, w + n, ...
    // Their embeddings stay in this function's memory: they are never stored, returned or
    // written.
    std::vector<cv::Mat1f> original(faces.size()), original2(faces.size());
    std::vector<FaceAttributes> before(faces.size());
    std::vector<Status> failed(faces.size());
    const size_t n = std::min(w_.size(), std::max<size_t>(judged.size(), 1));
    OnWorkers(n, [&](size_t w) {
      for (size_t j = w; j < judged.size(); j += n) {
        const size_t i = judged[j];
        auto e = w_[w].embedder->Embed(bgr, faces[i].kps5);
        if (!e.ok()) {
          failed[i] = e.status();
          continue;
        }
        original[i] = std::move(e).value();
        if (w_[w].second) {
          auto e2 = w_[w].second->Embed(bgr, faces[i].kps5);
          if (!e2.ok()) {
            failed[i] = e2.status();
            continue;
          }
          original2[i] = std::move(e2).value();
        }
        if (w_[w].attributes) {
          auto a = w_[w].attributes->Estimate(bgr, faces[i], o_.expression_weight > 0);
          if (!a.ok()) {
            failed[i] = a.status();
            continue;
          }
          before[i] = std::move(a).value();
        }
      }
    });
    for (const Status& s : failed) {
      if (!s.ok()) return s;
    }
    used_donors_.clear();
    for (size_t i : PaintOrder(faces)) {
      const std::uint64_t key = LatentKey(faces[i], i);
      if (Status s = reuse[i] ? Reuse(bgr, faces[i], key, tracks_.at(faces[i].track_id))
                              : Guard(bgr, faces[i], key, {original[i], original2[i]}, before[i]);
          !s.ok()) {
        return s;
      }
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
  Expected<cv::Mat> OwnFace(const FaceGenerator::Prepared& p, std::uint64_t key) const {
    return generator().Generate(p, generator().Latent(key, 0));
  }

  // Paints a track's kept stand-in (or fallback) without judging it again.
  Status Reuse(cv::Mat& bgr, Face& face, std::uint64_t key, TrackState& t) {
    ++t.since;
    face.receipt = t.receipt;
    face.receipt->frames_since_check = t.since;
    if (t.candidate < 0 && t.donor < 0) return Fallback(bgr, face);
    auto prepared = generator().Prepare(bgr, face);
    if (!prepared.ok()) return prepared.status();
    if (!prepared->has_value()) {  // no stand-in now (Verdict), so no receipt
      face.receipt.reset();
      return generator().Replace(bgr, face, key);
    }
    const FaceGenerator::Prepared& p = **prepared;
    if (t.donor >= 0) {
      auto own = OwnFace(p, key);
      if (!own.ok()) return own.status();
      if (Status s = PaintDonor(generator(), bgr, {0, 0}, p, t.donor, *own); !s.ok()) return s;
    } else if (Status s = generator().Paint(bgr, {0, 0}, p, generator().Latent(key, t.candidate));
               !s.ok()) {
      return s;
    }
    face.method = "generate";
    face.resolution = generator().PaintedResolution(p);
    return Status::Ok();
  }

  // Paints donor `d` fitted to the face's pose over `own`, the face's own first candidate in the
  // template (OwnFace). `own` keeps the outer part of the region, the contour that continues the
  // surroundings; the donor's colour is first moved onto it (their mean CIE Lab under the
  // weights), so skin tone and light continue from the contour inward.
  Status PaintDonor(FaceGenerator& g, cv::Mat& target, cv::Point origin,
                    const FaceGenerator::Prepared& p, int d, const cv::Mat& own) const {
    constexpr double kDonorColourShift = 40.0;  // CIE Lab units
    cv::Mat donor = FitDonor(*donors_, d, p.keypoints);
    blend::ShiftToEdgeColour(donor, blend::ColourUnder(own, donor_weight_), kDonorColourShift);
    cv::Mat mixed;
    cv::blendLinear(donor, own, donor_weight_, 1.f - donor_weight_, mixed);
    return g.PaintFace(target, origin, p, std::move(mixed));
  }

  // Fail closed: the fallback method, never a too-similar candidate.
  Status Fallback(cv::Mat& bgr, Face& face) const {
    std::vector<Face> one{face};
    if (Status s = MakeMethod({.kind = o_.fallback})->Apply(bgr, one); !s.ok()) return s;
    face.method = MethodName(o_.fallback);
    face.reason = "no stand-in passed the identity guard";
    return Status::Ok();
  }

  // What a candidate is judged against by one recogniser: the original's embedding, the face's
  // margin, and the bank's strangers of the face's age band (the stranger test), or empty.
  struct Reference {
    const cv::Mat1f& original;
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
  // The originals' embeddings by the first and (or empty) the second recogniser.
  struct Originals {
    const cv::Mat1f& first;
    const cv::Mat1f& second;
  };

  struct Candidate {
    int index = -1;       // the face's own candidate k, or -1
    int donor = -1;       // or this donor of the pool
    bool passed = false;  // by both recognisers
    Judgement first;      // by the first recogniser
    Judgement second;     // by the second, when it judged
    float faceness = -1;
    double cost = 0;
    FaceAttributes attributes;
    cv::Mat pixels;
  };

  // What judging a face's candidates needs, the same for all of them.
  struct FaceJob {
    const cv::Mat& bgr;
    const FaceGenerator::Prepared& p;
    std::uint64_t key;
    cv::Rect region;  // where candidates are painted and judged
    Face local;       // the face in region coordinates
    Reference first;
    Reference second;  // used when the worker has a second recogniser
    const FaceAttributes& before;
    cv::Mat own_face;  // OwnFace, for donors
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
  // test by the first recogniser and, if it passes, by the second; for one that passes both, its
  // choice cost.
  Expected<Candidate> Judge(GuardNetworks& w, const FaceJob& job, int k, int donor) const {
    Candidate c;
    c.index = donor < 0 ? k : -1;
    c.donor = donor;
    c.pixels = job.bgr(job.region).clone();
    if (Status s = donor < 0 ? w.generator->Paint(c.pixels, job.region.tl(), job.p,
                                                  generator().Latent(job.key, k))
                             : PaintDonor(*w.generator, c.pixels, job.region.tl(), job.p, donor,
                                          job.own_face);
        !s.ok()) {
      return s;
    }
    auto first = JudgeBy(*w.embedder, c.pixels, job, job.first);
    if (!first.ok()) return first.status();
    c.first = *first;
    c.passed = first->passed;
    if (c.passed && w.second) {  // only a candidate the first passes is judged by the second
      auto second = JudgeBy(*w.second, c.pixels, job, job.second);
      if (!second.ok()) return second.status();
      c.second = *second;
      c.passed = second->passed;
    }
    if (!c.passed) return c;
    c.cost = o_.identity_weight * c.first.similarity;
    if (w.faceness && o_.natural_weight > 0) {
      auto f = w.faceness->Score(c.pixels, job.local);
      if (!f.ok()) return f.status();
      c.faceness = *f;
      c.cost += o_.natural_weight * (1.0 - c.faceness);
    }
    if (w.attributes) {
      auto a = w.attributes->Estimate(c.pixels, job.local, o_.expression_weight > 0);
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

  // Judges `todo` ((own candidate k, -1) or (-1, donor) pairs) in order, up to one per worker at a
  // time, taking the verdicts in order into the receipt and `best` until `enough()` holds.
  template <typename Enough>
  Status JudgeInOrder(const FaceJob& job, const std::vector<std::pair<int, int>>& todo,
                      IdentityReceipt& r, Candidate& best, const Enough& enough) {
    for (size_t start = 0; start < todo.size(); start += w_.size()) {
      const size_t n = std::min(w_.size(), todo.size() - start);
      std::vector<Expected<Candidate>> got(n, Candidate{});
      OnWorkers(n, [&](size_t w) {
        got[w] = Judge(w_[w], job, todo[start + w].first, todo[start + w].second);
      });
      for (auto& c : got) {
        if (!c.ok()) return c.status();
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

  Status Guard(cv::Mat& bgr, Face& face, std::uint64_t key, const Originals& original,
               const FaceAttributes& before) {
    auto prepared = generator().Prepare(bgr, face);
    if (!prepared.ok()) return prepared.status();
    // No stand-in for this face (Verdict): another method (Replace says which, and why).
    if (!prepared->has_value()) return generator().Replace(bgr, face, key);
    const FaceGenerator::Prepared& p = **prepared;
    if (p.roi.empty()) {
      face.method = "generate";  // nothing of this face is inside the image
      return Status::Ok();
    }
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

    IdentityReceipt r;
    r.recogniser = w_[0].embedder->name();
    // This face's margin: the fixed one, or raised to what strangers score against it.
    r.margin = o_.UsesRelativeMargin()
                   ? RelativeMargin(bank_, original.first, o_.relative_percentile, o_.margin)
                   : o_.margin;
    r.age_before = before.age;
    r.female_before = before.p_female;
    if (before.expression >= 0) {
      r.expression_before = ExpressionNames()[static_cast<size_t>(before.expression)];
    }
    // The face's age read from the bank (fr_age's estimate without the bank's ages), and the
    // strangers of its age band.
    const float bank_age = BankAge(bank_, bank_ages_, original.first, before.age);
    // The second recogniser's margin and strangers come from its own bank, whose rows are the
    // first's stand-ins in the same order (so the first's age band picks the same strangers).
    const bool second = w_[0].second != nullptr;
    if (second) {
      r.second_recogniser = w_[0].second->name();
      r.second_margin = o_.relative_margin
                            ? RelativeMargin(second_bank_, original.second, o_.relative_percentile,
                                             o_.second_margin)
                            : o_.second_margin;
    }
    FaceJob job{bgr,
                p,
                key,
                region,
                local,
                {original.first, r.margin,
                 o_.UsesStrangerTest() ? BankAgeBand(bank_, bank_ages_, bank_age) : cv::Mat1f(),
                 o_.stranger_percentile},
                {original.second, r.second_margin,
                 second && o_.second_stranger_percentile > 0
                     ? BankAgeBand(second_bank_, bank_ages_, bank_age)
                     : cv::Mat1f(),
                 o_.second_stranger_percentile},
                before,
                cv::Mat()};
    Candidate best;
    // In videos a track keeps the candidate chosen when it first appeared (one stable stand-in
    // per person); it is judged again every `recheck_every` frames, and all candidates are judged
    // anew only if it fails.
    const bool tracked = face.track_id >= 0;
    const auto it = tracks_.find(face.track_id);
    const int kept = tracked && it != tracks_.end() ? it->second.candidate : -1;
    const int kept_donor = tracked && it != tracks_.end() && donors_ ? it->second.donor : -1;
    auto never = [] { return false; };
    if (kept_donor >= 0) {
      auto own = OwnFace(p, key);
      if (!own.ok()) return own.status();
      job.own_face = std::move(own).value();
    }
    if (kept >= 0 || kept_donor >= 0) {
      if (Status s = JudgeInOrder(job, {{kept, kept_donor}}, r, best, never); !s.ok()) return s;
    }
    if (!Chosen(best)) {
      std::vector<std::pair<int, int>> own;
      for (int k = 0; k < o_.candidates; ++k) {
        if (k != kept) own.emplace_back(k, -1);
      }
      // No need to look further than a candidate that is good enough.
      if (Status s = JudgeInOrder(job, own, r, best,
                                  [&] { return Chosen(best) && best.cost <= o_.good_enough; });
          !s.ok()) {
        return s;
      }
    }
    // None of its own passed: the donors nearest in pose and attributes, one by one, each used
    // at most once per image; the first that passes is painted (choosing among several costs
    // time).
    if (!Chosen(best) && donors_ && o_.donors > 0) {
      std::vector<std::pair<int, int>> donors;
      for (int d : DonorOrder(*donors_, donor_lab_, p, generator().spec().resolution,
                              w_[0].attributes ? &before : nullptr, bank_age)) {
        if (static_cast<int>(donors.size()) == o_.donors) break;
        if (used_donors_.count(d) == 0) donors.emplace_back(-1, d);
      }
      if (job.own_face.empty()) {
        auto own = OwnFace(p, key);
        if (!own.ok()) return own.status();
        job.own_face = std::move(own).value();
      }
      if (Status s = JudgeInOrder(job, donors, r, best, [&] { return Chosen(best); }); !s.ok()) {
        return s;
      }
    }
    r.passed = Chosen(best);
    if (r.passed) {
      best.pixels.copyTo(bgr(region));
      face.method = "generate";
      face.resolution = generator().PaintedResolution(p);
      r.donor = best.donor;
      if (best.donor >= 0) used_donors_.insert(best.donor);
      r.similarity = best.first.similarity;
      r.stranger_threshold = best.first.stranger_threshold;
      r.second_similarity = best.second.similarity;
      r.second_stranger_threshold = best.second.stranger_threshold;
      r.faceness = best.faceness;
      r.age_after = best.attributes.age;
      r.female_after = best.attributes.p_female;
      if (best.attributes.expression >= 0) {
        r.expression_after = ExpressionNames()[static_cast<size_t>(best.attributes.expression)];
      }
    } else if (Status s = Fallback(bgr, face); !s.ok()) {
      return s;
    }
    if (tracked) tracks_[face.track_id] = {best.index, best.donor, 0, r};
    face.receipt = std::move(r);
    return Status::Ok();
  }

  std::vector<GuardNetworks> w_;  // one per worker; w_[0] also paints and prepares
  IdentityGuardOptions o_;
  static bool Chosen(const Candidate& c) { return c.index >= 0 || c.donor >= 0; }

  cv::Mat1f bank_;         // reference bank for relative margins and the stranger test (or empty)
  cv::Mat1f second_bank_;  // the second recogniser's bank (or empty)
  std::shared_ptr<const DonorPool> donors_;  // or null
  std::vector<float> bank_ages_;             // the bank's labelled ages (or empty)
  std::vector<cv::Scalar> donor_lab_;        // DonorEdgeColours (with donors)
  cv::Mat1f donor_weight_;                   // FaceGenerator::DonorWeight (with donors)
  std::set<int> used_donors_;                // donors painted in the current image
  std::map<int, TrackState> tracks_;         // by track id
};

}  // namespace

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
