#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <numeric>
#include <opencv2/calib3d.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <vector>

#include "analyze/onnx.hpp"
#include "standin/analysis.hpp"

namespace standin {

namespace {

// The image -> crop similarity that puts the keypoints on the template.
cv::Mat AlignmentOf(const std::array<cv::Point2f, 5>& kps5,
                    const std::array<cv::Point2f, 5>& template_px) {
  const std::vector<cv::Point2f> src(kps5.begin(), kps5.end());
  const std::vector<cv::Point2f> dst(template_px.begin(), template_px.end());
  cv::Mat m = cv::estimateAffinePartial2D(src, dst);
  if (m.empty()) {
    // Degenerate keypoints: scale the keypoints' bounding box onto the template's.
    const cv::Rect2f a = cv::boundingRect(src), b = cv::boundingRect(dst);
    const double s = a.width > 0 ? b.width / a.width : 1.0;
    m = (cv::Mat_<double>(2, 3) << s, 0, b.x - s * a.x, 0, s, b.y - s * a.y);
  }
  return m;
}

}  // namespace

cv::Mat AlignFace(const cv::Mat& bgr, const std::array<cv::Point2f, 5>& kps5,
                  const std::array<cv::Point2f, 5>& template_px, int size) {
  cv::Mat out;
  cv::warpAffine(bgr, out, AlignmentOf(kps5, template_px), cv::Size(size, size), cv::INTER_LINEAR,
                 cv::BORDER_REPLICATE);
  return out;
}

namespace {

// The image rectangle AlignFace reads.
cv::Rect AlignedFaceReads(const std::array<cv::Point2f, 5>& kps5,
                          const std::array<cv::Point2f, 5>& template_px, int size) {
  cv::Mat inv;
  cv::invertAffineTransform(AlignmentOf(kps5, template_px), inv);
  const auto n = static_cast<float>(size);
  std::vector<cv::Point2f> corners{{0, 0}, {n, 0}, {0, n}, {n, n}}, at;
  cv::transform(corners, at, inv);
  // Bilinear sampling reads the pixel on either side of each sample point: a margin of 2.
  const cv::Rect r = cv::boundingRect(at);
  return {r.x - 2, r.y - 2, r.width + 4, r.height + 4};
}

}  // namespace

Expected<cv::dnn::Net> LoadOnnxNet(const ModelStore& models, const std::string& file) {
  auto path = models.Path(file);
  if (!path.ok()) return path.status();
  try {
    cv::dnn::Net net = cv::dnn::readNetFromONNX(path->string());
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    return net;
  } catch (const cv::Exception& e) {
    return Status(ErrorCode::kModelMissing,
                  fmt::format("{}: cannot load: {}", path->string(), e.what()));
  }
}

namespace {

// How a recogniser wants its face: the model file, the 5-point alignment template in a
// size x size crop, and the pixel scaling (x - mean) * scale of RGB input.
struct RecogniserSpec {
  std::string name;
  std::string file;
  int size;
  std::array<cv::Point2f, 5> template_px;
  double scale;
  double mean;
  int dims;  // embedding length (and a reference bank's row length)
  // Its similarity at 1% false accepts on clean AT&T impostor pairs (docs/eval.json,
  // verification_threshold): the identity guard's default margin on this recogniser's scale.
  float margin;
  // Milliseconds per embedding on one thread (bench_stages BM_IdentityEmbed, 2 cores, session 18):
  // the identity guard asks the cheapest of its recognisers first.
  float ms;
  bool guard = true;  // the identity guard may judge with it first (false: evaluation, or second)
};

// The ArcFace five-point template in a 112 px crop.
const std::array<cv::Point2f, 5> kArcfaceTemplate112 = {
    cv::Point2f{38.2946f, 51.6963f}, cv::Point2f{73.5318f, 51.5014f},
    cv::Point2f{56.0252f, 71.7366f}, cv::Point2f{41.5493f, 92.3655f},
    cv::Point2f{70.7299f, 92.2041f}};

const std::vector<RecogniserSpec>& Recognisers() {
  static const std::vector<RecogniserSpec> kSpecs = {
      // fr_feature.onnx: 512-d, RGB (x - 127.5) / 128, the ArcFace 112 px template.
      {"arcface", "fr_feature.onnx", 112, kArcfaceTemplate112, 1.0 / 128, 127.5, 512, 0.315f,
       5.06f},
      // dlib's ResNet face descriptor (face-api's port, converted by
      // models/convert_faceapi_recognition.py): 128-d, RGB 0..255 (normalisation folded into the
      // graph), the ArcFace template scaled to 150 px: on att-faces the best rank-1 among the
      // scales tried (0.965, AUC 0.922); looser crops lost up to 6 points.
      {"dlib-resnet",
       "dlib_resnet_faceapi.onnx",
       150,
       {cv::Point2f{51.288f, 69.236f}, cv::Point2f{98.480f, 68.975f}, cv::Point2f{75.034f, 96.076f},
        cv::Point2f{55.646f, 123.704f}, cv::Point2f{94.728f, 123.488f}},
       1.0,
       0.0,
       128,
       0.961f,
       5.67f},
      // MobileFace (human-models' port, converted by models/convert_mobileface.py): 256-d, RGB
      // 0..255 (normalisation inside the graph), the ArcFace 112 px template. Not the guard's
      // first judge: by default the guard never consults it, so `standin eval` measures
      // stand-ins with a recogniser they were not chosen against; it may be the guard's second
      // (IdentityGuardOptions::second). On att-faces (400 photos): AUC 0.974, rank-1 99.2%.
      {"mobileface", "mobileface.onnx", 112, kArcfaceTemplate112, 1.0, 0.0, 256, 0.452f, 0.50f,
       false},
  };
  return kSpecs;
}

// The recogniser called `name`, or null.
const RecogniserSpec* FindRecogniser(const std::string& name) {
  const auto& specs = Recognisers();
  const auto it = std::find_if(specs.begin(), specs.end(),
                               [&](const RecogniserSpec& r) { return r.name == name; });
  return it == specs.end() ? nullptr : &*it;
}

class AlignedEmbedder : public IdentityEmbedder {
 public:
  AlignedEmbedder(RecogniserSpec spec, cv::dnn::Net net)
      : spec_(std::move(spec)), net_(std::move(net)) {}

