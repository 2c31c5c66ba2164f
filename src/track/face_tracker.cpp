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
  // A generated face is posed by its landmarks: it always gets full fits.
  if (anonymizer_.options().method.kind == MethodKind::kGenerate) options_.quick_follow = false;
}

Status FaceTracker::Fit(const cv::Mat& frame, const std::vector<std::size_t>& follow,
                        std::vector<Face>& detections, bool quick) {
  if (!anonymizer_.has_landmarks()) return Status::Ok();  // without landmarks: boxes hold still
  // One batch (the landmarker fits a batch in parallel): the detections, then the followed
  // tracks' faces in last frame's boxes.
  std::vector<Face> faces = std::move(detections);
  const std::size_t first = faces.size();
  std::vector<Pose> before;
  for (std::size_t t : follow) {
    faces.push_back(tracks_[t].face);
    before.push_back(PoseOf(tracks_[t].face.landmarks68));
  }
  if (Status s = anonymizer_.Refine(frame, faces, quick); !s.ok()) return s;
  for (std::size_t i = 0; i < follow.size(); ++i) {
    // The box follows the landmarks' motion (translation and scale).
    const Face& fitted = faces[first + i];
    const Pose after = PoseOf(fitted.landmarks68);
    Face& f = tracks_[follow[i]].face;
    if (before[i].spread > 0.f && after.spread > 0.f) {
      const float scale = std::clamp(after.spread / before[i].spread, 0.8f, 1.25f);
      const cv::Point2f c(f.box.x + f.box.width / 2, f.box.y + f.box.height / 2);
      const cv::Point2f moved = c + (after.centre - before[i].centre);
      f.box = cv::Rect2f(moved.x - f.box.width * scale / 2, moved.y - f.box.height * scale / 2,
                         f.box.width * scale, f.box.height * scale);
    }
    f.landmarks68 = fitted.landmarks68;
    f.kps5 = fitted.kps5;
    f.origin = "tracked";
  }
  faces.resize(first);
  detections = std::move(faces);
  return Status::Ok();
}

Status FaceTracker::Follow(const cv::Mat& frame) {
  std::vector<std::size_t> all(tracks_.size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  std::vector<Face> none;
  return Fit(frame, all, none, options_.quick_follow);
}

void FaceTracker::Match(const std::vector<Face>& detections, std::vector<int>& track_of,
                        std::vector<bool>& matched) const {
  // Greedy, detections best first, each to the free track it overlaps most.
  for (std::size_t d = 0; d < detections.size(); ++d) {
    if (track_of[d] >= 0) continue;
    int best = -1;
    float best_iou = options_.match_iou;
    for (std::size_t t = 0; t < tracks_.size(); ++t) {
      const float v = eval::IoU(detections[d].box, tracks_[t].face.box);
      if (!matched[t] && v > best_iou) {
        best = static_cast<int>(t);
        best_iou = v;
      }
    }
    if (best >= 0) {
      matched[static_cast<std::size_t>(best)] = true;
      track_of[d] = best;
    }
  }
}

Status FaceTracker::KeyFrame(const cv::Mat& frame) {
  auto found = anonymizer_.Find(frame);
  if (!found.ok()) return found.status();
  std::vector<Face>& dets = *found;
  std::vector<bool> matched(tracks_.size(), false);
  std::vector<int> track_of(dets.size(), -1);
  // Detections matched to where the tracks were one frame ago need no follow-up fit of those
  // tracks: each landmark set is fitted once per frame. Only the tracks left over are followed
  // to this frame and offered the left-over detections again.
  Match(dets, track_of, matched);
  std::vector<std::size_t> follow;
  for (std::size_t t = 0; t < tracks_.size(); ++t) {
    if (!matched[t]) follow.push_back(t);
  }
  if (Status s = Fit(frame, follow, dets, /*quick=*/false); !s.ok()) return s;
  if (!follow.empty()) Match(dets, track_of, matched);
  std::vector<Face> fresh;
  for (std::size_t d = 0; d < dets.size(); ++d) {
    Face& det = dets[d];
    if (track_of[d] >= 0) {
      Track& t = tracks_[static_cast<std::size_t>(track_of[d])];
      det.track_id = t.id;
      // A face once found with confidence stays that sure: a hand or motion blur that lowers a
      // key frame's score must not switch its stand-in to blur and back (paint_above).
      det.score = std::max(det.score, t.face.score);
      t.face = det;
      t.missed = 0;
    } else {
      det.track_id = next_id_++;
      fresh.push_back(det);
    }
  }
  // Faces not found again stay covered (by their followed box) for a while: a missed
  // detection must not uncover a face.
  std::vector<Track> kept;
  for (std::size_t t = 0; t < tracks_.size(); ++t) {
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
