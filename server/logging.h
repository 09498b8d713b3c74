// Copyright specinv authors.
//
// Structured logging through spdlog: one line per event, either
//   text: 2026-01-01T12:00:00.123Z info rpc request_id=3f2a... method=InvertMel status=OK ...
//   json: {"time":"2026-01-01T12:00:00.123Z","level":"info","event":"rpc","request_id":"3f2a...",...}
// Thread-safe after ConfigureLogging.

#ifndef SPECINV_SERVER_LOGGING_H_
#define SPECINV_SERVER_LOGGING_H_

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <spdlog/common.h>

#include "absl/strings/string_view.h"
#include "absl/status/status.h"

namespace specinv::server {

enum class LogFormat { kText, kJson };

// level: trace, debug, info, warn, error, critical, off. format: text, json.
// Installs the "specinv" logger writing to stderr.
absl::Status ConfigureLogging(absl::string_view level, absl::string_view format);
LogFormat CurrentLogFormat();

// A field of a log event: a key and a value rendered as a string or number.
struct LogField {
  LogField(absl::string_view k, absl::string_view v) : key(k), value(v), quoted(true) {}
  LogField(absl::string_view k, const char* v) : key(k), value(v), quoted(true) {}
  LogField(absl::string_view k, const std::string& v) : key(k), value(v), quoted(true) {}
  LogField(absl::string_view k, double v);
  LogField(absl::string_view k, int64_t v);
  LogField(absl::string_view k, int v) : LogField(k, static_cast<int64_t>(v)) {}
  LogField(absl::string_view k, bool v) : key(k), value(v ? "true" : "false"), quoted(false) {}
  std::string key;
  std::string value;
  bool quoted;
};

// Logs `event` with `fields` at `level`.
void LogEvent(spdlog::level::level_enum level, absl::string_view event, std::initializer_list<LogField> fields);

// Formats the event body (without time and level) as the current format
// does; exposed for tests.
std::string FormatEvent(LogFormat format, absl::string_view event, std::initializer_list<LogField> fields);

}  // namespace specinv::server

#endif  // SPECINV_SERVER_LOGGING_H_
