#include "io/subprocess.hpp"

#include <fcntl.h>
#include <fmt/core.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

extern char** environ;  // NOLINT

namespace standin::io {

Expected<Subprocess> Subprocess::Start(const std::vector<std::string>& argv, int pipes) {
  // A child that exits early must not kill us with SIGPIPE; writes report EPIPE instead.
  static const bool sigpipe_ignored = [] {
    struct sigaction old {};
    sigaction(SIGPIPE, nullptr, &old);
    if (old.sa_handler == SIG_DFL) std::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)sigpipe_ignored;

  int in_pipe[2] = {-1, -1};
  int out_pipe[2] = {-1, -1};
  char err_name[] = "/tmp/standin-stderr-XXXXXX";
  const int err_fd = mkstemp(err_name);
  if (err_fd < 0) return Status(ErrorCode::kExternalTool, "cannot create a temporary file");
  unlink(err_name);
  if (((pipes & kStdin) && pipe2(in_pipe, O_CLOEXEC) != 0) ||
      ((pipes & kStdout) && pipe2(out_pipe, O_CLOEXEC) != 0)) {
    close(err_fd);
    return Status(ErrorCode::kExternalTool, "cannot create a pipe");
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (pipes & kStdin) {
    posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
  } else {
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  }
  if (pipes & kStdout) {
    posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  } else {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));  // NOLINT
  args.push_back(nullptr);
  // Children get default SIGPIPE handling back.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t def;
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  posix_spawnattr_setsigdefault(&attr, &def);
  // Its own process group: a Ctrl-C at the terminal reaches standin alone, which then ends its
  // children in order (a stream's encoder must finish the file, not die with it).
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (pipes & kStdin) close(in_pipe[0]);
  if (pipes & kStdout) close(out_pipe[1]);
  if (rc != 0) {
    if (pipes & kStdin) close(in_pipe[1]);
    if (pipes & kStdout) close(out_pipe[0]);
    close(err_fd);
    return Status(ErrorCode::kExternalTool,
                  fmt::format("cannot run {} ({}); install it with: apt-get install {}", argv[0],
                              std::strerror(rc), argv[0] == "mkvmerge" ? "mkvtoolnix" : "ffmpeg"));
  }
  Subprocess p;
  p.pid_ = pid;
  p.in_ = (pipes & kStdin) ? in_pipe[1] : -1;
  p.out_ = (pipes & kStdout) ? out_pipe[0] : -1;
  p.err_ = err_fd;
  return p;
}

Subprocess::Subprocess(Subprocess&& o) noexcept
    : pid_(o.pid_), in_(o.in_), out_(o.out_), err_(o.err_), status_(o.status_) {
  o.pid_ = -1;
  o.in_ = o.out_ = o.err_ = -1;
}

Subprocess& Subprocess::operator=(Subprocess&& o) noexcept {
  if (this != &o) {
    Reset();
    pid_ = o.pid_;
    in_ = o.in_;
    out_ = o.out_;
    err_ = o.err_;
    status_ = o.status_;
    o.pid_ = -1;
    o.in_ = o.out_ = o.err_ = -1;
  }
  return *this;
}

Subprocess::~Subprocess() { Reset(); }

void Subprocess::Reset() {
  if (pid_ > 0) Kill();
  if (in_ >= 0) close(in_);
  if (out_ >= 0) close(out_);
  if (err_ >= 0) close(err_);
  in_ = out_ = err_ = -1;
}

long Subprocess::ReadFull(void* data, std::size_t size) {
  auto* p = static_cast<char*>(data);
  std::size_t got = 0;
  while (got < size) {
    const ssize_t n = read(out_, p + got, size - got);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    got += static_cast<std::size_t>(n);
  }
  return static_cast<long>(got);
}

int Subprocess::WriteAll(const void* data, std::size_t size) {
  const auto* p = static_cast<const char*>(data);
  std::size_t done = 0;
  while (done < size) {
    const ssize_t n = write(in_, p + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

void Subprocess::CloseStdin() {
  if (in_ >= 0) close(in_);
  in_ = -1;
}

int Subprocess::Wait() {
  CloseStdin();
  if (out_ >= 0) {
    close(out_);
    out_ = -1;
  }
  if (pid_ > 0) {
    int st = 0;
    while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    pid_ = -1;
  }
  return status_;
}

void Subprocess::Kill() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    int st = 0;
    while (waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    status_ = 128 + SIGKILL;
    pid_ = -1;
  }
}

std::string Subprocess::Stderr() const {
  std::string text;
  if (err_ < 0) return text;
  char buf[4096];
  ssize_t n = 0;
  off_t off = 0;
  while ((n = pread(err_, buf, sizeof buf, off)) > 0 && text.size() < (1 << 20)) {
    text.append(buf, static_cast<std::size_t>(n));
    off += n;
  }
  return text;
}

Expected<std::string> RunCapture(const std::vector<std::string>& argv) {
  auto proc = Subprocess::Start(argv, Subprocess::kStdout);
  if (!proc.ok()) return proc.status();
  std::string out;
  char buf[65536];
  long n = 0;
  while ((n = proc->ReadFull(buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  const int rc = proc->Wait();
  if (rc != 0) {
    std::string err = proc->Stderr();
    while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
    const auto nl = err.rfind('\n');
    return Status(ErrorCode::kExternalTool, nl == std::string::npos ? err : err.substr(nl + 1));
  }
  return out;
}

}  // namespace standin::io
