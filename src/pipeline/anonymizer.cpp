#include "standin/anonymizer.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <opencv2/imgproc.hpp>
#include <set>
#include <string>

#include "standin/analysis.hpp"

namespace standin {

Expected<Anonymizer> Anonymizer::Create(const AnonymizerOptions& options) {
  if (!(options.method.mask_scale > 0.5f && options.method.mask_scale <= 4.f)) {
    return Status(ErrorCode::kInvalidArgument, "mask scale must be in (0.5, 4]");
  }
  if (options.method.pixel_blocks < 2 || options.method.pixel_blocks > 64) {
    return Status(ErrorCode::kInvalidArgument, "pixel blocks must be in [2, 64]");
  }
  auto models = ModelStore::Open(options.models);
  if (!models.ok()) return models.status();
  auto detector = MakeDetector(options.detector, *models);
  if (!detector.ok()) return detector.status();
  Anonymizer a;
  a.options_ = options;
  a.detector_ = std::move(detector).value();
  if (options.landmarks) {
    // Parsed in the background while the detector and the other networks load and the caller
    // opens its input.
    auto landmarker = MakeLandmarker(*models, /*in_background=*/true);
    if (!landmarker.ok()) return landmarker.status();
    a.landmarker_ = std::move(landmarker).value();
  }
  if (options.method.kind == MethodKind::kGenerate) {
    if (!options.landmarks) {
      return Status(ErrorCode::kInvalidArgument, "generated faces need landmarks");
    }
    if (options.generator.unpainted == MethodKind::kGenerate) {
      return Status(ErrorCode::kInvalidArgument,
                    "the method for faces not painted must be blur, pixelate or solid");
    }
    if (!(options.generator.paint_above >= 0.f && options.generator.paint_above <= 1.f)) {
      return Status(ErrorCode::kInvalidArgument, "paint_above must be in [0, 1]");
    }
    if (!(options.generator.max_upscale >= 0.f)) {
      return Status(ErrorCode::kInvalidArgument, "max_upscale must be >= 0 (0: no limit)");
    }
    auto generator = FaceGenerator::Create(*models, options.generator);
    if (!generator.ok()) return generator.status();
    const IdentityGuardOptions& guard = options.generator.guard;
    if (!guard.enabled) {
      a.method_ = MakeGenerateMethod(std::move(generator).value());
    } else {
      if (guard.candidates < 1 || guard.candidates > 64) {
        return Status(ErrorCode::kInvalidArgument, "identity guard: candidates must be in [1, 64]");
      }
      if (!(guard.relative_percentile >= 0.f && guard.relative_percentile <= 100.f)) {
        return Status(ErrorCode::kInvalidArgument,
                      "identity guard: relative_percentile must be in [0, 100]");
      }
      if (!(guard.stranger_percentile >= 0.f && guard.stranger_percentile <= 100.f)) {
        return Status(ErrorCode::kInvalidArgument,
                      "identity guard: stranger_percentile must be in [0, 100]");
      }
      if (guard.donors < 0 || guard.donors > 1000) {
        return Status(ErrorCode::kInvalidArgument, "identity guard: donors must be in [0, 1000]");
      }
      if (!(guard.donor_identity_weight >= 0.f && guard.donor_identity_weight <= 100.f)) {
        return Status(ErrorCode::kInvalidArgument,
                      "identity guard: donor_identity_weight must be in [0, 100]");
      }
      if (guard.recheck_every < 1) {
        return Status(ErrorCode::kInvalidArgument, "identity guard: recheck_every must be >= 1");
      }
      if (!(guard.fallback_scale >= 0.5f && guard.fallback_scale <= 4.f)) {
        return Status(ErrorCode::kInvalidArgument,
                      "identity guard: fallback_scale must be in [0.5, 4]");
      }
      if (guard.fallback == MethodKind::kGenerate) {
        return Status(ErrorCode::kInvalidArgument,
                      "identity guard: the fallback must be blur, pixelate or solid");
      }
      if (guard.workers < 0 || guard.workers > 64) {
        return Status(ErrorCode::kInvalidArgument, "identity guard: workers must be in [0, 64]");
      }
      // Every recogniser that judges, the first and then the further ones in order.
      std::vector<std::string> recognisers{guard.recogniser};
      std::set<std::string> judges{guard.recogniser};
      for (const SecondJudge& judge : guard.second) {
        recognisers.push_back(judge.recogniser);
        if (!judges.insert(judge.recogniser).second) {
          return Status(ErrorCode::kInvalidArgument,
                        "identity guard: each recogniser may judge once (" + judge.recogniser +
                            " is named twice)");
        }
        if (!(judge.stranger_percentile >= 0.f && judge.stranger_percentile <= 100.f)) {
          return Status(ErrorCode::kInvalidArgument,
                        "identity guard: a second stranger percentile must be in [0, 100]");
        }
      }
      // One set of judging networks per worker: the guard judges a face's candidates side by
      // side.
      const int count = guard.workers > 0 ? guard.workers : std::clamp(cv::getNumThreads(), 1, 4);
      std::vector<GuardNetworks> workers(static_cast<size_t>(count));
      for (size_t w = 0; w < workers.size(); ++w) {
        if (w == 0) {
          workers[0].generator = std::move(generator).value();
        } else {
          auto more = FaceGenerator::Create(*models, options.generator);
          if (!more.ok()) return more.status();
          workers[w].generator = std::move(more).value();
        }
        auto embedder = MakeIdentityEmbedder(guard.recogniser, *models);
        if (!embedder.ok()) return embedder.status();
        workers[w].embedder = std::move(embedder).value();
        for (const SecondJudge& judge : guard.second) {
          auto second = MakeIdentityEmbedder(judge.recogniser, *models);
          if (!second.ok()) return second.status();
          workers[w].second.push_back(std::move(second).value());
        }
        auto attributes = AttributeEstimator::Create(*models);
        if (!attributes.ok()) return attributes.status();
        workers[w].attributes = std::move(attributes).value();
        if (guard.natural_weight > 0) {
          auto judge = FacenessJudge::Create(*models);
          if (!judge.ok()) return judge.status();
          workers[w].faceness = std::move(judge).value();
        }
      }
      GuardReferences refs;
      // The bank also reads a face's age, for ordering donors (arcface's bank only).
      if (guard.UsesRelativeMargin() || guard.UsesStrangerTest() ||
          (guard.donors > 0 && guard.recogniser == "arcface")) {
        auto loaded = LoadIdentityBank(*models, guard.recogniser);
        if (!loaded.ok()) return loaded.status();
        refs.bank = std::move(loaded).value();
        auto ages = LoadIdentityBankAges(*models);
        if (!ages.ok()) return ages.status();
        refs.bank_ages = std::move(ages).value();
      }
      for (const SecondJudge& judge : guard.second) {
        auto loaded = LoadIdentityBank(*models, judge.recogniser);
        if (!loaded.ok()) return loaded.status();
        refs.second_banks.push_back(std::move(loaded).value());
      }
      if (guard.donors > 0) {
        auto pool = LoadDonorPool(*models, workers[0].generator->spec());
        if (!pool.ok()) return pool.status();
        refs.donors = std::make_shared<const DonorPool>(std::move(pool).value());
        if (guard.donor_identity_weight > 0) {
          for (const std::string& name : recognisers) {
            auto rows = LoadDonorEmbeddings(*models, name);
            if (!rows.ok()) return rows.status();
            if (rows->rows != static_cast<int>(refs.donors->faces.size())) {
              return Status(ErrorCode::kModelMissing,
                            fmt::format("the {} donor embeddings hold {} rows for {} donors: "
                                        "rebuild them with training/donor_embeddings.py",
                                        name, rows->rows, refs.donors->faces.size()));
            }
            refs.donor_embeddings.push_back(std::move(rows).value());
          }
        }
      }
      a.method_ = MakeGenerateMethod(std::move(workers), guard, std::move(refs));
    }
  } else {
    a.method_ = MakeMethod(options.method);
  }
  return a;
}

Expected<std::vector<Face>> Anonymizer::Find(const cv::Mat& bgr) {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    return Status(ErrorCode::kInvalidArgument, "expected a non-empty 8-bit, 3-channel BGR image");
  }
  return detector_->Detect(bgr);
}

