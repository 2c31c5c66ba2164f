#include "detect/tiled_detector.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/core.h>
#include <opencv2/imgproc.hpp>

namespace standin::detect {
namespace {

constexpr float kOverlap = 0.25f;   // fraction of a tile shared with its neighbour
constexpr float kEdgeMargin = 0.02f;  // a box this close to an inner tile edge is cut off

float IoU(const cv::Rect2f& a, const cv::Rect2f& b) {
  const float inter = (a & b).area();
  const float uni = a.area() + b.area() - inter;
  return uni > 0.f ? inter / uni : 0.f;
}

// The grid origins along one axis of length `extent` for tiles of side `tile`.
std::vector<int> Origins(int extent, int tile) {
  if (tile >= extent) return {(extent - tile) / 2};
  const int stride = std::max(1, static_cast<int>(std::lround(tile * (1.f - kOverlap))));
  const int n = static_cast<int>(std::ceil(static_cast<float>(extent - tile) / stride)) + 1;
  std::vector<int> out;
  for (int i = 0; i < n; ++i) {
    // Spread the tiles so the last one ends exactly at the image edge.
    out.push_back(n == 1 ? 0 : static_cast<int>(std::lround(1.0 * i * (extent - tile) / (n - 1))));
  }
  return out;
}

}  // namespace

cv::Rect2f BoxCalibration::Apply(const cv::Rect2f& b) const {
  const float cx = b.x + b.width * (0.5f + dx);
  const float cy = b.y + b.height * (0.5f + dy);
  const float w = b.width * sw;
  const float h = b.height * sh;
  return {cx - w / 2, cy - h / 2, w, h};
}

std::vector<Tile> PlanTiles(cv::Size image, cv::Size input, float min_face,
                            float min_face_input) {
  std::vector<Tile> tiles;
  // Level 0: the whole image, letterboxed into the network's aspect ratio.
  double scale = std::max(static_cast<double>(image.width) / input.width,
                          static_cast<double>(image.height) / input.height);
  const double finest = std::max(1e-3, static_cast<double>(min_face) / min_face_input);
  for (int level = 0;; ++level) {
    const int tw = static_cast<int>(std::lround(scale * input.width));
    const int th = static_cast<int>(std::lround(scale * input.height));
    for (int y : Origins(image.height, th)) {
      for (int x : Origins(image.width, tw)) tiles.push_back({cv::Rect(x, y, tw, th), level});
    }
    if (scale <= finest || level >= 8) break;
    scale /= 2.0;
  }
  return tiles;
}

std::vector<Face> SuppressOverlaps(std::vector<Face> faces, float iou_threshold) {
  std::sort(faces.begin(), faces.end(),
            [](const Face& a, const Face& b) { return a.score > b.score; });
  std::vector<Face> kept;
  for (auto& f : faces) {
    bool suppressed = false;
    for (const auto& k : kept) {
      const float inter = (f.box & k.box).area();
      if (IoU(f.box, k.box) > iou_threshold || inter > 0.6f * std::min(f.box.area(), k.box.area())) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push_back(std::move(f));
  }
  return kept;
}

TiledDetector::TiledDetector(std::unique_ptr<TileNetwork> net, DetectorOptions options)
    : net_(std::move(net)), options_(std::move(options)) {}

Expected<std::vector<Face>> TiledDetector::Detect(const cv::Mat& bgr) {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    return Status(ErrorCode::kInvalidArgument, "detector expects a non-empty 8-bit BGR image");
  }
  const cv::Size input = net_->input_size();
  const auto tiles = PlanTiles(bgr.size(), input, options_.min_face, net_->min_face_input());
  const cv::Rect image_rect(0, 0, bgr.cols, bgr.rows);
  const BoxCalibration calib = net_->calibration();
  std::vector<Face> all;
  cv::Mat tile_img;
  cv::Mat padded;
  for (const auto& tile : tiles) {
    const cv::Rect inside = tile.region & image_rect;
    if (inside.empty()) continue;
    // Copy the visible part of the tile into a black canvas, then resize to the input.
    padded.create(tile.region.size(), CV_8UC3);
    padded.setTo(cv::Scalar::all(0));
    bgr(inside).copyTo(padded(inside - tile.region.tl()));
    const double s = static_cast<double>(tile.region.width) / input.width;
    cv::resize(padded, tile_img, input, 0, 0, s > 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
    auto found = net_->Run(tile_img, options_.threshold);
    if (!found.ok()) return found.status();
    const float tw = static_cast<float>(tile.region.width);
    const float th = static_cast<float>(tile.region.height);
    for (auto& f : *found) {
      // Tile -> image coordinates.
      auto to_image = [&](cv::Point2f p) {
        return cv::Point2f(static_cast<float>(tile.region.x + p.x * s),
                           static_cast<float>(tile.region.y + p.y * s));
      };
      const cv::Point2f tl = to_image(f.box.tl());
      cv::Rect2f box(tl.x, tl.y, static_cast<float>(f.box.width * s),
                     static_cast<float>(f.box.height * s));
      if (tile.level > 0) {
        // Faces larger than the overlap belong to a coarser level, and a face cut by an inner
        // tile edge is seen whole by a neighbouring tile or level.
        if (std::max(box.width, box.height) > kOverlap * std::min(tw, th) * 2.f) continue;
        const float mx = kEdgeMargin * tw;
        const float my = kEdgeMargin * th;
        const bool cut_left = box.x < tile.region.x + mx && tile.region.x > 0;
        const bool cut_top = box.y < tile.region.y + my && tile.region.y > 0;
        const bool cut_right = box.br().x > tile.region.br().x - mx && tile.region.br().x < bgr.cols;
        const bool cut_bottom =
            box.br().y > tile.region.br().y - my && tile.region.br().y < bgr.rows;
        if (cut_left || cut_top || cut_right || cut_bottom) continue;
      }
      f.box = calib.Apply(box);
      for (auto& k : f.kps5) k = to_image(k);
      all.push_back(std::move(f));
    }
  }
  auto kept = SuppressOverlaps(std::move(all), options_.nms_iou);
  // Drop faces that lie entirely in the black padding.
  kept.erase(std::remove_if(kept.begin(), kept.end(),
                            [&](const Face& f) {
                              return (f.box & cv::Rect2f(image_rect)).area() < 0.5f * f.box.area();
                            }),
             kept.end());
  return kept;
}

}  // namespace standin::detect
