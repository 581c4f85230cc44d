#pragma once
/// \file
/// `value_and_grad(model, loss, x, y)`: the loss and the gradients of every trainable parameter,
/// in training mode. Keras: `with tf.GradientTape() as tape: loss = ...; tape.gradient(loss,
/// model.trainable_variables)`.

#include <frost/core/denormals.hpp>
#include <frost/core/aligned_buffer.hpp>
#include <frost/core/error.hpp>
#include <frost/core/matrix.hpp>
#include <frost/core/shape.hpp>
#include <frost/expr/activations.hpp>
#include <frost/graph/backward.hpp>
#include <frost/graph/detail/schedule.hpp>
#include <frost/graph/forward.hpp>
#include <frost/graph/model.hpp>
#include <frost/graph/sequential.hpp>
#include <frost/graph/frozen.hpp>
#include <frost/train/gradients.hpp>
#include <frost/train/losses.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <tuple>
#include <utility>
#include <string>
#include <type_traits>

namespace frost {

/// Compile-error predicate: `Loss` needs probabilities but layer `Index` (the last, `Layer`)
/// ends in `Activation`.
template <class Loss, std::size_t Index, class Layer, class Activation>
inline constexpr bool loss_fits_output = Loss::template fits<Activation>;

/// Compile-error predicate: `Loss` compares the model output `Output` with targets of shape
/// `Target` (`shape<1>` of integers for sparse losses).
template <class Loss, class Output, class Target>
inline constexpr bool target_fits =
    Loss::sparse ? std::is_same_v<Target, shape<1>> : Target::size == Output::size;

/// Compile-error predicate: the model computes in `ModelScalar`, the data came as `DataScalar`.
template <class ModelScalar, class DataScalar>
inline constexpr bool data_scalar_fits = std::is_same_v<ModelScalar, DataScalar>;

namespace detail {

template <class L>
struct last_activation {
  using type = activations::linear;
};
template <class L>
  requires requires { typename L::activation_type; }
struct last_activation<L> {
  using type = typename L::activation_type;
};

template <class Model>
using last_layer_t = typename Model::template node_layer<Model::output_node>;
template <class Model>
using last_activation_t = typename last_activation<spec_t<last_layer_t<Model>>>::type;

template <class M>
struct matrix_traits {
  using scalar = void;
  using shape_type = invalid_shape;
};
template <class T, std::size_t... D>
struct matrix_traits<matrix<T, D...>> {
  using scalar = T;
  using shape_type = shape<D...>;
};
template <class T, std::size_t... D>
struct matrix_traits<matrix_view<T, D...>> {
  using scalar = std::remove_const_t<T>;
  using shape_type = shape<D...>;
};

/// The data of a model's inputs: one matrix (a single-input model) or a std::tuple of them
/// (`std::tie(a, b)`), one per input in make_model's order.
template <class X>
struct input_list {
  using type = std::tuple<const X&>;
  static type of(const X& x) { return type(x); }
};
template <class... X>
struct input_list<std::tuple<X...>> {
  using type = std::tuple<const std::remove_cvref_t<X>&...>;
  static type of(const std::tuple<X...>& x) {
    return std::apply([](const auto&... m) { return type(m...); }, x);
  }
};

/// Checks at compile time that `X` fits the model's inputs: count, shapes, scalar type.
template <class Model, class X>
constexpr bool check_inputs() {
  using list = typename input_list<X>::type;
  static_assert(std::tuple_size_v<list> == Model::input_count,
                "frost::value_and_grad, frost::trainer: give one matrix per model input (std::tie(a, b) for several)");
  if constexpr (std::tuple_size_v<list> == Model::input_count) {
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      static_assert((model_input_fits<K, typename Model::template input_shape_at<K>,
                                      typename matrix_traits<std::remove_cvref_t<std::tuple_element_t<K, list>>>::shape_type> && ...),
                    "frost::value_and_grad, frost::trainer: the data's feature shape does not match the model's input");
      static_assert((data_scalar_fits<typename Model::scalar_type,
                                      typename matrix_traits<std::remove_cvref_t<std::tuple_element_t<K, list>>>::scalar> && ...),
                    "frost::value_and_grad, frost::trainer: the data's scalar type differs from the model's");
    }(std::make_index_sequence<Model::input_count>{});
  }
  return true;
}

/// Pointers to each input's data, and the common row count (throws `shape_error` if they differ).
template <class Model, class X>
std::size_t input_pointers(const char* where, const X& x, std::array<const typename Model::scalar_type*, Model::input_count>& out) {
  const auto list = input_list<X>::of(x);
  return std::apply(
      [&](const auto&... m) {
        std::size_t k = 0;
        ((out[k++] = m.data()), ...);
        return common_rows(where, m...);
      },
      list);
}

/// Checks every compile-time fact of (model, loss, targets) at the user's entry point.
template <class Model, class Loss, class Target>
constexpr bool check_loss() {
  static_assert(loss_spec<Loss>, "frost::value_and_grad, frost::trainer: the loss must be a loss spec, e.g. categorical_crossentropy{}");
  static_assert(loss_fits_output<Loss, Model::layer_count - 1, last_layer_t<Model>, last_activation_t<Model>>,
                "frost::value_and_grad, frost::trainer: this loss needs probabilities: end the model with a softmax or sigmoid activation");
  if constexpr (Loss::needs_target) {
    using traits = matrix_traits<Target>;
    static_assert(target_fits<Loss, typename Model::output_shape, typename traits::shape_type>,
                  "frost::value_and_grad, frost::trainer: the targets' shape does not match the model's output shape");
    if constexpr (Loss::sparse)
      static_assert(std::is_integral_v<typename traits::scalar>,
                    "frost::value_and_grad, frost::trainer: sparse_categorical_crossentropy takes integer class labels, e.g. matrix<int, 1>");
    else
      static_assert(data_scalar_fits<typename Model::scalar_type, typename traits::scalar>,
                    "frost::value_and_grad, frost::trainer: the targets' scalar type differs from the model's");
  }
  return true;
}

/// Run-time checks shared by value_and_grad and trainer::step; nothing is touched before them.
template <class Model, class Loss, class Target>
void check_batch(const char* where, const Model& m, std::size_t x_rows, const Target* y) {
  m.ensure_weights(where);
  if (x_rows == 0) throw_shape(where, "batch rows", "at least 1", "0");
  if constexpr (Loss::needs_target) {
    if (y->rows() != x_rows)
      throw_shape(where, "rows of y", std::to_string(x_rows) + " (the rows of x)", std::to_string(y->rows()));
    if constexpr (Loss::sparse)
      Loss::template check_labels<Model::output_shape::size>(where, y->data(), y->rows());
  }
}

/// What a training pass shows the model's output to: nothing (the default), or fit's metrics.
struct no_observer {
  template <class T>
  void operator()(const T*, std::size_t) const noexcept {}
};

/// Forward (training mode), loss, then `then(loss, backward)`, where `backward(sinks)` runs the
/// backward pass handing weight gradients to `sinks` (graph/backward.hpp's `gradient_arena`, or
/// a fused update's sinks); `then` may also skip it. Products are split across `pool` where that
/// pays (the loss itself runs on the calling thread). Training-mode layers update the model's
/// state (moving statistics) and draw from the random streams keyed by `noise`. `observe(out,
/// rows)` sees the model's output (rows × outputs) between forward and loss. Returns the loss.
template <class Model, class Loss, class Target, class Observe, class Then>
typename Model::scalar_type train_pass_then(Model& m, const typename Model::scalar_type* const* x, const Target* y,
                                            std::size_t rows, typename Model::scalar_type* ws, std::size_t cap,
                                            std::uint64_t noise, thread_pool* pool, Observe&& observe,
                                            Then&& then) noexcept {
  using T = typename Model::scalar_type;
  static constexpr const loss_plan& lp = loss_plan_v<Model, Loss>;
  const flush_denormals flush;
  pool = pool_for_step<Model>(pool, rows);
  const pass_buffers<T> b{x, ws, cap, nullptr, Model::state_count != 0 ? m.state().data() : nullptr, noise};
  forward<true>(m, b, rows, pool);
  observe(node_output<true, Model, Model::output_node>(b), rows);
  const auto* targets = [&] {
    if constexpr (Loss::needs_target) return y->data();
    else return static_cast<const void*>(nullptr);
  }();
  const auto loss = Loss::template evaluate<Model::output_shape::size, lp.fused>(
      node_output<true, Model, Model::output_node>(b), targets, rows, ws + lp.gradient_offset * cap);
  then(loss, [&](const auto& sinks) noexcept { backward<Model, lp>(m, b, rows, sinks, pool); });
  return loss;
}

/// Forward (training mode), loss, and backward into `grads` (the trainable arena's mirror).
template <class Model, class Loss, class Target, class Observe = no_observer>
typename Model::scalar_type train_pass(Model& m, const typename Model::scalar_type* const* x, const Target* y,
                                       std::size_t rows, typename Model::scalar_type* ws, std::size_t cap,
                                       typename Model::scalar_type* grads, std::uint64_t noise,
                                       thread_pool* pool = nullptr, Observe&& observe = {}) noexcept {
  using T = typename Model::scalar_type;
  return train_pass_then<Model, Loss, Target>(m, x, y, rows, ws, cap, noise, pool, observe,
                                              [&](T, auto&& backward) noexcept { backward(gradient_arena<T>{grads}); });
}

}  // namespace detail

