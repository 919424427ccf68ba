#include "mailsec/base/status.h"

namespace mailsec {

std::string_view CodeName(Status::Code c) {
  switch (c) {
    case Status::Code::kOk:
      return "ok";
    case Status::Code::kInvalidArgument:
      return "invalid_argument";
    case Status::Code::kNotFound:
      return "not_found";
    case Status::Code::kMalformed:
      return "malformed";
    case Status::Code::kTimeout:
      return "timeout";
    case Status::Code::kIoError:
      return "io_error";
    case Status::Code::kUnavailable:
      return "unavailable";
    case Status::Code::kRefused:
      return "refused";
    case Status::Code::kClosed:
      return "closed";
    case Status::Code::kInternal:
      return "internal";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string s(CodeName(code_));
  s += ": ";
  s += message_;
  return s;
}

}  // namespace mailsec
