// Copyright specinv authors.
//
// The load generator behind `specinv bench`: `concurrency` workers issue calls
// back to back (or paced to `rate` requests/s overall) until `count` calls
// have been started or `duration_s` has passed, whichever is set (both set:
// whichever comes first). Every call ends with a status; each one is counted,
// so "sent" always equals "ok" plus the errors by code (nothing is lost).
//
// Latency is measured per call from the moment it is issued to its final
// status, retries included. Percentiles use the nearest-rank method.
//
// Server retry hints: a call that fails with a retry hint attached
// (retry_hint.h: RESOURCE_EXHAUSTED from a full queue carries one) makes its
// worker wait that long (at most `max_retry_wait_ms`) before it issues its
// next call, instead of re-sending at once; the waits are not part of any
// call's latency but are part of the wall time. The report counts rejected
// calls (RESOURCE_EXHAUSTED), the waits and their total. Retries made by the
// gRPC channel's retry policy inside one call are not visible here: a call
// is counted once, with its final status.
//
// Thread safety: RunLoad calls `call` concurrently from `concurrency` threads;
// `call` must be thread-safe. The other functions are pure.

#ifndef SPECINV_CLIENT_BENCH_H_
#define SPECINV_CLIENT_BENCH_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace specinv::client {

struct LoadOptions {
  int concurrency = 1;      // worker threads, [1, 1024]
  int64_t count = 0;        // calls to issue in total; 0 = unbounded (needs duration_s)
  double duration_s = 0.0;  // stop issuing after this long; 0 = unbounded (needs count)
  double rate = 0.0;        // overall calls/s target; 0 = as fast as the workers go
  // Calls that take longer than this (ms) are counted as `overdue` (e.g. the
  // call deadline plus a grace period: a call past it "hung"); 0 = not counted.
  double overdue_ms = 0.0;
  // Wait for a failed call's server retry hint before the next call.
  bool honor_retry_hints = true;
  double max_retry_wait_ms = 30000.0;  // longest hint honoured (longer ones are capped), >= 0
};

absl::Status ValidateLoadOptions(const LoadOptions& options);

struct LatencySummary {
  int64_t count = 0;
  double mean_ms = 0.0;
  double min_ms = 0.0;
  double p50_ms = 0.0;
  double p95_ms = 0.0;
  double p99_ms = 0.0;
  double max_ms = 0.0;
};

// How long (ms) a worker waits before its next call after a call that ended
// with `status`: the status's retry hint (RetryHintMsOf) capped at
// options.max_retry_wait_ms; 0 for OK, for errors without a hint, and when
// options.honor_retry_hints is false.
double RetryWaitMs(const absl::Status& status, const LoadOptions& options);

// Nearest-rank percentile (p in [0, 100]) of unsorted values; 0 for none.
double Percentile(std::vector<double> values, double p);
LatencySummary Summarize(const std::vector<double>& latencies_ms);

struct LoadReport {
  int concurrency = 0;
  int64_t sent = 0;                          // calls issued (each has ended)
  int64_t ok = 0;
  std::map<std::string, int64_t> errors;     // status code name -> count
  std::map<std::string, std::string> sample_messages;  // code name -> one message
  int64_t rejected = 0;                      // calls that ended RESOURCE_EXHAUSTED
  int64_t retry_waits = 0;                   // next calls delayed by a server retry hint
  double retry_wait_ms = 0.0;                // the delays' total (RetryWaitMs of each)
  int64_t overdue = 0;                       // calls slower than LoadOptions::overdue_ms
  double overdue_ms = 0.0;                   // the threshold used (0 = not counted)
  double wall_s = 0.0;                       // first issue to last completion
  LatencySummary ok_latency;                 // successful calls
  LatencySummary all_latency;                // every call, errors included
  double requests_per_s() const { return wall_s > 0.0 ? static_cast<double>(sent) / wall_s : 0.0; }
  double ok_per_s() const { return wall_s > 0.0 ? static_cast<double>(ok) / wall_s : 0.0; }
};

// Runs the load. `call(worker)` performs one complete call and returns its
// final status; `worker` is in [0, concurrency).
LoadReport RunLoad(const LoadOptions& options, const std::function<absl::Status(int)>& call);

// Human-readable multi-line summary.
std::string FormatReport(const LoadReport& report, const std::string& title);
// One JSON object (for scripts): counts, rates, latency summaries, errors.
std::string FormatReportJson(const LoadReport& report, const std::string& title);

}  // namespace specinv::client

#endif  // SPECINV_CLIENT_BENCH_H_
