#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <exiv2/exiv2.hpp>
#include <opencv2/imgcodecs.hpp>

#include "standin/io.hpp"
#include "support/test_support.hpp"

namespace standin::io {
namespace {

namespace fs = std::filesystem;

std::string Encoded(const cv::Mat& img, const std::string& ext) {
  std::vector<uchar> buf;
  cv::imencode(ext, img, buf);
  return {buf.begin(), buf.end()};
}

TEST(ReadImage, DecodesEachFormat) {
  test::TempDir dir;
  const cv::Mat img = test::LoadSample("2008_002506.jpg");
  for (const char* ext : {".jpg", ".png", ".webp", ".bmp", ".tiff"}) {
    const fs::path p = dir / (std::string("x") + ext);
    test::WriteBytes(p, Encoded(img, ext));
    auto back = ReadImage(p);
    ASSERT_TRUE(back.ok()) << ext << ": " << back.status().message();
    EXPECT_EQ(back->size(), img.size());
    EXPECT_EQ(back->type(), CV_8UC3);
  }
}

TEST(ReadImage, BadInputsHaveDistinctErrors) {
  test::TempDir dir;
  const std::string jpeg = Encoded(test::LoadSample("2008_002506.jpg"), ".jpg");
  const std::string png = Encoded(test::LoadSample("2008_002506.jpg"), ".png");
  test::WriteBytes(dir / "empty.jpg", "");
  test::WriteBytes(dir / "text.jpg", "this is not an image\n");
  test::WriteBytes(dir / "cut.jpg", jpeg.substr(0, jpeg.size() / 2));
  test::WriteBytes(dir / "cut.png", png.substr(0, png.size() / 2));
  std::string garbled = jpeg;
  for (size_t i = 200; i < 600; ++i) garbled[i] = static_cast<char>(0xFF);  // wreck the tables
  test::WriteBytes(dir / "garbled.jpg", garbled);
  fs::create_directory(dir / "folder.jpg");

  EXPECT_EQ(ReadImage(dir / "missing.jpg").status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ReadImage(dir / "empty.jpg").status().code(), ErrorCode::kCorruptInput);
  EXPECT_EQ(ReadImage(dir / "text.jpg").status().code(), ErrorCode::kCorruptInput);
  EXPECT_EQ(ReadImage(dir / "cut.jpg").status().code(), ErrorCode::kCorruptInput);
  EXPECT_EQ(ReadImage(dir / "cut.png").status().code(), ErrorCode::kCorruptInput);
  EXPECT_EQ(ReadImage(dir / "garbled.jpg").status().code(), ErrorCode::kCorruptInput);
  EXPECT_EQ(ReadImage(dir / "folder.jpg").status().code(), ErrorCode::kUnreadable);
}

TEST(KindOf, ByExtension) {
  EXPECT_EQ(KindOf("a/B.JPG"), MediaKind::kImage);
  EXPECT_EQ(KindOf("x.webm"), MediaKind::kVideo);
  EXPECT_EQ(KindOf("x.gif"), MediaKind::kUnsupported);
  EXPECT_EQ(KindOf("noext"), MediaKind::kUnsupported);
}

TEST(WriteFileAtomic, WritesAndLeavesNoTemporaryFiles) {
  test::TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir / "a.bin", {1, 2, 3}).ok());
  ASSERT_TRUE(WriteFileAtomic(dir / "a.bin", {4, 5}).ok());  // replaces
  EXPECT_EQ(test::ReadBytes(dir / "a.bin"), std::string("\x04\x05"));
  EXPECT_EQ(test::ListFiles(dir.path()), std::vector<std::string>{"a.bin"});
}

TEST(WriteFileAtomic, MissingFolderIsNotWritable) {
  test::TempDir dir;
  test::WriteBytes(dir / "file", "x");
  EXPECT_EQ(WriteFileAtomic(dir / "nope" / "a.bin", {1}).code(), ErrorCode::kOutputNotWritable);
  EXPECT_EQ(WriteFileAtomic(dir / "file" / "a.bin", {1}).code(), ErrorCode::kOutputNotWritable);
}

// Runs WriteFileAtomic in a child whose file size limit is 4 KiB: the write fails with EFBIG,
// as on a full disk. Returns the child's ErrorCode.
int WriteWithSizeLimit(const fs::path& path) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{4096, 4096};
    setrlimit(RLIMIT_FSIZE, &lim);
    const Status s = WriteFileAtomic(path, std::vector<std::uint8_t>(100000, 7));
    _exit(static_cast<int>(s.code()));
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(WriteFileAtomic, DiskFullLeavesNothingBehind) {
  test::TempDir dir;
  EXPECT_EQ(WriteWithSizeLimit(dir / "big.bin"), static_cast<int>(ErrorCode::kDiskFull));
  EXPECT_TRUE(test::ListFiles(dir.path()).empty());
}

TEST(WriteFileAtomic, RealFullFilesystem) {
  // A 64 KiB tmpfs really runs out of space (ENOSPC); needs the right to mount.
  test::TempDir dir;
  if (mount("tmpfs", dir.path().c_str(), "tmpfs", 0, "size=64k") != 0) {
    GTEST_SKIP() << "cannot mount a tmpfs here; the RLIMIT_FSIZE test covers the error path";
  }
  const Status s = WriteFileAtomic(dir / "big.bin", std::vector<std::uint8_t>(1 << 20, 7));
  EXPECT_EQ(s.code(), ErrorCode::kDiskFull);
  EXPECT_TRUE(test::ListFiles(dir.path()).empty());
  umount(dir.path().c_str());
}

fs::path JpegWithGps(const test::TempDir& dir) {
  const fs::path p = dir / "gps.jpg";
  test::WriteBytes(p, Encoded(test::LoadSample("2008_002506.jpg"), ".jpg"));
  auto img = Exiv2::ImageFactory::open(p.string());
  img->readMetadata();
  Exiv2::ExifData exif;
  exif["Exif.GPSInfo.GPSLatitudeRef"] = "N";
  exif["Exif.GPSInfo.GPSLatitude"] = "59/1 54/1 0/1";
  exif["Exif.Image.Make"] = "TestCam";
  img->setExifData(exif);
  img->writeMetadata();
  return p;
}

bool HasGps(const fs::path& p) {
  auto img = Exiv2::ImageFactory::open(p.string());
  img->readMetadata();
  const auto& exif = img->exifData();
  return exif.findKey(Exiv2::ExifKey("Exif.GPSInfo.GPSLatitude")) != exif.end();
}

TEST(WriteImage, StripsMetadataUnlessAskedToKeepIt) {
  test::TempDir dir;
  const fs::path src = JpegWithGps(dir);
  ASSERT_TRUE(HasGps(src));
  auto img = ReadImage(src);
  ASSERT_TRUE(img.ok());
  ASSERT_TRUE(WriteImage(dir / "stripped.jpg", *img).ok());
  EXPECT_FALSE(HasGps(dir / "stripped.jpg"));
  ASSERT_TRUE(WriteImage(dir / "kept.jpg", *img, {.metadata_from = src}).ok());
  EXPECT_TRUE(HasGps(dir / "kept.jpg"));
  EXPECT_TRUE(ReadImage(dir / "kept.jpg").ok());
}

}  // namespace
}  // namespace standin::io
