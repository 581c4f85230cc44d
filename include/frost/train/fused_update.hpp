#pragma once
/// \file
/// The fused update: backward hands each finished vector of a weight gradient (its reduction
/// over the batch complete, in registers) to an `update_sink`, which applies the optimizer's
/// update to that piece of the parameters and their optimizer state at once. The gradient is
/// never stored: a trainer on this path holds no gradient arena. Each piece goes through the
/// same update function the unfused path runs over the whole arena, element by element the same
/// operations, so both paths give the same bits.

#include <frost/core/simd.hpp>
#include <frost/graph/plan.hpp>
#include <frost/kernels/gemm.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace frost::detail {

/// Runs `step(w, g, state, n, stride)` (an optimizer's update; `Slots` state slots, slot s of
/// parameter i at `state[s * stride + i]`) on whole vectors only: the whole vectors of [0, n)
/// in place, then the rest through zero-padded copies of one vector. Every parameter then goes
/// through the same vector code wherever it lies, in the arena or in a tile: scalar code may be
/// compiled with other contractions into fused multiply-adds than vector code, and both update
/// paths must give the same bits.
template <std::size_t Slots, class T, class Step>
void vector_step(const Step& step, T* w, const T* g, T* state, std::size_t n, std::size_t stride) noexcept {
  constexpr std::size_t L = simd::native<T>::width;
  const std::size_t whole = n / L * L;
  if (whole != 0) step(w, g, state, whole, stride);
  if (whole == n) return;
  const std::size_t rest = n - whole;
  alignas(64) T pw[L] = {}, pg[L] = {}, ps[Slots == 0 ? 1 : Slots * L] = {};
  for (std::size_t i = 0; i < rest; ++i) {
    pw[i] = w[whole + i];
    pg[i] = g[whole + i];
    for (std::size_t s = 0; s < Slots; ++s) ps[s * L + i] = state[s * stride + whole + i];
  }
  step(pw, pg, ps, L, L);
  for (std::size_t i = 0; i < rest; ++i) {
    w[whole + i] = pw[i];
    for (std::size_t s = 0; s < Slots; ++s) state[s * stride + whole + i] = ps[s * L + i];
  }
}

/// Applies `Step` (an optimizer's update of one step: `step(w, g, state, n, stride)`) to each
/// finished piece of one layer's gradient. `base` is the block the kernels address (the layer's
/// parameters, or the partial-sum scratch), `w` and `state` the layer's parameters and optimizer
/// state (slot s of parameter i at `state[s * stride + i]`).
template <class T, class Step, std::size_t Slots>
struct update_sink {
  const Step* step;
  const T* base;
  T* w;
  T* state;
  std::size_t stride;

  template <std::size_t B, bool Partial>
  void put(T* at, simd::vec_t<T, B> v, std::size_t n) const noexcept {
    constexpr std::size_t L = B / sizeof(T);
    alignas(64) T g[L];
    simd::store<T, B>(g, v);
    span(at, g, Partial ? std::min(n, L) : L);
  }
  void span(T* at, const T* g, std::size_t n) const noexcept {
    const auto i = static_cast<std::size_t>(at - base);
    vector_step<Slots>(*step, w + i, g, state + i, n, stride);
  }
};

/// Backward's sinks for a fused update (the counterpart of graph/backward.hpp's
/// `gradient_arena`). A weight-gradient product that reduces over more than
/// `kernels::weight_block_rows` rows keeps partial sums between its blocks: they go to
/// `partial` (sized for the largest such layer), the finished sums to the update.
template <class Model, class Step, std::size_t Slots>
struct update_sinks {
  using T = typename Model::scalar_type;
  static constexpr bool fused = true;
  T* weights;  ///< the trainable arena
  T* state;    ///< the optimizer state, slots of `Model::trainable_param_count`
  T* partial;  ///< partial sums of long reductions, or null when none can occur
  const Step* step;
  std::size_t rows;  ///< the batch

  template <class M, std::size_t I>
  T* dparams() const noexcept {
    constexpr auto& f = M::plan.facts[I];
    if (partial != nullptr && (!f.params_take_sink || f.reduction_rows * rows > kernels::weight_block_rows))
      return partial;
    return weights + M::plan.trainable_offset[I];
  }
  template <class M, std::size_t I>
  update_sink<T, Step, Slots> sink(T* base) const noexcept {
    constexpr std::size_t at = M::plan.trainable_offset[I];
    return {step, base, weights + at, state + at, M::trainable_param_count};
  }
};

/// Scalars of scratch a fused update needs for batches of up to `max_batch` rows: the largest
/// trainable layer whose weight-gradient reduction may span several blocks of rows (its partial
/// sums), or whose params stage takes no sink (a layer written without one stores its whole
/// gradient block, which then goes to the update at once).
template <class Model>
std::size_t partial_sum_size(std::size_t max_batch) noexcept {
  constexpr auto& p = Model::plan;
  std::size_t n = 0;
  for (std::size_t i = 0; i < Model::node_count; ++i)
    if (p.needs_param_grad[i] &&
        (!p.facts[i].params_take_sink || p.facts[i].reduction_rows * max_batch > kernels::weight_block_rows))
      n = std::max(n, p.facts[i].params);
  return n;
}

}  // namespace frost::detail
