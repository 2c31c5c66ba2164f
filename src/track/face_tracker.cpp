#include <algorithm>
#include <cmath>
#include <numeric>

#include "standin/eval.hpp"
#include "standin/landmarker.hpp"
#include "standin/video.hpp"

namespace standin {
namespace {

// Centroid and spread of a landmark set: how a face moved and scaled between two fits.
struct Pose {
  cv::Point2f centre;
  float spread = 0.f;
};

Pose PoseOf(const std::vector<cv::Point2f>& pts) {
  Pose p;
  if (pts.empty()) return p;
  for (const auto& q : pts) p.centre += q;
  p.centre *= 1.f / static_cast<float>(pts.size());
  double s = 0;
  for (const auto& q : pts) s += std::hypot(q.x - p.centre.x, q.y - p.centre.y);
  p.spread = static_cast<float>(s / static_cast<double>(pts.size()));
  return p;
}

}  // namespace

Face FaceTracker::Emit(Track& t) const {
  Face f = t.face;
  const auto& raw = t.face.landmarks68;
  if (!options_.smooth || raw.size() != 68) return f;
  if (t.smooth.size() != raw.size()) {
    t.smooth = raw;
    t.velocity.assign(raw.size(), cv::Point2f(0, 0));
    return f;
  }
  const auto kp = KeypointsFrom68(raw);
  const float iod = std::max(1.f, static_cast<float>(cv::norm(kp[kRightEye] - kp[kLeftEye])));
  const float max_lag = options_.smooth_max_lag * iod;
  for (size_t k = 0; k < raw.size(); ++k) {
    // Predict with the filtered velocity, correct by a share of the residual.
    const cv::Point2f predicted = t.smooth[k] + t.velocity[k];
    const cv::Point2f residual = raw[k] - predicted;
    cv::Point2f p = predicted + options_.smooth_alpha * residual;
    t.velocity[k] += options_.smooth_beta * residual;
    const cv::Point2f lag = p - raw[k];
    const float n = static_cast<float>(cv::norm(lag));
    if (n > max_lag) p = raw[k] + lag * (max_lag / n);
    t.smooth[k] = p;
  }
  f.landmarks68 = t.smooth;
  f.kps5 = KeypointsFrom68(t.smooth);
  return f;
}

FaceTracker::FaceTracker(Anonymizer& anonymizer, VideoTrackOptions options)
    : anonymizer_(anonymizer), options_(options) {
  options_.detect_every = std::max(1, options_.detect_every);
}

Status FaceTracker::Follow(const cv::Mat& frame) {
  if (!anonymizer_.has_landmarks()) return Status::Ok();  // without landmarks: boxes hold still
  std::vector<Face> faces;
  for (const auto& t : tracks_) faces.push_back(t.face);
  std::vector<Pose> before;
  for (const auto& f : faces) before.push_back(PoseOf(f.landmarks68));
  // Re-fit the landmarks inside last frame's box; the box follows the landmarks' motion.
  if (Status s = anonymizer_.Refine(frame, faces); !s.ok()) return s;
  for (size_t i = 0; i < faces.size(); ++i) {
    const Pose after = PoseOf(faces[i].landmarks68);
    Face& f = tracks_[i].face;
    if (before[i].spread > 0.f && after.spread > 0.f) {
      const float scale = std::clamp(after.spread / before[i].spread, 0.8f, 1.25f);
      const cv::Point2f c(f.box.x + f.box.width / 2, f.box.y + f.box.height / 2);
      const cv::Point2f moved = c + (after.centre - before[i].centre);
      f.box = cv::Rect2f(moved.x - f.box.width * scale / 2, moved.y - f.box.height * scale / 2,
                         f.box.width * scale, f.box.height * scale);
    }
    f.landmarks68 = faces[i].landmarks68;
    f.kps5 = faces[i].kps5;
    f.origin = "tracked";
  }
  return Status::Ok();
}

Status FaceTracker::KeyFrame(const cv::Mat& frame) {
  // Follow the known faces first, so they are matched where they are now.
  if (Status s = Follow(frame); !s.ok()) return s;
  auto found = anonymizer_.Detect(frame);
  if (!found.ok()) return found.status();
  std::vector<bool> matched(tracks_.size(), false);
  std::vector<Face> fresh;
  // Greedy matching of detections to tracked faces, best overlap first.
  for (auto& det : *found) {
    int best = -1;
    float best_iou = options_.match_iou;
    for (size_t t = 0; t < tracks_.size(); ++t) {
      const float v = eval::IoU(det.box, tracks_[t].face.box);
      if (!matched[t] && v > best_iou) {
        best = static_cast<int>(t);
        best_iou = v;
      }
    }
    if (best >= 0) {
      matched[static_cast<size_t>(best)] = true;
      det.track_id = tracks_[static_cast<size_t>(best)].id;
      tracks_[static_cast<size_t>(best)].face = det;
      tracks_[static_cast<size_t>(best)].missed = 0;
    } else {
      det.track_id = next_id_++;
      fresh.push_back(det);
    }
  }
  // Faces not found again stay covered (by their last tracked box) for a while: a missed
  // detection must not uncover a face.
  std::vector<Track> kept;
  for (size_t t = 0; t < tracks_.size(); ++t) {
    if (!matched[t] && ++tracks_[t].missed > options_.max_missed_keyframes) continue;
    kept.push_back(std::move(tracks_[t]));
  }
  tracks_ = std::move(kept);
  // New faces: also cover them in the buffered frames since the previous key frame.
  for (const auto& f : fresh) {
    Face back = f;
    back.origin = "backfilled";
    for (auto& vf : buffer_) vf.faces.push_back(back);
    tracks_.push_back({f.track_id, f, 0});
  }
  return Status::Ok();
}

Status FaceTracker::Push(cv::Mat frame, std::vector<VideoFrame>& ready) {
  const std::int64_t index = next_index_++;
  const bool key = index % options_.detect_every == 0;
  if (Status s = key ? KeyFrame(frame) : Follow(frame); !s.ok()) return s;
  if (key) {
    // Everything buffered before this key frame is final now.
    while (!buffer_.empty()) {
      ready.push_back(std::move(buffer_.front()));
      buffer_.pop_front();
    }
  }
  VideoFrame vf{index, std::move(frame), {}};
  for (auto& t : tracks_) vf.faces.push_back(Emit(t));
  buffer_.push_back(std::move(vf));
  if (options_.detect_every == 1) {
    ready.push_back(std::move(buffer_.front()));
    buffer_.pop_front();
  }
  return Status::Ok();
}

void FaceTracker::Flush(std::vector<VideoFrame>& ready) {
  while (!buffer_.empty()) {
    ready.push_back(std::move(buffer_.front()));
    buffer_.pop_front();
  }
}

}  // namespace standin
