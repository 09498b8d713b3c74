// Copyright specinv authors.

#include "client/bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "client/retry_hint.h"
#include "client/status_format.h"

namespace specinv::client {
namespace {

using Clock = std::chrono::steady_clock;

std::string JsonEscape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string LatencyJson(const LatencySummary& s) {
  return absl::StrFormat(
      "{\"count\":%d,\"mean_ms\":%.3f,\"min_ms\":%.3f,\"p50_ms\":%.3f,\"p95_ms\":%.3f,"
      "\"p99_ms\":%.3f,\"max_ms\":%.3f}",
      s.count, s.mean_ms, s.min_ms, s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms);
}

}  // namespace

absl::Status ValidateLoadOptions(const LoadOptions& options) {
  if (options.concurrency < 1 || options.concurrency > 1024) {
    return absl::InvalidArgumentError(
        absl::StrCat("--concurrency must be in [1, 1024], got ", options.concurrency));
  }
  if (options.count < 0) {
    return absl::InvalidArgumentError(absl::StrCat("--count must be >= 0, got ", options.count));
  }
  if (!(options.duration_s >= 0.0) || !std::isfinite(options.duration_s)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--duration-s must be finite and >= 0, got ", options.duration_s));
  }
  if (!(options.rate >= 0.0) || !std::isfinite(options.rate)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--rate must be finite and >= 0, got ", options.rate));
  }
  if (!(options.overdue_ms >= 0.0) || !std::isfinite(options.overdue_ms)) {
    return absl::InvalidArgumentError(
        absl::StrCat("overdue threshold must be finite and >= 0, got ", options.overdue_ms));
  }
  if (!(options.max_retry_wait_ms >= 0.0) || !std::isfinite(options.max_retry_wait_ms)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--max-retry-wait-ms must be finite and >= 0, got ", options.max_retry_wait_ms));
  }
  if (options.count == 0 && options.duration_s == 0.0) {
    return absl::InvalidArgumentError("give --count or --duration-s (or both)");
  }
  return absl::OkStatus();
}

double RetryWaitMs(const absl::Status& status, const LoadOptions& options) {
  if (status.ok() || !options.honor_retry_hints) return 0.0;
  const std::optional<int64_t> hint = RetryHintMsOf(status);
  if (!hint) return 0.0;
  return std::min(static_cast<double>(*hint), options.max_retry_wait_ms);
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const double n = static_cast<double>(values.size());
  double rank = std::ceil(p / 100.0 * n);
  if (rank < 1.0) rank = 1.0;
  if (rank > n) rank = n;
  return values[static_cast<size_t>(rank) - 1];
}

LatencySummary Summarize(const std::vector<double>& latencies_ms) {
  LatencySummary s;
  s.count = static_cast<int64_t>(latencies_ms.size());
  if (latencies_ms.empty()) return s;
  std::vector<double> sorted = latencies_ms;
  std::sort(sorted.begin(), sorted.end());
  s.mean_ms = std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(s.count);
  s.min_ms = sorted.front();
  s.max_ms = sorted.back();
  s.p50_ms = Percentile(sorted, 50.0);
  s.p95_ms = Percentile(sorted, 95.0);
  s.p99_ms = Percentile(sorted, 99.0);
  return s;
}

LoadReport RunLoad(const LoadOptions& options, const std::function<absl::Status(int)>& call) {
  struct WorkerResult {
    std::vector<double> ok_ms;
    std::vector<double> all_ms;
    std::map<std::string, int64_t> errors;
    std::map<std::string, std::string> messages;
    int64_t retry_waits = 0;
    double retry_wait_ms = 0.0;
  };
  std::vector<WorkerResult> results(static_cast<size_t>(options.concurrency));
  std::atomic<int64_t> next_index{0};
  const Clock::time_point start = Clock::now();
  const bool has_deadline = options.duration_s > 0.0;
  const Clock::time_point stop_at =
      start + std::chrono::duration_cast<Clock::duration>(
                  std::chrono::duration<double>(has_deadline ? options.duration_s : 0.0));
  std::atomic<int64_t> last_end_ns{0};

  auto worker = [&](int id) {
    WorkerResult& result = results[static_cast<size_t>(id)];
    // Not before this time: the end of the last call plus its retry hint
    // (pending_wait_ms, counted once the worker goes on to a next call).
    Clock::time_point not_before = start;
    double pending_wait_ms = 0.0;
    for (;;) {
      if (has_deadline && not_before >= stop_at) break;
      const int64_t index = next_index.fetch_add(1);
      if (options.count > 0 && index >= options.count) break;
      Clock::time_point issue_at = not_before;
      if (options.rate > 0.0) {
        const auto scheduled =
            start + std::chrono::duration_cast<Clock::duration>(
                        std::chrono::duration<double>(static_cast<double>(index) / options.rate));
        issue_at = std::max(issue_at, scheduled);
      }
      if (has_deadline && issue_at >= stop_at) break;
      std::this_thread::sleep_until(issue_at);
      const Clock::time_point issued = Clock::now();
      if (has_deadline && issued >= stop_at) break;
      if (pending_wait_ms > 0.0) {
        ++result.retry_waits;
        result.retry_wait_ms += pending_wait_ms;
      }
      const absl::Status status = call(id);
      const Clock::time_point ended = Clock::now();
      const double ms = std::chrono::duration<double, std::milli>(ended - issued).count();
      result.all_ms.push_back(ms);
      if (status.ok()) {
        result.ok_ms.push_back(ms);
      } else {
        const std::string code(StatusCodeName(status.code()));
        ++result.errors[code];
        if (!result.messages.contains(code)) result.messages[code] = std::string(status.message());
      }
      pending_wait_ms = RetryWaitMs(status, options);
      not_before = ended + std::chrono::duration_cast<Clock::duration>(
                               std::chrono::duration<double, std::milli>(pending_wait_ms));
      const int64_t end_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(ended - start).count();
      int64_t seen = last_end_ns.load();
      while (seen < end_ns && !last_end_ns.compare_exchange_weak(seen, end_ns)) {
      }
    }
  };

  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(options.concurrency));
  for (int i = 0; i < options.concurrency; ++i) threads.emplace_back(worker, i);
  for (std::thread& t : threads) t.join();

