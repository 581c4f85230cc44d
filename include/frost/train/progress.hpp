#pragma once
/// \file
/// The progress `fit` prints, as Keras's: on a terminal, a bar redrawn in place at most every
/// 50 ms (steps done, elapsed time, ETA, samples per second, the running loss and metrics);
/// elsewhere (a pipe, a file) one plain line per epoch; nothing with `verbose = 0`. It is drawn
/// between steps, into a fixed buffer: printing allocates nothing.

#include <frost/train/history.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string_view>
#include <unistd.h>

namespace frost {

/// Prints fit's progress to `out`: `verbose` 0 prints nothing, 1 a bar on a terminal and plain
/// lines elsewhere, 2 plain lines always (Keras's verbose=2).
class progress_printer {
  using clock = std::chrono::steady_clock;

 public:
  progress_printer(int verbose, std::FILE* out) noexcept
      : out_(out), mode_(verbose <= 0 ? off : verbose == 1 && ::isatty(::fileno(out)) != 0 ? bar : lines) {}

  bool active() const noexcept { return mode_ != off; }
  bool is_bar() const noexcept { return mode_ == bar; }

  void epoch_begin(std::size_t epoch, std::size_t epochs, std::size_t steps) noexcept {
    steps_ = steps;
    start_ = last_draw_ = clock::now();
    drawn_ = 0;
    if (mode_ == off) return;
    std::fprintf(out_, "Epoch %zu/%zu\n", epoch + 1, epochs);
    std::fflush(out_);
  }

  /// After step `done` (from 1) of the epoch, `samples` rows so far: redraws the bar when 50 ms
  /// have passed. `values(buf, room)` appends " - name: value" pairs of the running values and
  /// returns the characters written; it is called only when the bar is drawn.
  template <class Values>
  void batch_end(std::size_t done, std::size_t samples, Values&& values) noexcept {
    if (mode_ != bar || done == steps_) return;  // the last step is drawn by epoch_end
    const auto now = clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(50)) return;
    last_draw_ = now;
    const double elapsed = seconds_(now);
    const double eta = done == 0 ? 0.0 : elapsed / static_cast<double>(done) * static_cast<double>(steps_ - done);
    std::size_t n = head_(done);
    n += put_(n, " - elapsed %s", duration_(elapsed).text);
    n += put_(n, " - ETA %s", duration_(eta).text);
    n += put_(n, " - %s samples/s", rate_(samples, elapsed).text);
    n += values(line_ + n, sizeof line_ - n);
    draw_(n);
  }

  /// The epoch's last line: steps, time, time per step, samples/s and every logged value.
  void epoch_end(const logs& l, std::size_t samples) noexcept {
    if (mode_ == off) return;
    const double elapsed = seconds_(clock::now());
    std::size_t n = mode_ == bar ? head_(steps_) : put_(0, "%zu/%zu", steps_, steps_);
    n += put_(n, " - %s %s/step", duration_(elapsed).text,
              duration_(steps_ == 0 ? 0.0 : elapsed / static_cast<double>(steps_)).text);
    n += put_(n, " - %s samples/s", rate_(samples, elapsed).text);
    for (std::size_t i = 0; i < l.size(); ++i) n += put_value(line_ + n, sizeof line_ - n, l.names()[i], l.values()[i]);
    if (mode_ == bar) draw_(n);
    else std::fwrite(line_, 1, n, out_);
    std::fputc('\n', out_);
    std::fflush(out_);
    drawn_ = 0;
  }

  /// A line of its own (fit's message), after any bar; nothing with verbose 0.
  void message(std::string_view text) noexcept {
    if (mode_ != off) note(text);
  }

  /// A line of its own whatever the verbosity (a callback's `verbose` message), after any bar.
  void note(std::string_view text) noexcept {
    if (drawn_ != 0) std::fputc('\n', out_);
    drawn_ = 0;
    std::fprintf(out_, "%.*s\n", static_cast<int>(text.size()), text.data());
    std::fflush(out_);
  }

  /// Appends " - name: value" to buf (room chars), Keras's format: 4 decimals, or scientific
  /// for magnitudes up to 1e-3. Returns the characters written.
  static std::size_t put_value(char* buf, std::size_t room, std::string_view name, double v) noexcept {
    const int w = std::fabs(v) > 1e-3 || v == 0 || !std::isfinite(v)
                      ? std::snprintf(buf, room, " - %.*s: %.4f", static_cast<int>(name.size()), name.data(), v)
                      : std::snprintf(buf, room, " - %.*s: %.4e", static_cast<int>(name.size()), name.data(), v);
    return w < 0 ? 0 : std::min(static_cast<std::size_t>(w), room == 0 ? 0 : room - 1);
  }

 private:
  enum mode_t { off, bar, lines };
  struct short_text {
    char text[24];
  };

  double seconds_(clock::time_point now) const noexcept { return std::chrono::duration<double>(now - start_).count(); }

  static short_text duration_(double s) noexcept {
    short_text t{};
    if (s < 1e-3) std::snprintf(t.text, sizeof t.text, "%.0fus", s * 1e6);
    else if (s < 1) std::snprintf(t.text, sizeof t.text, "%.1fms", s * 1e3);
    else if (s < 60) std::snprintf(t.text, sizeof t.text, "%.2fs", s);
    else std::snprintf(t.text, sizeof t.text, "%.0fm%02.0fs", std::floor(s / 60), std::fmod(s, 60));
    return t;
  }

  static short_text rate_(std::size_t samples, double seconds) noexcept {
    short_text t{};
    const double r = seconds > 0 ? static_cast<double>(samples) / seconds : 0.0;
    if (r < 1e4) std::snprintf(t.text, sizeof t.text, "%.0f", r);
    else if (r < 1e7) std::snprintf(t.text, sizeof t.text, "%.1fk", r / 1e3);
    else std::snprintf(t.text, sizeof t.text, "%.2fM", r / 1e6);
    return t;
  }

  template <class... A>
  std::size_t put_(std::size_t at, const char* format, A... args) noexcept {
    if (at >= sizeof line_) return 0;
    const int w = std::snprintf(line_ + at, sizeof line_ - at, format, args...);
    return w < 0 ? 0 : std::min(static_cast<std::size_t>(w), sizeof line_ - at - 1);
  }

  /// "  12/57 [=========>...................]"
  std::size_t head_(std::size_t done) noexcept {
    constexpr std::size_t width = 30;
    int digits = 1;
    for (std::size_t s = steps_; s >= 10; s /= 10) ++digits;
    std::size_t n = put_(0, "%*zu/%zu [", digits, done, steps_);
    const std::size_t filled = steps_ == 0 ? width : done * width / steps_;
    for (std::size_t i = 0; i < width; ++i)
      line_[n++] = i < filled ? '=' : i == filled && done < steps_ ? '>' : '.';
    line_[n++] = ']';
    return n;
  }

  /// Draws line_[0, n) over the bar drawn before.
  void draw_(std::size_t n) noexcept {
    std::fputc('\r', out_);
    std::fwrite(line_, 1, n, out_);
    for (std::size_t i = n; i < drawn_; ++i) std::fputc(' ', out_);
    drawn_ = n;
    std::fflush(out_);
  }

  std::FILE* out_;
  mode_t mode_;
  std::size_t steps_ = 0;
  std::size_t drawn_ = 0;
  clock::time_point start_{}, last_draw_{};
  char line_[1024];
};

}  // namespace frost
