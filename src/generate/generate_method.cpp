#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

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

// Generation with the identity guard: for each face, candidates from different latents are
// judged by an identity network against the original face; those at or above the margin are
// rejected, the best of the others (attributes kept, far from the original) is painted, and when
// none passes the face gets the fallback method. Each face carries a receipt.
class GuardedGenerateMethod final : public FaceMethod {
 public:
  GuardedGenerateMethod(std::unique_ptr<FaceGenerator> g, const IdentityGuardOptions& o,
                        std::shared_ptr<IdentityEmbedder> embedder,
                        std::shared_ptr<AttributeEstimator> attributes,
                        std::shared_ptr<FacenessJudge> faceness, cv::Mat1f bank)
      : generator_(std::move(g)),
        o_(o),
        embedder_(std::move(embedder)),
        attributes_(std::move(attributes)),
        faceness_(std::move(faceness)),
        bank_(std::move(bank)) {}

  Status Apply(cv::Mat& bgr, std::vector<Face>& faces) override {
    // A video track judged less than `recheck_every` frames ago keeps its verdict.
    std::vector<bool> reuse(faces.size(), false);
    for (size_t i = 0; i < faces.size(); ++i) {
      const auto it = tracks_.find(faces[i].track_id);
      reuse[i] =
          faces[i].track_id >= 0 && it != tracks_.end() && it->second.since + 1 < o_.recheck_every;
    }
    // The originals are judged first, on the untouched image. Their embeddings stay in this
    // function's memory: they are never stored, returned or written.
    std::vector<cv::Mat1f> original(faces.size());
    std::vector<FaceAttributes> before(faces.size());
    for (size_t i = 0; i < faces.size(); ++i) {
      if (reuse[i]) continue;
      auto e = embedder_->Embed(bgr, faces[i].kps5);
      if (!e.ok()) return e.status();
      original[i] = std::move(e).value();
      if (attributes_) {
        auto a = attributes_->Estimate(bgr, faces[i], o_.expression_weight > 0);
        if (!a.ok()) return a.status();
        before[i] = std::move(a).value();
      }
    }
    for (size_t i : PaintOrder(faces)) {
      const std::uint64_t key = LatentKey(faces[i], i);
      if (Status s = reuse[i] ? Reuse(bgr, faces[i], key, tracks_.at(faces[i].track_id))
                              : Guard(bgr, faces[i], key, original[i], before[i]);
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
    int since = 0;
    IdentityReceipt receipt;
  };

  // Paints a track's kept stand-in (or fallback) without judging it again.
  Status Reuse(cv::Mat& bgr, Face& face, std::uint64_t key, TrackState& t) {
    ++t.since;
    face.receipt = t.receipt;
    face.receipt->frames_since_check = t.since;
    if (t.candidate < 0) return Fallback(bgr, face);
    auto prepared = generator_->Prepare(bgr, face);
    if (!prepared.ok()) return prepared.status();
    if (!prepared->has_value()) return generator_->Replace(bgr, face, key);  // too small: pixelate
    if (Status s = generator_->Paint(bgr, {0, 0}, **prepared, generator_->Latent(key, t.candidate));
        !s.ok()) {
      return s;
    }
    face.method = "generate";
    return Status::Ok();
  }

  // Fail closed: the fallback method, never a too-similar candidate.
  Status Fallback(cv::Mat& bgr, Face& face) const {
    std::vector<Face> one{face};
    if (Status s = MakeMethod({.kind = o_.fallback})->Apply(bgr, one); !s.ok()) return s;
    face.method = MethodName(o_.fallback);
    return Status::Ok();
  }

  struct Candidate {
    int index = -1;
    float similarity = 0;
    float faceness = -1;
    float stranger_threshold = -1;
    double cost = 0;
    FaceAttributes attributes;
    cv::Mat pixels;
  };

  Status Guard(cv::Mat& bgr, Face& face, std::uint64_t key, const cv::Mat1f& original,
               const FaceAttributes& before) {
    auto prepared = generator_->Prepare(bgr, face);
    if (!prepared.ok()) return prepared.status();
    if (!prepared->has_value()) return generator_->Replace(bgr, face, key);  // too small: pixelate
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
    r.recogniser = embedder_->name();
    // This face's margin: the fixed one, or raised to what strangers score against it.
    r.margin = o_.UsesRelativeMargin()
                   ? RelativeMargin(bank_, original, o_.relative_percentile, o_.margin)
                   : o_.margin;
    r.age_before = before.age;
    r.female_before = before.p_female;
    if (before.expression >= 0) {
      r.expression_before = ExpressionNames()[static_cast<size_t>(before.expression)];
    }
    const bool stranger_test = o_.UsesStrangerTest();
    Candidate best;
    auto judge = [&](int k) -> Status {
      Candidate c;
      c.index = k;
      c.pixels = bgr(region).clone();
      if (Status s = generator_->Paint(c.pixels, region.tl(), p, generator_->Latent(key, k));
          !s.ok()) {
        return s;
      }
      ++r.drawn;
      auto e = embedder_->Embed(c.pixels, local.kps5);
      if (!e.ok()) return e.status();
      c.similarity = static_cast<float>(original.dot(*e));
      if (stranger_test) {  // the original, ranked among the bank's faces by the candidate
        c.stranger_threshold = RelativeMargin(bank_, *e, o_.stranger_percentile, -1.f);
      }
      if (!(c.similarity < r.margin) || (stranger_test && !(c.similarity < c.stranger_threshold))) {
        ++r.rejected;
        return Status::Ok();
      }
      c.cost = o_.identity_weight * c.similarity;
      if (faceness_ && o_.natural_weight > 0) {
        auto f = faceness_->Score(c.pixels, local);
        if (!f.ok()) return f.status();
        c.faceness = *f;
        c.cost += o_.natural_weight * (1.0 - c.faceness);
      }
      if (attributes_) {
        auto a = attributes_->Estimate(c.pixels, local, o_.expression_weight > 0);
        if (!a.ok()) return a.status();
        c.attributes = std::move(a).value();
        const double age = std::min(1.0, std::abs(c.attributes.age - before.age) / 20.0);
        const double gender = std::abs(c.attributes.p_female - before.p_female);
        c.cost += o_.attribute_weight * 0.5 * (age + gender);
        if (before.expression >= 0 && !c.attributes.expression_probs.empty()) {
          c.cost += o_.expression_weight *
                    (1.0 - c.attributes.expression_probs[static_cast<size_t>(before.expression)]);
        }
      }
      if (best.index < 0 || c.cost < best.cost) best = std::move(c);
      return Status::Ok();
    };
    // In videos a track keeps the candidate chosen when it first appeared (one stable stand-in
    // per person); it is judged again every `recheck_every` frames, and all candidates are judged
    // anew only if it fails.
    const bool tracked = face.track_id >= 0;
    const auto it = tracks_.find(face.track_id);
    const int kept = tracked && it != tracks_.end() ? it->second.candidate : -1;
    if (kept >= 0) {
      if (Status s = judge(kept); !s.ok()) return s;
    }
    const bool kept_passed = kept >= 0 && best.index >= 0;
    for (int k = 0; !kept_passed && k < o_.candidates; ++k) {
      if (k == kept) continue;
      if (Status s = judge(k); !s.ok()) return s;
      if (best.index >= 0 && best.cost <= o_.good_enough) break;  // no need to look further
    }
    r.passed = best.index >= 0;
    if (r.passed) {
      best.pixels.copyTo(bgr(region));
      face.method = "generate";
      r.similarity = best.similarity;
      r.stranger_threshold = best.stranger_threshold;
      r.faceness = best.faceness;
      r.age_after = best.attributes.age;
      r.female_after = best.attributes.p_female;
      if (best.attributes.expression >= 0) {
        r.expression_after = ExpressionNames()[static_cast<size_t>(best.attributes.expression)];
      }
    } else if (Status s = Fallback(bgr, face); !s.ok()) {
      return s;
    }
    if (tracked) tracks_[face.track_id] = {best.index, 0, r};
    face.receipt = std::move(r);
    return Status::Ok();
  }

  std::unique_ptr<FaceGenerator> generator_;
  IdentityGuardOptions o_;
  std::shared_ptr<IdentityEmbedder> embedder_;
  std::shared_ptr<AttributeEstimator> attributes_;
  std::shared_ptr<FacenessJudge> faceness_;
  cv::Mat1f bank_;  // reference bank for relative margins and the stranger test (or empty)
  std::map<int, TrackState> tracks_;  // by track id
};

}  // namespace

std::unique_ptr<FaceMethod> MakeGenerateMethod(std::unique_ptr<FaceGenerator> generator) {
  return std::make_unique<GenerateMethod>(std::move(generator));
}

std::unique_ptr<FaceMethod> MakeGenerateMethod(std::unique_ptr<FaceGenerator> generator,
                                               const IdentityGuardOptions& guard,
                                               std::shared_ptr<IdentityEmbedder> embedder,
                                               std::shared_ptr<AttributeEstimator> attributes,
                                               std::shared_ptr<FacenessJudge> faceness,
                                               cv::Mat1f bank) {
  if (!embedder) return MakeGenerateMethod(std::move(generator));
  return std::make_unique<GuardedGenerateMethod>(std::move(generator), guard, std::move(embedder),
                                                 std::move(attributes), std::move(faceness),
                                                 std::move(bank));
}

}  // namespace standin
