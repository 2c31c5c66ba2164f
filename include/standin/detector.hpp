// Face detection: finds faces (box, score, coarse keypoints) in a BGR image.
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "standin/face.hpp"
#include "standin/models.hpp"
#include "standin/status.hpp"

namespace standin {

struct DetectorOptions {
  // "blazeface" (MediaPipe BlazeFace back-camera model, 256x256, default: see
  // docs/detector-comparison.md) or "ultraface" (Ultra-Light RFB-320, second opinion).
  std::string model = "blazeface";
  // Minimum detector confidence in [0, 1] for a face to be reported.
  float threshold = 0.5f;
  // Smallest face side, in pixels of the input image, that the detector must still find. It sets
  // how finely the image is tiled: smaller values find smaller faces and cost more time.
  // 0 = automatic: AutoMinFace() of the image size.
  float min_face = 0.f;
  // Faces overlapping more than this (intersection over union) are merged.
  float nms_iou = 0.3f;
  // Threads for inference (0: OpenCV's default, all cores).
  int threads = 0;
};

// The automatic minimum face size: 1/14 of the image's shorter side, at least 20 pixels (a
// 1920x1080 frame: 77 px; a 640x480 photo: 34 px).
float AutoMinFace(cv::Size image);

class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  // Faces in `bgr` (CV_8UC3), best first. Keypoints are the detector's own (eyes, nose, mouth);
  // the landmarker refines them.
  virtual Expected<std::vector<Face>> Detect(const cv::Mat& bgr) = 0;
};

Expected<std::unique_ptr<FaceDetector>> MakeDetector(const DetectorOptions& options,
                                                     const ModelStore& models);

}  // namespace standin
