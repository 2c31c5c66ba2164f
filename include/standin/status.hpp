// Errors cross the public API as values: Status for operations without a result, Expected<T>
// for operations that produce one. No exception leaves the library.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace standin {

// Each code maps to a distinct process exit status in the CLI (see tools/standin).
enum class ErrorCode {
  kOk = 0,
  kInvalidArgument,    // options or arguments that make no sense
  kNotFound,           // an input path that does not exist
  kUnreadable,         // exists but cannot be opened or read
  kCorruptInput,       // read, but not a valid image/video (zero bytes, truncated, wrong type)
  kUnsupported,        // a file type standin does not handle
  kNoInputs,           // a folder with no images or videos in it
  kOutputConflict,     // output would overwrite an input
  kOutputNotWritable,  // output folder missing or not writable
  kDiskFull,           // writing the output ran out of space
  kModelMissing,       // a model file is missing or fails its sha256 check
  kProcessingFailed,   // a pipeline step failed; no output was written (fail closed)
  kExternalTool,       // ffmpeg/ffprobe missing or failed
  kInterrupted,        // stopped on request (Ctrl-C) before a file was done; nothing written
};

// A short, stable name for the code ("corrupt-input", ...).
const char* ErrorCodeName(ErrorCode code);

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status Ok() { return {}; }

  [[nodiscard]] bool ok() const { return code_ == ErrorCode::kOk; }
  [[nodiscard]] ErrorCode code() const { return code_; }
  [[nodiscard]] const std::string& message() const { return message_; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class Expected {
 public:
  Expected(T value) : data_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Expected(Status status) : data_(std::move(status)) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool ok() const { return std::holds_alternative<T>(data_); }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<T>(data_); }
  const T& value() const& { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  // The error; Status::Ok() when a value is held.
  [[nodiscard]] Status status() const { return ok() ? Status::Ok() : std::get<Status>(data_); }

 private:
  std::variant<T, Status> data_;
};

}  // namespace standin
