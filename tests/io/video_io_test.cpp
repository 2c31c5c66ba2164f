#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "standin/io.hpp"
#include "support/test_support.hpp"

namespace standin::io {
namespace {

TEST(Video, ProbeReadsSizeRateFramesAndAudio) {
  test::TempDir dir;
  const auto path = test::MakeVideo(dir, "a.mp4", 12, 24, /*audio=*/true);
  auto info = ProbeVideo(path);
  ASSERT_TRUE(info.ok()) << info.status().message();
  EXPECT_EQ(info->width, 640);
  EXPECT_EQ(info->height, 360);
  EXPECT_NEAR(info->fps, 24.0, 1e-6);
  EXPECT_EQ(info->frames, 12);
  EXPECT_TRUE(info->has_audio);
}

TEST(Video, RoundTripKeepsEveryFrameAndTheAudio) {
  test::TempDir dir;
  const auto src = test::MakeVideo(dir, "a.mp4", 10, 25, true);
  auto reader = VideoReader::Open(src);
  ASSERT_TRUE(reader.ok());
  auto writer = VideoWriter::Open(dir / "b.mp4", src, (*reader)->info(), {});
  ASSERT_TRUE(writer.ok()) << writer.status().message();
  cv::Mat frame;
  int n = 0;
  while (*(*reader)->Read(frame)) {
    ASSERT_TRUE((*writer)->Write(frame).ok());
    ++n;
  }
  EXPECT_TRUE((*reader)->Finish().ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_EQ(n, 10);
  auto out = ProbeVideo(dir / "b.mp4");
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->frames, 10);
  EXPECT_TRUE(out->has_audio);
  EXPECT_EQ(test::ListFiles(dir.path()), (std::vector<std::string>{"a.mp4", "b.mp4"}));
}

// Presentation times of a file's video frames, in seconds, in order.
std::vector<double> FrameTimes(const std::filesystem::path& file) {
  const auto r = test::Run({"ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "packet=pts_time", "-of", "csv=p=0", file.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<double> t;
  std::istringstream in(r.out);
  for (double v; in >> v;) t.push_back(v);
  std::sort(t.begin(), t.end());
  return t;
}

TEST(Video, ConstantRateVideoHasNoFrameTimes) {
  test::TempDir dir;
  const auto src = test::MakeVideo(dir, "a.mp4", 12, 30, false);
  auto info = ProbeVideo(src);
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->timestamps.empty());
}

TEST(Video, VariableFrameRateKeepsEveryFramesTimeAndTheAudio) {
  test::TempDir dir;
  // 30 frames at 25 fps with a 0.6 s pause after frame 10 and slower frames from 20 on, as a
  // phone writes them; audio beside.
  const auto src = dir / "vfr.mp4";
  const auto made =
      test::Run({"ffmpeg",    "-v",
                 "error",     "-y",
                 "-f",        "lavfi",
                 "-i",        "testsrc=size=320x240:rate=25",
                 "-f",        "lavfi",
                 "-i",        "sine=frequency=440:sample_rate=44100",
                 "-vf",       "setpts='(N+if(gt(N,10),15,0)+if(gt(N,20),N-20,0))/25/TB'",
                 "-frames:v", "30",
                 "-fps_mode", "vfr",
                 "-c:v",      "libx264",
                 "-preset",   "veryfast",
                 "-pix_fmt",  "yuv420p",
                 "-c:a",      "aac",
                 "-t",        "3",
                 src.string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::vector<double> times = FrameTimes(src);
  ASSERT_EQ(times.size(), 30u);
  auto reader = VideoReader::Open(src);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  ASSERT_EQ((*reader)->info().timestamps.size(), 30u);
  auto writer = VideoWriter::Open(dir / "out.mp4", src, (*reader)->info(), {});
  ASSERT_TRUE(writer.ok()) << writer.status().message();
  cv::Mat frame;
  while (*(*reader)->Read(frame)) ASSERT_TRUE((*writer)->Write(frame).ok());
  ASSERT_TRUE((*reader)->Finish().ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  const std::vector<double> out = FrameTimes(dir / "out.mp4");
  ASSERT_EQ(out.size(), times.size());
  for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], times[i], 0.0015) << "frame " << i;
  auto info = ProbeVideo(dir / "out.mp4");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->has_audio);
  // Only the output is left: no intermediate files.
  EXPECT_EQ(test::ListFiles(dir.path()), (std::vector<std::string>{"out.mp4", "vfr.mp4"}));
}

TEST(Video, AbandonedWriterLeavesNoFile) {
  test::TempDir dir;
  const auto src = test::MakeVideo(dir, "a.mp4", 3, 25, false);
  auto info = ProbeVideo(src);
  ASSERT_TRUE(info.ok());
  {
    auto writer = VideoWriter::Open(dir / "b.mp4", src, *info, {});
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE(
        (*writer)->Write(cv::Mat(info->height, info->width, CV_8UC3, cv::Scalar::all(9))).ok());
  }  // no Finish(): fail closed
  EXPECT_EQ(test::ListFiles(dir.path()), std::vector<std::string>{"a.mp4"});
}

TEST(Video, RotationIsApplied) {
  test::TempDir dir;
  const auto src = test::MakeVideo(dir, "r.mp4", 3, 25, false, /*rotate=*/90);
  auto info = ProbeVideo(src);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->rotation % 180, 90);
  EXPECT_EQ(info->width, 360);  // displayed upright: portrait
  EXPECT_EQ(info->height, 640);
  auto reader = VideoReader::Open(src);
  ASSERT_TRUE(reader.ok());
  cv::Mat frame;
  ASSERT_TRUE(*(*reader)->Read(frame));
  EXPECT_EQ(frame.cols, 360);
  EXPECT_EQ(frame.rows, 640);
}

TEST(Video, CorruptFilesAreRejected) {
  test::TempDir dir;
  const auto src = test::MakeVideo(dir, "a.mp4", 10, 25, false);
  const std::string bytes = test::ReadBytes(src);
  test::WriteBytes(dir / "cut.mp4", bytes.substr(0, bytes.size() / 3));
  test::WriteBytes(dir / "text.mp4", "not a video");
  test::WriteBytes(dir / "empty.mp4", "");
  EXPECT_EQ(ProbeVideo(dir / "missing.mp4").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ProbeVideo(dir / "text.mp4").status().code(), ErrorCode::kCorruptInput);
  EXPECT_EQ(ProbeVideo(dir / "empty.mp4").status().code(), ErrorCode::kCorruptInput);
  // A cut file either fails to probe or fails while decoding; never reads cleanly to the end.
  auto reader = VideoReader::Open(dir / "cut.mp4");
  if (reader.ok()) {
    cv::Mat frame;
    Status end = Status::Ok();
    while (true) {
      auto more = (*reader)->Read(frame);
      if (!more.ok()) {
        end = more.status();
        break;
      }
      if (!*more) {
        end = (*reader)->Finish();
        break;
      }
    }
    EXPECT_EQ(end.code(), ErrorCode::kCorruptInput);
  } else {
    EXPECT_EQ(reader.status().code(), ErrorCode::kCorruptInput);
  }
}

}  // namespace
}  // namespace standin::io
