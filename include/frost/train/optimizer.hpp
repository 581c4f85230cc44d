#pragma once
/// \file
/// `optimizer<Model, Spec>` and `make_optimizer`: optimizer state sized to the trainable
/// parameters only, one loop per step; `freeze`/`unfreeze` carry the state across types.

#include <frost/core/aligned_buffer.hpp>
#include <frost/core/storage.hpp>
#include <frost/core/denormals.hpp>
#include <frost/core/thread_pool.hpp>
#include <frost/core/error.hpp>
#include <frost/graph/freeze.hpp>
#include <frost/io/variables.hpp>
#include <frost/train/fused_update.hpp>
#include <frost/train/gradients.hpp>
#include <frost/train/optimizers.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace frost {

namespace detail {
/// Spec's update of step t of one native vector, `step(w, g, state, stride)`: its `stepper`
/// (constants computed once), or for a spec without one, `update` on one vector with t.
template <class T, class Spec>
auto stepper_of(const Spec& spec, std::uint64_t t) noexcept {
  if constexpr (requires { spec.template stepper<T>(t); }) {
    return spec.template stepper<T>(t);
  } else {
    return [&spec, t]<bool Partial>(T* w, const T* g, T* state, std::size_t stride, std::size_t n) noexcept {
      spec.update(w, g, state, n, stride, t);
    };
  }
}

/// Spec's clipping settings (Keras's `clipnorm` and `global_clipnorm`; 0 or absent: off).
template <class Spec>
float clipnorm_of(const Spec& s) noexcept {
  if constexpr (requires { s.clipnorm; }) return s.clipnorm;
  else return 0.f;
}
template <class Spec>
float global_clipnorm_of(const Spec& s) noexcept {
  if constexpr (requires { s.global_clipnorm; }) return s.global_clipnorm;
  else return 0.f;
}
template <class Spec>
bool clips(const Spec& s) noexcept {
  return clipnorm_of(s) != 0.f || global_clipnorm_of(s) != 0.f;
}

inline std::string clip_text(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", static_cast<double>(v));
  return buf;
}

/// Refuses clipping settings Keras refuses: negative or NaN values, or both at once.
template <class Spec>
void check_clipping(const char* where, const Spec& s) {
  const float c = clipnorm_of(s), gc = global_clipnorm_of(s);
  if (!(c >= 0.f)) throw_value(where, "clipnorm", "0 (off) or a positive norm", clip_text(c));
  if (!(gc >= 0.f)) throw_value(where, "global_clipnorm", "0 (off) or a positive norm", clip_text(gc));
  if (c != 0.f && gc != 0.f)
    throw_value(where, "clipping", "at most one of clipnorm and global_clipnorm",
                "clipnorm = " + clip_text(c) + " and global_clipnorm = " + clip_text(gc));
}

/// Σ g² over n values, in double.
template <class T>
double sum_of_squares(const T* g, std::size_t n) noexcept {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(g[i]) * static_cast<double>(g[i]);
  return s;
}

/// Keras's gradient clipping, in place over the trainable arena's gradient `g`:
/// clipnorm c, each variable (kernel, bias, γ, β) alone: g ← g·c / max(‖g‖, c);
/// global_clipnorm c, all together: g ← g·(c·min(1/‖g‖, 1/c) + (‖g‖ − ‖g‖)) (NaN for an
/// infinite norm, as Keras's).
template <class Model, class Spec, class T>
void clip_gradients(const Spec& spec, T* g) noexcept {
  constexpr std::size_t n = Model::trainable_param_count;
  if (const float cn = clipnorm_of(spec); cn != 0.f) {
    const T c = static_cast<T>(cn);
    for (const model_variable& v : model_variables<Model>) {
      if (v.where != arena::trainable) continue;
      T* gv = g + v.offset;
      const std::size_t size = v.var.size();
      const double l2sum = sum_of_squares(gv, size);
      const T norm = static_cast<T>(l2sum > 0 ? std::sqrt(l2sum) : l2sum);
      const T denominator = norm > c || norm != norm ? norm : c;  // maximum, NaN-propagating
      for (std::size_t i = 0; i < size; ++i) gv[i] = gv[i] * c / denominator;
    }
  } else if (const float gcn = global_clipnorm_of(spec); gcn != 0.f) {
    const T c = static_cast<T>(gcn);
    const T norm = static_cast<T>(std::sqrt(sum_of_squares(g, n)));
    const T inverse = T{1} / norm, floor = T{1} / c;
    const T scale = c * (inverse < floor || inverse != inverse ? inverse : floor) + (norm - norm);
    for (std::size_t i = 0; i < n; ++i) g[i] = g[i] * scale;
  }
}
}  // namespace detail

