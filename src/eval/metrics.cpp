#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>
#include <opencv2/calib3d.hpp>
#include <opencv2/core.hpp>
#include <optional>
#include <tuple>

#include "standin/eval.hpp"

namespace standin::eval {

double ThresholdAtFalseAcceptRate(std::vector<float> impostor, double far) {
  if (impostor.empty()) return 1.0;
  std::sort(impostor.begin(), impostor.end(), std::greater<>());
  // Accept at most floor(far * n) impostors: the threshold is the score of the next one down.
  const auto allowed =
      static_cast<std::size_t>(std::floor(far * static_cast<double>(impostor.size())));
  if (allowed >= impostor.size()) return -std::numeric_limits<double>::infinity();
  return impostor[allowed];
}

namespace {

// Rank-1 over the probes with `counted[i]` set, from each probe's hit (0 or 1) and chance, with
// the hits and probes tallied per person (labels below `people`; nothing for another label).
struct Rank1Tally {
  Rank1Share share;
  std::vector<int> hits_by_person, probes_by_person;
};
std::optional<Rank1Tally> TallyRank1(const std::vector<int>& hit, const std::vector<double>& chance,
                                     const std::vector<int>& person,
                                     const std::vector<bool>& counted, std::size_t people) {
  Rank1Tally t;
  t.hits_by_person.assign(people, 0);
  t.probes_by_person.assign(people, 0);
  int hit_total = 0;
  double chance_sum = 0;
  for (std::size_t i = 0; i < hit.size(); ++i) {
    if (!counted[i]) continue;
    const auto p = static_cast<std::size_t>(person[i]);
    if (p >= people) return std::nullopt;
    ++t.share.probes;
    ++t.probes_by_person[p];
    t.hits_by_person[p] += hit[i];
    hit_total += hit[i];
    chance_sum += chance[i];
  }
  if (t.share.probes == 0) return t;
  t.share.rank1 = static_cast<double>(hit_total) / t.share.probes;
  t.share.chance_rank1 = chance_sum / t.share.probes;
  std::tie(t.share.rank1_low, t.share.rank1_high) =
      PersonBootstrapInterval(t.hits_by_person, t.probes_by_person);
  return t;
}

}  // namespace

UtkLabels ParseUtkName(const std::string& name) {
  UtkLabels l;
  int age = -1, gender = -1;
  if (std::sscanf(name.c_str(), "%d_%d_", &age, &gender) >= 1) l.age = static_cast<float>(age);
  if (gender == 0 || gender == 1) l.gender = gender;
  return l;
}

ReidScores ScoreReidentification(const cv::Mat1f& clean, const cv::Mat1f& probe,
                                 const std::vector<int>& person, double far,
                                 const std::vector<int>& hidden) {
  ReidScores r;
  const int n = clean.rows;
  r.faces = n;
  if (n < 2 || probe.rows != n || static_cast<int>(person.size()) != n) return r;
  if (!hidden.empty() && static_cast<int>(hidden.size()) != n) return r;
  const cv::Mat1f clean_sim = clean * clean.t();
  std::vector<float> impostor;
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      if (person[i] != person[j]) impostor.push_back(clean_sim(i, j));
    }
  }
  r.threshold = ThresholdAtFalseAcceptRate(impostor, far);
  r.chance_verified = far;

  const cv::Mat1f sim = probe * clean.t();
  std::int64_t genuine_pairs = 0, accepted = 0;
  double genuine_sum = 0;
  for (int i = 0; i < n; ++i) {
    int best = -1;
    int same_others = 0;
    int gallery = 0;
    const int leave_out = hidden.empty() ? -1 : hidden[static_cast<std::size_t>(i)];
    for (int j = 0; j < n; ++j) {
      if (j == i) continue;
      if (person[j] == person[i]) {
        ++genuine_pairs;
        ++same_others;
        genuine_sum += sim(i, j);
        if (sim(i, j) > r.threshold) ++accepted;
      }
      if (person[j] == leave_out && leave_out != person[i]) continue;
      ++gallery;
      if (best < 0 || sim(i, j) > sim(i, best)) best = j;
    }
    r.rank1_hit.push_back(best >= 0 && person[best] == person[i] ? 1 : 0);
    r.rank1_chance.push_back(gallery > 0 ? static_cast<double>(same_others) / gallery : 0.0);
  }
  r.verified =
      genuine_pairs ? static_cast<double>(accepted) / static_cast<double>(genuine_pairs) : 0;
  r.mean_genuine_similarity = genuine_pairs ? genuine_sum / static_cast<double>(genuine_pairs) : 0;
  const auto people = static_cast<std::size_t>(*std::max_element(person.begin(), person.end()) + 1);
  auto all = TallyRank1(r.rank1_hit, r.rank1_chance, person,
                        std::vector<bool>(static_cast<std::size_t>(n), true), people);
  if (!all) return r;
  r.rank1 = all->share.rank1;
  r.chance_rank1 = all->share.chance_rank1;
  r.rank1_low = all->share.rank1_low;
  r.rank1_high = all->share.rank1_high;
  r.rank1_hits_by_person = std::move(all->hits_by_person);
  r.probes_by_person = std::move(all->probes_by_person);
  return r;
}

