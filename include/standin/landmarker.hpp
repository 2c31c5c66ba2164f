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
};

Expected<std::unique_ptr<Landmarker>> MakeLandmarker(const ModelStore& models);

// Eye centres, nose tip and mouth corners from 68 landmarks.
std::array<cv::Point2f, 5> KeypointsFrom68(const std::vector<cv::Point2f>& landmarks68);

}  // namespace standin