/// The loss and its gradients: `.loss` and `.grads` (a `gradients<Model>`), in that order for
/// structured bindings.
template <class Model>
struct loss_and_gradients {
  typename Model::scalar_type loss;
  gradients<Model> grads;
};

namespace detail {
/// Compile-error predicate: a training-mode pass over a model with state (batch normalization's
/// moving statistics, `StateCount` scalars) updates it, so the model must not be const.
template <class Model, std::size_t StateCount>
inline constexpr bool model_state_writable = !std::is_const_v<Model> || StateCount == 0;

template <class ModelRef>
constexpr bool check_state() {
  using M = std::remove_reference_t<ModelRef>;
  static_assert(model_state_writable<M, std::remove_cv_t<M>::state_count>,
                "frost::value_and_grad: this model has state (batch_normalization's moving statistics) that a "
                "training-mode pass updates, as Keras's model(x, training=True) does: pass a non-const model");
  return true;
}

/// The model's state arena, writable (a const model has none: check_state said so).
template <class ModelRef>
auto& writable_model(ModelRef& model) noexcept {
  using M = std::remove_cv_t<std::remove_reference_t<ModelRef>>;
  return const_cast<M&>(model);
}
}  // namespace detail

/// The loss of `model` on (x, y) in training mode (the loss: a built-in such as
/// `categorical_crossentropy{}`, or an expression of `_y_true` and `_y_pred`) and the gradient of every trainable
/// parameter; frozen layers get `no_gradient`. Allocates the result and a workspace. Like Keras's
/// `model(x, training=True)`, a trainable `batch_normalization` updates its moving statistics
/// (so such a model is passed non-const), and `dropout` draws its masks from the process-wide
/// stream that `set_random_seed` restarts.
/// ```cpp
/// auto [loss, grads] = frost::value_and_grad(model, frost::categorical_crossentropy{}, x, y);
/// ```
template <class ModelRef, class LossArg, class X, class Target>
loss_and_gradients<std::remove_cvref_t<ModelRef>> value_and_grad(ModelRef&& model, LossArg, const X& x, const Target& y) {
  using Model = std::remove_cvref_t<ModelRef>;
  static_assert(detail::check_state<ModelRef>());
  using Loss = loss_t<LossArg>;
  static_assert(Loss::needs_target, "frost::value_and_grad: this loss takes no target: call value_and_grad(model, loss, x)");
  static_assert(detail::check_inputs<Model, X>());
  static_assert(detail::check_loss<Model, Loss, Target>());
  std::array<const typename Model::scalar_type*, Model::input_count> xs{};
  const std::size_t rows = detail::input_pointers<Model>("frost::value_and_grad", x, xs);
  detail::check_batch<Model, Loss>("frost::value_and_grad", model, rows, &y);
  loss_and_gradients<Model> out{};
  aligned_buffer<typename Model::scalar_type> ws(Model::plan.workspace_per_sample * rows);
  out.loss = detail::train_pass<Model, Loss>(detail::writable_model(model), xs.data(), &y, rows, ws.data(), rows,
                                             out.grads.data(), detail::next_global_key());
  return out;
}