Expected<std::vector<Face>> Anonymizer::Detect(const cv::Mat& bgr) {
  auto faces = Find(bgr);
  if (!faces.ok()) return faces.status();
  if (Status s = Refine(bgr, *faces); !s.ok()) return s;
  return faces;
}

Status Anonymizer::Refine(const cv::Mat& bgr, std::vector<Face>& faces, bool quick) {
  if (!landmarker_ || faces.empty()) return Status::Ok();
  return quick ? landmarker_->AnnotateQuick(bgr, faces) : landmarker_->Annotate(bgr, faces);
}

Status Anonymizer::ApplyInPlace(cv::Mat& image, std::vector<Face>& faces) {
  if (Status s = method_->Apply(image, faces); !s.ok()) {
    return {ErrorCode::kProcessingFailed, s.message()};  // fail closed: no image
  }
  for (const auto& f : faces) {
    if (f.method.empty()) {
      return {ErrorCode::kProcessingFailed, "a detected face was left untouched"};
    }
  }
  return Status::Ok();
}

Expected<cv::Mat> Anonymizer::Apply(const cv::Mat& bgr, std::vector<Face>& faces) {
  cv::Mat out = bgr.clone();
  if (Status s = ApplyInPlace(out, faces); !s.ok()) return s;
  return out;
}

Expected<AnonymizedImage> Anonymizer::Process(const cv::Mat& bgr) {
  auto faces = Detect(bgr);
  if (!faces.ok()) return faces.status();
  auto image = Apply(bgr, *faces);
  if (!image.ok()) return image.status();
  return AnonymizedImage{std::move(image).value(), std::move(faces).value()};
}

cv::Mat DrawFaces(const cv::Mat& bgr, const std::vector<Face>& faces) {
  cv::Mat out = bgr.clone();
  const int thick = std::max(1, std::min(out.cols, out.rows) / 400);
  for (const auto& f : faces) {
    cv::rectangle(out, f.box, cv::Scalar(0, 255, 0), thick, cv::LINE_AA);
    cv::putText(out, fmt::format("{:.2f}", f.score), f.box.tl() + cv::Point2f(0, -4.f),
                cv::FONT_HERSHEY_SIMPLEX, 0.4 * thick, cv::Scalar(0, 255, 0), thick, cv::LINE_AA);
    for (const auto& p : f.landmarks68)
      cv::circle(out, p, thick, cv::Scalar(255, 200, 0), cv::FILLED);
    for (const auto& p : f.kps5) cv::circle(out, p, 2 * thick, cv::Scalar(0, 0, 255), cv::FILLED);
  }
  return out;
}

}  // namespace standin
