#include "support/test_support.hpp"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <sstream>

#include "standin/anonymizer.hpp"

namespace standin::test {
namespace fs = std::filesystem;

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() /
          ("standin-test-" + std::to_string(rd()) + std::to_string(getpid()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

fs::path SharedData() { return fs::path(STANDIN_SOURCE_DIR) / ".." / "shared" / "data"; }

fs::path SamplePhoto(const std::string& name) { return fs::path(STANDIN_DLIB_FACES) / name; }

Scene::Scene(const std::string& name) : image(LoadSample(name)) {
  auto a = Anonymizer::Create({.method = {.kind = MethodKind::kBlur}});  // finding faces only
  EXPECT_TRUE(a.ok()) << a.status().message();
  if (!a.ok()) return;
  auto found = a->Detect(image);
  EXPECT_TRUE(found.ok()) << found.status().message();
  if (found.ok()) faces = std::move(found).value();
}

cv::Mat LoadSample(const std::string& name) {
  cv::Mat img = cv::imread(SamplePhoto(name).string());
  if (img.empty())
    ADD_FAILURE() << "missing sample photo " << name << " (apt-get install libdlib-dev)";
  return img;
}

void WriteBytes(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {
std::string Slurp(int fd) {
  std::string s;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  return s;
}
}  // namespace

RunResult Run(const std::vector<std::string>& argv, long fsize_limit,
              const std::function<bool()>& interrupt_when) {
  TempDir tmp;
  const fs::path out = tmp / "out";
  const fs::path err = tmp / "err";
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* o = std::freopen(out.c_str(), "w", stdout);
    FILE* e = std::freopen(err.c_str(), "w", stderr);
    (void)o;
    (void)e;
    if (fsize_limit >= 0) {
      rlimit lim{static_cast<rlim_t>(fsize_limit), static_cast<rlim_t>(fsize_limit)};
      setrlimit(RLIMIT_FSIZE, &lim);
    }
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  if (interrupt_when) {
    bool sent = false;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (!sent && interrupt_when()) {
        kill(pid, SIGINT);
        sent = true;
      }
      usleep(50'000);
    }
  } else {
    waitpid(pid, &status, 0);
  }
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = ReadBytes(out);
  r.err = ReadBytes(err);
  return r;
}

RunResult Standin(const std::vector<std::string>& args, long fsize_limit) {
  std::vector<std::string> argv{STANDIN_CLI};
  argv.insert(argv.end(), args.begin(), args.end());
  return Run(argv, fsize_limit);
}

std::vector<std::string> ListFiles(const fs::path& dir) {
  std::vector<std::string> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_regular_file()) files.push_back(fs::relative(it->path(), dir).string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

fs::path MakeVideo(const TempDir& dir, const std::string& name, int frames, int fps, bool audio,
                   int rotate_degrees, int width, int height) {
  const fs::path out = dir / name;
  std::vector<std::string> args = {"ffmpeg",     "-v",
                                   "error",      "-y",
                                   "-loop",      "1",
                                   "-framerate", std::to_string(fps),
                                   "-i",         SamplePhoto("2008_002470.jpg").string()};
  if (audio) {
    args.insert(args.end(), {"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"});
  }
  // A slow pan and zoom so faces move between frames.
  const std::string vf = "scale=" + std::to_string(width * 5 / 4) +
                         ":-2,crop=" + std::to_string(width) + ":" + std::to_string(height) +
                         ":'(in_w-out_w)*n/" + std::to_string(frames) + "':'(in_h-out_h)/2'";
  args.insert(args.end(), {"-vf", vf, "-frames:v", std::to_string(frames), "-c:v", "libx264",
                           "-preset", "ultrafast", "-pix_fmt", "yuv420p"});
  if (audio) args.insert(args.end(), {"-c:a", "aac", "-shortest"});
  args.push_back(out.string());
  const RunResult r = Run(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (rotate_degrees == 90) {
    // ffmpeg 5.1 has no option to set the display matrix, so write it into the video track
    // header ('tkhd', version 0): a 90 degree rotation as phones record portrait video.
    std::string bytes = ReadBytes(out);
    const size_t at = bytes.find("tkhd");
    EXPECT_NE(at, std::string::npos);
    const size_t matrix = at + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 8 + 2 + 2 + 2 + 2;
    const std::int32_t m[9] = {0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000};
    for (int i = 0; i < 9; ++i) {
      const auto v = static_cast<std::uint32_t>(m[i]);
      for (int b = 0; b < 4; ++b) {
        bytes[matrix + static_cast<size_t>(4 * i + b)] =
            static_cast<char>((v >> (24 - 8 * b)) & 0xFF);
      }
    }
    WriteBytes(out, bytes);
  }
  return out;
}

}  // namespace standin::test