/// An optimizer bound to a model type: `Spec`'s hyper-parameters, `Spec::slots` state slots each
/// the size of the trainable arena (frozen layers have none), and the step count.
/// Keras equivalent: an optimizer after `build(model.trainable_variables)`.
template <class Model, optimizer_spec Spec>
class optimizer {
 public:
  using model_type = Model;
  using spec_type = Spec;
  using scalar_type = typename Model::scalar_type;
  /// Scalars of optimizer state: slots × trainable parameters.
  static constexpr std::size_t state_size = Spec::slots * Model::trainable_param_count;

  explicit optimizer(Spec spec = {}) : spec_(spec), state_(state_size) {
    detail::check_clipping("frost::optimizer", spec_);
  }

  /// One update of every trainable parameter of `model` from `grads` (Keras `apply_gradients`),
  /// clipped first when the spec says so (into a copy: `grads` is left as it is).
  void apply_gradients(Model& model, const gradients<Model>& grads) {
    detail::check_clipping("frost::optimizer::apply_gradients", spec_);
    if (detail::clips(spec_)) {
      std::vector<scalar_type> clipped(grads.data(), grads.data() + gradients<Model>::size);
      apply(model.trainable_parameters().data(), clipped.data());
    } else {
      apply(model.trainable_parameters().data(), const_cast<scalar_type*>(grads.data()));
    }
  }

  /// The same on raw arenas, as the trainer calls it: clips `grads` in place (when the spec
  /// says so), then updates; with a pool, each thread updates its own piece of the arena (pieces
  /// of whole cache lines; the result is the same).
  void apply(scalar_type* weights, scalar_type* grads, thread_pool* pool = nullptr) noexcept {
    const flush_denormals flush;
    ++iterations_;
    if constexpr (Model::trainable_param_count > 0) {
      constexpr std::size_t n = Model::trainable_param_count;
      constexpr std::size_t line = 64 / sizeof(scalar_type);
      if (detail::clips(spec_)) detail::clip_gradients<Model>(spec_, grads);
      const auto step = detail::stepper_of<scalar_type>(spec_, iterations_);
      // A split pays for itself only on large arenas: updating is a pass over memory.
      const bool split = pool != nullptr && pool->size() > 1 && n >= 65536 * pool->size();
      run_parts(pool, split, [&](part share) noexcept {
        const index_range r = share.of(n, line);
        if (!r.empty())
          detail::vector_step(step, weights + r.begin, grads + r.begin, state_.data() + r.begin, r.size(), n);
      });
    }
  }

  /// The fused update of one step: counts the step, then runs `backward(sinks)` with sinks that
  /// apply this optimizer to each finished piece of the gradient (train/fused_update.hpp).
  /// `partial`: the update's scratch (detail::update_scratch_size), or null. No clipping: it
  /// needs the whole gradient first.
  template <class Backward>
  void apply_fused(scalar_type* weights, scalar_type* partial, std::size_t rows, Backward&& backward) noexcept {
    ++iterations_;
    const auto step = detail::stepper_of<scalar_type>(spec_, iterations_);
    backward(detail::update_sinks<Model, decltype(step)>{weights, state_.data(), partial, &step, rows, Spec::slots});
  }

