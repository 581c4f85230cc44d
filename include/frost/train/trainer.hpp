#pragma once
/// \file
/// `trainer` and `make_trainer`: the hot path. Every buffer a training step needs (workspace,
/// optimizer state, and gradients where the trainer keeps them) is allocated once, at creation,
/// and so are the threads it may use (`threads{n}`); `step` allocates nothing and starts nothing.
/// By default the optimizer update is fused into the weight-gradient products
/// (train/fused_update.hpp) and no gradient is stored; `keep_gradients` makes a trainer that
/// stores them first (for `last_gradients`, finite-check mode and clipping).

#include <frost/core/aligned_buffer.hpp>
#include <frost/core/storage.hpp>
#include <frost/core/error.hpp>
#include <frost/core/random.hpp>
#include <frost/core/thread_pool.hpp>
#include <frost/graph/forward.hpp>
#include <frost/train/fused_update.hpp>
#include <frost/train/gradients.hpp>
#include <frost/train/losses.hpp>
#include <frost/train/optimizer.hpp>
#include <frost/train/value_and_grad.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace frost {

/// Asks `make_trainer` for a trainer that keeps a gradient arena: backward writes every trainable
/// parameter's gradient, then the optimizer updates from it (the unfused path). Needed for
/// `last_gradients()`, finite-check mode (`check_finite(true)`, fit's `.check_finite`) and
/// clipping (`clipnorm`, `global_clipnorm`); otherwise the fused default gives the same bits
/// with less memory (docs/performance.md, "The fused update").
/// ```cpp
/// auto tr = frost::make_trainer(model, loss, frost::adam{.global_clipnorm = 1.f}, 32, frost::keep_gradients);
/// static_assert(!decltype(tr)::fused_update);
/// ```
struct keep_gradients_t {
  explicit keep_gradients_t() = default;
};
inline constexpr keep_gradients_t keep_gradients{};

namespace detail {
/// A fused trainer's gradient member: nothing.
struct no_gradient_arena {};
/// What a trainer does between the gradient and the update unless told otherwise: nothing.
struct nothing_between {
  template <class T, class G>
  void operator()(T&, G&) const noexcept {}
};
}  // namespace detail

/// Trains `Model` in place with `Loss` and an optimizer `Spec`, for batches of up to
/// `max_batch` rows. `step` is Keras `model.train_on_batch(x, y)`: forward in training mode,
/// loss, backward over the plan, one optimizer update; it returns the loss of that forward pass
/// (before the update). The trainer holds a reference to the model: keep the model alive.
/// With `threads{n}`, n > 1, each step splits its products across n threads (the caller and
/// n - 1 workers the trainer owns); the results are bit for bit those of one thread, because
/// every split divides rows or columns and never a sum.
/// `KeepGradients` false (the default, `fused_update`): each finished tile of a weight gradient
/// goes straight into the optimizer's update of those parameters, and no gradient is stored.
/// True (`make_trainer(..., keep_gradients)`): a gradient arena, then the update; the same bits.
/// `MaxBatch` 0 (the default): the workspace is allocated once for a run-time max_batch; above 0
/// (`make_trainer<MaxBatch>(...)`): the workspace and the update's scratch live inside the object,
/// sized at compile time, so a model with `storage::inline_` trains without a heap.
template <class Model, class LossArg, class Spec, bool KeepGradients = false, std::size_t MaxBatch = 0>
class trainer {
  using Loss = loss_t<LossArg>;
  static_assert(!std::is_const_v<Model>, "frost::make_trainer: the trainer updates the model in place: pass a non-const model");

 public:
  using model_type = Model;
  using loss_type = Loss;
  using scalar_type = typename Model::scalar_type;
  using optimizer_type = ::frost::optimizer<Model, Spec>;
  /// Workspace scalars per sample: what backward keeps from forward, plus transients laid out by
  /// liveness (graph/plan.hpp).
  static constexpr std::size_t workspace_per_sample = Model::plan.workspace_per_sample;
  /// Is the optimizer update fused into the weight-gradient products (no gradient stored)?
  static constexpr bool fused_update = !KeepGradients;
  /// Bytes of gradient storage: the trainable arena's size with keep_gradients, else 0.
  static constexpr std::size_t gradient_bytes = KeepGradients ? gradients<Model>::size * sizeof(scalar_type) : 0;
  /// The compile-time batch capacity (0: set at run time, the workspace on the heap).
  static constexpr std::size_t static_max_batch = MaxBatch;
  /// Does every buffer of this trainer live inside it (and the model's arenas inside the model)?
  /// Then `make_trainer`, `step` and `predict` never touch the heap with one thread.
  static constexpr bool heap_free = MaxBatch != 0 && std::is_same_v<typename Model::storage_type, storage::inline_>;

