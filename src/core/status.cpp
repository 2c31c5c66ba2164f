#include "standin/status.hpp"

namespace standin {

const char* ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk:
      return "ok";
    case ErrorCode::kInvalidArgument:
      return "invalid-argument";
    case ErrorCode::kNotFound:
      return "not-found";
    case ErrorCode::kUnreadable:
      return "unreadable";
    case ErrorCode::kCorruptInput:
      return "corrupt-input";
    case ErrorCode::kUnsupported:
      return "unsupported";
    case ErrorCode::kNoInputs:
      return "no-inputs";
    case ErrorCode::kOutputConflict:
      return "output-conflict";
    case ErrorCode::kOutputNotWritable:
      return "output-not-writable";
    case ErrorCode::kDiskFull:
      return "disk-full";
    case ErrorCode::kModelMissing:
      return "model-missing";
    case ErrorCode::kProcessingFailed:
      return "processing-failed";
    case ErrorCode::kExternalTool:
      return "external-tool";
    case ErrorCode::kInterrupted:
      return "interrupted";
  }
  return "unknown";
}

}  // namespace standin
