// Measuring detection quality against hand-labelled boxes (the basis of `standin eval`).
#pragma once

#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "standin/face.hpp"
#include "standin/status.hpp"

namespace standin::eval {

struct LabelledImage {
  std::filesystem::path file;
  std::vector<cv::Rect2f> boxes;   // faces to find
  std::vector<cv::Rect2f> ignore;  // faces marked "ignore": neither hits nor false positives
};

// Reads a dlib imglab XML file (e.g. /usr/share/doc/libdlib19.1/examples/faces/testing.xml).
// Paths are made absolute relative to the XML's folder.
Expected<std::vector<LabelledImage>> LoadDlibDataset(const std::filesystem::path& xml);

float IoU(const cv::Rect2f& a, const cv::Rect2f& b);

struct DetectionScores {
  int images = 0;
  int ground_truth = 0;
  int true_positives = 0;   // at the operating threshold
  int false_positives = 0;  // at the operating threshold
  double recall = 0;        // true_positives / ground_truth
  double fp_per_image = 0;
  double average_precision = 0;  // area under the interpolated precision-recall curve (all points)
  std::vector<float> missed_sizes;  // sides (pixels) of the ground-truth faces not found
};

// Greedy matching by descending score at `iou` (PASCAL VOC style). `detections[i]` are the faces
// found in image i; those scoring below `threshold` count for AP only.
DetectionScores ScoreDetections(const std::vector<LabelledImage>& truth,
                                const std::vector<std::vector<Face>>& detections, float iou,
                                float threshold);

}  // namespace standin::eval
