// Image files: validated decoding, atomic writes, metadata stripping or copying (exiv2).
#include <fcntl.h>
#include <fmt/core.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exiv2/exiv2.hpp>
#include <fstream>
#include <opencv2/imgcodecs.hpp>

#include "standin/io.hpp"

namespace standin::io {
namespace fs = std::filesystem;
namespace {

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

enum class Magic { kJpeg, kPng, kWebp, kBmp, kTiff, kUnknown };

Magic Sniff(const std::vector<std::uint8_t>& b) {
  auto starts = [&](std::initializer_list<int> sig, size_t at = 0) {
    if (b.size() < at + sig.size()) return false;
    size_t i = at;
    for (int v : sig) {
      if (v >= 0 && b[i] != v) return false;
      ++i;
    }
    return true;
  };
  if (starts({0xFF, 0xD8, 0xFF})) return Magic::kJpeg;
  if (starts({0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A})) return Magic::kPng;
  if (starts({'R', 'I', 'F', 'F'}) && starts({'W', 'E', 'B', 'P'}, 8)) return Magic::kWebp;
  if (starts({'B', 'M'})) return Magic::kBmp;
  if (starts({'I', 'I', 0x2A, 0x00}) || starts({'M', 'M', 0x00, 0x2A})) return Magic::kTiff;
  return Magic::kUnknown;
}

// A JPEG whose scan data never reaches the end-of-image marker was cut off. libjpeg only warns
// about it and pads the picture with grey, so check the structure: walk the header segments to
// the first start-of-scan, then look for the EOI marker after it.
bool JpegComplete(const std::vector<std::uint8_t>& b) {
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (b[i] != 0xFF) return false;
    const std::uint8_t marker = b[i + 1];
    if (marker == 0xFF) {
      ++i;
      continue;
    }
    if (marker == 0xDA) break;  // start of scan
    const size_t len = (static_cast<size_t>(b[i + 2]) << 8) | b[i + 3];
    i += 2 + len;
  }
  if (i + 4 > b.size()) return false;
  for (size_t j = b.size() - 1; j > i; --j) {
    if (b[j] == 0xD9 && b[j - 1] == 0xFF) return true;
  }
  return false;
}

bool PngComplete(const std::vector<std::uint8_t>& b) {
  static const std::uint8_t kIend[] = {'I', 'E', 'N', 'D'};
  return b.size() >= 12 && std::search(b.end() - std::min<size_t>(b.size(), 64), b.end(),
                                       std::begin(kIend), std::end(kIend)) != b.end();
}

}  // namespace

MediaKind KindOf(const fs::path& path) {
  const std::string ext = Lower(path.extension().string());
  for (const char* e : {".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff"}) {
    if (ext == e) return MediaKind::kImage;
  }
  for (const char* e : {".mp4", ".mov", ".mkv", ".avi", ".webm", ".m4v"}) {
    if (ext == e) return MediaKind::kVideo;
  }
  return MediaKind::kUnsupported;
}