/// The same for a loss that takes no target, such as `reduce_sum`.
template <class ModelRef, class LossArg, class X>
loss_and_gradients<std::remove_cvref_t<ModelRef>> value_and_grad(ModelRef&& model, LossArg, const X& x) {
  using Model = std::remove_cvref_t<ModelRef>;
  static_assert(detail::check_state<ModelRef>());
  using Loss = loss_t<LossArg>;
  static_assert(!Loss::needs_target, "frost::value_and_grad: this loss needs targets: call value_and_grad(model, loss, x, y)");
  static_assert(detail::check_inputs<Model, X>());
  static_assert(detail::check_loss<Model, Loss, void>());
  std::array<const typename Model::scalar_type*, Model::input_count> xs{};
  const std::size_t rows = detail::input_pointers<Model>("frost::value_and_grad", x, xs);
  detail::check_batch<Model, Loss, void>("frost::value_and_grad", model, rows, nullptr);
  loss_and_gradients<Model> out{};
  aligned_buffer<typename Model::scalar_type> ws(Model::plan.workspace_per_sample * rows);
  out.loss = detail::train_pass<Model, Loss, void>(detail::writable_model(model), xs.data(), nullptr, rows, ws.data(),
                                                   rows, out.grads.data(), detail::next_global_key());
  return out;
}

}  // namespace frost
