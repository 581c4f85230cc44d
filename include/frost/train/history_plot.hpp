#pragma once
/// \file
/// `plot_history`: training curves drawn by gnuplot, when it is installed (Debian: `apt-get
/// install gnuplot-nox`), as PNG (`.png`), SVG (`.svg`) or text for a terminal (`.txt`, or "-"
/// for standard output). One panel per metric side by side, each with every run's training
/// curve (solid) and validation curve (dashed): e.g. a frozen base against a fully trainable one.

#include <frost/core/error.hpp>
#include <frost/train/history.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace frost {

/// One curve set of a plot: a history and its label.
struct plot_run {
  std::string label;
  const frost::history* data;
};

/// What `plot_history` draws: the metrics (one panel each; "val_<metric>" is drawn with its
/// metric when logged), a title, and the image size in pixels (text plots use 130 × 30 chars).
struct plot_options {
  std::vector<std::string> metrics{"loss"};
  std::string title{};
  unsigned width = 1200;
  unsigned height = 450;
};

/// True when a `gnuplot` program is on PATH.
inline bool gnuplot_available() { return std::system("command -v gnuplot >/dev/null 2>&1") == 0; }

namespace detail {
inline std::string gnuplot_quoted(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

inline bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

/// The gnuplot script that draws `runs` into `path`.
inline std::string plot_script(const std::string& path, const std::vector<plot_run>& runs, const plot_options& o) {
  std::string s;
  char buf[96];
  const bool text = path == "-" || ends_with(path, ".txt");
  if (ends_with(path, ".svg")) {
    std::snprintf(buf, sizeof buf, "set terminal svg size %u,%u dynamic enhanced\n", o.width, o.height);
    s += buf;
  } else if (ends_with(path, ".png")) {
    std::snprintf(buf, sizeof buf, "size %u,%u\n", o.width, o.height);
    s += "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) { set terminal pngcairo " + std::string(buf) +
         "} else { set terminal png " + std::string(buf) + "}\n";
  } else if (text) {
    s += "set terminal dumb size 130,30\n";
  } else {
    ::frost::detail::raise(value_error("frost::plot_history: \"" + path + "\": expected a path ending in .png, .svg or .txt (or \"-\"), got another"));
  }
  if (path != "-") s += "set output " + gnuplot_quoted(path) + "\n";
  for (std::size_t r = 0; r < runs.size(); ++r) {
    const history& h = *runs[r].data;
    s += "$run" + std::to_string(r) + " << EOD\n";
    for (std::size_t e = 0; e < h.size(); ++e) {
      s += std::to_string(h.epoch()[e] + 1);
      for (const auto& m : o.metrics)
        for (const std::string& key : {m, "val_" + m}) {
          const double v = h.contains(key) ? h[key][e] : NAN;
          if (std::isfinite(v)) std::snprintf(buf, sizeof buf, " %.9g", v);
          else std::snprintf(buf, sizeof buf, " NaN");
          s += buf;
        }
      s += "\n";
    }
    s += "EOD\n";
  }
  std::snprintf(buf, sizeof buf, "set multiplot layout 1,%zu", o.metrics.size());
  s += buf;
  s += o.title.empty() ? "\n" : " title " + gnuplot_quoted(o.title) + "\n";
  s += "set xlabel \"epoch\"\nset grid\nset datafile missing \"NaN\"\n";
  std::size_t epochs = 0;
  for (const auto& run : runs) epochs = std::max(epochs, run.data->size());
  if (epochs <= 12) s += "set xtics 1\n";  // whole epochs only
  for (std::size_t m = 0; m < o.metrics.size(); ++m) {
    // Curves that rise (accuracies) keep the legend at the bottom, falling ones at the top.
    s += ends_with(o.metrics[m], "accuracy") ? "set key bottom right\n" : "set key top right\n";
    s += "set title " + gnuplot_quoted(o.metrics[m]) + "\nplot ";
    bool first = true;
    for (std::size_t r = 0; r < runs.size(); ++r) {
      const history& h = *runs[r].data;
      const std::size_t col = 2 + 2 * m;
      for (int val = 0; val < 2; ++val) {
        const std::string key = val ? "val_" + o.metrics[m] : o.metrics[m];
        if (!h.contains(key)) continue;
        if (!first) s += ", ";
        first = false;
        std::snprintf(buf, sizeof buf, "$run%zu using 1:%zu with linespoints lc %zu dt %d pt %d title ", r, col + val,
                      r + 1, val ? 2 : 1, val ? 6 : 7);
        const std::string& label = runs[r].label;
        s += buf + gnuplot_quoted(label.empty() ? (val ? "validation" : "training") : label + (val ? " (validation)" : ""));
      }
    }
    if (first) ::frost::detail::raise(value_error("frost::plot_history: metric \"" + o.metrics[m] + "\": expected a key of the histories, got none"));
    s += "\n";
  }
  s += "unset multiplot\n";
  return s;
}
}  // namespace detail

/// Draws `runs` (label, history) with gnuplot into `path`: .png, .svg, .txt, or "-" (text on
/// standard output). Throws `io_error` when gnuplot is not installed or fails, `value_error`
/// for another extension or a metric no history logged.
/// ```cpp
/// frost::plot_history("history.png", {{"all trainable", &full}, {"frozen base", &tuned}},
///                     {.metrics = {"loss", "accuracy"}});
/// ```
inline void plot_history(const std::string& path, const std::vector<plot_run>& runs, const plot_options& options = {}) {
  const std::string script = detail::plot_script(path, runs, options);
  if (!gnuplot_available())
    ::frost::detail::raise(io_error("frost::plot_history: gnuplot: expected the gnuplot program on PATH (Debian: apt-get install "
                   "gnuplot-nox), got none"));
  // What the caller printed comes first; gnuplot's own standard output goes nowhere unless it is
  // the plot ("-"), so that a failed file plot cannot spill image bytes onto the terminal.
  std::fflush(stdout);
  std::FILE* p = ::popen(path == "-" ? "gnuplot" : "gnuplot >/dev/null", "w");
  if (p == nullptr) ::frost::detail::raise(io_error("frost::plot_history: gnuplot: cannot start it"));
  const bool written = std::fwrite(script.data(), 1, script.size(), p) == script.size();
  const int status = ::pclose(p);
  if (!written || status != 0)
    ::frost::detail::raise(io_error("frost::plot_history: \"" + path + "\": gnuplot: expected exit status 0, got " + std::to_string(status)));
}

/// The same for one history.
inline void plot_history(const std::string& path, const history& h, const plot_options& options = {}) {
  plot_history(path, {plot_run{"", &h}}, options);
}

}  // namespace frost
