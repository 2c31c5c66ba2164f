#include "detect/tiled_detector.hpp"

#include <fmt/core.h>

#include <algorithm>
#include <cmath>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgproc.hpp>

namespace standin::detect {
namespace {

constexpr float kOverlap = 0.25f;     // fraction of a tile shared with its neighbour
constexpr float kEdgeMargin = 0.02f;  // a box this close to an inner tile edge is cut off
// The zoomed-out pass keeps faces of at least this fraction of the level-0 tile's side.
constexpr float kZoomedMinFace = 0.4f;

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

std::vector<Tile> PlanTiles(cv::Size image, cv::Size input, float min_face, float min_face_input) {
  std::vector<Tile> tiles;
  // Level 0: the whole image, letterboxed into the network's aspect ratio.
  double scale = std::max(static_cast<double>(image.width) / input.width,
                          static_cast<double>(image.height) / input.height);
  const double finest = std::max(1e-3, static_cast<double>(min_face) / min_face_input);
  // Zoomed out: the whole image in the middle half of the input. A face that fills the frame (a
  // close-up portrait) is too large for the network's anchors at level 0, and it then finds a
  // small false face in the glasses or the hair and misses the real one (5% of the AT&T faces,
  // docs/detector-comparison.md); here that face is half as large.
  {
    const int tw = static_cast<int>(std::lround(2 * scale * input.width));
    const int th = static_cast<int>(std::lround(2 * scale * input.height));
    tiles.push_back({cv::Rect((image.width - tw) / 2, (image.height - th) / 2, tw, th), -1});
  }
  for (int level = 0;; ++level) {
    const int tw = static_cast<int>(std::lround(scale * input.width));
    const int th = static_cast<int>(std::lround(scale * input.height));
    for (int y : Origins(image.height, th)) {
      for (int x : Origins(image.width, tw)) tiles.push_back({cv::Rect(x, y, tw, th), level});
    }
    // Halve the tile side until faces of min_face pixels are big enough for the network; the
    // last step stops exactly there rather than going a whole factor of two too far.
    const double next = std::max(scale / 2.0, finest);
    if (next > scale / 1.25 || level >= 8) break;
    scale = next;
  }
  return tiles;
}

std::vector<Face> SuppressOverlaps(std::vector<Face> faces, float iou_threshold) {
  std::sort(faces.begin(), faces.end(),
            [](const Face& a, const Face& b) { return a.score > b.score; });
  std::vector<Face> kept;
  for (auto& f : faces) {
    bool suppressed = false;
    for (auto& k : kept) {
      if (IoU(f.box, k.box) > iou_threshold) {
        suppressed = true;
        break;
      }
      // One box mostly inside the other (a partial detection): keep the larger region, which is
      // the safe side, with the better score.
      if ((f.box & k.box).area() > 0.6f * std::min(f.box.area(), k.box.area())) {
        if (f.box.area() > k.box.area()) {
          k.box = f.box;
          k.kps5 = f.kps5;
        }
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push_back(std::move(f));
  }
  return kept;
}

Expected<std::unique_ptr<TiledDetector>> TiledDetector::Create(NetworkFactory factory,
                                                               DetectorOptions options) {
  std::unique_ptr<TiledDetector> d(new TiledDetector());
  d->options_ = std::move(options);
  const int workers = std::max(1, options.threads > 0 ? options.threads : cv::getNumThreads());
  for (int i = 0; i < workers; ++i) {
    auto net = factory();
    if (!net.ok()) return net.status();
    d->nets_.push_back(std::move(net).value());
  }
  return d;
}

cv::Mat TileInput(const cv::Mat& bgr, const cv::Rect& region, cv::Size input) {
  // The visible part of the region on a black canvas, resized to the network input.
  cv::Mat padded(region.size(), CV_8UC3, cv::Scalar::all(0));
  const cv::Rect inside = region & cv::Rect(0, 0, bgr.cols, bgr.rows);
  if (!inside.empty()) bgr(inside).copyTo(padded(inside - region.tl()));
  cv::Mat out;
  cv::resize(padded, out, input, 0, 0,
             region.width > input.width ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

Expected<std::vector<Face>> TiledDetector::RunTile(TileNetwork& net, const cv::Mat& bgr,
                                                   const Tile& tile) const {
  const cv::Size input = net.input_size();
  const cv::Rect image_rect(0, 0, bgr.cols, bgr.rows);
  const cv::Rect inside = tile.region & image_rect;
  if (inside.empty()) return std::vector<Face>{};
  const double s = static_cast<double>(tile.region.width) / input.width;
  auto found = net.Run(TileInput(bgr, tile.region, input), options_.threshold);
  if (!found.ok()) return found.status();
  const float tw = static_cast<float>(tile.region.width);
  const float th = static_cast<float>(tile.region.height);
  const BoxCalibration calib = net.calibration();
  std::vector<Face> kept;
  for (auto& f : *found) {
    auto to_image = [&](cv::Point2f p) {
      return cv::Point2f(static_cast<float>(tile.region.x + p.x * s),
                         static_cast<float>(tile.region.y + p.y * s));
    };
    const cv::Point2f tl = to_image(f.box.tl());
    const cv::Rect2f box(tl.x, tl.y, static_cast<float>(f.box.width * s),
                         static_cast<float>(f.box.height * s));
    // The zoomed-out pass is there for faces too large for level 0; its smaller faces are
    // level 0's (seen there at twice the resolution), and its coarse boxes beside them would only
    // add offset duplicates.
    if (tile.level < 0 && std::max(box.width, box.height) < kZoomedMinFace * 0.5f * tw) continue;
    if (tile.level > 0) {
      // Faces larger than the overlap belong to a coarser level, and a face cut by an inner
      // tile edge is seen whole by a neighbouring tile or level.
      if (std::max(box.width, box.height) > 2.f * kOverlap * std::min(tw, th)) continue;
      const float mx = kEdgeMargin * tw;
      const float my = kEdgeMargin * th;
      const bool cut_left = box.x < tile.region.x + mx && tile.region.x > 0;
      const bool cut_top = box.y < tile.region.y + my && tile.region.y > 0;
      const bool cut_right = box.br().x > tile.region.br().x - mx && tile.region.br().x < bgr.cols;
      const bool cut_bottom = box.br().y > tile.region.br().y - my && tile.region.br().y < bgr.rows;
      if (cut_left || cut_top || cut_right || cut_bottom) continue;
    }
    f.box = calib.Apply(box);
    for (auto& k : f.kps5) k = to_image(k);
    kept.push_back(std::move(f));
  }
  return kept;
}

Expected<std::vector<Face>> TiledDetector::Detect(const cv::Mat& bgr) {
  if (bgr.empty() || bgr.type() != CV_8UC3) {
    return Status(ErrorCode::kInvalidArgument, "detector expects a non-empty 8-bit BGR image");
  }
  const float min_face = options_.min_face > 0.f ? options_.min_face : AutoMinFace(bgr.size());
  const auto tiles =
      PlanTiles(bgr.size(), nets_[0]->input_size(), min_face, nets_[0]->min_face_input());
  std::vector<Expected<std::vector<Face>>> results(tiles.size(), std::vector<Face>{});
  if (tiles.size() == 1) results[0] = RunTile(*nets_[0], bgr, tiles[0]);  // threads inside
  const int workers =
      tiles.size() == 1 ? 0 : static_cast<int>(std::min(nets_.size(), tiles.size()));
  // Worker w takes tiles w, w + workers, ...; networks run single-threaded inside the workers.
  cv::parallel_for_(
      cv::Range(0, workers),
      [&](const cv::Range& range) {
        for (int w = range.start; w < range.end; ++w) {
          for (size_t t = static_cast<size_t>(w); t < tiles.size();
               t += static_cast<size_t>(workers)) {
            results[t] = RunTile(*nets_[static_cast<size_t>(w)], bgr, tiles[t]);
          }
        }
      },
      workers);
  std::vector<Face> all;
  for (auto& r : results) {
    if (!r.ok()) return r.status();
    for (auto& f : *r) all.push_back(std::move(f));
  }
  auto kept = SuppressOverlaps(std::move(all), options_.nms_iou);
  // Drop faces that lie mostly in the black padding.
  const cv::Rect2f image_rect(0.f, 0.f, static_cast<float>(bgr.cols), static_cast<float>(bgr.rows));
  kept.erase(std::remove_if(
                 kept.begin(), kept.end(),
                 [&](const Face& f) { return (f.box & image_rect).area() < 0.5f * f.box.area(); }),
             kept.end());
  return kept;
}

}  // namespace standin::detect

namespace standin {
float AutoMinFace(cv::Size image) {
  return std::max(20.f, static_cast<float>(std::min(image.width, image.height)) / 14.f);
}
}  // namespace standin