  trainer(Model& model, LossArg, optimizer_type opt, std::size_t max_batch, threads t = {}, seed s = {})
      : model_(&model), opt_(std::move(opt)), cap_(max_batch),
        ws_(std::max(workspace_per_sample, Model::plan.inference_per_sample) * max_batch),
        partial_(fused_update ? detail::update_scratch_size<Model>(max_batch) : 0), seed_(s.value) {
    if (max_batch == 0) detail::throw_shape("frost::make_trainer", "max_batch", "at least 1", "0");
    if (MaxBatch != 0 && max_batch != MaxBatch)
      detail::throw_shape("frost::make_trainer", "max_batch", std::to_string(MaxBatch) + " (the compile-time capacity)",
                          std::to_string(max_batch));
    if (t.count == 0) detail::throw_value("frost::make_trainer", "threads", "at least 1", "0");
    check_clipping_("frost::make_trainer");
    if (t.count > 1) pool_ = std::make_unique<thread_pool>(t);
  }

  /// One training step on (x, y); returns the loss before the update.
  /// `x`: one matrix, or for a model with several inputs `std::tie(a, b)` in make_model's order.
  template <class X, class Target>
  scalar_type step(const X& x, const Target& y) {
    static_assert(Loss::needs_target, "frost::trainer::step: this loss takes no target: call step(x)");
    static_assert(detail::check_inputs<Model, X>());
    static_assert(detail::check_loss<Model, Loss, Target>());
    const auto [xs, rows] = checked_batch_(x, &y);
    return run_(xs, rows, &y);
  }

  /// One training step for a loss without targets (e.g. `reduce_sum`).
  template <class X>
  scalar_type step(const X& x) {
    static_assert(!Loss::needs_target, "frost::trainer::step: this loss needs targets: call step(x, y)");
    static_assert(detail::check_inputs<Model, X>());
    static_assert(detail::check_loss<Model, Loss, void>());
    const auto [xs, rows] = checked_batch_(x, static_cast<const void*>(nullptr));
    return run_<void>(xs, rows, nullptr);
  }