  /// Hyper-parameters; may be changed between steps (e.g. a learning-rate schedule).
  Spec& config() noexcept { return spec_; }
  const Spec& config() const noexcept { return spec_; }
  /// Steps taken (Keras `optimizer.iterations`).
  std::uint64_t iterations() const noexcept { return iterations_; }
  /// Sets the step count (a checkpoint restores it with the state).
  void set_iterations(std::uint64_t n) noexcept { iterations_ = n; }
  std::span<scalar_type, state_size> state() noexcept { return std::span<scalar_type, state_size>(state_.data(), state_size); }
  std::span<const scalar_type, state_size> state() const noexcept {
    return std::span<const scalar_type, state_size>(state_.data(), state_size);
  }

  /// State carried over to another model type (used by freeze/unfreeze): layers trainable in
  /// both keep their slots, newly trainable ones start at zero, newly frozen ones drop theirs.
  template <class To>
  optimizer<To, Spec> rebind() && {
    // State moves layer by layer at the offsets of both plans: only valid between the same model
    // with different layers frozen.
    static_assert(same_architecture_v<Model, To>,
                  "frost::optimizer::rebind: the target model must be this model with other layers frozen");
    optimizer<To, Spec> out(spec_);
    out.restore_(iterations_);
    [&]<std::size_t... J>(std::index_sequence<J...>) {
      (copy_layer_state_<To, J>(out.state().data()), ...);
    }(std::make_index_sequence<Model::node_count>{});
    return out;
  }

 private:
  template <class, optimizer_spec>
  friend class optimizer;

  void restore_(std::uint64_t iterations) noexcept { iterations_ = iterations; }

  template <class To, std::size_t J>
  void copy_layer_state_(scalar_type* to) const noexcept {
    constexpr std::size_t from_at = Model::plan.trainable_offset[J], to_at = To::plan.trainable_offset[J];
    if constexpr (from_at != Model::plan.npos && to_at != To::plan.npos) {
      for (std::size_t s = 0; s < Spec::slots; ++s)
        std::copy_n(state_.data() + s * Model::trainable_param_count + from_at, Model::plan.facts[J].params,
                    to + s * To::trainable_param_count + to_at);
    }
  }

  Spec spec_;
  detail::arena_t<scalar_type, state_size, typename Model::storage_type> state_;
  std::uint64_t iterations_ = 0;
};

/// An optimizer for `model`'s trainable parameters. Keras `optimizer.build(model.trainable_variables)`.
/// ```cpp
/// auto opt = frost::make_optimizer(model, frost::adam{.learning_rate = 0.01f});
/// opt.apply_gradients(model, grads);
/// ```
template <class Model, optimizer_spec Spec>
optimizer<Model, Spec> make_optimizer(const Model& model, Spec spec) {
  model.ensure_weights("frost::make_optimizer");
  return optimizer<Model, Spec>(spec);
}

/// The optimizer for `freeze<I...>(std::move(model))`: frozen layers' state is dropped.
template <std::size_t... I, class Model, class Spec>
auto freeze(optimizer<Model, Spec>&& opt) {
  static_assert(detail::check_indices<Model::layer_count, I...>());
  return std::move(opt).template rebind<frozen_model_t<Model, I...>>();
}

/// The optimizer for `unfreeze<I...>(std::move(model))`: other layers keep their state (and the
/// step count), the unfrozen layers start from zero state, as a fresh Keras slot would.
template <std::size_t... I, class Model, class Spec>
auto unfreeze(optimizer<Model, Spec>&& opt) {
  static_assert(detail::check_indices<Model::layer_count, I...>());
  return std::move(opt).template rebind<unfrozen_model_t<Model, I...>>();
}

/// The optimizer for `freeze<"name"...>(std::move(model))`.
template <fixed_string... Names, class Model, class Spec>
auto freeze(optimizer<Model, Spec>&& opt) {
  static_assert(detail::check_names<Model, Names...>());
  return std::move(opt).template rebind<frozen_model_t<Model, Model::template index_of<Names>...>>();
}

/// The optimizer for `unfreeze<"name"...>(std::move(model))`.
template <fixed_string... Names, class Model, class Spec>
auto unfreeze(optimizer<Model, Spec>&& opt) {
  static_assert(detail::check_names<Model, Names...>());
  return std::move(opt).template rebind<unfrozen_model_t<Model, Model::template index_of<Names>...>>();
}

}  // namespace frost
