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

std::vector<std::vector<Face>> FacesPerFrame(Anonymizer& a, const FileJob& job, int detect_every) {
  FileOptions o;
  o.mode = FileMode::kDetectOnly;
  o.tracking.detect_every = detect_every;
  auto report = ProcessFile(a, job, o);
  EXPECT_TRUE(report.ok()) << report.status().message();
  return report.ok() ? report->frames : std::vector<std::vector<Face>>{};
}

TEST(FaceTracker, KeyFrameDetectionLeavesNoFaceUncovered) {
  test::TempDir dir;
  const auto clip = test::MakeVideo(dir, "pan.mp4", 24, 25, false, 0, 1280, 720);
  auto a = Anonymizer::Create({});
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
  auto a = Anonymizer::Create({});
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

}  // namespace
}  // namespace standin
