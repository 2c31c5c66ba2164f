// What the pipeline knows about one face.
#pragma once

#include <array>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace standin {

// Five alignment keypoints, in this order (image left/right, not the person's).
enum Keypoint5 { kLeftEye = 0, kRightEye = 1, kNose = 2, kMouthLeft = 3, kMouthRight = 4 };

struct Face {
  cv::Rect2f box;                        // pixels, in the convention of dlib's hand-labelled boxes
  float score = 0.f;                     // detector confidence in [0, 1]
  std::array<cv::Point2f, 5> kps5{};     // eyes, nose tip, mouth corners (see Keypoint5)
  std::vector<cv::Point2f> landmarks68;  // iBUG 300-W order; empty when landmarks are off
  std::string method;                    // what was done to this face ("blur", "pixelate", ...)
  // How the face was found: "detected"; in videos also "tracked" (followed from the previous
  // frame by its landmarks) or "backfilled" (found later, covered in earlier frames too).
  std::string origin = "detected";
  int track_id = -1;  // videos: the same person across frames
};

}  // namespace standin