  /// What `try_step` did: the loss of the forward pass, and whether the update was applied.
  /// `nonfinite` says why not: `step_outcome::loss_index` for a NaN or Inf loss, else the index
  /// (in the trainable arena) of the first non-finite gradient; `npos` when applied.
  struct step_outcome {
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);
    static constexpr std::size_t loss_index = gradients<Model>::size;
    scalar_type loss;
    std::size_t nonfinite = npos;
    bool applied() const noexcept { return nonfinite == npos; }
  };

  /// One training step on (x, y) that refuses, without throwing, an update from a non-finite
  /// loss (always checked: it costs nothing) or, in finite-check mode, from any non-finite
  /// gradient; parameters and optimizer state are then untouched. `observe(out, rows)` is called
  /// with the model's output (training mode, rows × outputs) before the loss. What `frost::fit`
  /// runs; the shape and label checks throw as in `step`.
  template <class X, class Target, class Observe = detail::no_observer>
  step_outcome try_step(const X& x, const Target& y, Observe&& observe = {}) {
    static_assert(Loss::needs_target, "frost::trainer::try_step: this loss takes no target");
    static_assert(detail::check_inputs<Model, X>());
    static_assert(detail::check_loss<Model, Loss, Target>());
    const auto [xs, rows] = checked_batch_(x, &y);
    return checked_run_(xs, rows, &y, observe, true);
  }

  /// Low level, for wrappers that act between the gradient and the update (`frost::distributed`
  /// reduces the gradients across processes there): a training pass on `rows` rows starting at
  /// `xs` (one pointer per model input) and at `y->data()`, writing the gradient arena (zeros for
  /// 0 rows, the loss then 0), then `between(loss, gradients)`, which may rewrite both, then the
  /// refusals and the update of `try_step`. During backward, `ready(gradients, from)` (noexcept)
  /// is told each time the arena's gradients from index `from` to its end are final: after each
  /// trainable layer's, last layer first (for 0 rows, the same calls on the zeros). Makes none of try_step's shape or label
  /// checks: the caller has made them. rows ≤ max_batch. A trainer made with `keep_gradients`.
  template <class Target, class Observe, class Between, class Ready = detail::no_report>
  step_outcome step_rows(const std::array<const scalar_type*, Model::input_count>& xs, std::size_t rows,
                         const Target* y, Observe&& observe, Between&& between, Ready&& ready = {})
    requires KeepGradients
  {
    return arena_run_(xs, rows, y, observe, true, between, ready);
  }

  /// Inference on `rows` rows of `xs` (one pointer per model input) into `out` (rows × outputs),
  /// in this trainer's workspace and on its threads; allocates nothing. rows ≤ max_batch.
  void predict_into(const std::array<const scalar_type*, Model::input_count>& xs, std::size_t rows,
                    scalar_type* out) noexcept {
    if (rows != 0)
      detail::forward<false>(*model_, detail::pass_buffers<scalar_type>{xs.data(), ws_.data(), rows, out}, rows,
                             pool_.get());
  }

  /// Inference (Keras `model.predict(x)` after `compile`) on up to max_batch rows, in this
  /// trainer's workspace and on its threads: allocates only the result. Equals `model(x)`.
  template <class X>
  typename Model::output_matrix predict(const X& x) {
    static_assert(detail::check_inputs<Model, X>());
    model_->ensure_weights("frost::trainer::predict");
    std::array<const scalar_type*, Model::input_count> xs{};
    const std::size_t rows = detail::input_pointers<Model>("frost::trainer::predict", x, xs);
    if (rows > cap_)
      detail::throw_shape("frost::trainer::predict", "batch rows", "at most " + std::to_string(cap_) + " (max_batch)",
                          std::to_string(rows));
    typename Model::output_matrix y(rows);
    if (rows != 0)
      detail::forward<false>(*model_, detail::pass_buffers<scalar_type>{xs.data(), ws_.data(), rows, y.data()}, rows,
                             pool_.get());
    return y;
  }

  /// This trainer moved to `model`, a retyped (frozen or unfrozen) version of the model it
  /// trained: Keras's recompile after changing `trainable`, without losing what the optimizer
  /// learned. Parameters trainable before and after keep their optimizer state; newly trainable
  /// ones start from zero state, newly frozen ones drop theirs; the step count, max_batch, the
  /// threads and finite-check mode carry over. Allocates the new workspace and gradients.
  /// ```cpp
  /// auto deeper = frost::unfreeze<1>(std::move(model));
  /// auto tr2 = std::move(tr).rebind(deeper);
  /// ```
  template <class To>
  trainer<To, LossArg, Spec, KeepGradients, MaxBatch> rebind(To& model) && {
    static_assert(same_architecture_v<Model, To>,
                  "frost::trainer::rebind: the target model must be this model with other layers frozen");
    model.ensure_weights("frost::trainer::rebind");
    trainer<To, LossArg, Spec, KeepGradients, MaxBatch> out(model, LossArg{}, std::move(opt_).template rebind<To>(),
                                                            cap_, threads{1});
    out.pool_ = std::move(pool_);
    out.check_finite_ = check_finite_;
    out.seed_ = seed_;
    out.passes_ = passes_;
    return out;
  }

  Model& model() noexcept { return *model_; }
  const Model& model() const noexcept { return *model_; }
  optimizer_type& get_optimizer() noexcept { return opt_; }
  const optimizer_type& get_optimizer() const noexcept { return opt_; }
  /// The random stream of training passes (dropout): its seed and the passes taken, which
  /// checkpoints save and restore so that training resumes with the same masks.
  std::uint64_t random_seed() const noexcept { return seed_; }
  std::uint64_t passes() const noexcept { return passes_; }
  void set_random_state(std::uint64_t seed, std::uint64_t passes) noexcept {
    seed_ = seed;
    passes_ = passes;
  }
  /// The gradients of the last step (a trainer made with `keep_gradients`; a fused trainer stores
  /// none).
  const gradients<Model>& last_gradients() const noexcept
    requires KeepGradients
  {
    return grads_;
  }
  std::size_t max_batch() const noexcept { return cap_; }
  /// Threads a step uses, the calling thread included.
  std::size_t thread_count() const noexcept { return pool_ ? pool_->size() : 1; }
  /// Finite-check mode (off by default): a step whose loss or gradients hold NaN or Inf throws
  /// `value_error` before the update, leaving parameters and optimizer state untouched. It checks
  /// every gradient before any parameter changes, so it needs a trainer made with
  /// `keep_gradients`: turning it on in a fused trainer throws `value_error`.
  void check_finite(bool on) {
    if constexpr (fused_update)
      if (on)
        detail::throw_value("frost::trainer::check_finite", "trainer",
                            "one made with frost::keep_gradients (finite-check mode checks every gradient before the "
                            "update, and a fused update stores none)",
                            "a fused trainer");
    check_finite_ = on;
  }
  bool check_finite() const noexcept { return check_finite_; }
  /// Bytes this trainer allocated on the heap: workspace, gradients (none when fused), the fused
  /// update's scratch (`update_scratch_bytes`) and optimizer state; what lives inside the object
  /// (`make_trainer<MaxBatch>`, `storage::inline_`) counts in its `sizeof` instead.
  std::size_t allocated_bytes() const noexcept {
    constexpr bool model_heap = std::is_same_v<typename Model::storage_type, storage::heap>;
    return detail::heap_bytes(ws_) + detail::heap_bytes(partial_) +
           (model_heap ? optimizer_type::state_size * sizeof(scalar_type) + gradient_bytes : 0);
  }
  /// Bytes of scratch a fused update keeps, at most one layer's parameters (0 for most small
  /// networks): the partial sums of a weight-gradient reduction over more than
  /// kernels::weight_block_rows rows (a convolution's positions, a dense layer above batch 256),
  /// or the whole gradient of a wide layer (512 float units or more: its tiles sweep W by column
  /// strips, so it is updated in one pass as soon as it is complete) or of a custom layer that
  /// takes no gradient sink. It is reused layer after layer.
  std::size_t update_scratch_bytes() const noexcept { return partial_.size() * sizeof(scalar_type); }

 private:
  template <class, class, class, bool, std::size_t>
  friend class trainer;

  void check_clipping_(const char* where) const {
    detail::check_clipping(where, opt_.config());
    if constexpr (fused_update)
      if (detail::clips(opt_.config()))
        detail::throw_value(where, "trainer",
                            "one made with frost::keep_gradients to clip gradients (clipnorm and global_clipnorm "
                            "need the whole gradient before the update, and a fused update stores none)",
                            "a fused trainer with clipping set");
  }

  /// The input pointers and rows of a step's batch, after every run-time check (rows within
  /// max_batch, x and y rows alike, labels in range); nothing is touched before them.
  template <class X, class Target>
  std::pair<std::array<const scalar_type*, Model::input_count>, std::size_t> checked_batch_(const X& x,
                                                                                            const Target* y) const {
    std::array<const scalar_type*, Model::input_count> xs{};
    const std::size_t rows = detail::input_pointers<Model>("frost::trainer::step", x, xs);
    check_rows_(rows);
    if constexpr (std::is_void_v<Target>) detail::check_batch<Model, Loss, void>("frost::trainer::step", *model_, rows, nullptr);
    else detail::check_batch<Model, Loss>("frost::trainer::step", *model_, rows, y);
    return {xs, rows};
  }

  void check_rows_(std::size_t rows) const {
    if (rows > cap_)
      detail::throw_shape("frost::trainer::step", "batch rows", "at most " + std::to_string(cap_) + " (max_batch)",
                          std::to_string(rows));
  }

  template <class Target>
  scalar_type run_(const std::array<const scalar_type*, Model::input_count>& xs, std::size_t rows, const Target* y) {
    detail::no_observer none;
    const step_outcome r = checked_run_(xs, rows, y, none, false);
    if (!r.applied()) throw_nonfinite_(r);
    return r.loss;
  }

  template <class Target, class Observe>
  step_outcome checked_run_(const std::array<const scalar_type*, Model::input_count>& xs, std::size_t rows,
                            const Target* y, Observe& observe, bool check_loss) {
    if constexpr (fused_update) {
      // Clipping may have been set through config() since: refuse before anything changes.
      if (detail::clips(opt_.config())) check_clipping_("frost::trainer::step");
      scalar_type* const partial = partial_.size() != 0 ? partial_.data() : nullptr;
      step_outcome r{detail::train_pass_then<Model, Loss, Target>(
          *model_, xs.data(), y, rows, ws_.data(), cap_, mix_keys(seed_, passes_++), pool_.get(), observe,
          [&](scalar_type loss, auto&& backward) noexcept {
            // A non-finite loss refuses the update before backward changes anything.
            if (check_loss && !std::isfinite(loss)) return;
            opt_.apply_fused(model_->trainable_parameters().data(), partial, rows, backward);
          })};
      if (check_loss && !std::isfinite(r.loss)) r.nonfinite = step_outcome::loss_index;
      return r;
    } else {
      return arena_run_(xs, rows, y, observe, check_loss);
    }
  }

  template <class Target, class Observe, class Between = detail::nothing_between, class Ready = detail::no_report>
  step_outcome arena_run_(const std::array<const scalar_type*, Model::input_count>& xs, std::size_t rows,
                          const Target* y, Observe& observe, bool check_loss, Between&& between = {},
                          Ready&& ready = {})
    requires KeepGradients
  {
    step_outcome r{};
    if (rows != 0) {
      r.loss = detail::train_pass_then<Model, Loss, Target>(
          *model_, xs.data(), y, rows, ws_.data(), cap_, mix_keys(seed_, passes_++), pool_.get(), observe,
          [&](scalar_type, auto&& backward) noexcept {
            if constexpr (std::is_same_v<std::remove_cvref_t<Ready>, detail::no_report>) {
              backward(detail::gradient_arena<scalar_type>{grads_.data()});
            } else {
              auto report = [&ready, this](std::size_t from) noexcept { ready(grads_, from); };
              backward(detail::gradient_arena<scalar_type, decltype(report)>{grads_.data(), report});
            }
          });
    } else {
      std::fill_n(grads_.data(), gradients<Model>::size, scalar_type(0));  // nothing to learn from here
      ++passes_;
      // Told as a pass would tell it, so that ranks without rows start the same sums.
      if constexpr (!std::is_same_v<std::remove_cvref_t<Ready>, detail::no_report>)
        for (std::size_t i = Model::node_count; i-- > 0;)
          if (Model::plan.trainable_offset[i] != Model::plan.npos) ready(grads_, Model::plan.trainable_offset[i]);
    }
    between(r.loss, grads_);
    if ((check_loss || check_finite_) && !std::isfinite(r.loss)) r.nonfinite = step_outcome::loss_index;
    else if (check_finite_) r.nonfinite = first_nonfinite_gradient_();
    if (r.applied()) opt_.apply(model_->trainable_parameters().data(), grads_.data(), pool_.get());
    return r;
  }

  std::size_t first_nonfinite_gradient_() const noexcept
    requires KeepGradients
  {
    const scalar_type* g = grads_.data();
    for (std::size_t i = 0; i < gradients<Model>::size; ++i)
      if (!std::isfinite(g[i])) return i;
    return step_outcome::npos;
  }

 public:
  /// What a refused step found, as "<subject>: expected a finite value, got <value>": the loss,
  /// or the first non-finite gradient and the layer it belongs to.
  std::string nonfinite_message(const step_outcome& r) const { return nonfinite_message_(r, ""); }

 private:
  std::string nonfinite_message_(const step_outcome& r, const char* mode) const {
    const std::string expected = std::string(": expected a finite value") + mode + ", got ";
    // A fused trainer checks only the loss: it stores no gradient to check.
    if (r.nonfinite == step_outcome::loss_index || fused_update) return "loss" + expected + std::to_string(r.loss);
    if constexpr (!KeepGradients) {
      return {};
    } else {
      // Name the layer the parameter belongs to: the last trainable block starting at or before i.
      const std::size_t i = r.nonfinite;
      std::size_t layer = 0;
      for (std::size_t j = 0; j < Model::node_count; ++j)
        if (Model::plan.trainable_offset[j] != Model::plan.npos && Model::plan.trainable_offset[j] <= i)
          layer = j - Model::template node_of_layer<0>;
      return "gradient " + std::to_string(i) + " (layer " + std::to_string(layer) + ")" + expected +
             std::to_string(grads_.data()[i]);
    }
  }

  [[noreturn]] void throw_nonfinite_(const step_outcome& r) const {
    ::frost::detail::raise(value_error("frost::trainer::step: " + nonfinite_message_(r, " (finite-check mode)")));
  }

  Model* model_;
  optimizer_type opt_;
  std::size_t cap_;
  static constexpr std::size_t static_workspace_ =
      MaxBatch * std::max(workspace_per_sample, Model::plan.inference_per_sample);
  static constexpr std::size_t static_partial_ =
      MaxBatch != 0 && fused_update ? detail::update_scratch_size<Model>(MaxBatch) : 0;

  detail::workspace_t<scalar_type, static_workspace_> ws_;
  [[no_unique_address]] std::conditional_t<KeepGradients, gradients<Model>, detail::no_gradient_arena> grads_;
  detail::workspace_t<scalar_type, static_partial_> partial_;  // fused: the update's scratch (update_scratch_bytes)
  std::unique_ptr<thread_pool> pool_;  // null for one thread
  bool check_finite_ = false;
  std::uint64_t seed_ = 0;    // the trainer's random stream (dropout): pass k draws from key (seed, k)
  std::uint64_t passes_ = 0;
};

