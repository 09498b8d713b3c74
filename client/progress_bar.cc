// Copyright specinv authors.

#include "client/progress_bar.h"

#include <unistd.h>

#include <cmath>
#include <string>
#include <utility>

#include "absl/strings/str_format.h"

namespace specinv::client {

std::string RenderProgressLine(std::string_view label, double fraction, int width,
                               std::string_view detail) {
  if (!(fraction >= 0.0)) fraction = 0.0;  // also catches NaN
  if (fraction > 1.0) fraction = 1.0;
  if (width < 1) width = 1;
  const int filled = static_cast<int>(std::floor(fraction * width));
  std::string line(label);
  if (!line.empty()) line += ' ';
  line += '[';
  line.append(static_cast<size_t>(filled), '#');
  line.append(static_cast<size_t>(width - filled), '.');
  line += ']';
  line += absl::StrFormat(" %3d%%", static_cast<int>(std::floor(fraction * 100.0)));
  if (!detail.empty()) {
    line += "  ";
    line += detail;
  }
  return line;
}

ProgressMode ChooseProgressMode(std::string_view setting, bool is_terminal) {
  if (setting == "auto") return is_terminal ? ProgressMode::kBar : ProgressMode::kOff;
  if (setting == "always") return is_terminal ? ProgressMode::kBar : ProgressMode::kLines;
  return ProgressMode::kOff;
}

bool StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

ProgressBar::ProgressBar(std::FILE* out, ProgressMode mode, std::string label)
    : out_(out),
      mode_(mode),
      label_(std::move(label)),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(double fraction, std::string_view detail) {
  fraction_ = fraction;
  detail_ = std::string(detail);
  Draw(/*force=*/false);
}

void ProgressBar::Finish() {
  if (finished_) return;
  finished_ = true;
  if (mode_ == ProgressMode::kOff || !drawn_) return;
  Draw(/*force=*/true);
  if (mode_ == ProgressMode::kBar) std::fputc('\n', out_);
  std::fflush(out_);
}

void ProgressBar::Draw(bool force) {
  if (mode_ == ProgressMode::kOff) return;
  const auto now = std::chrono::steady_clock::now();
  const auto interval = mode_ == ProgressMode::kBar ? std::chrono::milliseconds(50)
                                                    : std::chrono::milliseconds(1000);
  if (!force && drawn_ && now - last_draw_ < interval) return;
  if (!force && !drawn_ && mode_ == ProgressMode::kLines && now - start_ < interval) return;
  last_draw_ = now;
  drawn_ = true;
  const double elapsed_s = std::chrono::duration<double>(now - start_).count();
  std::string detail = detail_;
  if (!detail.empty()) detail += "  ";
  detail += absl::StrFormat("%.1f s", elapsed_s);
  const std::string line = RenderProgressLine(label_, fraction_, 24, detail);
  if (mode_ == ProgressMode::kBar) {
    // "\r" + line + clear to end of line (the detail may have shrunk).
    std::fprintf(out_, "\r%s\x1b[K", line.c_str());
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

}  // namespace specinv::client
