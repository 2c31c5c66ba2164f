#include "standin/generator.hpp"

#include <fmt/core.h>

#include <array>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/calib3d.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "blend/blend.hpp"
#include "standin/landmarker.hpp"
#include "standin/methods.hpp"

namespace standin {
namespace fs = std::filesystem;

// Largest colour correction of a stand-in, in CIE Lab units (L 0..100).
constexpr double kMaxColourShift = 25.0;
// The harmonic edge match (blend::HarmonicMatch) corrects what is left after that shift, place by
// place, by at most this (8-bit units).
constexpr double kMaxHarmonicShift = 60.0;

namespace {

// Where the stand-in's facial features are, in the R x R crop: 1 at the eyes and brows, the nose
// tip and the mouth corners (the first five keypoints of the condition), falling off as a
// Gaussian of 0.3 inter-ocular distances; 0 on cheeks, forehead and jaw.
cv::Mat1f FeatureWeight(int R, const std::vector<cv::Point2f>& kp) {
  cv::Mat1f w = cv::Mat1f::zeros(R, R);
  if (kp.size() < 5) return w;
  const float iod = static_cast<float>(cv::norm(kp[1] - kp[0]));
  const float sigma = std::max(0.3f * iod, 1.f);
  const cv::Point2f up(0.f, -0.35f * iod);
  const std::array<cv::Point2f, 7> centres{kp[0], kp[1], kp[0] + up, kp[1] + up,
                                           kp[2], kp[3], kp[4]};
  for (int y = 0; y < R; ++y) {
    for (int x = 0; x < R; ++x) {
      float best = 0;
      for (const auto& c : centres) {
        const float d2 = (x - c.x) * (x - c.x) + (y - c.y) * (y - c.y);
        best = std::max(best, std::exp(-d2 / (2 * sigma * sigma)));
      }
      w(y, x) = best;
    }
  }
  return w;
}

// Raises the contrast of the generated crop's facial structure: the luminance band between
// Gaussian scales 1.2 and 3 (in pixels of a 64 px crop) is multiplied by 1 + gain x `where`
// (FeatureWeight: eyes, brows, nose, mouth). Finer detail (the generator's pixel-period texture,
// which the crop low-pass has already damped), the mottling of cheeks and forehead, and the
// colours are left as they are. Measured on the held-out faces: the reference detector finds the
// 64 px generator's stand-ins again far more often with it (docs/generator.md).
void StrengthenFeatures(cv::Mat& bgr, float gain, const cv::Mat1f& where) {
  const double scale = bgr.cols / 64.0;
  cv::Mat ycc;
  cv::cvtColor(bgr, ycc, cv::COLOR_BGR2YCrCb);
  std::vector<cv::Mat> planes;
  cv::split(ycc, planes);
  cv::Mat1f y, fine, coarse;
  planes[0].convertTo(y, CV_32F);
  cv::GaussianBlur(y, fine, {}, 1.2 * scale);
  cv::GaussianBlur(y, coarse, {}, 3.0 * scale);
  y += gain * where.mul(fine - coarse);
  y.convertTo(planes[0], CV_8U);  // saturating
  cv::merge(planes, ycc);
  cv::cvtColor(ycc, bgr, cv::COLOR_YCrCb2BGR);
}
// An ONNX file named by a model's own manifest (models/generator/), checked against the sha256
// that manifest pins; `what` names the model in the message.
Status VerifyPinned(const fs::path& onnx, const std::string& sha256, const char* what) {
  auto actual = Sha256File(onnx);
  if (actual.ok() && *actual == sha256) return Status::Ok();
  return Status(
      ErrorCode::kModelMissing,
      fmt::format("{} model {} is missing or corrupt (sha256 mismatch); it is part of the "
                  "repository: restore it with `git checkout models/generator` and "
                  "reinstall",
                  what, onnx.string()));
}

Expected<cv::dnn::Net> LoadCpuNet(const fs::path& onnx, const char* what) {
  try {
    cv::dnn::Net net = cv::dnn::readNetFromONNX(onnx.string());
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    return net;
  } catch (const cv::Exception& e) {
    return Status(ErrorCode::kModelMissing,
                  fmt::format("{} model {} cannot be loaded ({})", what, onnx.string(), e.what()));
  }
}

// An RGB u8 image -> the first three planes of an NCHW float blob, u8 / 127.5 - 1.
void RgbToPlanes(const cv::Mat& rgb, cv::Mat& blob) {
  std::vector<cv::Mat> planes;
  cv::split(rgb, planes);
  for (int c = 0; c < 3; ++c) {
    planes[static_cast<size_t>(c)].convertTo(
        cv::Mat(rgb.rows, rgb.cols, CV_32F, blob.ptr<float>(0, c)), CV_32F, 1.0 / 127.5, -1.0);
  }
}

// A network's [1, 3, S, S] RGB output in [-1, 1] -> S x S BGR u8.
cv::Mat PlanesToBgr(cv::Mat& blob, int size) {
  std::vector<cv::Mat> planes;
  for (int c = 2; c >= 0; --c) {
    cv::Mat u8;
    cv::Mat(size, size, CV_32F, blob.ptr<float>(0, c)).convertTo(u8, CV_8U, 127.5, 127.5);
    planes.push_back(u8);
  }
  cv::Mat bgr;
  cv::merge(planes, bgr);
  return bgr;
}
// Image point -> crop point through the 2x3 CV_64F transform `M`.
cv::Point2f Apply(const cv::Mat& M, cv::Point2f q) {
  return {
      static_cast<float>(M.at<double>(0, 0) * q.x + M.at<double>(0, 1) * q.y + M.at<double>(0, 2)),
      static_cast<float>(M.at<double>(1, 0) * q.x + M.at<double>(1, 1) * q.y + M.at<double>(1, 2))};
}

// R x R, in the crop `M` maps to: 1 above the jaw line (landmarks 0-16) moved `margin` crop
// sides down and continued sideways beyond the jaw's ends, 0 below, feathered.
cv::Mat1f JawCut(const cv::Mat& M, const std::vector<cv::Point2f>& landmarks68, int R,
                 float margin) {
  const float down = margin * static_cast<float>(R);
  constexpr int kSub = 8;  // polygon vertices in 1/8 pixels
  std::array<cv::Point, 17> jaw;
  for (size_t i = 0; i < jaw.size(); ++i) {
    const cv::Point2f q = Apply(M, landmarks68[i]);
    jaw[i] = {cvRound(q.x * kSub), cvRound((q.y + down) * kSub)};
  }
  std::vector<cv::Point> above = {{-R * kSub, jaw.front().y}};
  above.insert(above.end(), jaw.begin(), jaw.end());
  above.emplace_back(2 * R * kSub, jaw.back().y);
  above.emplace_back(2 * R * kSub, -R * kSub);
  above.emplace_back(-R * kSub, -R * kSub);
  cv::Mat1f cut = cv::Mat1f::zeros(R, R);
  cv::fillPoly(cut, std::vector<std::vector<cv::Point>>{above}, cv::Scalar(1.0), cv::LINE_AA, 3);
  cv::GaussianBlur(cut, cut, cv::Size(), 0.025 * R);
  return cut;
}

}  // namespace

Expected<GeneratorSpec> LoadGeneratorSpec(const fs::path& manifest) {
  GeneratorSpec s;
  try {
    std::ifstream in(manifest);
    if (!in) {
      return Status(ErrorCode::kModelMissing,
                    fmt::format("generator manifest {} is missing", manifest.string()));
    }
    const auto j = nlohmann::json::parse(in);
    s.name = j.at("name").get<std::string>();
    s.onnx = manifest.parent_path() / j.at("file").get<std::string>();
    s.resolution = j.at("resolution").get<int>();
    const auto& t = j.at("alignment").at("template5_normalised");
    for (size_t i = 0; i < 5; ++i)
      s.template5[i] = {t.at(i).at(0).get<float>(), t.at(i).at(1).get<float>()};
    for (const auto& c : j.at("keypoints").at("channels")) {
      s.keypoint_sets.push_back(c.at("landmarks68_mean_of").get<std::vector<int>>());
    }
    s.sigma = j.at("keypoints").at("sigma_normalised").get<float>();
    const auto& e = j.at("mask").at("ellipse_normalised");
    s.mask_cx = e.at("cx").get<float>();
    s.mask_cy = e.at("cy").get<float>();
    s.mask_ax = e.at("ax").get<float>();
    s.mask_ay = e.at("ay").get<float>();
    s.mask_edge = j.at("mask").at("edge").get<float>();
    s.sealed_band = j.at("mask").value("sealed_band", false);
    const auto& kps = j.at("keypoints");
    if (kps.contains("chin_mean_normalised") && s.keypoint_sets.size() == 6) {
      for (const auto& t5 : s.template5) s.mean_keypoints.push_back(t5);
      const auto& c = kps.at("chin_mean_normalised");
      s.mean_keypoints.emplace_back(c.at(0).get<float>(), c.at(1).get<float>());
    }
    s.z_dim = j.at("inputs").at("z").at("shape").at(1).get<int>();
    if (Status st = VerifyPinned(s.onnx, j.at("sha256").get<std::string>(), "generator");
        !st.ok()) {
      return st;
    }
  } catch (const std::exception& ex) {
    return Status(ErrorCode::kModelMissing, fmt::format("generator manifest {} is unreadable ({})",
                                                        manifest.string(), ex.what()));
  }
  for (const auto& set : s.keypoint_sets) {
    for (int i : set) {
      if (i < 0 || i >= 68)
        return Status(ErrorCode::kModelMissing, "generator manifest: bad landmark index");
    }
  }
  return s;
}

Expected<RefinerSpec> LoadRefinerSpec(const fs::path& manifest) {
  RefinerSpec s;
  try {
    std::ifstream in(manifest);
    if (!in) {
      return Status(ErrorCode::kModelMissing,
                    fmt::format("refiner manifest {} is missing", manifest.string()));
    }
    const auto j = nlohmann::json::parse(in);
    s.name = j.at("name").get<std::string>();
    s.onnx = manifest.parent_path() / j.at("file").get<std::string>();
    s.resolution = j.at("resolution").get<int>();
    s.generator_sha256 = j.at("generator").at("sha256").get<std::string>();
    if (Status st = VerifyPinned(s.onnx, j.at("sha256").get<std::string>(), "refiner"); !st.ok()) {
      return st;
    }
  } catch (const std::exception& ex) {
    return Status(ErrorCode::kModelMissing, fmt::format("refiner manifest {} is unreadable ({})",
                                                        manifest.string(), ex.what()));
  }
  return s;
}

Expected<DonorPool> LoadDonorPool(const ModelStore& models, const GeneratorSpec& spec) {
  // Both files are pinned by the manifest; the JSON also names the generator it came from.
  auto info_path = models.Path("donor_pool");
  if (!info_path.ok()) return info_path.status();
  auto atlas_path = models.Path("donor_pool_atlas");
  if (!atlas_path.ok()) return atlas_path.status();
  DonorPool pool;
  try {
    std::ifstream in(*info_path);
    const auto j = nlohmann::json::parse(in);
    if (j.at("generator").get<std::string>() != spec.name ||
        j.at("resolution").get<int>() != spec.resolution) {
      return Status(ErrorCode::kModelMissing,
                    fmt::format("donor pool {} was made for {} at {} px, the generator is {}: "
                                "rebuild it with training/donor_pool.py",
                                info_path->string(), j.at("generator").get<std::string>(),
                                j.at("resolution").get<int>(), spec.name));
    }
    const cv::Mat atlas = cv::imread(atlas_path->string(), cv::IMREAD_COLOR);
    const int R = spec.resolution;
    const int per_row = j.at("per_row").get<int>();
    const auto& donors = j.at("donors");
    const int n = static_cast<int>(donors.size());
    if (atlas.empty() || per_row < 1 || atlas.cols != per_row * R ||
        atlas.rows < R * ((n + per_row - 1) / per_row)) {
      return Status(ErrorCode::kModelMissing,
                    fmt::format("donor pool atlas {} does not hold {} faces of {} px",
                                atlas_path->string(), n, R));
    }
    for (int i = 0; i < n; ++i) {
      const auto& d = donors.at(static_cast<size_t>(i));
      std::vector<cv::Point2f> kp;
      for (const auto& q : d.at("keypoints"))
        kp.emplace_back(q.at(0).get<float>(), q.at(1).get<float>());
      if (kp.size() != spec.keypoint_sets.size()) {
        return Status(ErrorCode::kModelMissing,
                      fmt::format("donor pool {}: donor {} has {} keypoints, the generator {}",
                                  info_path->string(), i, kp.size(), spec.keypoint_sets.size()));
      }
      pool.faces.push_back(atlas(cv::Rect(i % per_row * R, i / per_row * R, R, R)).clone());
      pool.keypoints.push_back(std::move(kp));
      pool.age.push_back(d.at("age").get<float>());
      pool.female.push_back(d.at("female").get<float>());
    }
  } catch (const std::exception& ex) {
    return Status(ErrorCode::kModelMissing,
                  fmt::format("donor pool {} is unreadable ({})", info_path->string(), ex.what()));
  }
  return pool;
}

Expected<std::unique_ptr<FaceGenerator>> FaceGenerator::Create(const ModelStore& models,
                                                               const GeneratorOptions& options) {
  // The manifest entry pins the generator's own JSON, which pins the ONNX file by sha256.
  auto manifest = models.Path("generator");
  if (!manifest.ok()) return manifest.status();
  auto spec = LoadGeneratorSpec(*manifest);
  if (!spec.ok()) return spec.status();
  // The refiner is optional in a manifest, but a listed one must be there and intact.
  if (!models.Lists("refiner")) return Create(*spec, options);
  auto refiner_manifest = models.Path("refiner");
  if (!refiner_manifest.ok()) return refiner_manifest.status();
  auto refiner = LoadRefinerSpec(*refiner_manifest);
  if (!refiner.ok()) return refiner.status();
  return Create(*spec, *refiner, options);
}

Expected<std::unique_ptr<FaceGenerator>> FaceGenerator::Create(const GeneratorSpec& spec,
                                                               const RefinerSpec& refiner,
                                                               const GeneratorOptions& options) {
  auto sha = Sha256File(spec.onnx);
  if (!sha.ok()) return sha.status();
  if (*sha != refiner.generator_sha256 || refiner.resolution != 2 * spec.resolution) {
    return Status(ErrorCode::kModelMissing,
                  fmt::format("refiner {} was trained for another generator than {} (or another "
                              "resolution): retrain it with training/refine.py",
                              refiner.name, spec.name));
  }
  auto g = Create(spec, options);
  if (!g.ok()) return g.status();
  auto net = LoadCpuNet(refiner.onnx, "refiner");
  if (!net.ok()) return net.status();
  (*g)->refiner_ = std::move(net).value();
  (*g)->refiner_res_ = refiner.resolution;
  (*g)->mask_hi_ = (*g)->EllipseRamp(1.f, spec.mask_edge, refiner.resolution);
  return g;
}

Expected<std::unique_ptr<FaceGenerator>> FaceGenerator::Create(const GeneratorSpec& spec,
                                                               const GeneratorOptions& options) {
  std::unique_ptr<FaceGenerator> g(new FaceGenerator());
  g->spec_ = spec;
  g->options_ = options;
  auto net = LoadCpuNet(spec.onnx, "generator");
  if (!net.ok()) return net.status();
  g->net_ = std::move(net).value();
  g->mask_ = g->CropMask();
  return g;
}

cv::Mat1f FaceGenerator::EllipseRamp(float outer, float width, int size) const {
  // r: the mask ellipse's normalised radius (1 at its outer edge).
  const int R = size > 0 ? size : spec_.resolution;
  cv::Mat1f m(R, R);
  for (int y = 0; y < R; ++y) {
    for (int x = 0; x < R; ++x) {
      const float u = (static_cast<float>(x) / R - spec_.mask_cx) / spec_.mask_ax;
      const float v = (static_cast<float>(y) / R - spec_.mask_cy) / spec_.mask_ay;
      m(y, x) = std::clamp((outer - std::sqrt(u * u + v * v)) / width, 0.f, 1.f);
    }
  }
  return m;
}

cv::Mat1f FaceGenerator::CropMask() const { return EllipseRamp(1.f, spec_.mask_edge); }

cv::Mat FaceGenerator::BuildCondition(const cv::Mat& crop_rgb,
                                      const std::vector<cv::Point2f>& kp) const {
  const int R = spec_.resolution;
  const int K = static_cast<int>(kp.size());
  const int shape[] = {1, 4 + K, R, R};
  cv::Mat cond(4, shape, CV_32F);
  auto plane = [&](int c) { return cv::Mat(R, R, CV_32F, cond.ptr<float>(0, c)); };
  const cv::Mat1f& m = mask_.empty() ? CropMask() : mask_;
  // What the condition keeps of the crop: (1 - mask), or with a sealed band only what lies
  // wholly outside the region.
  cv::Mat1f seen = 1.0 - m;
  if (spec_.sealed_band) seen.setTo(0.f, m > 0.f);
  RgbToPlanes(crop_rgb, cond);
  for (int c = 0; c < 3; ++c) {
    cv::Mat p = plane(c);
    cv::multiply(p, seen, p);
  }
  m.copyTo(plane(3));
  const float sigma = spec_.sigma * static_cast<float>(R);
  const float inv = 1.f / (2.f * sigma * sigma);
  for (int k = 0; k < K; ++k) {
    cv::Mat p = plane(4 + k);
    for (int y = 0; y < R; ++y) {
      auto* row = p.ptr<float>(y);
      const float dy = static_cast<float>(y) - kp[static_cast<size_t>(k)].y;
      for (int x = 0; x < R; ++x) {
        const float dx = static_cast<float>(x) - kp[static_cast<size_t>(k)].x;
        row[x] = std::exp(-(dx * dx + dy * dy) * inv);
      }
    }
  }
  return cond;
}

Expected<cv::Mat> FaceGenerator::Run(const cv::Mat& condition, const cv::Mat& z) {
  try {
    net_.setInput(condition, "condition");
    net_.setInput(z, "z");
    return net_.forward().clone();
  } catch (const cv::Exception& e) {
    return Status(ErrorCode::kProcessingFailed, fmt::format("generator failed: {}", e.what()));
  }
}

Expected<cv::Mat> FaceGenerator::RunRefiner(const cv::Mat& coarse, const cv::Mat& context) {
  if (refiner_.empty()) return Status(ErrorCode::kProcessingFailed, "the generator has no refiner");
  try {
    refiner_.setInput(coarse, "coarse");
    refiner_.setInput(context, "context");
    return refiner_.forward().clone();
  } catch (const cv::Exception& e) {
    return Status(ErrorCode::kProcessingFailed, fmt::format("refiner failed: {}", e.what()));
  }
}

cv::Mat FaceGenerator::Latent(std::uint64_t key, int candidate) const {
  // splitmix64 of (seed, key[, candidate]): independent streams per face and candidate,
  // reproducible for a seed; candidate 0 keeps the stream of earlier versions.
  auto mix = [](std::uint64_t x) {
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  };
  std::uint64_t x = mix(options_.seed ^ (key + 0x9E3779B97F4A7C15ull) * 0xBF58476D1CE4E5B9ull);
  if (candidate > 0) x = mix(x + static_cast<std::uint64_t>(candidate) * 0x9E3779B97F4A7C15ull);
  std::mt19937_64 rng(x);
  std::normal_distribution<float> normal(0.f, 1.f);
  cv::Mat z(1, spec_.z_dim, CV_32F);
  for (int i = 0; i < spec_.z_dim; ++i) z.at<float>(0, i) = options_.latent_scale * normal(rng);
  return z;
}

Expected<cv::Mat> FaceGenerator::ToTemplate(const Face& face) const {
  if (face.landmarks68.size() != 68) {
    return Status(ErrorCode::kProcessingFailed, "generation needs the face's 68 landmarks");
  }
  const auto kp5 = KeypointsFrom68(face.landmarks68);
  const float eyes = static_cast<float>(cv::norm(kp5[kRightEye] - kp5[kLeftEye]));
  std::vector<cv::Point2f> src(kp5.begin(), kp5.end());
  std::vector<cv::Point2f> dst;
  for (const auto& t : spec_.template5) dst.push_back(t * static_cast<float>(spec_.resolution));
  cv::Mat M = eyes >= options_.min_eye_distance
                  ? cv::estimateAffinePartial2D(src, dst, cv::noArray(), cv::LMEDS)
                  : cv::Mat();
  if (!M.empty()) M.convertTo(M, CV_64F);
  return M;
}

Expected<std::optional<cv::Mat>> FaceGenerator::AlignedFace(const cv::Mat& bgr,
                                                            const Face& face) const {
  auto M = ToTemplate(face);
  if (!M.ok()) return M.status();
  if (M->empty()) return std::optional<cv::Mat>();
  cv::Mat crop;
  cv::warpAffine(bgr, crop, *M, cv::Size(spec_.resolution, spec_.resolution), cv::INTER_AREA,
                 cv::BORDER_REPLICATE);
  return std::optional<cv::Mat>(std::move(crop));
}

namespace {

// Photo pixels per crop pixel of an image -> crop similarity transform.
double PhotoPixelsPerCropPixel(const cv::Mat& M) {
  return 1.0 / std::sqrt(std::abs(cv::determinant(M(cv::Rect(0, 0, 2, 2)))));
}

}  // namespace

Expected<FaceGenerator::PaintVerdict> FaceGenerator::Verdict(const Face& face) const {
  auto M = ToTemplate(face);
  if (!M.ok()) return M.status();
  return VerdictFor(face, *M);
}

FaceGenerator::PaintVerdict FaceGenerator::VerdictFor(const Face& face, const cv::Mat& M) const {
  PaintVerdict v;
  if (M.empty()) {
    v.why = Unpainted::kTooSmall;
    return v;
  }
  v.upscale = PhotoPixelsPerCropPixel(M);
  if (options_.max_upscale > 0 && v.upscale > options_.max_upscale) {
    v.why = Unpainted::kTooLarge;
  } else if (face.score < options_.paint_above) {
    v.why = Unpainted::kUnsure;
  }
  return v;
}

Expected<std::optional<FaceGenerator::Prepared>> FaceGenerator::Prepare(const cv::Mat& bgr,
                                                                        const Face& face) const {
  auto to_template = ToTemplate(face);
  if (!to_template.ok()) return to_template.status();
  const cv::Mat M = *to_template;
  if (VerdictFor(face, M).why != Unpainted::kNo) return std::optional<Prepared>();
  const int R = spec_.resolution;
  cv::Mat Minv;
  cv::invertAffineTransform(M, Minv);
  // The part of the image the crop covers.
  std::vector<cv::Point2f> corners = {{0, 0},
                                      {static_cast<float>(R), 0},
                                      {0, static_cast<float>(R)},
                                      {static_cast<float>(R), static_cast<float>(R)}};
  std::vector<cv::Point2f> back;
  cv::transform(corners, back, Minv);
  Prepared p;
  p.roi = cv::boundingRect(back) & cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (p.roi.empty()) return std::optional<Prepared>(std::move(p));  // outside the image
  // Crop <-> ROI transforms.
  cv::Mat M_roi = M.clone();
  M_roi.at<double>(0, 2) += M.at<double>(0, 0) * p.roi.x + M.at<double>(0, 1) * p.roi.y;
  M_roi.at<double>(1, 2) += M.at<double>(1, 0) * p.roi.x + M.at<double>(1, 1) * p.roi.y;
  p.Minv_roi = Minv.clone();
  p.Minv_roi.at<double>(0, 2) -= p.roi.x;
  p.Minv_roi.at<double>(1, 2) -= p.roi.y;

  // The region to regenerate, in image space.
  cv::warpAffine(mask_, p.mask_back, p.Minv_roi, p.roi.size(), cv::INTER_LINEAR,
                 cv::BORDER_CONSTANT, 0);
  p.paint_back = p.mask_back;  // shared: only replaced below, never written into
  if (options_.jaw_margin >= 0.f) {
    const cv::Mat1f paint = cv::min(mask_, JawCut(M, face.landmarks68, R, options_.jaw_margin));
    cv::Mat1f paint_back;  // its own buffer: mask_back stays the condition's region
    cv::warpAffine(paint, paint_back, p.Minv_roi, p.roi.size(), cv::INTER_LINEAR,
                   cv::BORDER_CONSTANT, 0);
    p.paint_back = paint_back;
  }
  // A black-and-white photo gets a black-and-white stand-in (judged once per face, on what is
  // kept around it).
  p.grey = blend::IsGreyAround(bgr(p.roi), p.mask_back);
  if (options_.match_colour) {
    auto edge = blend::EdgeColourOf(bgr(p.roi), p.mask_back, /*skin_only=*/!p.grey);
    p.edge_weights = edge.weights;
    p.edge_total = edge.total;
    p.edge_lab_sum = edge.lab_sum;
  }
  // Privacy by design: the face's own pixels are removed before anything is computed from the
  // surroundings, so not even interpolation at the mask's edge can carry them into the input.
  // With a sealed band, the whole band goes too (the condition sees none of it).
  cv::Mat context = bgr(p.roi).clone();
  context.setTo(cv::Scalar::all(128),
                spec_.sealed_band ? cv::Mat(p.mask_back > 0.f) : cv::Mat(p.mask_back >= 1.f));

  cv::Mat crop, crop_rgb;
  cv::warpAffine(context, crop, M_roi, cv::Size(R, R), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  cv::cvtColor(crop, crop_rgb, cv::COLOR_BGR2RGB);
  std::vector<cv::Point2f> kp;
  for (const auto& set : spec_.keypoint_sets) {
    cv::Point2f q(0, 0);
    for (int i : set) q += face.landmarks68[static_cast<size_t>(i)];
    q *= 1.f / static_cast<float>(set.size());
    kp.push_back(Apply(M, q));
  }
  if (options_.keypoint_shrink > 0 && spec_.mean_keypoints.size() == kp.size()) {
    for (size_t i = 0; i < kp.size(); ++i) {
      kp[i] += options_.keypoint_shrink * (spec_.mean_keypoints[i] * static_cast<float>(R) - kp[i]);
    }
  }
  p.condition = BuildCondition(crop_rgb, kp);
  // The refiner: only where the crop spans more than refine_above x R photo pixels (a smaller
  // face cannot show what it adds). Its context is the same sealed surroundings, warped at 2R.
  if (!refiner_.empty() && options_.refine && PhotoPixelsPerCropPixel(M) > options_.refine_above) {
    const int H = refiner_res_;
    const double up = static_cast<double>(H) / R;
    cv::Mat M_hi = M_roi * up;
    cv::Mat crop_hi;
    cv::warpAffine(context, crop_hi, M_hi, cv::Size(H, H), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
    cv::cvtColor(crop_hi, crop_hi, cv::COLOR_BGR2RGB);
    const int shape[] = {1, 4, H, H};
    p.refine_context.create(4, shape, CV_32F);
    RgbToPlanes(crop_hi, p.refine_context);
    const cv::Mat inside = mask_hi_ > 0.f;
    for (int c = 0; c < 3; ++c) {
      // Sealed, as in training: nothing of the band is seen.
      cv::Mat(H, H, CV_32F, p.refine_context.ptr<float>(0, c)).setTo(0.f, inside);
    }
    mask_hi_.copyTo(cv::Mat(H, H, CV_32F, p.refine_context.ptr<float>(0, 3)));
  }
  if (options_.detail_gain > 0) {
    p.features = FeatureWeight(R, kp);
    // A refined face gets the gain at its own resolution.
    if (!p.refine_context.empty())
      cv::resize(p.features, p.features, cv::Size(refiner_res_, refiner_res_));
  }
  p.keypoints = std::move(kp);
  return std::optional<Prepared>(std::move(p));
}

Status FaceGenerator::Paint(cv::Mat& target, cv::Point origin, const Prepared& p,
                            const cv::Mat& z) {
  if (p.roi.empty()) return Status::Ok();
  auto generated = Generate(p, z);
  if (!generated.ok()) return generated.status();
  return PaintFace(target, origin, p, std::move(generated).value());
}

cv::Mat1f FaceGenerator::DonorWeight() const {
  // Weight 1 inside 0.65 of the mask's radius, 0 from 0.8.
  constexpr float kInner = 0.65f, kOuter = 0.8f;
  return EllipseRamp(kOuter, kOuter - kInner);
}

Expected<cv::Mat> FaceGenerator::Generate(const Prepared& p, const cv::Mat& z) {
  auto out = Run(p.condition, z);
  if (!out.ok()) return out.status();
  return PlanesToBgr(*out, spec_.resolution);
}

Expected<cv::Mat> FaceGenerator::Refine(const Prepared& p, const cv::Mat& face_bgr) {
  const int H = refiner_res_;
  cv::Mat up;
  cv::resize(face_bgr, up, cv::Size(H, H), 0, 0, cv::INTER_LINEAR);  // as torch's bilinear
  cv::cvtColor(up, up, cv::COLOR_BGR2RGB);
  const int shape[] = {1, 3, H, H};
  cv::Mat coarse(4, shape, CV_32F);
  RgbToPlanes(up, coarse);
  auto out = RunRefiner(coarse, p.refine_context);
  if (!out.ok()) return out.status();
  return PlanesToBgr(*out, H);
}

Status FaceGenerator::PaintFace(cv::Mat& target, cv::Point origin, const Prepared& p,
                                cv::Mat generated) {
  const cv::Rect where = p.roi - origin;
  if (p.roi.empty()) return Status::Ok();
  if ((where & cv::Rect(0, 0, target.cols, target.rows)) != where) {
    return {ErrorCode::kProcessingFailed, "generator: paint target does not hold the face"};
  }
  if (options_.smooth_sigma > 0) {
    cv::GaussianBlur(generated, generated, {3, 3}, options_.smooth_sigma);
  }
  // The refiner was trained on the generator's crops after this low-pass.
  cv::Mat Minv = p.Minv_roi;
  if (!p.refine_context.empty()) {
    auto hi = Refine(p, generated);
    if (!hi.ok()) return hi.status();
    generated = std::move(hi).value();
    // 2R crop -> roi: the linear part scaled by R / 2R, the translation (roi pixels) as it is.
    Minv = p.Minv_roi.clone();
    Minv.colRange(0, 2) *= static_cast<double>(spec_.resolution) / refiner_res_;
  }
  if (options_.detail_gain > 0) StrengthenFeatures(generated, options_.detail_gain, p.features);
  if (p.grey) {
    cv::Mat grey;
    cv::cvtColor(generated, grey, cv::COLOR_BGR2GRAY);
    cv::cvtColor(grey, generated, cv::COLOR_GRAY2BGR);
  }
  cv::Mat generated_back;
  cv::warpAffine(generated, generated_back, Minv, p.roi.size(), cv::INTER_LINEAR,
                 cv::BORDER_REPLICATE);
  cv::Mat region = target(where);
  if (options_.match_colour) {
    blend::ShiftToEdgeColour(generated_back, {p.edge_weights, p.edge_lab_sum, p.edge_total},
                             kMaxColourShift);
  }
  if (options_.match_colour && options_.harmonic_colour) {
    blend::HarmonicMatch(generated_back, region, p.paint_back, kMaxHarmonicShift);
  }
  // Feathered blend through the soft mask: no seam, no box.
  blend::AlphaBlend(region, generated_back, p.paint_back);
  return Status::Ok();
}

Status FaceGenerator::Replace(cv::Mat& bgr, Face& face, std::uint64_t key) {
  auto prepared = Prepare(bgr, face);
  if (!prepared.ok()) return prepared.status();
  if (!prepared->has_value()) {
    // Too small (or degenerate) to paint: pixelated. Too large (the stand-in would be a smear)
    // or detected with little confidence: options_.unpainted. Either way the face says why.
    auto verdict = Verdict(face);
    if (!verdict.ok()) return verdict.status();
    const bool small = verdict->why == Unpainted::kTooSmall;
    const MethodKind kind = small ? MethodKind::kPixelate : options_.unpainted;
    std::vector<Face> one{face};
    if (Status s = MakeMethod({.kind = kind})->Apply(bgr, one); !s.ok()) return s;
    face.method = MethodName(kind);
    switch (verdict->why) {
      case Unpainted::kTooSmall:
        face.reason = fmt::format("too small for the generator (eyes under {:g} px apart)",
                                  options_.min_eye_distance);
        break;
      case Unpainted::kTooLarge:
        face.reason = fmt::format(
            "too large for the {} px generator (its stand-in would be scaled up {:.1f}x, over the "
            "limit of {:g}x)",
            spec_.resolution, verdict->upscale, options_.max_upscale);
        break;
      default:
        face.reason = fmt::format("maybe not a face (detected with a score of {:.2f}, under {:g})",
                                  face.score, options_.paint_above);
        break;
    }
    return Status::Ok();
  }
  if (Status s = Paint(bgr, {0, 0}, **prepared, Latent(key)); !s.ok()) return s;
  face.method = "generate";
  face.resolution = PaintedResolution(**prepared);
  return Status::Ok();
}

}  // namespace standin
