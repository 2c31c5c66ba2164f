#include "generate/donors.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <opencv2/imgproc.hpp>

#include "blend/blend.hpp"

namespace standin {
namespace {

// Each element's place when `values` are sorted (0 = the lowest); equal values share the mean of
// their places.
std::vector<double> Ranks(const std::vector<double>& values) {
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return values[a] < values[b]; });
  std::vector<double> rank(values.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && values[order[j + 1]] == values[order[i]]) ++j;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = 0.5 * static_cast<double>(i + j);
    i = j + 1;
  }
  return rank;
}

}  // namespace

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

std::vector<cv::Scalar> DonorEdgeColours(const DonorPool& pool, const cv::Mat1f& mask) {
  std::vector<cv::Scalar> lab;
  for (const cv::Mat& face : pool.faces) {
    const blend::EdgeColour e = blend::EdgeColourOf(face, mask, /*skin_only=*/true);
    lab.push_back(e.total > 1e-6 ? e.lab_sum / e.total : cv::Scalar::all(-1));
  }
  return lab;
}

std::vector<double> DonorIdentity(const std::vector<cv::Mat1f>& embeddings,
                                  const std::vector<const cv::Mat1f*>& originals) {
  std::vector<double> total;
  for (size_t r = 0; r < embeddings.size() && r < originals.size(); ++r) {
    const cv::Mat1f sims = embeddings[r] * originals[r]->reshape(1, embeddings[r].cols);
    cv::Scalar mean, sd;
    cv::meanStdDev(sims, mean, sd);
    total.resize(static_cast<size_t>(sims.rows), 0.0);
    for (int d = 0; d < sims.rows; ++d) {
      total[static_cast<size_t>(d)] += (sims(d) - mean[0]) / std::max(sd[0], 1e-9);
    }
  }
  return total;
}

std::vector<int> DonorOrder(const DonorPool& pool, const std::vector<cv::Scalar>& donor_lab,
                            const FaceGenerator::Prepared& p, int R, const FaceAttributes* before,
                            float age, const std::vector<double>& identity,
                            double identity_weight) {
  const std::vector<cv::Point2f>& kp = p.keypoints;
  const bool colour = p.edge_total > 1e-6;
  const cv::Scalar lab = colour ? p.edge_lab_sum / p.edge_total : cv::Scalar();
  std::vector<double> cost(pool.faces.size(), 0.0);
  for (size_t d = 0; d < pool.faces.size(); ++d) {
    double pose = 0;
    const auto& from = pool.keypoints[d];
    const size_t n = std::min(from.size(), kp.size());
    for (size_t i = 0; i < n; ++i) pose += cv::norm(from[i] * static_cast<float>(R) - kp[i]);
    cost[d] = pose / static_cast<double>(std::max<size_t>(n, 1) * R) / 0.02;
    if (colour && donor_lab[d][0] >= 0) {
      const cv::Scalar diff = donor_lab[d] - lab;
      cost[d] +=
          (p.grey ? std::abs(diff[0]) : cv::norm(cv::Vec3d(diff[0], diff[1], diff[2]))) / 25.0;
    }
    if (before) {
      cost[d] += 0.5 * (std::min(1.0, std::abs(pool.age[d] - age) / 20.0) +
                        std::abs(pool.female[d] - before->p_female));
    }
  }
  // The key donors are sorted by: the cost, or the two ranks combined.
  std::vector<double> key = cost;
  if (identity_weight > 0 && identity.size() == pool.faces.size()) {
    const std::vector<double> by_cost = Ranks(cost), by_identity = Ranks(identity);
    for (size_t d = 0; d < key.size(); ++d) key[d] = by_cost[d] + identity_weight * by_identity[d];
  }
  std::vector<int> order(key.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return key[static_cast<size_t>(a)] < key[static_cast<size_t>(b)];
  });
  return order;
}

}  // namespace standin
