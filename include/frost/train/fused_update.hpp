#pragma once
/// \file
/// The fused update: backward hands each finished tile of a weight gradient (its reduction over
/// the batch complete, in registers) to an `update_sink`, which applies the optimizer's update
/// to those parameters and their optimizer state at once, so the gradient is never stored. A
/// trainer on this path holds no gradient arena, only a scratch of at most one layer (partial
/// sums of long reductions, and the whole gradient of a wide layer, which is updated in one
/// pass as soon as it is complete: walking W by column strips measured slower). Each piece goes
/// through the same vector code the unfused path runs over the whole arena, so both paths give
/// the same bits.

#include <frost/core/simd.hpp>
#include <frost/graph/plan.hpp>
#include <frost/kernels/gemm.hpp>
#include <frost/train/optimizers.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace frost::detail {

/// Applies `Step` (an optimizer's update of one native vector, optimizers.hpp's `stepper`) to each
/// finished piece of one layer's gradient. `base` is the block the kernels address (the layer's
/// parameters, or the partial-sum scratch), `w` and `state` the layer's parameters and optimizer
/// state (slot s of parameter i at `state[s * stride + i]`).
template <class T, class Step>
struct update_sink {
  const Step* step;
  const T* base;
  T* w;
  T* state;
  std::size_t stride;
  std::size_t slots;

  /// Fetches the parameters and optimizer state of a tile about to finish (R rows of Bytes, ld
  /// apart), so that the update finds them in cache: in a wide layer the tile's rows lie a page
  /// or more apart, where no hardware prefetcher follows.
  template <std::size_t R, std::size_t Bytes>
  void prepare(T* at, std::size_t ld) const noexcept {
    const auto i = static_cast<std::size_t>(at - base);
    constexpr std::size_t line = 64 / sizeof(T);
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t c = 0; c < Bytes / sizeof(T); c += line) {
        const std::size_t at_rc = i + r * ld + c;
        __builtin_prefetch(w + at_rc, 1);
        for (std::size_t s = 0; s < slots; ++s) __builtin_prefetch(state + s * stride + at_rc, 1);
      }
  }

  template <std::size_t B, bool Partial>
  void put(T* at, simd::vec_t<T, B> v, std::size_t n) const noexcept {
    const auto i = static_cast<std::size_t>(at - base);
    if constexpr (B == simd::simd_bytes && !Partial) {
      // A whole native vector: the update's vector code, on the finished sums.
      alignas(64) T g[simd::native<T>::width];
      simd::store<T, B>(g, v);
      step->template operator()<false>(w + i, g, state + i, stride, simd::native<T>::width);
    } else {
      // Fewer lanes (a narrower vector, or a partial one): one partial native vector.
      alignas(64) T g[simd::native<T>::width] = {};
      simd::store<T, B>(g, v);
      step->template operator()<true>(w + i, g, state + i, stride, Partial ? std::min(n, B / sizeof(T)) : B / sizeof(T));
    }
  }
  /// A finished tile, apart from the product's loop (so that the update's constants and
  /// temporaries never crowd the accumulators there).
  template <std::size_t R, std::size_t VN, std::size_t B, bool Partial>
  [[gnu::noinline]] void put_tile(T* at, std::size_t ld, const simd::vec_t<T, B> (&acc)[R][VN],
                                  std::size_t n) const noexcept {
    for (std::size_t r = 0; r < R; ++r)
      for (std::size_t v = 0; v < VN; ++v) put<B, Partial>(at + r * ld + v * (B / sizeof(T)), acc[r][v], n);
  }
  void span(T* at, const T* g, std::size_t n) const noexcept {
    const auto i = static_cast<std::size_t>(at - base);
    vector_step(*step, w + i, g, state + i, n, stride);
  }
};

/// Does node I of M finish its whole weight gradient in scratch before the update, rather than
/// hand the update each tile? A layer without a sink must; so does a wide product (units of 2
/// KiB or more, kernels::detail::pack_weight), whose tiles sweep W by column strips, a page or
/// more between rows: there one streaming pass over the finished block (still in cache, the
/// scratch one layer large) measured faster than updating W and its moments strip by strip.
template <class M, std::size_t I>
constexpr bool takes_whole_block() {
  constexpr auto& f = M::plan.facts[I];
  if (!f.params_take_sink) return true;
  if (f.reduction_rows == 0) return false;
  const std::size_t units = f.out_size / f.reduction_rows;
  return kernels::detail::pack_weight_units<typename M::scalar_type>(units);
}

/// Backward's sinks for a fused update (the counterpart of graph/backward.hpp's
/// `gradient_arena`). A weight-gradient product that reduces over more than
/// `kernels::weight_block_rows` rows keeps partial sums between its blocks: they go to
/// `partial`, the finished sums to the update. A layer taken whole (`whole_block`) finishes its
/// gradient in `partial`, and the update then runs over it in one pass. `partial` is sized for
/// the largest such layer and reused layer after layer.
template <class Model, class Step>
struct update_sinks {
  using T = typename Model::scalar_type;
  static constexpr bool fused = true;
  T* weights;  ///< the trainable arena
  T* state;    ///< the optimizer state, slots of `Model::trainable_param_count`
  T* partial;  ///< the update's scratch, or null when no layer needs it
  const Step* step;
  std::size_t rows;   ///< the batch
  std::size_t slots;  ///< optimizer state slots

  /// Does node I finish its whole gradient block in the scratch before its update?
  template <class M, std::size_t I>
  static constexpr bool whole_block = takes_whole_block<M, I>();

  template <class M, std::size_t I>
  T* dparams() const noexcept {
    constexpr auto& f = M::plan.facts[I];
    if (partial != nullptr &&
        (whole_block<M, I> || f.reduction_rows * rows > kernels::weight_block_rows))
      return partial;
    return weights + M::plan.trainable_offset[I];
  }
  template <class M, std::size_t I>
  update_sink<T, Step> sink(T* base) const noexcept {
    constexpr std::size_t at = M::plan.trainable_offset[I];
    return {step, base, weights + at, state + at, M::trainable_param_count, slots};
  }
  /// Node I's backward is done: its update already happened tile by tile.
  template <class M, std::size_t I>
  void finished() const noexcept {}
};

/// Scalars of scratch a fused update needs for batches of up to `max_batch` rows: the largest
/// trainable layer whose weight-gradient reduction may span several blocks of rows (its partial
/// sums), or that is taken whole (`takes_whole_block`: a wide layer, or one without a sink).
template <class Model>
constexpr std::size_t update_scratch_size(std::size_t max_batch) noexcept {
  constexpr auto& p = Model::plan;
  std::size_t n = 0;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((n = p.needs_param_grad[I] && (takes_whole_block<Model, I>() ||
                                    p.facts[I].reduction_rows * max_batch > kernels::weight_block_rows)
              ? std::max(n, p.facts[I].params)
              : n),
     ...);
  }(std::make_index_sequence<Model::node_count>{});
  return n;
}

}  // namespace frost::detail
