#pragma once
/// \file
/// Forward and backward passes generated from a model's plan: straight-line code, one call per
/// node, unrolled with fold expressions. Whatever the plan marks inactive is not instantiated.
///
/// Workspace layout (scalars; `cap` = the batch capacity the workspace was sized for):
///   [ kept outputs: plan.kept_per_sample × cap | slot 0 | slot 1 ] (each slot plan.slot_size × cap)
/// Training forward writes each node's output where the plan says (kept region or slot i % 2).
/// Backward writes dL/d(output of node i) into slot i % 2: transient outputs are dead by then.
/// Inference uses only the two slots and writes the last node into the caller's buffer.

#include <frost/core/simd.hpp>
#include <frost/core/thread_pool.hpp>
#include <frost/graph/frozen.hpp>
#include <frost/graph/plan.hpp>

#include <cstddef>
#include <numeric>
#include <utility>

namespace frost::detail {

/// Scalars of workspace per sample for training (kept outputs and two slots).
template <class Model>
inline constexpr std::size_t training_workspace_v = Model::plan.workspace_per_sample;
/// Scalars of workspace per sample for inference (two slots).
template <class Model>
inline constexpr std::size_t inference_workspace_v = 2 * Model::plan.slot_size;

template <class Model, std::size_t I, class T>
T* output_in(T* ws, std::size_t cap) noexcept {
  return ws + Model::plan.output_offset[I] * cap;
}

template <class Model, std::size_t I, class T>
T* gradient_in(T* ws, std::size_t cap) noexcept {
  return ws + (Model::plan.kept_per_sample + (I % 2) * Model::plan.slot_size) * cap;
}

template <class Model, std::size_t I, class T>
T* extra_in(T* ws, std::size_t cap) noexcept {
  if constexpr (Model::plan.extra_offset[I] == Model::plan.npos) return nullptr;
  else return ws + Model::plan.extra_offset[I] * cap;
}

// Parallel work. Handing work to another core moves the data it touches between the cores'
// caches, which costs more than small products gain: a step is split only when it has enough
// arithmetic in all (pool_for_step), and within it each job only when every share still
// has enough (worth_splitting). Both thresholds were measured on 2 cores (docs/performance.md).
inline constexpr double min_flops_per_share = 2e5;
inline constexpr double min_step_flops_per_thread = 2e6;
inline bool worth_splitting(double flops, const thread_pool* pool) noexcept {
  return pool != nullptr && pool->size() > 1 && flops >= min_flops_per_share * static_cast<double>(pool->size());
}

/// Arithmetic of a training step per row, roughly: two per parameter for the forward product,
/// again for each weight gradient and each input gradient the plan computes.
template <class Model>
inline constexpr double step_flops_per_row = [] {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return (0.0 + ... + (2.0 * double(unfrozen_t<typename Model::template layer_type<I>>::template param_count<
                                      typename Model::template layer_input_shape<I>>) *
                         (1.0 + double(Model::plan.needs_param_grad[I]) + double(Model::plan.needs_input_grad[I]))));
  }(std::make_index_sequence<Model::layer_count>{});
}();

/// The pool a training step of `rows` rows should use: `pool`, or none when the step is small.
template <class Model>
thread_pool* pool_for_step(thread_pool* pool, std::size_t rows) noexcept {
  if (pool == nullptr || pool->size() == 1) return nullptr;
  const bool big = step_flops_per_row<Model> * double(rows) >= min_step_flops_per_thread * double(pool->size());
  return big ? pool : nullptr;
}

/// Rows of a share: whole 8-row register tiles, and so many that every share of every layer's
/// rows × units values starts on a vector boundary. Elementwise loops then treat each value
/// exactly as one unsplit pass does (vector body or scalar tail), and the bits do not change.
template <class Model, class T>
inline constexpr std::size_t row_grain_v = [] {
  constexpr std::size_t lanes = simd::native<T>::width;
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    std::size_t g = 8;
    ((g = std::lcm(g, lanes / std::gcd(Model::template layer_output_shape<I>::size, lanes))), ...);
    return std::lcm(g, lanes / std::gcd(Model::input_shape::size, lanes));
  }(std::make_index_sequence<Model::layer_count>{});
}();

template <class Model>
inline constexpr bool rows_independent_v = [] {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return (rows_independent_of<unfrozen_t<typename Model::template layer_type<I>>>() && ...);
  }(std::make_index_sequence<Model::layer_count>{});
}();

/// Arithmetic of one forward row of the whole model, roughly: two per parameter.
template <class Model>
inline constexpr double forward_flops_per_row = 2.0 * static_cast<double>(Model::param_count);

/// Can layer `L` split its forward pass by units (a trailing `part`)?
template <class L, class In, class T>
concept has_split_forward = requires(const T* c, T* o, std::size_t n, part p) {
  L::template forward<In>(c, c, n, o, o, p);
};