/// A trainer for `model` with `loss` and a fresh optimizer from `spec`, for batches of up to
/// `max_batch` rows, on `threads{n}` threads (default one, the caller), drawing dropout masks
/// from the stream `seed{n}` (default 0). Keras `model.compile(optimizer, loss)`.
/// ```cpp
/// auto tr = frost::make_trainer(model, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 256);
/// float loss = tr.step(x, y);
/// ```
template <class Model, class Loss, optimizer_spec Spec>
trainer<Model, Loss, Spec> make_trainer(Model& model, Loss loss, Spec spec, std::size_t max_batch,
                                        threads t = {}, seed s = {}) {
  detail::check_clipping("frost::make_trainer", spec);
  return trainer<Model, Loss, Spec>(model, loss, optimizer<Model, Spec>(spec), max_batch, t, s);
}

/// The same, continuing with an existing optimizer's state (e.g. after `unfreeze`).
template <class Model, class Loss, class Spec>
trainer<Model, Loss, Spec> make_trainer(Model& model, Loss loss, optimizer<Model, Spec> opt, std::size_t max_batch,
                                        threads t = {}, seed s = {}) {
  return trainer<Model, Loss, Spec>(model, loss, std::move(opt), max_batch, t, s);
}

/// A trainer that keeps a gradient arena (`keep_gradients`): for `last_gradients()`,
/// finite-check mode and clipping. Otherwise as above.
template <class Model, class Loss, optimizer_spec Spec>
trainer<Model, Loss, Spec, true> make_trainer(Model& model, Loss loss, Spec spec, std::size_t max_batch,
                                              keep_gradients_t, threads t = {}, seed s = {}) {
  detail::check_clipping("frost::make_trainer", spec);
  return trainer<Model, Loss, Spec, true>(model, loss, optimizer<Model, Spec>(spec), max_batch, t, s);
}
template <class Model, class Loss, class Spec>
trainer<Model, Loss, Spec, true> make_trainer(Model& model, Loss loss, optimizer<Model, Spec> opt,
                                              std::size_t max_batch, keep_gradients_t, threads t = {}, seed s = {}) {
  return trainer<Model, Loss, Spec, true>(model, loss, std::move(opt), max_batch, t, s);
}

