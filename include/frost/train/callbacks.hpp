#pragma once
/// \file
/// Callbacks of `fit`, as Keras's: objects with any of the hooks `on_train_begin(ctx)`,
/// `on_epoch_begin(ctx)`, `on_batch_begin(ctx)`, `on_batch_end(ctx)`, `on_epoch_end(ctx)`,
/// `on_train_end(ctx)`, or a lambda `[](auto& ctx) {...}` called at the end of every epoch.
/// `ctx` is a `fit_context`: the trainer and model, the epoch, this epoch's logs, the history so
/// far, the learning rate, and `stop_training()`. Built in: `early_stopping`,
/// `learning_rate_scheduler` (a function of the epoch, Keras's `LearningRateScheduler`) and
/// `learning_rate_schedule` (a function of the step: `exponential_decay`, `cosine_decay`,
/// `piecewise_constant_decay`, Keras's `optimizers.schedules`). A hook runs between steps,
/// never inside one.

#include <frost/core/error.hpp>
#include <frost/train/history.hpp>
#include <frost/train/progress.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <numbers>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace frost {

/// What `fit` shares with its callbacks, whatever the trainer's type (it changes when an
/// `unfreeze_at` stage re-types the model).
struct fit_state {
  std::size_t epoch = 0;        ///< the current epoch, from 0 (Keras's `epoch` argument)
  std::size_t epochs = 0;       ///< fit's `epochs`
  std::size_t batch = 0;        ///< the current batch within the epoch, from 0
  std::size_t steps = 0;        ///< batches per epoch
  std::size_t batch_rows = 0;   ///< rows of the current batch
  double batch_loss = 0;        ///< the loss of the last step
  bool stop = false;            ///< set by `fit_context::stop_training()`
  frost::logs logs;             ///< this epoch's values (complete in on_epoch_end)
  frost::history history;       ///< the epochs before this one
  progress_printer* progress = nullptr;  ///< where messages go (fit's output)
};

/// What a callback's hook is given: the trainer (`trainer()`, `model()`), where training is
/// (`epoch()`, `batch()`), the values so far (`logs()`, `history()`), the optimizer's learning
/// rate, and `stop_training()`, Keras's `model.stop_training = True`.
template <class Trainer>
class fit_context {
 public:
  fit_context(Trainer& t, fit_state& s) noexcept : trainer_(&t), state_(&s) {}

  Trainer& trainer() const noexcept { return *trainer_; }
  /// False on every rank but 0 of a distributed trainer: callbacks that write files or print
  /// (model_checkpoint, messages) act there only; the others keep their state alike.
  bool is_root() const noexcept {
    if constexpr (requires { trainer_->rank(); }) return trainer_->rank() == 0;
    else return true;
  }
  auto& model() const noexcept { return trainer_->model(); }
  std::size_t epoch() const noexcept { return state_->epoch; }
  std::size_t epochs() const noexcept { return state_->epochs; }
  std::size_t batch() const noexcept { return state_->batch; }
  std::size_t steps() const noexcept { return state_->steps; }
  std::size_t batch_rows() const noexcept { return state_->batch_rows; }
  double batch_loss() const noexcept { return state_->batch_loss; }
  /// This epoch's values; in `on_epoch_end` they are complete and a callback may add its own
  /// (Keras's `logs["learning_rate"] = ...`), which the history then records.
  frost::logs& logs() const noexcept { return state_->logs; }
  const frost::history& history() const noexcept { return state_->history; }
  /// Ends training after the current batch (from `on_batch_*`) or epoch (from `on_epoch_*`).
  void stop_training() const noexcept { state_->stop = true; }
  bool stopping() const noexcept { return state_->stop; }
  /// The optimizer's learning rate, which the next step uses.
  double learning_rate() const noexcept { return trainer_->get_optimizer().config().learning_rate; }
  void set_learning_rate(double lr) const noexcept {
    using F = std::remove_cvref_t<decltype(trainer_->get_optimizer().config().learning_rate)>;
    trainer_->get_optimizer().config().learning_rate = static_cast<F>(lr);
  }
  /// Prints `text` on a line of its own to fit's output (after any progress bar), whatever
  /// fit's verbosity: for a callback's own `verbose` messages.
  void message(std::string_view text) const {
    if (!is_root()) return;
    if (state_->progress != nullptr) state_->progress->note(text);
    else std::printf("%.*s\n", static_cast<int>(text.size()), text.data());
  }
  /// Optimizer steps taken so far (Keras's `optimizer.iterations`).
  std::size_t iterations() const noexcept { return trainer_->get_optimizer().iterations(); }

