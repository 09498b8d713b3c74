// Copyright specinv authors.

#include "server/logging.h"

#include <atomic>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace specinv::server {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

void AppendJsonString(std::string* out, absl::string_view s) {
  out->push_back('"');
  for (char c : s) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", static_cast<int>(static_cast<unsigned char>(c)));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

bool NeedsQuotes(absl::string_view s) {
  if (s.empty()) return true;
  for (char c : s) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

std::shared_ptr<spdlog::logger> Logger() {
  auto logger = spdlog::get("specinv");
  if (!logger) {
    logger = spdlog::stderr_logger_mt("specinv");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  return logger;
}

}  // namespace

LogField::LogField(absl::string_view k, double v) : key(k), value(absl::StrFormat("%.3f", v)), quoted(false) {}
LogField::LogField(absl::string_view k, int64_t v) : key(k), value(absl::StrCat(v)), quoted(false) {}

absl::Status ConfigureLogging(absl::string_view level, absl::string_view format) {
  const spdlog::level::level_enum lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") {
    return absl::InvalidArgumentError(absl::StrFormat(
        "--log-level must be one of trace, debug, info, warn, error, critical, off; got \"%s\"", level));
  }
  LogFormat f;
  if (format == "text") {
    f = LogFormat::kText;
  } else if (format == "json") {
    f = LogFormat::kJson;
  } else {
    return absl::InvalidArgumentError(
        absl::StrFormat("--log-format must be text or json, got \"%s\"", format));
  }
  g_format.store(f);
  auto logger = Logger();
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  if (f == LogFormat::kJson) {
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v})", spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
  }
  return absl::OkStatus();
}

LogFormat CurrentLogFormat() { return g_format.load(); }

std::string FormatEvent(LogFormat format, absl::string_view event, std::initializer_list<LogField> fields) {
  std::string out;
  if (format == LogFormat::kJson) {
    out.append("\"event\":");
    AppendJsonString(&out, event);
    for (const LogField& f : fields) {
      out.push_back(',');
      AppendJsonString(&out, f.key);
      out.push_back(':');
      if (f.quoted) {
        AppendJsonString(&out, f.value);
      } else {
        out.append(f.value);
      }
    }
    return out;
  }
  out.append(event.data(), event.size());
  for (const LogField& f : fields) {
    absl::StrAppend(&out, " ", f.key, "=");
    if (f.quoted && NeedsQuotes(f.value)) {
      AppendJsonString(&out, f.value);
    } else {
      out.append(f.value);
    }
  }
  return out;
}

void LogEvent(spdlog::level::level_enum level, absl::string_view event, std::initializer_list<LogField> fields) {
  auto logger = Logger();
  if (!logger->should_log(level)) return;
  logger->log(level, "{}", FormatEvent(CurrentLogFormat(), event, fields));
}

}  // namespace specinv::server
