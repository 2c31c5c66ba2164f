// Runs a fixed-input face detection network over a pyramid of overlapping tiles so that faces
// from a few pixels up to the whole image are found, then merges the results.
#pragma once

#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <vector>

#include "standin/detector.hpp"

namespace standin::detect {

// Maps a network's own box to the convention of dlib's hand-labelled face boxes (the ground truth
// standin is measured on): centre shift as a fraction of the box size, then scale.
struct BoxCalibration {
  float dx = 0.f, dy = 0.f, sw = 1.f, sh = 1.f;
  [[nodiscard]] cv::Rect2f Apply(const cv::Rect2f& b) const;
};

// One network pass on one tile: `tile` is exactly input_size(), BGR. Boxes and keypoints come
// back in tile pixels; keypoints may be left at (0,0) if the network has none.
class TileNetwork {
 public:
  virtual ~TileNetwork() = default;
  virtual Expected<std::vector<Face>> Run(const cv::Mat& tile, float threshold) = 0;
  [[nodiscard]] virtual cv::Size input_size() const = 0;
  // Smallest face side (in network input pixels) the network still finds reliably.
  [[nodiscard]] virtual float min_face_input() const = 0;
  [[nodiscard]] virtual BoxCalibration calibration() const = 0;
};

struct Tile {
  cv::Rect region;  // in image pixels; may extend past the image (padded with black)
  int level = 0;    // 0 = the whole image; -1 = the whole image zoomed out (large faces only)
};

// The tile pyramid for an image of `image` size: level -1 is the whole image zoomed out to the
// middle half of the input (for faces that fill the frame), level 0 the whole image letterboxed;
// each further
// level halves the tile side, with 25% overlap, until faces of `min_face` pixels are
// min_face_input() pixels at the network's input.
std::vector<Tile> PlanTiles(cv::Size image, cv::Size input, float min_face, float min_face_input);

// Greedy non-maximum suppression by score; also drops a box mostly inside a better one.
std::vector<Face> SuppressOverlaps(std::vector<Face> faces, float iou_threshold);

// Tiles run in parallel, one network instance per worker thread (each single-threaded inside):
// on small inputs this uses the cores better than threading inside one network.
class TiledDetector final : public FaceDetector {
 public:
  using NetworkFactory = std::function<Expected<std::unique_ptr<TileNetwork>>()>;
  static Expected<std::unique_ptr<TiledDetector>> Create(NetworkFactory factory,
                                                         DetectorOptions options);
  Expected<std::vector<Face>> Detect(const cv::Mat& bgr) override;

 private:
  TiledDetector() = default;
  Expected<std::vector<Face>> RunTile(TileNetwork& net, const cv::Mat& bgr, const Tile& tile) const;

  std::vector<std::unique_ptr<TileNetwork>> nets_;  // one per worker
  DetectorOptions options_;
};

// The part of `bgr` under `region` (which may reach past the image: padded with black), resized to
// a network's `input` size.
cv::Mat TileInput(const cv::Mat& bgr, const cv::Rect& region, cv::Size input);

// `input`: 256 for the back-camera model, 128 for the front-camera one.
std::unique_ptr<TileNetwork> MakeBlazeFace(cv::dnn::Net net, int input = 256);
std::unique_ptr<TileNetwork> MakeUltraFace(cv::dnn::Net net);

}  // namespace standin::detect
