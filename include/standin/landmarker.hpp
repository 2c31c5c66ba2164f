// 68-point facial landmarks (dlib, iBUG 300-W order) and the 5 alignment keypoints from them.
#pragma once

#include <memory>
#include <opencv2/core.hpp>
#include <vector>

#include "standin/face.hpp"
#include "standin/models.hpp"
#include "standin/status.hpp"

namespace standin {

class Landmarker {
 public:
  virtual ~Landmarker() = default;
  // Fills landmarks68 and kps5 of every face in place.
  virtual Status Annotate(const cv::Mat& bgr, std::vector<Face>& faces) = 0;
  // A quicker, coarser fit for following a face from one video frame to the next: only the first
  // stages of the model, which place, size and turn the shape. Good for where the face is, not
  // for the fine pose a generated face is painted from. By default the full fit.
  virtual Status AnnotateQuick(const cv::Mat& bgr, std::vector<Face>& faces) {
    return Annotate(bgr, faces);
  }
};

// The model file is found and checked (sha256) before this returns. With `in_background` its
// parsing (about 0.35 s for dlib's 95 MB model) goes on in a thread while the caller starts on
// other work (probing a video, detecting the first faces); the first Annotate() waits for it and
// reports a model that failed to load.
Expected<std::unique_ptr<Landmarker>> MakeLandmarker(const ModelStore& models,
                                                     bool in_background = false);

// Eye centres, nose tip and mouth corners from 68 landmarks.
std::array<cv::Point2f, 5> KeypointsFrom68(const std::vector<cv::Point2f>& landmarks68);

}  // namespace standin