/// Does `Model` have a layer whose weights are too big to stream through every thread's caches
/// (half a 1 MiB L2)? Then its forward pass is split layer by layer, each layer by units, so
/// that each thread reads only its own columns of W; otherwise the whole chain is split by rows
/// with no wait between layers.
template <class Model, class T>
inline constexpr bool split_forward_by_units_v = [] {
  return [&]<std::size_t... I>(std::index_sequence<I...>) {
    return ((unfrozen_t<typename Model::template layer_type<I>>::template param_count<
                 typename Model::template layer_input_shape<I>> * sizeof(T) >= 512 * 1024) || ...);
  }(std::make_index_sequence<Model::layer_count>{});
}();

template <bool Training, class Model, std::size_t I, class T>
void forward_node(const Model& m, const T* x, index_range r, T* ws, std::size_t cap, T* last,
                  part units = part::whole()) noexcept {
  using L = unfrozen_t<typename Model::template layer_type<I>>;
  using In = typename Model::template layer_input_shape<I>;
  using Out = typename Model::template layer_output_shape<I>;
  constexpr std::size_t parent = Model::plan.facts[I].parent;
  constexpr bool is_last = I + 1 == Model::layer_count;
  const T* in;
  if constexpr (parent == model_input) in = x;
  else if constexpr (Training) in = output_in<Model, parent>(ws, cap);
  else in = ws + (parent % 2) * Model::plan.slot_size * cap;
  T* out;
  if constexpr (Training) out = output_in<Model, I>(ws, cap);
  else if constexpr (is_last) out = last;
  else out = ws + (I % 2) * Model::plan.slot_size * cap;
  T* kept = nullptr;
  if constexpr (Training) kept = extra_in<Model, I>(ws, cap);
  if (kept != nullptr) kept += r.begin * extra_kept_of<L, In>();
  if constexpr (has_split_forward<L, In, T>)
    L::template forward<In>(m.template parameter_block<I>(), in + r.begin * In::size, r.size(),
                            out + r.begin * Out::size, kept, units);
  else
    L::template forward<In>(m.template parameter_block<I>(), in + r.begin * In::size, r.size(),
                            out + r.begin * Out::size, kept);
}

// One layer of a forward pass split layer by layer: by units where the layer can, else by rows.
template <bool Training, class Model, std::size_t I, class T>
void forward_layer_split(const Model& m, const T* x, std::size_t rows, T* ws, std::size_t cap, T* last,
                         thread_pool* pool) noexcept {
  using L = unfrozen_t<typename Model::template layer_type<I>>;
  using In = typename Model::template layer_input_shape<I>;
  const double flops = 2.0 * double(rows) * double(L::template param_count<In>);
  if constexpr (has_split_forward<L, In, T>) {
    run_parts(pool, worth_splitting(flops, pool), [&](part units) noexcept {
      forward_node<Training, Model, I>(m, x, index_range{0, rows}, ws, cap, last, units);
    });
  } else {
    run_parts(pool, rows_independent_of<L>() && worth_splitting(flops, pool), [&](part share) noexcept {
      const index_range r = share.of(rows, row_grain_v<Model, T>);
      if (!r.empty()) forward_node<Training, Model, I>(m, x, r, ws, cap, last);
    });
  }
}

/// Runs the model forward over `rows` samples. Training: outputs go to the workspace as the
/// plan lays out (the model output included). Inference: only slots, result in `last`.
/// With a pool, the batch is split by rows across its threads (when every layer's rows are
/// independent): no thread waits for another until the end; or, for models with big weight
/// matrices, each layer by units (see split_forward_by_units_v).
template <bool Training, class Model, class T>
void forward(const Model& m, const T* x, std::size_t rows, T* ws, std::size_t cap, T* last = nullptr,
             thread_pool* pool = nullptr) noexcept {
  static_assert(Model::plan.chain, "frost: the slot layout of graph/execute.hpp runs chains of layers only");
  if constexpr (split_forward_by_units_v<Model, T>) {
    if (pool != nullptr && pool->size() > 1) {
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        (forward_layer_split<Training, Model, I>(m, x, rows, ws, cap, last, pool), ...);
      }(std::make_index_sequence<Model::layer_count>{});
      return;
    }
  }
  const bool split = rows_independent_v<Model> && worth_splitting(forward_flops_per_row<Model> * double(rows), pool);
  run_parts(pool, split, [&](part share) noexcept {
    const index_range r = share.of(rows, row_grain_v<Model, T>);
    if (r.empty()) return;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (forward_node<Training, Model, I>(m, x, r, ws, cap, last), ...);
    }(std::make_index_sequence<Model::layer_count>{});
  });
}

/// The model output after a training forward.
template <class Model, class T>
T* model_output(T* ws, std::size_t cap) noexcept {
  return output_in<Model, Model::layer_count - 1>(ws, cap);
}

/// The last layer is pointwise (activation<f>) and the loss fuses with its activation: the
/// loss's gradient is then dL/d(input of that layer), written straight into its parent's slot.
template <bool FusedLast, class Model>
inline constexpr bool fused_into_parent_v = [] {
  constexpr std::size_t last = Model::layer_count - 1;
  return FusedLast && Model::plan.facts[last].pointwise && Model::plan.facts[last].parent != model_input;
}();

