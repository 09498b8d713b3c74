// Copyright specinv authors.
//
// A one-line progress bar for long jobs, drawn on stderr when it is a
// terminal:
//   invert [##########··········]  50%  it 16/32  SC -21.4 dB  1.2 s
// Redraws are throttled (at most one per 50 ms, except the final one). In
// `kLines` mode (stderr not a terminal but progress asked for) it writes a
// plain line at most once per second instead. Not thread-safe: one thread
// drives a bar.

#ifndef SPECINV_CLIENT_PROGRESS_BAR_H_
#define SPECINV_CLIENT_PROGRESS_BAR_H_

#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>

namespace specinv::client {

// The bar text without the carriage return: "<label> [###···] 50%  <detail>".
// `fraction` is clamped to [0, 1] for drawing (NaN draws as 0); `width` is the
// number of cells between the brackets (>= 1).
std::string RenderProgressLine(std::string_view label, double fraction, int width,
                               std::string_view detail);

enum class ProgressMode {
  kOff,    // draws nothing
  kBar,    // redraws one line in place ("\r"), for terminals
  kLines,  // a plain line now and then, for logs
};

// "auto" -> kBar if `is_terminal` else kOff; "always" -> kBar on a terminal,
// kLines otherwise; "never" -> kOff. Anything else: kOff.
ProgressMode ChooseProgressMode(std::string_view setting, bool is_terminal);

// True when stderr is a terminal.
bool StderrIsTerminal();

class ProgressBar {
 public:
  ProgressBar(std::FILE* out, ProgressMode mode, std::string label);
  ~ProgressBar();  // Finish()es
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Progress in [0, 1] and a short free-form detail ("it 16/32  SC -21.4 dB").
  void Update(double fraction, std::string_view detail);
  // Draws the last state and ends the line. Idempotent.
  void Finish();

 private:
  void Draw(bool force);
  std::FILE* out_;
  ProgressMode mode_;
  std::string label_;
  double fraction_ = 0.0;
  std::string detail_;
  bool drawn_ = false;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace specinv::client

#endif  // SPECINV_CLIENT_PROGRESS_BAR_H_
