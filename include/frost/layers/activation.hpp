#pragma once
/// \file
/// `activation<f>`: applies an activation on its own. Keras `layers.Activation(f)`.

#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/expr/activations.hpp>
#include <frost/layers/layer_spec.hpp>

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <type_traits>

namespace frost {

/// y = f(x) elementwise (softmax: over the last axis), for any input shape. `f` is a built-in
/// (`relu`, `softmax`, ...) or an expression of `_x`. It has no parameters; in backward it only
/// passes the gradient on, dL/dx = f'(x)·dL/dy, keeping its input or its output as f' needs.
/// ```cpp
/// using net = frost::sequential<frost::input<8>, frost::dense<16>, frost::activation<frost::gelu>>;
/// ```
template <auto F>
  requires activation_function<std::remove_cvref_t<decltype(F)>>
struct activation : parameter_free, layer_call<activation<F>> {
  using activation_type = std::remove_cvref_t<decltype(F)>;
  using function = activation_traits<activation_type>;
  static constexpr std::string_view keras_name = "activation";

  using expected_input = any_shape;
  template <class In>
  static constexpr bool accepts = In::rank >= 1;
  template <class In>
  using output_shape = In;

  static constexpr bool backward_reads_output = function::reads_output;
  static constexpr bool backward_reads_input = function::reads_input;
  static constexpr bool rows_independent = true;
  /// A pass over every value: worth splitting across threads for big inputs.
  template <class In>
  static constexpr double flops = double(In::size);
  /// Elementwise: the plan may run it in the epilogue of the product before it.
  static constexpr bool pointwise_activation = function::elementwise;
  using epilogue_function = typename function::function;



  // softmax works along the last axis: rows × (all but the last axis) rows of that length.
  template <class In>
  static constexpr std::size_t row_length = In::dims[In::rank - 1];

  template <class In, class T>
  static void forward(const forward_args<T>& a) noexcept {
    function::template forward<row_length<In>>(a.x, a.y, a.rows * (In::size / row_length<In>));
  }

  /// input: dx (+)= f'·dL/dy. Overwriting, f' runs in dx; accumulating, in g first.
  template <class In, class T>
  static void backward(stage<backward_stage::input>, const backward_args<T>& a) noexcept {
    constexpr std::size_t n = In::size / row_length<In>;
    if (a.accumulate) {
      function::template backward<row_length<In>>(a.x, a.y, a.g, a.rows * n);
      for (std::size_t i = 0; i < a.rows * In::size; ++i) a.dx[i] += a.g[i];
    } else {
      if (a.dx != a.g) std::copy(a.g, a.g + a.rows * In::size, a.dx);
      function::template backward<row_length<In>>(a.x, a.y, a.dx, a.rows * n);
    }
  }
};

}  // namespace frost
