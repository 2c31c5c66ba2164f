// Shared helpers for the tests: temporary folders, sample photos, running the CLI.
#pragma once

#include <filesystem>
#include <functional>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "standin/face.hpp"

namespace standin::test {

// A fresh folder removed when the object goes.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// A dlib sample photo (Debian libdlib19.1), e.g. "2008_002470.jpg".
std::filesystem::path SamplePhoto(const std::string& name);
cv::Mat LoadSample(const std::string& name);

// The project's data folder (../shared/data beside the checkout; may be missing outside CI).
std::filesystem::path SharedData();

// A sample photo and the faces the default Anonymizer finds in it (landmarks included).
struct Scene {
  explicit Scene(const std::string& name = "2008_002506.jpg");
  cv::Mat image;
  std::vector<Face> faces;
};

void WriteBytes(const std::filesystem::path& path, const std::string& bytes);
std::string ReadBytes(const std::filesystem::path& path);

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs a program with arguments (no shell); optional RLIMIT_FSIZE in bytes for the child. With
// `interrupt_when`, polled every 50 ms while the child runs: SIGINT is sent to the child once it
// returns true (as Ctrl-C would).
RunResult Run(const std::vector<std::string>& argv, long fsize_limit = -1,
              const std::function<bool()>& interrupt_when = {});
// Runs the standin CLI.
RunResult Standin(const std::vector<std::string>& args, long fsize_limit = -1);

// Files in a folder (recursively), as paths relative to it.
std::vector<std::string> ListFiles(const std::filesystem::path& dir);

// Makes a short test video with ffmpeg from a sample photo: panning, `frames` frames at `fps`,
// optionally with a sine-wave audio track and a rotation tag.
std::filesystem::path MakeVideo(const TempDir& dir, const std::string& name, int frames, int fps,
                                bool audio, int rotate_degrees = 0, int width = 640,
                                int height = 360);

}  // namespace standin::test
