#include "standin/files.hpp"

#include <gtest/gtest.h>

#include "support/test_support.hpp"

namespace standin {
namespace {
namespace fs = std::filesystem;

TEST(SummarizeFaces, CountsMethodsAndTheirReasonsOverImagesAndVideoFrames) {
  auto face = [](const std::string& method, const std::string& reason = "") {
    Face f;
    f.method = method;
    f.reason = reason;
    return f;
  };
  FileReport photo, video;
  photo.frames = {{face("generate"), face("generate"),
                   face("blur", "too large for the 64 px generator (scaled up 9.1x)"),
                   face("solid", "no stand-in passed the identity guard")}};
  video.frames = {{face("generate"), face("blur", "maybe not a face (detected with 0.62)")},
                  {face("generate"), face("blur", "maybe not a face (detected with 0.64)")}};
  EXPECT_EQ(SummarizeFaces({photo, video}),
            "8 faces: 4 generate; 3 blur (2 maybe not a face, 1 too large for the 64 px "
            "generator); 1 solid (1 no stand-in passed the identity guard)");
  FileReport blurred;
  blurred.frames = {{face("blur")}};
  EXPECT_EQ(SummarizeFaces({blurred}), "1 face: 1 blur");
  EXPECT_EQ(SummarizeFaces({}), "0 faces");
}

TEST(PlanJobs, DefaultOutputsSitNextToInputs) {
  test::TempDir dir;
  test::WriteBytes(dir / "a.jpg", "x");
  test::WriteBytes(dir / "clip.webm", "x");
  auto jobs = PlanJobs({dir / "a.jpg", dir / "clip.webm"}, {});
  ASSERT_TRUE(jobs.ok());
  EXPECT_EQ((*jobs)[0].output, dir / "a_anonymized.jpg");
  EXPECT_EQ((*jobs)[1].output, dir / "clip_anonymized.mp4");  // WebM cannot carry H.264
  EXPECT_EQ((*jobs)[1].kind, io::MediaKind::kVideo);
}

TEST(PlanJobs, FoldersKeepTheirStructure) {
  test::TempDir dir;
  fs::create_directories(dir / "in" / "sub");
  test::WriteBytes(dir / "in" / "a.png", "x");
  test::WriteBytes(dir / "in" / "sub" / "b.jpg", "x");
  test::WriteBytes(dir / "in" / "notes.txt", "x");
  auto jobs = PlanJobs({dir / "in"}, {.output = dir / "out"});
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].output, dir / "out" / "a.png");
  EXPECT_EQ((*jobs)[1].output, dir / "out" / "sub" / "b.jpg");
  auto default_jobs = PlanJobs({dir / "in"}, {});
  ASSERT_TRUE(default_jobs.ok());
  EXPECT_EQ((*default_jobs)[0].output, fs::path((dir / "in").string() + "_anonymized") / "a.png");
}

TEST(PlanJobs, LinkedFilesInAFolderKeepTheirPlaceInTheOutput) {
  // A folder of symbolic links to photos kept elsewhere: each output lands in the output folder
  // under the link's name, not beside the link's target.
  test::TempDir dir;
  fs::create_directories(dir / "store");
  fs::create_directories(dir / "in");
  test::WriteBytes(dir / "store" / "real.jpg", "x");
  fs::create_symlink(dir / "store" / "real.jpg", dir / "in" / "link.jpg");
  auto jobs = PlanJobs({dir / "in"}, {.output = dir / "out"});
  ASSERT_TRUE(jobs.ok()) << jobs.status().message();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].output, dir / "out" / "link.jpg");
}

TEST(PlanJobs, OutputFolderInsideInputIsNotReprocessed) {
  test::TempDir dir;
  fs::create_directories(dir / "in" / "out");
  test::WriteBytes(dir / "in" / "a.png", "x");
  test::WriteBytes(dir / "in" / "out" / "a.png", "x");  // from an earlier run
  auto jobs = PlanJobs({dir / "in"}, {.output = dir / "in" / "out"});
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
}

TEST(PlanJobs, Refusals) {
  test::TempDir dir;
  test::WriteBytes(dir / "a.jpg", "x");
  test::WriteBytes(dir / "a.gif", "x");
  fs::create_directory(dir / "empty");
  test::WriteBytes(dir / "empty" / "readme.txt", "x");
  EXPECT_EQ(PlanJobs({dir / "a.jpg"}, {.output = dir / "a.jpg"}).status().code(),
            ErrorCode::kOutputConflict);
  EXPECT_EQ(PlanJobs({dir / "a.jpg"}, {.output = dir / "." / "a.jpg"}).status().code(),
            ErrorCode::kOutputConflict);
  EXPECT_EQ(PlanJobs({dir / "nope.jpg"}, {}).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(PlanJobs({dir / "a.gif"}, {}).status().code(), ErrorCode::kUnsupported);
  EXPECT_EQ(PlanJobs({dir / "empty"}, {}).status().code(), ErrorCode::kNoInputs);
  EXPECT_EQ(PlanJobs({dir / "a.jpg"}, {.output = dir / "b.mp4"}).status().code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace standin
