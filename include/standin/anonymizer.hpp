// The in-memory pipeline: detect -> landmarks -> anonymize. File, folder and video handling live
// in standin/io.hpp and the CLI.
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <vector>

#include "standin/detector.hpp"
#include "standin/face.hpp"
#include "standin/generator.hpp"
#include "standin/landmarker.hpp"
#include "standin/methods.hpp"
#include "standin/models.hpp"
#include "standin/status.hpp"

namespace standin {

struct AnonymizerOptions {
  DetectorOptions detector;
  // A generated stand-in per face by default (faces too small or too large for the generator,
  // and those none of whose stand-ins passes the identity guard, get another method and say why:
  // Face::reason). Blur, pixelate and solid need no generator.
  MethodOptions method{.kind = MethodKind::kGenerate};
  // For MethodKind::kGenerate.
  GeneratorOptions generator;
  // Run the 68-point landmarker on every face (needed for --json landmarks and keypoints that
  // orient the mask). Off saves about 2 ms per face.
  bool landmarks = true;
  ModelStoreOptions models;
};

struct AnonymizedImage {
  cv::Mat image;            // BGR, same size as the input
  std::vector<Face> faces;  // every face found, with what was done to it
};

class Anonymizer {
 public:
  static Expected<Anonymizer> Create(const AnonymizerOptions& options);

  // Faces only, nothing changed.
  Expected<std::vector<Face>> Detect(const cv::Mat& bgr);
  // Detects and anonymizes. Fails closed: on any error no image is returned.
  Expected<AnonymizedImage> Process(const cv::Mat& bgr);

  // The stages one by one, for callers that find faces their own way (video tracking):
  // the detector's boxes and coarse keypoints only (Detect = Find + Refine);
  Expected<std::vector<Face>> Find(const cv::Mat& bgr);
  // landmarks (and the 5 keypoints) for the given faces, when landmarks are on; `quick`: the
  // coarse fit that follows faces between video frames (Landmarker::AnnotateQuick).
  Status Refine(const cv::Mat& bgr, std::vector<Face>& faces, bool quick = false);
  // Anonymizes the given faces on a copy of `bgr`. Fails closed.
  Expected<cv::Mat> Apply(const cv::Mat& bgr, std::vector<Face>& faces);
  // The same in `image` itself (a frame the caller owns). On failure `image` may be partly
  // changed and must not be used.
  Status ApplyInPlace(cv::Mat& image, std::vector<Face>& faces);
  [[nodiscard]] bool has_landmarks() const { return landmarker_ != nullptr; }

  [[nodiscard]] const AnonymizerOptions& options() const { return options_; }

 private:
  Anonymizer() = default;
  AnonymizerOptions options_;
  std::shared_ptr<FaceDetector> detector_;
  std::shared_ptr<Landmarker> landmarker_;
  std::shared_ptr<FaceMethod> method_;
};

// Draws boxes, scores, keypoints and landmarks on a copy of `bgr` (for --draw).
cv::Mat DrawFaces(const cv::Mat& bgr, const std::vector<Face>& faces);

}  // namespace standin
