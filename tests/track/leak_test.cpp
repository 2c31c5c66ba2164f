// The video leak test: a clip whose ground truth is known by construction (a photo's faces moved,
// scaled and briefly occluded by a passing bar), run through the CLI; no frame may show a
// visible ground-truth face left untouched.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "standin/anonymizer.hpp"
#include "standin/io.hpp"
#include "support/test_support.hpp"

namespace standin {
namespace {
namespace fs = std::filesystem;

constexpr int kW = 1280, kH = 720, kFrames = 60;

// Photo -> frame t: zoom 2.6 +- 5% and a diagonal pan.
cv::Matx23d Motion(int t, cv::Size photo) {
  const double s = 2.6 * (1 + 0.05 * std::sin(2 * CV_PI * t / kFrames));
  const double x0 = (photo.width * s - kW) * (0.1 + 0.8 * t / kFrames);
  const double y0 = (photo.height * s - kH) * (0.3 + 0.4 * t / kFrames);
  return {s, 0, -x0, 0, s, -y0};
}

// The occluding bar of frame t: 160 px wide, sweeping left to right over the frame.
cv::Rect Bar(int t) { return {-200 + t * 30, 0, 160, kH}; }

std::vector<cv::Mat> ReadAll(const fs::path& path) {
  std::vector<cv::Mat> out;
  auto reader = io::VideoReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status().message();
  if (!reader.ok()) return out;
  cv::Mat f;
  while (true) {
    auto more = (*reader)->Read(f);
    if (!more.ok() || !*more) break;
    out.push_back(f.clone());
  }
  return out;
}

TEST(VideoLeak, NoVisibleFaceLeftUntouchedWithMotionScaleAndOcclusion) {
  const cv::Mat photo = test::LoadSample("2008_002470.jpg");
  auto a = Anonymizer::Create({});
  ASSERT_TRUE(a.ok());
  auto truth = a->Detect(photo);
  ASSERT_TRUE(truth.ok());
  ASSERT_EQ(truth->size(), 6u);

  test::TempDir dir;
  fs::create_directories(dir / "frames");
  for (int t = 0; t < kFrames; ++t) {
    cv::Mat f;
    cv::warpAffine(photo, f, Motion(t, photo.size()), {kW, kH}, cv::INTER_LINEAR);
    cv::rectangle(f, Bar(t), cv::Scalar(90, 110, 100), cv::FILLED);
    char name[32];
    std::snprintf(name, sizeof name, "%03d.png", t);
    ASSERT_TRUE(cv::imwrite((dir / "frames" / name).string(), f));
  }
  const auto made = test::Run({"ffmpeg", "-v", "error", "-y", "-framerate", "25", "-i",
                               (dir / "frames" / "%03d.png").string(), "-c:v", "libx264", "-crf",
                               "14", "-pix_fmt", "yuv420p", (dir / "clip.mp4").string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const auto r = test::Standin(
      {(dir / "clip.mp4").string(), "-o", (dir / "out.mp4").string(), "-m", "solid", "-q"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto in = ReadAll(dir / "clip.mp4");
  const auto out = ReadAll(dir / "out.mp4");
  ASSERT_EQ(in.size(), static_cast<size_t>(kFrames));
  ASSERT_EQ(out.size(), in.size());

  // A ground-truth face is visible in frame t when most of its inner landmarks (brows, eyes,
  // nose, mouth) are inside the frame and not under the bar; it is left untouched when the
  // output still matches the input around most of those points.
  int visible = 0, leaked_frames = 0;
  for (int t = 0; t < kFrames; ++t) {
    const cv::Matx23d m = Motion(t, photo.size());
    bool leak = false;
    for (const auto& face : *truth) {
      int seen = 0, untouched = 0;
      for (size_t k = 17; k < 68; ++k) {
        const cv::Point2f p = face.landmarks68[k];
        const cv::Point q(cvRound(m(0, 0) * p.x + m(0, 2)), cvRound(m(1, 1) * p.y + m(1, 2)));
        const cv::Rect patch(q.x - 2, q.y - 2, 5, 5);
        if ((patch & cv::Rect(0, 0, kW, kH)) != patch) continue;
        if ((patch & Bar(t)).area() > 0) continue;
        ++seen;
        cv::Mat diff;
        cv::absdiff(in[static_cast<size_t>(t)](patch), out[static_cast<size_t>(t)](patch), diff);
        const cv::Scalar d = cv::mean(diff);
        if (d[0] + d[1] + d[2] < 3 * 10.0) ++untouched;
      }
      if (seen < 30) continue;  // mostly hidden or outside: nothing to leak
      ++visible;
      if (untouched * 2 > seen) {
        leak = true;
        ADD_FAILURE() << "frame " << t << ": face at " << face.box << " left untouched ("
                      << untouched << " of " << seen << " inner landmarks)";
      }
    }
    leaked_frames += leak;
  }
  EXPECT_GT(visible, kFrames * 3);  // the test really looked at faces
  EXPECT_EQ(leaked_frames, 0) << "of " << kFrames << " frames";
}

}  // namespace
}  // namespace standin