/// Where the loss writes dL/d(model output) — or, when the loss and the last activation are
/// fused, dL/dz of the last layer (or of its parent, see fused_into_parent_v).
template <bool FusedLast, class Model, class T>
T* output_gradient(T* ws, std::size_t cap) noexcept {
  constexpr std::size_t last = Model::layer_count - 1;
  if constexpr (fused_into_parent_v<FusedLast, Model>) return gradient_in<Model, Model::plan.facts[last].parent>(ws, cap);
  else return gradient_in<Model, last>(ws, cap);
}

/// Does layer `L` offer backward_activation and param_grad fused into one pass?
template <class L, class In, class T>
concept has_activation_and_param_grad = requires(const T* c, T* g, std::size_t n) {
  L::template activation_and_param_grad<In>(c, c, c, g, n, g);
};
/// Can its weight gradient be split across threads (a trailing `part`)?
template <class L, class In, class T>
concept has_split_param_grad = requires(const T* c, T* g, std::size_t n, part p) {
  L::template param_grad<In>(c, c, n, g, p);
};

template <bool FusedLast, class Model, std::size_t I, class T>
void backward_node(const Model& m, const T* x, std::size_t rows, T* ws, std::size_t cap, T* grads,
                   thread_pool* pool) noexcept {
  constexpr auto& p = Model::plan;
  constexpr bool is_last = I + 1 == Model::layer_count;
  // Nodes that no trainable parameter depends on get no backward code at all.
  if constexpr (p.backward_active[I] && !(is_last && fused_into_parent_v<FusedLast, Model>)) {
    using L = unfrozen_t<typename Model::template layer_type<I>>;
    using In = typename Model::template layer_input_shape<I>;
    using Out = typename Model::template layer_output_shape<I>;
    constexpr std::size_t parent = p.facts[I].parent;
    T* g = gradient_in<Model, I>(ws, cap);
    const T* in;
    if constexpr (parent == model_input) in = x;
    else in = output_in<Model, parent>(ws, cap);
    const T* y = output_in<Model, I>(ws, cap);
    const T* kept = extra_in<Model, I>(ws, cap);
    // Multiply-adds of a product over this layer's weights: 2·rows·params, roughly.
    const double product_flops = 2.0 * double(rows) * double(L::template param_count<In>);
    if constexpr (p.facts[I].pointwise) {
      // A parameter-free layer is active only to pass the gradient on: dL/d(input) is its output.
      static_assert(parent != model_input && p.needs_input_grad[I]);
      L::template backward_activation<In>(in, y, kept, g, gradient_in<Model, parent>(ws, cap), rows);
    } else {
      constexpr bool apply_activation = !(FusedLast && is_last);
      if constexpr (p.needs_param_grad[I]) {
        T* dp = grads + p.trainable_offset[I];
        constexpr bool fused = apply_activation && has_activation_and_param_grad<L, In, T>;
        if constexpr (!fused && apply_activation) L::template backward_activation<In>(in, y, kept, g, g, rows);
        // dW (and db, and f' when fused) split by units: each share touches only its columns.
        if constexpr (fused) {
          run_parts(pool, worth_splitting(product_flops, pool), [&](part share) noexcept {
            L::template activation_and_param_grad<In>(in, y, kept, g, rows, dp, share);
          });
        } else if constexpr (has_split_param_grad<L, In, T>) {
          run_parts(pool, worth_splitting(product_flops, pool),
                    [&](part share) noexcept { L::template param_grad<In>(in, g, rows, dp, share); });
        } else {
          L::template param_grad<In>(in, g, rows, dp);
        }
      } else if constexpr (apply_activation) {
        L::template backward_activation<In>(in, y, kept, g, g, rows);
      }
      if constexpr (p.needs_input_grad[I]) {
        static_assert(parent != model_input);
        T* dx = gradient_in<Model, parent>(ws, cap);
        // dX split by rows: each share reads its rows of dZ and writes its rows of dX.
        const bool split = rows_independent_of<L>() && worth_splitting(product_flops, pool);
        run_parts(pool, split, [&](part share) noexcept {
          const index_range r = share.of(rows, row_grain_v<Model, T>);
          if (r.empty()) return;
          L::template input_grad<In>(m.template parameter_block<I>(), g + r.begin * Out::size, r.size(),
                                     dx + r.begin * In::size);
        });
      }
    }
  }
}

/// Runs backward from the output gradient (already in `output_gradient`) to the first node that
/// needs it, writing every trainable layer's gradient into `grads` (the trainable arena's mirror).
/// With a pool, each product is split across its threads where that pays.
template <bool FusedLast, class Model, class T>
void backward(const Model& m, const T* x, std::size_t rows, T* ws, std::size_t cap, T* grads,
              thread_pool* pool = nullptr) noexcept {
  constexpr std::size_t n = Model::layer_count;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (backward_node<FusedLast, Model, n - 1 - I>(m, x, rows, ws, cap, grads, pool), ...);
  }(std::make_index_sequence<n>{});
}

}  // namespace frost::detail