/// A trainer whose workspace lives inside it, for batches of up to `MaxBatch` rows (a
/// compile-time capacity): with a model made with `storage::inline_`, nothing it holds is on the
/// heap (`heap_free`), so a program without one can train online.
/// ```cpp
/// auto tr = frost::make_trainer<1>(model, frost::mean_squared_error{}, frost::adam{.learning_rate = 0.003f});
/// ```
template <std::size_t MaxBatch, class Model, class Loss, optimizer_spec Spec>
trainer<Model, Loss, Spec, false, MaxBatch> make_trainer(Model& model, Loss loss, Spec spec, threads t = {}, seed s = {}) {
  static_assert(MaxBatch >= 1, "frost::make_trainer<MaxBatch>: the capacity is at least one row");
  detail::check_clipping("frost::make_trainer", spec);
  return trainer<Model, Loss, Spec, false, MaxBatch>(model, loss, optimizer<Model, Spec>(spec), MaxBatch, t, s);
}
/// The same, keeping a gradient arena (`keep_gradients`).
template <std::size_t MaxBatch, class Model, class Loss, optimizer_spec Spec>
trainer<Model, Loss, Spec, true, MaxBatch> make_trainer(Model& model, Loss loss, Spec spec, keep_gradients_t,
                                                        threads t = {}, seed s = {}) {
  static_assert(MaxBatch >= 1, "frost::make_trainer<MaxBatch>: the capacity is at least one row");
  detail::check_clipping("frost::make_trainer", spec);
  return trainer<Model, Loss, Spec, true, MaxBatch>(model, loss, optimizer<Model, Spec>(spec), MaxBatch, t, s);
}

}  // namespace frost