 private:
  Trainer* trainer_;
  fit_state* state_;
};

namespace detail {
// Each hook is called when the callback has it; a callback that has none of them but can be
// called with the context is an on_epoch_end hook (a lambda).
template <class C, class Ctx>
concept has_hook = requires(C& c, Ctx& ctx) { c.on_train_begin(ctx); } || requires(C& c, Ctx& ctx) { c.on_epoch_begin(ctx); } ||
                   requires(C& c, Ctx& ctx) { c.on_batch_begin(ctx); } || requires(C& c, Ctx& ctx) { c.on_batch_end(ctx); } ||
                   requires(C& c, Ctx& ctx) { c.on_epoch_end(ctx); } || requires(C& c, Ctx& ctx) { c.on_train_end(ctx); };

template <class C, class Ctx>
void on_train_begin(C& c, Ctx& ctx) {
  if constexpr (requires { c.on_train_begin(ctx); }) c.on_train_begin(ctx);
}
template <class C, class Ctx>
void on_epoch_begin(C& c, Ctx& ctx) {
  if constexpr (requires { c.on_epoch_begin(ctx); }) c.on_epoch_begin(ctx);
}
template <class C, class Ctx>
void on_batch_begin(C& c, Ctx& ctx) {
  if constexpr (requires { c.on_batch_begin(ctx); }) c.on_batch_begin(ctx);
}
template <class C, class Ctx>
void on_batch_end(C& c, Ctx& ctx) {
  if constexpr (requires { c.on_batch_end(ctx); }) c.on_batch_end(ctx);
}
template <class C, class Ctx>
void on_epoch_end(C& c, Ctx& ctx) {
  if constexpr (requires { c.on_epoch_end(ctx); }) c.on_epoch_end(ctx);
  else if constexpr (!has_hook<C, Ctx> && std::is_invocable_v<C&, Ctx&>) c(ctx);
}
template <class C, class Ctx>
void on_train_end(C& c, Ctx& ctx) {
  if constexpr (requires { c.on_train_end(ctx); }) c.on_train_end(ctx);
}
}  // namespace detail

/// A callback for a fit whose context is `Ctx`: it has a hook, or is a lambda taking the context.
template <class C, class Ctx>
concept callback_for = detail::has_hook<C, Ctx> || std::is_invocable_v<C&, Ctx&>;

/// Whether a smaller or a larger monitored value is better; `automatic` picks larger for names
/// ending in "accuracy" and smaller for everything else (losses, errors), as Keras's "auto".
enum class monitor_mode { automatic, min, max };

namespace detail {
inline bool larger_is_better(monitor_mode mode, std::string_view monitor) noexcept {
  if (mode != monitor_mode::automatic) return mode == monitor_mode::max;
  constexpr std::string_view acc = "accuracy";
  return monitor.size() >= acc.size() && monitor.substr(monitor.size() - acc.size()) == acc;
}

/// Every parameter and state value of a model, node after node: a layout that freezing and
/// unfreezing do not change, so weights copied out of one model type go back into another.
template <class Model>
constexpr std::size_t weights_size = Model::param_count + Model::state_count;

template <class Model>
void copy_weights_out(const Model& m, typename Model::scalar_type* out) noexcept {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          constexpr auto& f = Model::plan.facts[I];
          if constexpr (f.params != 0) {
            std::memcpy(out, m.template parameter_block<I>(), f.params * sizeof(*out));
            out += f.params;
          }
          if constexpr (f.state != 0) {
            std::memcpy(out, m.template state_block<I>(), f.state * sizeof(*out));
            out += f.state;
          }
        }(),
        ...);
  }(std::make_index_sequence<Model::node_count>{});
}