Rank1Share Rank1Among(const ReidScores& scores, const std::vector<int>& person,
                      const std::vector<bool>& counted) {
  const std::size_t n = scores.rank1_hit.size();
  if (counted.size() != n || person.size() != n || scores.rank1_chance.size() != n) return {};
  const auto t = TallyRank1(scores.rank1_hit, scores.rank1_chance, person, counted,
                            scores.probes_by_person.size());
  return t ? t->share : Rank1Share{};
}

std::pair<double, double> PersonBootstrapInterval(const std::vector<int>& hits,
                                                  const std::vector<int>& probes, int reps,
                                                  std::uint64_t seed) {
  std::vector<std::size_t> people;
  for (std::size_t p = 0; p < probes.size() && p < hits.size(); ++p) {
    if (probes[p] > 0) people.push_back(p);
  }
  if (people.empty() || reps < 1) return {0.0, 0.0};
  cv::RNG rng(seed);
  std::vector<double> shares;
  shares.reserve(static_cast<std::size_t>(reps));
  for (int r = 0; r < reps; ++r) {
    long h = 0, n = 0;
    for (std::size_t k = 0; k < people.size(); ++k) {
      const std::size_t p =
          people[static_cast<std::size_t>(rng.uniform(0, static_cast<int>(people.size())))];
      h += hits[p];
      n += probes[p];
    }
    shares.push_back(static_cast<double>(h) / static_cast<double>(n));
  }
  std::sort(shares.begin(), shares.end());
  const auto at = [&](double q) {
    return shares[static_cast<std::size_t>(std::lround(q * static_cast<double>(reps - 1)))];
  };
  return {at(0.025), at(0.975)};
}

SamePhotoScores ScoreSamePhoto(const cv::Mat1f& original, const cv::Mat1f& anonymized,
                               double threshold) {
  SamePhotoScores r;
  r.threshold = threshold;
  if (original.rows == 0 || original.rows != anonymized.rows || original.cols != anonymized.cols) {
    return r;
  }
  r.faces = original.rows;
  int above = 0;
  double sum = 0;
  for (int i = 0; i < original.rows; ++i) {
    const double s = original.row(i).dot(anonymized.row(i));
    sum += s;
    above += s > threshold;
  }
  r.mean_similarity = sum / r.faces;
  r.verified = static_cast<double>(above) / r.faces;
  return r;
}

double ThresholdAmongStrangers(const cv::Mat1f& faces, double far) {
  const cv::Mat1f sim = faces * faces.t();
  std::vector<float> pairs;
  for (int a = 0; a < sim.rows; ++a) {
    for (int b = a + 1; b < sim.cols; ++b) pairs.push_back(sim(a, b));
  }
  return ThresholdAtFalseAcceptRate(std::move(pairs), far);
}

std::vector<float> MaxSimilarity(const cv::Mat1f& probe, const cv::Mat1f& references) {
  std::vector<float> out(static_cast<std::size_t>(probe.rows), -1.f);
  if (references.rows == 0) return out;
  const cv::Mat1f sim = probe * references.t();
  for (int i = 0; i < probe.rows; ++i) {
    double mx = 0;
    cv::minMaxLoc(sim.row(i), nullptr, &mx);
    out[static_cast<std::size_t>(i)] = static_cast<float>(mx);
  }
  return out;
}

double NormalisedMeanError(const std::vector<cv::Point2f>& reference,
                           const std::vector<cv::Point2f>& points, int i, int j) {
  if (reference.empty() || reference.size() != points.size() ||
      static_cast<std::size_t>(std::max(i, j)) >= reference.size()) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  const double norm =
      cv::norm(reference[static_cast<std::size_t>(i)] - reference[static_cast<std::size_t>(j)]);
  double sum = 0;
  for (std::size_t k = 0; k < points.size(); ++k) sum += cv::norm(reference[k] - points[k]);
  return norm > 0 ? sum / static_cast<double>(points.size()) / norm
                  : std::numeric_limits<double>::quiet_NaN();
}