  LoadReport report;
  report.concurrency = options.concurrency;
  std::vector<double> ok_ms, all_ms;
  for (WorkerResult& r : results) {
    ok_ms.insert(ok_ms.end(), r.ok_ms.begin(), r.ok_ms.end());
    all_ms.insert(all_ms.end(), r.all_ms.begin(), r.all_ms.end());
    for (const auto& [code, n] : r.errors) report.errors[code] += n;
    for (const auto& [code, message] : r.messages) report.sample_messages.emplace(code, message);
    report.retry_waits += r.retry_waits;
    report.retry_wait_ms += r.retry_wait_ms;
  }
  if (auto it = report.errors.find("RESOURCE_EXHAUSTED"); it != report.errors.end()) report.rejected = it->second;
  report.sent = static_cast<int64_t>(all_ms.size());
  report.ok = static_cast<int64_t>(ok_ms.size());
  report.wall_s = static_cast<double>(last_end_ns.load()) / 1e9;
  report.ok_latency = Summarize(ok_ms);
  report.all_latency = Summarize(all_ms);
  report.overdue_ms = options.overdue_ms;
  if (options.overdue_ms > 0.0) {
    for (double ms : all_ms) report.overdue += ms > options.overdue_ms ? 1 : 0;
  }
  return report;
}

std::string FormatReport(const LoadReport& report, const std::string& title) {
  const int64_t failed = report.sent - report.ok;
  std::string out = absl::StrFormat("%s: %d requests, %d ok, %d failed, concurrency %d, %.2f s\n",
                                    title, report.sent, report.ok, failed, report.concurrency,
                                    report.wall_s);
  absl::StrAppendFormat(&out, "throughput: %.2f requests/s (%.2f ok/s)\n", report.requests_per_s(),
                        report.ok_per_s());
  const LatencySummary& s = report.ok_latency;
  if (s.count > 0) {
    absl::StrAppendFormat(&out,
                          "latency ok (ms): p50 %.2f  p95 %.2f  p99 %.2f  mean %.2f  min %.2f  "
                          "max %.2f\n",
                          s.p50_ms, s.p95_ms, s.p99_ms, s.mean_ms, s.min_ms, s.max_ms);
  }
  if (failed > 0) {
    const LatencySummary& a = report.all_latency;
    absl::StrAppendFormat(&out, "latency all (ms): p50 %.2f  p99 %.2f  max %.2f\n", a.p50_ms,
                          a.p99_ms, a.max_ms);
    out += "errors:";
    for (const auto& [code, n] : report.errors) absl::StrAppendFormat(&out, " %s %d", code, n);
    out += "\n";
    for (const auto& [code, message] : report.sample_messages) {
      absl::StrAppendFormat(&out, "  e.g. %s: %s\n", code, message);
    }
  }
  if (report.rejected > 0 || report.retry_waits > 0) {
    absl::StrAppendFormat(&out,
                          "rejected (RESOURCE_EXHAUSTED, after the channel's own retries): %d; "
                          "waited for the server's retry hint %d times, %.3f s in all\n",
                          report.rejected, report.retry_waits, report.retry_wait_ms / 1e3);
  }
  if (report.overdue_ms > 0.0) {
    absl::StrAppendFormat(&out, "overdue (> %.0f ms): %d\n", report.overdue_ms, report.overdue);
  }
  return out;
}

std::string FormatReportJson(const LoadReport& report, const std::string& title) {
  std::string errors = "{";
  bool first = true;
  for (const auto& [code, n] : report.errors) {
    absl::StrAppendFormat(&errors, "%s\"%s\":%d", first ? "" : ",", code, n);
    first = false;
  }
  errors += "}";
  return absl::StrFormat(
      "{\"title\":\"%s\",\"concurrency\":%d,\"sent\":%d,\"ok\":%d,\"failed\":%d,\"wall_s\":%.4f,"
      "\"requests_per_s\":%.3f,\"ok_per_s\":%.3f,\"latency_ok\":%s,\"latency_all\":%s,"
      "\"errors\":%s,\"rejected\":%d,\"retry_waits\":%d,\"retry_wait_s\":%.4f,"
      "\"overdue\":%d,\"overdue_ms\":%.1f}",
      JsonEscape(title), report.concurrency, report.sent, report.ok, report.sent - report.ok,
      report.wall_s, report.requests_per_s(), report.ok_per_s(), LatencyJson(report.ok_latency),
      LatencyJson(report.all_latency), errors, report.rejected, report.retry_waits,
      report.retry_wait_ms / 1e3, report.overdue, report.overdue_ms);
}

}  // namespace specinv::client