template <class Model>
void copy_weights_in(Model& m, const typename Model::scalar_type* in) noexcept {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          constexpr auto& f = Model::plan.facts[I];
          if constexpr (f.params != 0) {
            std::memcpy(m.template parameter_block<I>(), in, f.params * sizeof(*in));
            in += f.params;
          }
          if constexpr (f.state != 0) {
            std::memcpy(m.template state_block<I>(), in, f.state * sizeof(*in));
            in += f.state;
          }
        }(),
        ...);
  }(std::make_index_sequence<Model::node_count>{});
}
}  // namespace detail

/// Stops training when `monitor` has stopped improving: Keras's `EarlyStopping`, with its
/// arguments and defaults. An epoch improves when its value beats the best by more than
/// `min_delta`; after `patience` epochs without one (and not before epoch 1), training stops.
/// With `restore_best_weights`, the weights of the best epoch are copied back when training
/// ends. After fit, `stopped_epoch` (0: not stopped) and `best_epoch` say what happened.
/// ```cpp
/// frost::early_stopping stop{.monitor = "val_loss", .patience = 3, .restore_best_weights = true};
/// auto h = frost::fit(tr, x, y, {.epochs = 100, .validation_split = 0.2f}, stop);
/// ```
struct early_stopping {
  std::string monitor = "val_loss";
  double min_delta = 0;
  std::size_t patience = 0;
  int verbose = 0;
  monitor_mode mode = monitor_mode::automatic;
  std::optional<double> baseline{};
  bool restore_best_weights = false;
  std::size_t start_from_epoch = 0;
  // What happened (reset when training begins).
  std::size_t wait = 0;
  std::size_t stopped_epoch = 0;
  std::size_t best_epoch = 0;
  double best = 0;
  std::vector<double> best_weights{};  ///< the best epoch's weights, node after node (doubles: aligned for any scalar)
  bool warned = false;

  template <class Ctx>
  void on_train_begin(Ctx&) {
    wait = stopped_epoch = best_epoch = 0;
    best = larger_() ? -HUGE_VAL : HUGE_VAL;
    best_weights.clear();
  }

  template <class Ctx>
  void on_epoch_end(Ctx& ctx) {
    const double* value = ctx.logs().find(monitor);
    if (value == nullptr) {
      if (!warned) std::fprintf(stderr, "frost::early_stopping: \"%s\" is not logged; early stopping is off\n", monitor.c_str());
      warned = true;
      return;
    }
    if (ctx.epoch() < start_from_epoch) return;
    if (restore_best_weights && best_weights.empty()) {
      save_(ctx.model());
      best_epoch = ctx.epoch();
    }
    ++wait;
    if (improves_(*value, best)) {
      best = *value;
      best_epoch = ctx.epoch();
      if (restore_best_weights) save_(ctx.model());
      if (!baseline || improves_(*value, *baseline)) wait = 0;
      return;
    }
    if (wait >= patience && ctx.epoch() > 0) {
      stopped_epoch = ctx.epoch();
      ctx.stop_training();
    }
  }

  template <class Ctx>
  void on_train_end(Ctx& ctx) {
    if (stopped_epoch > 0 && verbose > 0) ctx.message("Epoch " + std::to_string(stopped_epoch + 1) + ": early stopping");
    if (restore_best_weights && !best_weights.empty()) {
      if (verbose > 0)
        ctx.message("Restoring model weights from the end of the best epoch: " + std::to_string(best_epoch + 1) + ".");
      using M = std::remove_cvref_t<decltype(ctx.model())>;
      detail::copy_weights_in(ctx.model(), reinterpret_cast<const typename M::scalar_type*>(best_weights.data()));
    }
  }

  bool larger_() const noexcept { return detail::larger_is_better(mode, monitor); }
  bool improves_(double value, double reference) const noexcept {
    const double delta = min_delta < 0 ? -min_delta : min_delta;
    return larger_() ? value - delta > reference : value + delta < reference;
  }
  template <class Model>
  void save_(const Model& m) {
    using T = typename Model::scalar_type;
    best_weights.resize((detail::weights_size<Model> * sizeof(T) + sizeof(double) - 1) / sizeof(double));
    detail::copy_weights_out(m, reinterpret_cast<T*>(best_weights.data()));
  }
};

