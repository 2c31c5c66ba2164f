// With detection on key frames only, every face that detection on every frame finds must still
// be covered in every frame (tracked between key frames, back-filled before its first key frame).
#include <gtest/gtest.h>

#include <set>

#include "standin/eval.hpp"
#include "standin/files.hpp"
#include "standin/methods.hpp"
#include "support/test_support.hpp"

namespace standin {
namespace {

std::vector<std::vector<Face>> FacesPerFrame(Anonymizer& a, const FileJob& job, int detect_every,
                                             bool smooth = true) {
  FileOptions o;
  o.mode = FileMode::kDetectOnly;
  o.tracking.detect_every = detect_every;
  o.tracking.smooth = smooth;
  auto report = ProcessFile(a, job, o);
  EXPECT_TRUE(report.ok()) << report.status().message();
  return report.ok() ? report->frames : std::vector<std::vector<Face>>{};
}

TEST(FaceTracker, KeyFrameDetectionLeavesNoFaceUncovered) {
  test::TempDir dir;
  const auto clip = test::MakeVideo(dir, "pan.mp4", 24, 25, false, 0, 1280, 720);
  auto a = Anonymizer::Create({.method = {.kind = MethodKind::kBlur}});
  ASSERT_TRUE(a.ok());
  const FileJob job{clip, {}, io::MediaKind::kVideo};
  const auto every = FacesPerFrame(*a, job, 1);
  const auto keyed = FacesPerFrame(*a, job, VideoTrackOptions{}.detect_every);
  ASSERT_EQ(every.size(), 24u);
  ASSERT_EQ(keyed.size(), 24u);
  // A face counts as covered when every one of its 68 landmarks (from detection on that very
  // frame) that lies in the frame is at least half covered by the regions actually anonymized:
  // the eyes, brows, nose, mouth and jaw line are what identify a person.
  const cv::Size size(1280, 720);
  int faces = 0, uncovered = 0;
  for (size_t f = 0; f < every.size(); ++f) {
    cv::Mat1f covered = cv::Mat1f::zeros(size);
    for (const auto& k : keyed[f]) {
      const FaceRegion r = MakeFaceRegion(k, size, {});
      if (r.roi.empty()) continue;
      cv::Mat part = covered(r.roi);
      cv::max(part, cv::Mat(r.alpha), part);
    }
    for (const auto& truth : every[f]) {
      ++faces;
      ASSERT_EQ(truth.landmarks68.size(), 68u);
      int bare = 0;
      for (const auto& p : truth.landmarks68) {
        const cv::Point q(static_cast<int>(p.x), static_cast<int>(p.y));
        if (q.inside(cv::Rect(0, 0, size.width, size.height)) && covered(q) < 0.5f) ++bare;
      }
      if (bare > 0) {
        ++uncovered;
        ADD_FAILURE() << "frame " << f << " face " << truth.box << ": " << bare
                      << " landmarks bare";
      }
    }
  }
  EXPECT_GE(faces, 24 * 5);
  EXPECT_EQ(uncovered, 0) << "of " << faces;
  // The same person keeps one track id through the clip.
  std::set<int> ids;
  for (const auto& frame : keyed) {
    for (const auto& k : frame) ids.insert(k.track_id);
  }
  EXPECT_LE(ids.size(), 8u);
}

TEST(FaceTracker, NewFaceIsBackfilledIntoEarlierFrames) {
  // Frames 0-2 show a plain wall, from frame 3 on a face: with detection every 4 frames the face
  // is first detected on key frame 4 and must be covered on frame 3 too.
  auto a = Anonymizer::Create({.method = {.kind = MethodKind::kBlur}});
  ASSERT_TRUE(a.ok());
  const cv::Mat face = test::LoadSample("2008_002506.jpg");
  const cv::Mat wall(face.size(), CV_8UC3, cv::Scalar(120, 130, 140));
  FaceTracker tracker(*a, {.detect_every = 4});
  std::vector<VideoFrame> ready;
  for (int i = 0; i < 8; ++i) ASSERT_TRUE(tracker.Push((i < 3 ? wall : face).clone(), ready).ok());
  tracker.Flush(ready);
  ASSERT_EQ(ready.size(), 8u);
  // The look-ahead covers every buffered frame since the previous key frame (on the safe side).
  EXPECT_EQ(ready[3].faces.size(), 3u);
  for (const auto& f : ready[3].faces) EXPECT_EQ(f.origin, "backfilled");
  EXPECT_EQ(ready[4].faces.size(), 3u);
}

// In a video a face keeps the best score its track has reached: a hand over the face on a later
// key frame lowers the detector's score, but not the face's, so a stand-in painted for it is not
// switched to blur and back (GeneratorOptions::paint_above).
TEST(FaceTracker, AFaceKeepsTheBestScoreItsTrackReached) {
  auto a = Anonymizer::Create({.method = {.kind = MethodKind::kBlur}});
  ASSERT_TRUE(a.ok());
  const cv::Mat photo = test::LoadSample("2008_002506.jpg");
  const auto faces = a->Detect(photo);
  ASSERT_TRUE(faces.ok() && !faces->empty());
  const Face& face = faces->front();
  cv::Mat hidden = photo.clone();
  const cv::Rect2f& b = face.box;
  hidden(cv::Rect(cv::Rect2f(b.x, b.y + 0.55f * b.height, b.width, 0.45f * b.height)) &
         cv::Rect({}, photo.size()))
      .setTo(cv::Scalar(90, 120, 170));
  const auto found = a->Detect(hidden);
  ASSERT_TRUE(found.ok());
  const Face* lowered = nullptr;
  for (const auto& f : *found) {
    if (eval::IoU(f.box, face.box) > 0.3) lowered = &f;
  }
  ASSERT_NE(lowered, nullptr) << "the half-hidden face should still be found";
  ASSERT_LT(lowered->score, face.score - 0.02f) << "the hand should lower the score";
  FaceTracker tracker(*a, {.detect_every = 1});
  std::vector<VideoFrame> ready;
  for (const cv::Mat& frame : {photo, hidden, hidden}) {
    ASSERT_TRUE(tracker.Push(frame.clone(), ready).ok());
  }
  tracker.Flush(ready);
  ASSERT_EQ(ready.size(), 3u);
  int id = -1;
  for (const auto& f : ready[0].faces) {
    if (eval::IoU(f.box, face.box) > 0.3) id = f.track_id;
  }
  ASSERT_GE(id, 0);
  for (size_t k = 1; k < ready.size(); ++k) {
    bool seen = false;
    for (const auto& f : ready[k].faces) {
      if (f.track_id != id) continue;
      seen = true;
      EXPECT_FLOAT_EQ(f.score, face.score) << "frame " << k;
    }
    EXPECT_TRUE(seen) << "frame " << k;
  }
}

// Smoothing makes each face's keypoints move more evenly (smaller frame-to-frame acceleration on a
// steadily panning clip) and never lets them trail the raw ones by more than the set bound.
TEST(FaceTracker, SmoothingSteadiesKeypointsWithBoundedLag) {
  test::TempDir dir;
  const auto clip = test::MakeVideo(dir, "pan.mp4", 30, 25, false, 0, 1280, 720);
  auto a = Anonymizer::Create({.method = {.kind = MethodKind::kBlur}});
  ASSERT_TRUE(a.ok());
  const FileJob job{clip, {}, io::MediaKind::kVideo};
  const int every = VideoTrackOptions{}.detect_every;
  const auto raw = FacesPerFrame(*a, job, every, false);
  const auto smooth = FacesPerFrame(*a, job, every, true);
  ASSERT_EQ(raw.size(), smooth.size());
  auto find = [](const std::vector<Face>& faces, int id) -> const Face* {
    for (const auto& f : faces) {
      if (f.track_id == id && f.origin != "backfilled") return &f;
    }
    return nullptr;
  };
  double acc_raw = 0, acc_smooth = 0, worst_lag = 0;
  int n = 0;
  const float max_lag = VideoTrackOptions{}.smooth_max_lag;
  for (size_t t = 2; t < raw.size(); ++t) {
    for (const auto& f : raw[t]) {
      const Face* r1 = find(raw[t - 1], f.track_id);
      const Face* r2 = find(raw[t - 2], f.track_id);
      const Face* s0 = find(smooth[t], f.track_id);
      const Face* s1 = find(smooth[t - 1], f.track_id);
      const Face* s2 = find(smooth[t - 2], f.track_id);
      if (!r1 || !r2 || !s0 || !s1 || !s2 || f.origin == "backfilled") continue;
      const double iod = cv::norm(f.kps5[kRightEye] - f.kps5[kLeftEye]);
      for (int k = 0; k < 5; ++k) {
        acc_raw += cv::norm(f.kps5[k] - 2 * r1->kps5[k] + r2->kps5[k]) / iod;
        acc_smooth += cv::norm(s0->kps5[k] - 2 * s1->kps5[k] + s2->kps5[k]) / iod;
        worst_lag = std::max(worst_lag, cv::norm(s0->kps5[k] - f.kps5[k]) / iod);
      }
      ++n;
    }
  }
  ASSERT_GT(n, 20);
  EXPECT_LT(acc_smooth, 0.7 * acc_raw) << "raw " << acc_raw / n << " smooth " << acc_smooth / n;
  // Keypoints are means of landmarks, each within the bound.
  EXPECT_LE(worst_lag, max_lag + 1e-3);
}

}  // namespace
}  // namespace standin
