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

#include <frost/graph/frozen.hpp>
#include <frost/graph/plan.hpp>

#include <cstddef>
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

template <bool Training, class Model, std::size_t I, class T>
void forward_node(const Model& m, const T* x, std::size_t rows, T* ws, std::size_t cap, T* last) noexcept {
  using L = unfrozen_t<typename Model::template layer_type<I>>;
  using In = typename Model::template layer_input_shape<I>;
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
  L::template forward<In>(m.template parameter_block<I>(), in, rows, out, kept);
}

/// Runs the model forward over `rows` samples. Training: outputs go to the workspace as the
/// plan lays out (the model output included). Inference: only slots, result in `last`.
template <bool Training, class Model, class T>
void forward(const Model& m, const T* x, std::size_t rows, T* ws, std::size_t cap, T* last = nullptr) noexcept {
  static_assert(Model::plan.chain, "frost: the slot layout of graph/execute.hpp runs chains of layers only");
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (forward_node<Training, Model, I>(m, x, rows, ws, cap, last), ...);
  }(std::make_index_sequence<Model::layer_count>{});
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

template <bool FusedLast, class Model, std::size_t I, class T>
void backward_node(const Model& m, const T* x, std::size_t rows, T* ws, std::size_t cap, T* grads) noexcept {
  constexpr auto& p = Model::plan;
  constexpr bool is_last = I + 1 == Model::layer_count;
  // Nodes that no trainable parameter depends on get no backward code at all.
  if constexpr (p.backward_active[I] && !(is_last && fused_into_parent_v<FusedLast, Model>)) {
    using L = unfrozen_t<typename Model::template layer_type<I>>;
    using In = typename Model::template layer_input_shape<I>;
    constexpr std::size_t parent = p.facts[I].parent;
    T* g = gradient_in<Model, I>(ws, cap);
    const T* in;
    if constexpr (parent == model_input) in = x;
    else in = output_in<Model, parent>(ws, cap);
    const T* y = output_in<Model, I>(ws, cap);
    const T* kept = extra_in<Model, I>(ws, cap);
    if constexpr (p.facts[I].pointwise) {
      // A parameter-free layer is active only to pass the gradient on: dL/d(input) is its output.
      static_assert(parent != model_input && p.needs_input_grad[I]);
      L::template backward_activation<In>(in, y, kept, g, gradient_in<Model, parent>(ws, cap), rows);
    } else {
      constexpr bool apply_activation = !(FusedLast && is_last);
      if constexpr (apply_activation && p.needs_param_grad[I] && has_activation_and_param_grad<L, In, T>) {
        L::template activation_and_param_grad<In>(in, y, kept, g, rows, grads + p.trainable_offset[I]);  // one pass
      } else {
        if constexpr (apply_activation) L::template backward_activation<In>(in, y, kept, g, g, rows);
        if constexpr (p.needs_param_grad[I]) L::template param_grad<In>(in, g, rows, grads + p.trainable_offset[I]);
      }
      if constexpr (p.needs_input_grad[I]) {
        static_assert(parent != model_input);
        L::template input_grad<In>(m.template parameter_block<I>(), g, rows, gradient_in<Model, parent>(ws, cap));
      }
    }
  }
}

/// Runs backward from the output gradient (already in `output_gradient`) to the first node that
/// needs it, writing every trainable layer's gradient into `grads` (the trainable arena's mirror).
template <bool FusedLast, class Model, class T>
void backward(const Model& m, const T* x, std::size_t rows, T* ws, std::size_t cap, T* grads) noexcept {
  constexpr std::size_t n = Model::layer_count;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (backward_node<FusedLast, Model, n - 1 - I>(m, x, rows, ws, cap, grads), ...);
  }(std::make_index_sequence<n>{});
}

}  // namespace frost::detail