/// Sets the learning rate at the start of every epoch to `schedule(epoch, current rate)`:
/// Keras's `LearningRateScheduler`. Logs the rate as "learning_rate".
/// ```cpp
/// frost::learning_rate_scheduler halve{[](std::size_t epoch, double lr) { return epoch % 10 == 9 ? lr / 2 : lr; }};
/// ```
template <class F>
struct learning_rate_scheduler {
  F schedule;
  int verbose = 0;

  template <class Ctx>
  void on_epoch_begin(Ctx& ctx) {
    const double lr = schedule(ctx.epoch(), ctx.learning_rate());
    ctx.set_learning_rate(lr);
    if (verbose > 0) {
      char text[128];
      std::snprintf(text, sizeof text, "Epoch %zu: learning_rate_scheduler setting learning rate to %g.", ctx.epoch() + 1, lr);
      ctx.message(text);
    }
  }
  template <class Ctx>
  void on_epoch_end(Ctx& ctx) {
    ctx.logs().set("learning_rate", ctx.learning_rate());
  }
};
template <class F>
learning_rate_scheduler(F) -> learning_rate_scheduler<F>;
template <class F>
learning_rate_scheduler(F, int) -> learning_rate_scheduler<F>;

/// lr(step) = initial_learning_rate · decay_rate^(step / decay_steps), the exponent floored
/// with `staircase` (then a step decay: ×decay_rate every decay_steps steps). Keras's
/// `optimizers.schedules.ExponentialDecay`.
struct exponential_decay {
  double initial_learning_rate = 0.01;
  double decay_steps = 1000;
  double decay_rate = 0.96;
  bool staircase = false;
  double operator()(std::size_t step) const noexcept {
    double p = static_cast<double>(step) / decay_steps;
    if (staircase) p = std::floor(p);
    return initial_learning_rate * std::pow(decay_rate, p);
  }
};

/// lr(step) = initial_learning_rate · ((1 − alpha) · ½(1 + cos(π · min(step, decay_steps) /
/// decay_steps)) + alpha). Keras's `optimizers.schedules.CosineDecay` (without warm-up).
struct cosine_decay {
  double initial_learning_rate = 0.01;
  double decay_steps = 1000;
  double alpha = 0;
  double operator()(std::size_t step) const noexcept {
    const double s = std::min(static_cast<double>(step), decay_steps);
    const double cosine = 0.5 * (1 + std::cos(std::numbers::pi * s / decay_steps));
    return initial_learning_rate * ((1 - alpha) * cosine + alpha);
  }
};

/// values[0] up to and including step boundaries[0], values[1] up to boundaries[1], ... and
/// values.back() after the last: a step schedule. Keras's `optimizers.schedules.PiecewiseConstantDecay`
/// (values has one more entry than boundaries; checked when fit starts).
struct piecewise_constant_decay {
  std::vector<std::size_t> boundaries;
  std::vector<double> values;
  double operator()(std::size_t step) const noexcept {
    std::size_t k = 0;
    while (k < boundaries.size() && step > boundaries[k]) ++k;
    return values[k];
  }
  void check() const {
    if (values.size() != boundaries.size() + 1)
      detail::throw_value("frost::piecewise_constant_decay", "values",
                          std::to_string(boundaries.size() + 1) + " values (one more than boundaries)",
                          std::to_string(values.size()));
  }
};

/// Sets the learning rate before every step to `schedule(step)`, step = the optimizer's
/// iterations so far: what Keras does with `optimizer(learning_rate=schedule)`. Logs the rate of
/// the epoch's last step as "learning_rate".
/// ```cpp
/// frost::learning_rate_schedule cosine{frost::cosine_decay{.initial_learning_rate = 0.01, .decay_steps = 500}};
/// ```
template <class S>
struct learning_rate_schedule {
  S schedule;

  template <class Ctx>
  void on_train_begin(Ctx&) {
    if constexpr (requires { schedule.check(); }) schedule.check();
  }
  template <class Ctx>
  void on_batch_begin(Ctx& ctx) {
    ctx.set_learning_rate(schedule(ctx.iterations()));
  }
  template <class Ctx>
  void on_epoch_end(Ctx& ctx) {
    ctx.logs().set("learning_rate", ctx.learning_rate());
  }
};
template <class S>
learning_rate_schedule(S) -> learning_rate_schedule<S>;

}  // namespace frost
