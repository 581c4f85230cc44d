#pragma once
/// \file
/// `model_checkpoint`: the fit callback that saves weights (or the whole trainer) at the end of
/// epochs, every epoch or only when the monitored value improves — Keras's `ModelCheckpoint`,
/// writing frost's weight files: `.safetensors`, Keras `.weights.h5` (with HDF5), or with
/// `save_weights_only = false` a checkpoint of the trainer (`save_checkpoint`: weights, optimizer
/// state, step count and random stream). Every save is atomic (a temporary file, then rename).

#include <frost/core/error.hpp>
#include <frost/io/checkpoint.hpp>
#include <frost/io/safetensors.hpp>
#include <frost/train/callbacks.hpp>
#ifdef FROST_WITH_HDF5
#include <frost/io/keras_h5.hpp>
#endif

#include <cmath>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

namespace frost {

namespace detail {
inline bool path_ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

/// `pattern` with its fields filled, as Keras's `filepath.format(epoch=epoch + 1, **logs)`:
/// `{epoch}` (from 1), `{epoch:03d}` (zero-padded), `{<logged name>}` and `{<name>:.4f}`.
/// Throws `value_error` for a field that names nothing logged or a malformed one.
inline std::string checkpoint_path(const std::string& pattern, std::size_t epoch, const logs& l) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '{') {
      out += pattern[i];
      continue;
    }
    const std::size_t close = pattern.find('}', i);
    if (close == std::string::npos)
      ::frost::detail::raise(value_error("frost::model_checkpoint: filepath \"" + pattern + "\": expected a closing '}', got none"));
    const std::string field = pattern.substr(i + 1, close - i - 1);
    const std::size_t colon = field.find(':');
    const std::string name = field.substr(0, colon), spec = colon == std::string::npos ? "" : field.substr(colon + 1);
    char buf[64];
    if (name == "epoch") {
      unsigned width = 0;
      if (!spec.empty() && (std::sscanf(spec.c_str(), "0%ud", &width) != 1 || spec.back() != 'd'))
        ::frost::detail::raise(value_error("frost::model_checkpoint: filepath field {" + field + "}: expected {epoch} or {epoch:0Nd}, got another format"));
      std::snprintf(buf, sizeof buf, "%0*zu", static_cast<int>(width), epoch + 1);
    } else {
      const double* v = l.find(name);
      if (v == nullptr)
        ::frost::detail::raise(value_error("frost::model_checkpoint: filepath field {" + field + "}: expected {epoch} or a logged name (" +
                          joined_keys(l.names()) + "), got \"" + name + "\""));
      unsigned decimals = 0;
      if (spec.empty()) std::snprintf(buf, sizeof buf, "%g", *v);
      else if (std::sscanf(spec.c_str(), ".%uf", &decimals) == 1 && spec.back() == 'f')
        std::snprintf(buf, sizeof buf, "%.*f", static_cast<int>(decimals), *v);
      else
        ::frost::detail::raise(value_error("frost::model_checkpoint: filepath field {" + field + "}: expected {" + name + "} or {" + name +
                          ":.Nf}, got another format"));
    }
    out += buf;
    i = close;
  }
  return out;
}
}  // namespace detail

/// Saves at the end of every epoch (`save_best_only = false`, the last epoch's file stays) or
/// whenever `monitor` improves on the best so far (`save_best_only = true`, the best stays).
/// `filepath` may hold `{epoch}` (from 1), `{epoch:03d}` and logged values (`{val_loss:.4f}`),
/// as Keras's. The extension picks the format: `.safetensors`, or `.weights.h5` (when frost was
/// built with HDF5); with `save_weights_only = false`, a trainer checkpoint (`.safetensors`).
/// ```cpp
/// frost::model_checkpoint best{.filepath = "best.safetensors", .monitor = "val_loss", .save_best_only = true};
/// frost::model_checkpoint last{.filepath = "last.safetensors"};
/// auto h = frost::fit(tr, x, y, {.epochs = 20, .validation_split = 0.2f}, best, last);
/// ```
struct model_checkpoint {
  std::string filepath;
  std::string monitor = "val_loss";
  int verbose = 0;
  bool save_best_only = false;
  bool save_weights_only = true;
  monitor_mode mode = monitor_mode::automatic;
  std::optional<double> initial_value_threshold{};
  // What happened (reset when training begins).
  double best = 0;
  std::size_t saves = 0;
  std::string last_saved{};
  bool warned = false;

  template <class Ctx>
  void on_train_begin(Ctx&) {
    const bool weights = path_ends_with_(".safetensors") || path_ends_with_(".weights.h5");
    if (save_weights_only ? !weights : !path_ends_with_(".safetensors"))
      ::frost::detail::raise(value_error("frost::model_checkpoint: filepath \"" + filepath + "\": expected a name ending in " +
                        (save_weights_only ? "\".safetensors\" or \".weights.h5\"" : "\".safetensors\" (a trainer checkpoint)") +
                        ", got another"));
#ifndef FROST_WITH_HDF5
    if (path_ends_with_(".weights.h5"))
      ::frost::detail::raise(value_error("frost::model_checkpoint: filepath \"" + filepath +
                        "\": expected a .safetensors name (this build has no HDF5: FROST_WITH_HDF5), got .weights.h5"));
#endif
    best = initial_value_threshold ? *initial_value_threshold : larger_() ? -HUGE_VAL : HUGE_VAL;
    saves = 0;
    last_saved.clear();
  }

  template <class Ctx>
  void on_epoch_end(Ctx& ctx) {
    if (save_best_only) {
      const double* v = ctx.logs().find(monitor);
      if (v == nullptr) {
        if (!warned) std::fprintf(stderr, "frost::model_checkpoint: \"%s\" is not logged; nothing is saved\n", monitor.c_str());
        warned = true;
        return;
      }
      char text[160];
      if (!(larger_() ? *v > best : *v < best)) {
        if (verbose > 0) {
          std::snprintf(text, sizeof text, "Epoch %zu: %s did not improve from %.5f", ctx.epoch() + 1, monitor.c_str(), best);
          ctx.message(text);
        }
        return;
      }
      if (verbose > 0) {
        std::snprintf(text, sizeof text, "Epoch %zu: %s improved from %.5f to %.5f, saving model to ", ctx.epoch() + 1,
                      monitor.c_str(), best, *v);
        ctx.message(text + detail::checkpoint_path(filepath, ctx.epoch(), ctx.logs()));
      }
      best = *v;
    }
    save_(ctx);
  }

 private:
  bool larger_() const noexcept { return detail::larger_is_better(mode, monitor); }
  bool path_ends_with_(std::string_view tail) const noexcept { return detail::path_ends_with(filepath, tail); }

  template <class Ctx>
  void save_(Ctx& ctx) {
    const std::string path = detail::checkpoint_path(filepath, ctx.epoch(), ctx.logs());
    // A distributed trainer's ranks hold the same weights: rank 0 writes them, and every rank
    // keeps the count alike.
    if (ctx.is_root()) {
      if (!save_weights_only) save_checkpoint(ctx.trainer(), path);
      else if (path_ends_with_(".safetensors")) save_safetensors(ctx.model(), path);
#ifdef FROST_WITH_HDF5
      else save_keras_weights(ctx.model(), path);
#endif
      if (verbose > 0 && !save_best_only) ctx.message("Epoch " + std::to_string(ctx.epoch() + 1) + ": saving model to " + path);
    }
    ++saves;
    last_saved = path;
  }
};

}  // namespace frost
