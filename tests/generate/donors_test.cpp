// The identity guard's donors: each donor's own embedding, and the order in which a face's donors
// are tried (pose, colour and attributes, and how far each donor's face is from the original).
#include "generate/donors.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "standin/analysis.hpp"
#include "standin/generator.hpp"
#include "standin/models.hpp"

namespace standin {
namespace {

// The donor embeddings were made by training/donor_embeddings.py in Python; they must be what
// standin's own recognisers read from each donor, aligned as standin aligns a face.
TEST(DonorEmbeddings, AreWhatEachRecogniserReadsFromEachDonor) {
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok());
  auto gen = FaceGenerator::Create(*store, {});
  ASSERT_TRUE(gen.ok());
  auto pool = LoadDonorPool(*store, (*gen)->spec());
  ASSERT_TRUE(pool.ok()) << pool.status().message();
  const int R = (*gen)->spec().resolution;
  for (const std::string name : {"arcface", "mobileface", "dlib-resnet"}) {
    SCOPED_TRACE(name);
    auto rows = LoadDonorEmbeddings(*store, name);
    ASSERT_TRUE(rows.ok()) << rows.status().message();
    ASSERT_EQ(rows->rows, static_cast<int>(pool->faces.size()));
    auto net = MakeIdentityEmbedder(name, *store);
    ASSERT_TRUE(net.ok());
    for (int d = 0; d < rows->rows; ++d) EXPECT_NEAR(cv::norm(rows->row(d)), 1.0, 2e-3) << d;
    for (const int d : {0, 137, 511}) {
      std::array<cv::Point2f, 5> kps5;
      for (size_t k = 0; k < kps5.size(); ++k) {
        kps5[k] = pool->keypoints[static_cast<size_t>(d)][k] * static_cast<float>(R);
      }
      auto e = (*net)->Embed(pool->faces[static_cast<size_t>(d)], kps5);
      ASSERT_TRUE(e.ok());
      EXPECT_GT(e->dot(rows->row(d)), 0.995) << d;
      // and not what it reads from another donor (dlib's ResNet puts strangers at about 0.95)
      EXPECT_GT(e->dot(rows->row(d)), e->dot(rows->row(d == 0 ? 1 : 0)) + 0.02) << d;
    }
  }
}

// Unit rows of `dims` values; row i points mostly along axis axes[i].
cv::Mat1f Rows(const std::vector<int>& axes, int dims) {
  cv::Mat1f m(static_cast<int>(axes.size()), dims, 0.f);
  for (int i = 0; i < m.rows; ++i) {
    m.row(i).setTo(0.05f);
    m(i, axes[static_cast<size_t>(i)]) = 1.f;
    cv::normalize(m.row(i), m.row(i));
  }
  return m;
}

TEST(DonorIdentity, SumsEachRecognisersZScoredSimilarityToTheOriginal) {
  // Four donors; the original lies along axis 0 for both recognisers.
  const cv::Mat1f first = Rows({0, 1, 2, 0}, 4), second = Rows({1, 0, 2, 3}, 3 + 1);
  const cv::Mat1f original = Rows({0}, 4);
  const std::vector<double> one = DonorIdentity({first}, {&original});
  ASSERT_EQ(one.size(), 4u);
  EXPECT_NEAR(one[0], one[3], 1e-9);  // the same face
  EXPECT_GT(one[0], one[1]);          // closer to the original than a face along another axis
  EXPECT_NEAR(std::accumulate(one.begin(), one.end(), 0.0), 0.0, 1e-9);  // z-scored
  const std::vector<double> both = DonorIdentity({first, second}, {&original, &original});
  // Donor 1 is far by the first recogniser, close by the second; donor 2 far by both.
  EXPECT_LT(both[2], both[1]);
  EXPECT_LT(both[2], both[0]);
  EXPECT_NEAR(both[1], one[1] + DonorIdentity({second}, {&original})[1], 1e-9);
  EXPECT_TRUE(DonorIdentity({}, {}).empty());
}

// A pool of `n` donors whose keypoints lie ever farther from the face's: by cost alone, donor 0
// comes first.
struct PoolAlongX {
  DonorPool pool;
  std::vector<cv::Scalar> lab;
  FaceGenerator::Prepared p;
  static constexpr int kR = 64;
  explicit PoolAlongX(int n, float step = 0.004f) {
    const std::vector<cv::Point2f> base{{0.35f, 0.3f}, {0.65f, 0.3f}, {0.5f, 0.45f},
                                        {0.37f, 0.6f}, {0.63f, 0.6f}, {0.5f, 0.8f}};
    for (int d = 0; d < n; ++d) {
      pool.faces.emplace_back(kR, kR, CV_8UC3, cv::Scalar::all(128));
      std::vector<cv::Point2f> kp = base;
      for (auto& q : kp) q.x += step * static_cast<float>(d);
      pool.keypoints.push_back(kp);
      pool.age.push_back(30.f);
      pool.female.push_back(0.f);
      lab.emplace_back(-1, 0, 0);  // no edge colour: colour does not count
    }
    for (const auto& q : base) p.keypoints.push_back(q * static_cast<float>(kR));
  }
};

TEST(DonorOrder, PoseFirstThenAlsoHowFarEachDonorIsFromTheOriginal) {
  const PoolAlongX s(6);
  std::vector<int> by_cost(6);
  std::iota(by_cost.begin(), by_cost.end(), 0);
  EXPECT_EQ(DonorOrder(s.pool, s.lab, s.p, PoolAlongX::kR, nullptr, 30.f), by_cost);
  // Predicted identity: donor 5 farthest from the original, donor 0 closest.
  const std::vector<double> identity{2.0, 1.0, 0.5, 0.0, -1.0, -2.0};
  // Weight 0, or no identity: the cost alone.
  EXPECT_EQ(DonorOrder(s.pool, s.lab, s.p, PoolAlongX::kR, nullptr, 30.f, identity, 0.0), by_cost);
  EXPECT_EQ(DonorOrder(s.pool, s.lab, s.p, PoolAlongX::kR, nullptr, 30.f, {}, 1.0), by_cost);
  // Identity alone decides at a large weight.
  EXPECT_EQ(DonorOrder(s.pool, s.lab, s.p, PoolAlongX::kR, nullptr, 30.f, identity, 100.0),
            (std::vector<int>{5, 4, 3, 2, 1, 0}));
  // At weight 1 both ranks count alike: every donor's rank sum is 5, so ties go by index.
  EXPECT_EQ(DonorOrder(s.pool, s.lab, s.p, PoolAlongX::kR, nullptr, 30.f, identity, 1.0), by_cost);
  // A donor near in pose and far in identity comes first at weight 1.
  const std::vector<double> second_far{5.0, -3.0, 1.0, 2.0, 3.0, 4.0};
  const std::vector<int> order =
      DonorOrder(s.pool, s.lab, s.p, PoolAlongX::kR, nullptr, 30.f, second_far, 1.0);
  EXPECT_EQ(order, (std::vector<int>{1, 2, 0, 3, 4, 5}));  // rank sums 1, 3, 5, 5, 7, 9
}

TEST(DonorOrder, AttributesStillCountWithTheIdentityOrder) {
  PoolAlongX s(4, 0.001f);               // pose costs 0.05 per donor, a gender mismatch 0.5
  s.pool.female = {1.f, 1.f, 0.f, 0.f};  // the first two are labelled female
  FaceAttributes male;
  male.p_female = 0.f;
  EXPECT_EQ(DonorOrder(s.pool, s.lab, s.p, PoolAlongX::kR, &male, 30.f),
            (std::vector<int>{2, 3, 0, 1}));
  // Identity ties: the cost decides.
  const std::vector<double> flat(4, 0.0);
  EXPECT_EQ(DonorOrder(s.pool, s.lab, s.p, PoolAlongX::kR, &male, 30.f, flat, 1.0),
            (std::vector<int>{2, 3, 0, 1}));
}

}  // namespace
}  // namespace standin