bool IsStream(const fs::path& input) {
  const std::string s = input.string();
  if (s.starts_with("/dev/video")) return true;
  const auto colon = s.find("://");
  if (colon == std::string::npos || colon == 0) return false;
  return std::all_of(s.begin(), s.begin() + static_cast<long>(colon), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

Expected<cv::Mat> ReadImage(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    return Status(ErrorCode::kNotFound, fmt::format("{}: no such file", path.string()));
  }
  if (!fs::is_regular_file(path, ec)) {
    return Status(ErrorCode::kUnreadable, fmt::format("{}: not a regular file", path.string()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status(ErrorCode::kUnreadable,
                  fmt::format("{}: cannot open ({})", path.string(), std::strerror(errno)));
  }
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
  if (in.bad()) {
    return Status(ErrorCode::kUnreadable, fmt::format("{}: read error", path.string()));
  }
  if (bytes.empty()) {
    return Status(ErrorCode::kCorruptInput, fmt::format("{}: empty file (0 bytes)", path.string()));
  }
  const Magic magic = Sniff(bytes);
  if (magic == Magic::kUnknown) {
    return Status(ErrorCode::kCorruptInput,
                  fmt::format("{}: not an image (unrecognised content)", path.string()));
  }
  if ((magic == Magic::kJpeg && !JpegComplete(bytes)) ||
      (magic == Magic::kPng && !PngComplete(bytes))) {
    return Status(ErrorCode::kCorruptInput,
                  fmt::format("{}: truncated or corrupt image data", path.string()));
  }
  cv::Mat img;
  try {
    img = cv::imdecode(bytes, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    img.release();
  }
  if (img.empty()) {
    return Status(ErrorCode::kCorruptInput,
                  fmt::format("{}: corrupt image data (decoder failed)", path.string()));
  }
  return img;
}

mode_t DefaultFileMode() {
  static const mode_t mode = [] {
    const mode_t mask = umask(0);
    umask(mask);
    return static_cast<mode_t>(0666 & ~mask);
  }();
  return mode;
}

Status WriteError(const fs::path& path, int err) {
  if (err == ENOSPC || err == EFBIG || err == EDQUOT) {
    return {ErrorCode::kDiskFull, fmt::format("{}: not enough space to write the output ({})",
                                              path.string(), std::strerror(err))};
  }
  return {ErrorCode::kOutputNotWritable,
          fmt::format("{}: cannot write ({})", path.string(), std::strerror(err))};
}

Status WriteFileAtomic(const fs::path& path, const std::vector<std::uint8_t>& bytes) {
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::string tmpl = (dir / ("." + path.filename().string() + ".standin-XXXXXX")).string();
  const int fd = mkstemp(tmpl.data());
  if (fd < 0) return WriteError(path, errno);
  auto fail = [&](int err) {
    close(fd);
    unlink(tmpl.c_str());
    return WriteError(path, err);
  };
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(errno);
    }
    done += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return fail(errno);
  fchmod(fd, DefaultFileMode());
  if (close(fd) != 0) {
    const int err = errno;
    unlink(tmpl.c_str());
    return WriteError(path, err);
  }
  if (rename(tmpl.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmpl.c_str());
    return WriteError(path, err);
  }
  return Status::Ok();
}

namespace {

// Copies EXIF, XMP and IPTC from `source` into the encoded image in `bytes` (orientation reset
// to "upright", since the pixels were rotated on decoding).
Status CopyMetadata(const fs::path& source, std::vector<std::uint8_t>& bytes) {
  try {
    auto src = Exiv2::ImageFactory::open(source.string());
    src->readMetadata();
    auto dst = Exiv2::ImageFactory::open(bytes.data(), static_cast<long>(bytes.size()));
    Exiv2::ExifData exif = src->exifData();
    auto orientation = exif.findKey(Exiv2::ExifKey("Exif.Image.Orientation"));
    if (orientation != exif.end()) orientation->setValue("1");
    dst->setExifData(exif);
    dst->setXmpData(src->xmpData());
    dst->setIptcData(src->iptcData());
    dst->writeMetadata();
    auto& io = dst->io();
    io.seek(0, Exiv2::BasicIo::beg);
    Exiv2::DataBuf buf = io.read(static_cast<long>(io.size()));
    bytes.assign(buf.pData_, buf.pData_ + buf.size_);
  } catch (const std::exception& e) {
    return {ErrorCode::kProcessingFailed,
            fmt::format("{}: cannot copy metadata ({})", source.string(), e.what())};
  }
  return Status::Ok();
}

}  // namespace

Status WriteImage(const fs::path& path, const cv::Mat& bgr, const ImageWriteOptions& options) {
  std::string ext = Lower(path.extension().string());
  std::vector<int> params;
  if (ext == ".jpg" || ext == ".jpeg") params = {cv::IMWRITE_JPEG_QUALITY, options.jpeg_quality};
  if (ext == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, options.jpeg_quality};
  std::vector<std::uint8_t> bytes;
  try {
    if (!cv::imencode(ext, bgr, bytes, params)) {
      return {ErrorCode::kUnsupported, fmt::format("{}: cannot encode this format", path.string())};
    }
  } catch (const cv::Exception& e) {
    return {ErrorCode::kUnsupported,
            fmt::format("{}: cannot encode this format ({})", path.string(), e.what())};
  }
  if (options.metadata_from) {
    if (Status s = CopyMetadata(*options.metadata_from, bytes); !s.ok()) return s;
  }
  return WriteFileAtomic(path, bytes);
}

}  // namespace standin::io