namespace {

// A generic face in camera axes (x right, y down, z away from the camera), arbitrary units:
// nose tip, chin, outer eye corners, mouth corners (a widely used average head model).
const std::array<cv::Point3d, 6> kGenericFace = {
    cv::Point3d(0, 0, 0),        cv::Point3d(0, 330, 65),     cv::Point3d(-225, -170, 135),
    cv::Point3d(225, -170, 135), cv::Point3d(-150, 150, 125), cv::Point3d(150, 150, 125)};
constexpr std::array<int, 6> kPoseLandmarks = {30, 8, 36, 45, 48, 54};

}  // namespace

std::optional<cv::Vec3d> HeadPose(const std::vector<cv::Point2f>& landmarks68, cv::Point2f centre,
                                  double focal) {
  if (landmarks68.size() < 68 || focal <= 0) return std::nullopt;
  std::vector<cv::Point3d> model(kGenericFace.begin(), kGenericFace.end());
  std::vector<cv::Point2d> image;
  for (int i : kPoseLandmarks) image.emplace_back(landmarks68[static_cast<std::size_t>(i)]);
  const cv::Matx33d camera(focal, 0, centre.x, 0, focal, centre.y, 0, 0, 1);
  cv::Vec3d rvec, tvec;
  // SQPnP: the global minimum (the iterative solver can settle behind the camera when the
  // face's proportions differ from the model's).
  if (!cv::solvePnP(model, image, camera, cv::noArray(), rvec, tvec, false, cv::SOLVEPNP_SQPNP) ||
      tvec[2] <= 0) {
    return std::nullopt;
  }
  cv::Matx33d rotation;
  cv::Rodrigues(rvec, rotation);
  cv::Matx33d r_upper, q;
  cv::Vec3d euler = cv::RQDecomp3x3(rotation, r_upper, q);  // degrees about x, y, z
  // (x, y, z) and (x + 180, 180 - y, z + 180) are the same rotation: take the one with the
  // pitch within +-90 (a face seen from the front), each angle in (-180, 180].
  if (std::abs(euler[0]) > 90) euler = {euler[0] + 180, 180 - euler[1], euler[2] + 180};
  for (int k = 0; k < 3; ++k) euler[k] = std::remainder(euler[k], 360.0);
  return cv::Vec3d(euler[1], euler[0], euler[2]);  // yaw, pitch, roll
}

namespace {

void MeanAndCovariance(const cv::Mat1f& x, cv::Mat1d& mean, cv::Mat1d& cov) {
  cv::Mat1d xd;
  x.convertTo(xd, CV_64F);
  cv::reduce(xd, mean, 0, cv::REDUCE_AVG);
  const cv::Mat1d centred = xd - cv::repeat(mean, xd.rows, 1);
  cov = centred.t() * centred / static_cast<double>(xd.rows - 1);
}

// Symmetric positive semi-definite square root (negative eigenvalues from rounding clipped).
cv::Mat1d SqrtPsd(const cv::Mat1d& s) {
  cv::Mat1d values, vectors;  // rows of `vectors` are the eigenvectors
  cv::eigen(s, values, vectors);
  cv::Mat1d scaled = vectors.t();
  for (int k = 0; k < values.rows; ++k) scaled.col(k) *= std::sqrt(std::max(0.0, values(k)));
  return scaled * vectors;
}

}  // namespace

double FrechetDistance(const cv::Mat1f& a, const cv::Mat1f& b) {
  if (a.rows < 2 || b.rows < 2 || a.cols != b.cols) return std::numeric_limits<double>::quiet_NaN();
  cv::Mat1d mu_a, mu_b, s_a, s_b;
  MeanAndCovariance(a, mu_a, s_a);
  MeanAndCovariance(b, mu_b, s_b);
  // tr((S_a S_b)^(1/2)) = tr((S_a^(1/2) S_b S_a^(1/2))^(1/2)), whose argument is symmetric PSD.
  const cv::Mat1d root_a = SqrtPsd(s_a);
  cv::Mat1d m = root_a * s_b * root_a;
  m = (m + m.t()) * 0.5;
  cv::Mat1d values;
  cv::eigen(m, values);
  double tr_cross = 0;
  for (int k = 0; k < values.rows; ++k) tr_cross += std::sqrt(std::max(0.0, values(k)));
  const double d_mu = cv::norm(mu_a - mu_b, cv::NORM_L2SQR);
  return std::max(0.0, d_mu + cv::trace(s_a)[0] + cv::trace(s_b)[0] - 2 * tr_cross);
}

}  // namespace standin::eval
