// A child process (ffmpeg, ffprobe) with its stdin and/or stdout on pipes and its stderr in a
// temporary file. No shell is involved: arguments are passed as they are.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <vector>

#include "standin/status.hpp"

namespace standin::io {

class Subprocess {
 public:
  enum Pipes { kStdin = 1, kStdout = 2 };
  static Expected<Subprocess> Start(const std::vector<std::string>& argv, int pipes);
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  ~Subprocess();  // kills and reaps a child still running

  // Reads exactly `size` bytes; returns the count read (less only at end of stream), or -errno.
  long ReadFull(void* data, std::size_t size);
  // Writes all of `data`; 0 or -errno (EPIPE when the child has gone).
  int WriteAll(const void* data, std::size_t size);
  void CloseStdin();
  // Waits for exit; returns the exit status (128 + signal when killed).
  int Wait();
  // What the child wrote on stderr (after Wait).
  [[nodiscard]] std::string Stderr() const;
  // Kills the child and waits for it.
  void Kill();

 private:
  Subprocess() = default;
  void Reset();
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  int err_ = -1;  // temp file holding stderr
  int status_ = -1;
};

// Runs to completion and returns stdout; non-zero exit -> error carrying stderr's last line.
Expected<std::string> RunCapture(const std::vector<std::string>& argv);

}  // namespace standin::io
