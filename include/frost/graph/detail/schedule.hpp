#pragma once
/// \file
/// When a step is split across threads, and how: the thresholds the plan's facts are compared
/// with (measured on 2 cores, docs/performance.md), and the pointers a node reads and writes.

#include <frost/core/part.hpp>
#include <frost/core/thread_pool.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace frost::detail {

// Handing work to another core moves the data it touches between the cores' caches, which costs
// more than small products gain: a step is split only when it has enough arithmetic in all
// (pool_for_step), and within it each job only when every share still has enough (worth_splitting).
inline constexpr double min_flops_per_share = 2e5;
inline constexpr double min_step_flops_per_thread = 2e6;

inline bool worth_splitting(double flops, const thread_pool* pool) noexcept {
  return pool != nullptr && pool->size() > 1 && flops >= min_flops_per_share * static_cast<double>(pool->size());
}

/// The pool a training step of `rows` rows should use: `pool`, or none when the step is small.
template <class Model>
thread_pool* pool_for_step(thread_pool* pool, std::size_t rows) noexcept {
  if (pool == nullptr || pool->size() == 1) return nullptr;
  const bool big = Model::plan.step_flops_per_row * double(rows) >= min_step_flops_per_thread * double(pool->size());
  return big ? pool : nullptr;
}

/// How a loss meets the model's output, decided once per (model, loss): whether the loss's
/// gradient is fused with the output layer's activation (softmax + categorical crossentropy,
/// sigmoid + binary crossentropy: dL/dz = (p − y)/N), whether the output node is then skipped in
/// backward (a parameter-free activation<f> output: the loss writes its input's gradient), and
/// where the loss writes its gradient.
struct loss_plan {
  bool fused = false;
  bool skip_output = false;
  std::size_t gradient_offset = 0;
};

template <class L>
struct activation_of {
  using type = void;
};
template <class L>
  requires requires { typename L::activation_type; }
struct activation_of<L> {
  using type = typename L::activation_type;
};

template <class Model, class Loss>
inline constexpr loss_plan loss_plan_v = [] {
  constexpr auto& p = Model::plan;
  using act = typename activation_of<typename Model::template node_spec<Model::output_node>>::type;
  loss_plan lp;
  if constexpr (!std::is_void_v<act>) lp.fused = Loss::template fuses_with<act>;
  const std::size_t parent_gradient =
      p.output_pointwise ? p.gradient_offset[p.edges[p.facts[p.output].first_edge].from] : p.npos;
  lp.skip_output = lp.fused && parent_gradient != p.npos;
  lp.gradient_offset = lp.skip_output ? parent_gradient : p.gradient_offset[p.output];
  return lp;
}();

/// Where a pass's buffers are: the workspace and its batch capacity, the model inputs, and
/// (inference) the caller's output buffer.
template <class T>
struct pass_buffers {
  const T* const* x = nullptr;  ///< one pointer per model input
  T* ws = nullptr;
  std::size_t cap = 0;
  T* out = nullptr;             ///< inference: the model output goes here
  T* state = nullptr;           ///< training: the model's state arena, which the pass updates
  std::uint64_t noise = 0;      ///< training: the key of this pass's random streams
};

}  // namespace frost::detail
