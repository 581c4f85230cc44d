#pragma once
/// \file
/// `optimizer<Model, Spec>` and `make_optimizer`: optimizer state sized to the trainable
/// parameters only, one loop per step; `freeze`/`unfreeze` carry the state across types.

#include <frost/core/aligned_buffer.hpp>
#include <frost/core/denormals.hpp>
#include <frost/core/thread_pool.hpp>
#include <frost/graph/freeze.hpp>
#include <frost/train/gradients.hpp>
#include <frost/train/optimizers.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace frost {

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

  explicit optimizer(Spec spec = {}) : spec_(spec), state_(state_size) {}

  /// One update of every trainable parameter of `model` from `grads` (Keras `apply_gradients`).
  void apply_gradients(Model& model, const gradients<Model>& grads) noexcept {
    apply(model.trainable_parameters().data(), grads.data());
  }

  /// The same on raw arenas, as the trainer calls it; with a pool, each thread updates its own
  /// piece of the arena (pieces of whole cache lines; the result is the same).
  void apply(scalar_type* weights, const scalar_type* grads, thread_pool* pool = nullptr) noexcept {
    const flush_denormals flush;
    ++iterations_;
    if constexpr (Model::trainable_param_count > 0) {
      constexpr std::size_t n = Model::trainable_param_count;
      constexpr std::size_t line = 64 / sizeof(scalar_type);
      // A split pays for itself only on large arenas: updating is a pass over memory.
      const bool split = pool != nullptr && pool->size() > 1 && n >= 65536 * pool->size();
      run_parts(pool, split, [&](part share) noexcept {
        const index_range r = share.of(n, line);
        if (!r.empty())
          spec_.update(weights + r.begin, grads + r.begin, state_.data() + r.begin, r.size(), n, iterations_);
      });
    }
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
  aligned_buffer<scalar_type> state_;
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
