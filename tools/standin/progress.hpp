// A one-line progress bar with rate and ETA on stderr, shown only on a terminal.
#pragma once

#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace standin::cli {

class Progress {
 public:
  Progress(bool enabled, std::string label)
      : enabled_(enabled && isatty(STDERR_FILENO) != 0), label_(std::move(label)) {}
  ~Progress() { Done(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void Update(std::int64_t done, std::int64_t total) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (done < total && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    drawn_ = true;
    const double secs = std::chrono::duration<double>(now - start_).count();
    const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
    std::string line;
    if (total > 0) {
      constexpr int kWidth = 28;
      const double frac = std::min(1.0, static_cast<double>(done) / static_cast<double>(total));
      const int fill = static_cast<int>(frac * kWidth);
      const double eta = rate > 0 ? static_cast<double>(total - done) / rate : 0.0;
      line =
          fmt::format("\r{} [{}{}] {:3.0f}% {}/{} {:.1f}/s ETA {}", label_, std::string(fill, '#'),
                      std::string(kWidth - fill, '.'), 100 * frac, done, total, rate, Hms(eta));
    } else {
      line = fmt::format("\r{} {} {:.1f}/s", label_, done, rate);
    }
    std::fputs(line.c_str(), stderr);
    std::fputs("\x1b[K", stderr);
    std::fflush(stderr);
  }

  void Done() {
    if (enabled_ && drawn_) std::fputs("\n", stderr);
    drawn_ = false;
  }

 private:
  using Clock = std::chrono::steady_clock;
  static std::string Hms(double secs) {
    const auto s = static_cast<long>(secs + 0.5);
    return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  }
  bool enabled_;
  bool drawn_ = false;
  std::string label_;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_{};
};

}  // namespace standin::cli
