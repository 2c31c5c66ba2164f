// Faces through a video: full detection on key frames, landmark tracking in between, and a
// short look-ahead so that a face first found on a key frame is also covered in the frames
// before it that are still buffered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <opencv2/core.hpp>
#include <vector>

#include "standin/anonymizer.hpp"

namespace standin {

struct VideoTrackOptions {
  // Run the full detector on every N-th frame (1 = every frame). In between, each face is
  // followed by re-fitting its 68 landmarks. Frames wait in a buffer of N frames so faces found
  // on a key frame are covered in the frames since the previous key frame.
  int detect_every = 5;
  // A face not found again on this many key frames in a row is dropped.
  int max_missed_keyframes = 2;
  // Faces of a new key frame and tracked faces overlapping by this IoU are the same person.
  float match_iou = 0.3f;
  // Temporal smoothing of each track's landmarks and keypoints (what poses a stand-in and orients
  // its mask), so the face does not jitter: an alpha-beta (constant-velocity) filter, which
  // follows steady motion without lag and damps the jitter of per-frame landmark fits. The box,
  // and so what is covered, always comes from the raw detection; smoothed points never trail the
  // raw ones by more than `smooth_max_lag` inter-ocular distances.
  bool smooth = true;
  float smooth_alpha = 0.35f;  // share of each new measurement taken into the position
  float smooth_beta = 0.05f;   // share taken into the velocity
  float smooth_max_lag = 0.15f;
  // Between key frames, follow faces with the landmark model's first stages only
  // (Landmarker::AnnotateQuick: 4 of 10 cascades). Enough to move a box and turn its mask; a
  // generated face needs the full fit for its pose, so the tracker uses full fits when the
  // anonymizer generates faces whatever this says (and the file pipeline for `--mode detect`,
  // which draws the landmarks).
  bool quick_follow = true;
};

struct VideoFrame {
  std::int64_t index = 0;
  cv::Mat image;            // the original frame
  std::vector<Face> faces;  // every face to cover in it
};

class FaceTracker {
 public:
  FaceTracker(Anonymizer& anonymizer, VideoTrackOptions options);

  // Feeds the next frame; frames whose faces are final are appended to `ready`, in order.
  Status Push(cv::Mat frame, std::vector<VideoFrame>& ready);
  // At the end of the video: the remaining frames.
  void Flush(std::vector<VideoFrame>& ready);

 private:
  struct Track {
    int id = 0;
    Face face;  // as last seen
    int missed = 0;
    // Smoothing state: filtered landmarks and their filtered per-frame velocity.
    std::vector<cv::Point2f> smooth, velocity;
  };
  // The face to cover in this frame: the raw one, with smoothed landmarks when smoothing is on.
  Face Emit(Track& track) const;
  // Landmarks for `detections` and for the tracks `follow` (whose boxes then move with their
  // landmarks), fitted as one batch.
  Status Fit(const cv::Mat& frame, const std::vector<std::size_t>& follow,
             std::vector<Face>& detections, bool quick);
  Status Follow(const cv::Mat& frame);
  // Matches the unmatched detections (track_of -1) to the free tracks.
  void Match(const std::vector<Face>& detections, std::vector<int>& track_of,
             std::vector<bool>& matched) const;
  Status KeyFrame(const cv::Mat& frame);

  Anonymizer& anonymizer_;
  VideoTrackOptions options_;
  std::vector<Track> tracks_;
  std::deque<VideoFrame> buffer_;
  std::int64_t next_index_ = 0;
  int next_id_ = 0;
};

}  // namespace standin