  Expected<cv::Mat1f> Embed(const cv::Mat& bgr, const std::array<cv::Point2f, 5>& kps5) override {
    const cv::Mat crop = AlignFace(bgr, kps5, spec_.template_px, spec_.size);
    try {
      net_.setInput(
          cv::dnn::blobFromImage(crop, spec_.scale, {}, cv::Scalar::all(spec_.mean), true));
      cv::Mat1f e = net_.forward().reshape(1, 1).clone();
      return cv::Mat1f(e / std::max(1e-12, cv::norm(e)));
    } catch (const cv::Exception& ex) {
      return Status(ErrorCode::kProcessingFailed, fmt::format("{}: {}", spec_.name, ex.what()));
    }
  }
  [[nodiscard]] cv::Rect Reads(const std::array<cv::Point2f, 5>& kps5) const override {
    return AlignedFaceReads(kps5, spec_.template_px, spec_.size);
  }
  [[nodiscard]] const std::string& name() const override { return spec_.name; }

 private:
  RecogniserSpec spec_;
  cv::dnn::Net net_;
};

}  // namespace

std::vector<std::string> IdentityEmbedderNames() {
  std::vector<std::string> names;
  for (const auto& r : Recognisers()) names.push_back(r.name);
  return names;
}

std::optional<float> RecogniserMargin(const std::string& name) {
  const RecogniserSpec* spec = FindRecogniser(name);
  return spec ? std::optional<float>(spec->margin) : std::nullopt;
}

std::optional<float> RecogniserMilliseconds(const std::string& name) {
  const RecogniserSpec* spec = FindRecogniser(name);
  return spec ? std::optional<float>(spec->ms) : std::nullopt;
}

std::vector<std::string> GuardRecogniserNames() {
  std::vector<std::string> names;
  for (const auto& r : Recognisers()) {
    if (r.guard) names.push_back(r.name);
  }
  return names;
}

Expected<std::unique_ptr<IdentityEmbedder>> MakeIdentityEmbedder(const std::string& name,
                                                                 const ModelStore& models) {
  const RecogniserSpec* spec = FindRecogniser(name);
  if (!spec)
    return Status(ErrorCode::kInvalidArgument, fmt::format("unknown recogniser '{}'", name));
  auto net = LoadOnnxNet(models, spec->file);
  if (!net.ok()) return net.status();
  return std::unique_ptr<IdentityEmbedder>(new AlignedEmbedder(*spec, std::move(net).value()));
}

namespace {
// Rows of `recogniser`'s float16 embeddings in the model file `name`.
Expected<cv::Mat1f> LoadEmbeddingRows(const ModelStore& models, const std::string& name,
                                      const std::string& recogniser) {
  const RecogniserSpec* spec = FindRecogniser(recogniser);
  if (!spec) {
    return Status(ErrorCode::kInvalidArgument, fmt::format("unknown recogniser '{}'", recogniser));
  }
  auto path = models.Path(name);
  if (!path.ok()) return path.status();
  const int kDim = spec->dims;
  std::ifstream in(*path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::size_t row = kDim * sizeof(std::uint16_t);
  if (bytes.empty() || bytes.size() % row != 0) {
    return Status(ErrorCode::kModelMissing,
                  fmt::format("{}: not {}-d float16 rows", path->string(), kDim));
  }
  const int n = static_cast<int>(bytes.size() / row);
  cv::Mat half(n, kDim, CV_16F, bytes.data());
  cv::Mat1f rows;
  half.convertTo(rows, CV_32F);
  return rows;
}
}  // namespace

Expected<cv::Mat1f> LoadIdentityBank(const ModelStore& models, const std::string& recogniser) {
  return LoadEmbeddingRows(models, "identity_bank_" + recogniser, recogniser);
}

Expected<cv::Mat1f> LoadDonorEmbeddings(const ModelStore& models, const std::string& recogniser) {
  return LoadEmbeddingRows(models, "donor_embeddings_" + recogniser, recogniser);
}

Expected<std::vector<float>> LoadIdentityBankAges(const ModelStore& models) {
  auto path = models.Path("identity_bank_ages");
  if (!path.ok()) return path.status();
  try {
    std::ifstream in(*path);
    return nlohmann::json::parse(in).at("ages").get<std::vector<float>>();
  } catch (const std::exception& ex) {
    return Status(ErrorCode::kModelMissing,
                  fmt::format("{} is unreadable ({})", path->string(), ex.what()));
  }
}

float BankAge(const cv::Mat1f& bank, const std::vector<float>& ages, const cv::Mat1f& embedding,
              float fallback, int k) {
  if (k < 1 || bank.rows < k || ages.size() != static_cast<std::size_t>(bank.rows) ||
      embedding.total() != static_cast<std::size_t>(bank.cols)) {
    return fallback;
  }
  const cv::Mat1f sims = bank * embedding.reshape(1, bank.cols);
  std::vector<int> idx(static_cast<std::size_t>(bank.rows));
  std::iota(idx.begin(), idx.end(), 0);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                    [&](int a, int b) { return sims(a) > sims(b); });
  std::vector<float> nearest;
  for (int i = 0; i < k; ++i)
    nearest.push_back(ages[static_cast<std::size_t>(idx[static_cast<std::size_t>(i)])]);
  std::nth_element(nearest.begin(), nearest.begin() + k / 2, nearest.end());
  return nearest[static_cast<std::size_t>(k / 2)];
}

cv::Mat1f BankAgeBand(const cv::Mat1f& bank, const std::vector<float>& ages, float age,
                      int min_rows) {
  if (ages.size() != static_cast<std::size_t>(bank.rows)) return bank;
  const float band = std::max(3.f, 0.3f * age);
  cv::Mat1f rows;
  for (int i = 0; i < bank.rows; ++i) {
    if (std::abs(ages[static_cast<std::size_t>(i)] - age) <= band) rows.push_back(bank.row(i));
  }
  return rows.rows >= min_rows ? rows : bank;
}

float RelativeMargin(const cv::Mat1f& bank, const cv::Mat1f& embedding, float percentile,
                     float floor) {
  if (bank.empty() || embedding.total() != static_cast<std::size_t>(bank.cols)) return floor;
  cv::Mat1f sims = bank * embedding.reshape(1, bank.cols);  // one similarity per bank face
  std::vector<float> v(sims.begin(), sims.end());
  // The value `percentile` % of the bank's similarities lie at or below (nearest rank).
  const double rank = std::ceil(std::clamp(percentile, 0.f, 100.f) / 100.0 * v.size());
  const auto k = static_cast<std::size_t>(std::clamp(rank, 1.0, static_cast<double>(v.size()))) - 1;
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return std::max(floor, v[k]);
}

}  // namespace standin
