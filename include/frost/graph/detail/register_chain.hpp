#pragma once
/// \file
/// Batch-1 inference of a model that ends in a chain of small layers (a real-time model:
/// 1 → 8 tanh → 8 tanh → 1, or the last layers of a bigger one): from the first node of the chain
/// to the output, each layer's row stays in vector registers and the next layer broadcasts its
/// lanes from there (kernels/register_row.hpp), in one inlined sequence. The nodes before the
/// chain run as usual. A node belongs to the chain when its layer has `register_forward` for
/// its input (dense layers of `kernels::small_layer` size with an elementwise or one-vector
/// row activation), it reads the node before it and nothing else, and the plan fuses nothing
/// into or out of it.

#include <frost/graph/model.hpp>
#include <frost/kernels/register_row.hpp>

#include <array>
#include <cstddef>
#include <tuple>
#include <utility>

namespace frost::detail {

/// Can node I run in registers from the row of node I − 1?
template <class Model, std::size_t I>
consteval bool register_node() {
  constexpr auto& p = Model::plan;
  constexpr auto f = p.facts[I];
  if constexpr (f.arity != 1) {
    return false;
  } else if constexpr (p.edges[f.first_edge].from + 1 != I || p.inference_fused_into[I] != p.npos ||
                       p.inference_fused_last[I] != I) {
    return false;
  } else {
    using L = typename Model::template node_spec<I>;
    using T = typename Model::scalar_type;
    return []<class In>(shape_list<In>*) {
      if constexpr (requires { L::template register_forward<In, T>; }) return L::template register_forward<In, T>;
      else return false;
    }(static_cast<typename Model::template node_input_shapes<I>*>(nullptr));
  }
}

/// The first node of the chain that runs in registers up to the output (the node count if the
/// output node cannot). Never 0: the chain reads its first input from memory.
template <class Model>
consteval std::size_t register_chain_start() {
  constexpr std::size_t n = Model::node_count;
  if constexpr (Model::output_node + 1 != n) {
    return n;
  } else {
    constexpr auto ok = []<std::size_t... I>(std::index_sequence<I...>) {
      return std::array<bool, n>{register_node<Model, I>()...};
    }(std::make_index_sequence<n>{});
    std::size_t c = n;
    while (c > 1 && ok[c - 1]) --c;
    return c;
  }
}

/// Node I's row, from the row of node I − 1 (in memory or in registers).
template <class Model, std::size_t I, class T, class X>
[[gnu::always_inline]] inline auto register_node_row(const Model& m, const X& in) noexcept {
  using L = typename Model::template node_spec<I>;
  using In = typename Model::template node_output_shape<I - 1>;
  return L::template forward_row<In>(static_cast<const T*>(m.template parameter_block<I>()), in);
}

/// Runs nodes [C, node_count) on one row: `x` is node C − 1's output row, `out` the model's.
template <class Model, std::size_t C, class T>
[[gnu::always_inline]] inline void run_register_chain(const Model& m, const T* x, T* out) noexcept {
  constexpr std::size_t n = Model::node_count;
  const auto first = register_node_row<Model, C, T>(m, x);
  if constexpr (C + 1 == n) {
    kernels::store_row<Model::plan.facts[C].out_size>(out, first);
  } else {
    // The register rows of nodes C + 1, ..., n − 1, each from the one before.
    [&]<std::size_t... J>(std::index_sequence<J...>) __attribute__((always_inline)) {
      std::tuple<kernels::register_row<T, Model::plan.facts[C + 1 + J].out_size>...> rows;
      (
          [&]() __attribute__((always_inline)) {
            if constexpr (J == 0) std::get<0>(rows) = register_node_row<Model, C + 1, T>(m, first);
            else std::get<J>(rows) = register_node_row<Model, C + 1 + J, T>(m, std::get<J - 1>(rows));
          }(),
          ...);
      kernels::store_row<Model::plan.facts[n - 1].out_size>(out, std::get<sizeof...(J) - 1>(rows));
    }(std::make_index_sequence<n - C - 1>{});
  }
}

}  // namespace frost::detail
