#pragma once
/// \file
/// `dense<Units, Activation>`: y = f(x·W + b). Keras `layers.Dense(units, activation)`.

#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/core/simd.hpp>
#include <frost/expr/activations.hpp>
#include <frost/kernels/gemm.hpp>
#include <frost/layers/layer_spec.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>

namespace frost {

/// A view over one dense layer's parameters (or their gradients): `kernel()` is `[in][out]`
/// row-major (Keras layout), `bias()` follows it. `T` may be const.
template <class T, std::size_t In, std::size_t Units>
class dense_params {
 public:
  explicit dense_params(T* p) noexcept : p_(p) {}
  std::span<T, In * Units> kernel() const noexcept { return std::span<T, In * Units>(p_, In * Units); }
  std::span<T, Units> bias() const noexcept { return std::span<T, Units>(p_ + In * Units, Units); }

 private:
  T* p_;
};

/// A fully connected layer with `Units` outputs and activation `Activation` (default `linear`):
/// a built-in (`relu`, `softmax`, ...) or any expression of `_x` (`swish`, `_x * sigmoid(_x)`).
/// Parameters: kernel (in × Units, glorot_uniform) then bias (Units, zeros). Input: rank 1.
/// When the activation's derivative reads its input z (an expression such as relu(_x) or
/// swish), the layer keeps z in training; when it reads only the output (relu, sigmoid, tanh,
/// softmax built-ins), it keeps nothing beyond its output.
/// ```cpp
/// using net = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>>;
/// ```
template <std::size_t Units, auto Activation = linear>
  requires activation_function<std::remove_cvref_t<decltype(Activation)>>
struct dense : layer_call<dense<Units, Activation>> {
  static_assert(Units > 0, "frost::dense: units must be positive");
  static constexpr std::size_t units = Units;
  using activation_type = std::remove_cvref_t<decltype(Activation)>;
  using activation = activation_traits<activation_type>;
  static constexpr std::string_view keras_name = "dense";

  using expected_input = any_of_rank<1>;
  template <class In>
  static constexpr bool accepts = In::rank == 1;
  template <class In>
  using output_shape = shape<Units>;
  template <class In>
  static constexpr std::size_t param_count = In::size * Units + Units;

  static constexpr bool param_grad_reads_input = true;  // dW = xᵀ·dz
  static constexpr bool rows_independent = true;        // each sample's output depends on it alone
  static constexpr bool backward_reads_output = activation::reads_output;
  /// Forward and dW split by units when the activation acts on each value alone.
  static constexpr bool splits_units = activation::elementwise;
  /// f' is applied to each tile of dL/dy as the weight-gradient product loads it.
  static constexpr bool fuses_activation = activation::elementwise;
  /// The pre-activation z, kept when the activation's derivative reads it.
  template <class In>
  static constexpr std::size_t extra_kept = activation::reads_input ? Units : 0;

  template <class In, class T>
  using params = dense_params<T, In::size, Units>;
  /// Keras's variables and save order: kernel (in, units), then bias.
  template <class In>
  static constexpr std::array<variable, 2> variables{variable{"kernel", false, 0, 2, {In::size, Units}},
                                                     variable{"bias", false, In::size * Units, 1, {Units}}};

  /// With a linear activation and weights that fit the stack folded, the plan may fuse a
  /// following per-channel affine and activation into this product (`forward_fused`).
  template <class In>
  static constexpr bool fusable_producer =
      std::is_same_v<activation_type, activations::linear> && param_count<In> <= kernels::max_folded;

  /// y = f(scale·(x·W + b) + shift) per unit, over `a.share` of the units: this layer, an affine
  /// and an activation as one product (the plan's epilogue fusion).
  template <class In, class T, class F>
  static void forward_fused(const forward_args<T>& a, const T* scale, const T* shift, const F& f) noexcept {
    kernels::gemm_forward_affine<In::size, Units>(a.x, a.rows, a.params, a.params + In::size * Units, scale, shift,
                                                  a.y, f, a.share);
  }

  /// glorot_uniform kernel: U(-l, l), l = sqrt(6 / (fan_in + fan_out)); zero bias.
  template <class In, class T>
  static void initialize(T* p, random_stream& rng) {
    const double limit = std::sqrt(6.0 / static_cast<double>(In::size + Units));
    for (std::size_t i = 0; i < In::size * Units; ++i) p[i] = static_cast<T>(rng.uniform(-limit, limit));
    for (std::size_t j = 0; j < Units; ++j) p[In::size * Units + j] = T{};
  }

  /// y = f(x·W + b). An elementwise f runs in the product's epilogue, on each register tile
  /// before it is stored, over `a.share` of the units; z (when kept) is stored beside it.
  /// Softmax runs as a pass over whole rows afterwards.
  template <class In, class T>
  static void forward(const forward_args<T>& a) noexcept {
    const T* w = a.params;
    const T* bias = w + In::size * Units;
    if constexpr (activation::elementwise) {
      kernels::gemm_forward<In::size, Units>(a.x, a.rows, w, bias, a.y, a.kept, typename activation::function{},
                                             a.share);
    } else if constexpr (requires { typename activation_type::row_function; } && Units <= simd::native<T>::width) {
      // Each row is one vector: the activation (softmax) runs on the accumulators.
      kernels::gemm_forward<In::size, Units>(a.x, a.rows, w, bias, a.y, a.kept, typename activation_type::row_function{});
    } else {
      T* sums = a.kept != nullptr ? a.kept : a.y;
      kernels::gemm_forward<In::size, Units>(a.x, a.rows, w, bias, sums);
      activation::template forward<Units>(sums, a.y, a.rows);
    }
  }

  /// One row in registers (batch-1 inference of a chain of small layers, graph/detail/
  /// register_chain.hpp): f(x·W + b), x the row in memory or the previous layer's register row.
  /// The same sums in the same order as `forward` at batch 1, so the same bits.
  template <class In, class T>
  static constexpr bool register_forward =
      kernels::small_layer<T, In::size, Units>::fits &&
      (activation::elementwise ||
       (requires { typename activation_type::row_function; } && Units <= simd::native<T>::width));
  template <class In, class T, class X>
  [[gnu::always_inline]] static kernels::register_row<T, Units> forward_row(const T* params, const X& x) noexcept {
    const auto sums = kernels::dense_row<In::size, Units>(x, params, params + In::size * Units);
    if constexpr (activation::elementwise) return kernels::apply_row<Units>(sums, typename activation::function{});
    else return kernels::apply_row<Units>(sums, typename activation_type::row_function{});
  }

  /// activation: dz = f'·dL/dy in place. params: dW = xᵀ·dz and db = Σ dz over `a.share` of
  /// the units, with f' applied to each tile of dL/dy as it is loaded when `with_activation`.
  /// input: dx (+)= dz·Wᵀ, after f' on these rows when `with_activation`. `sink` takes the
  /// finished gradient tiles (kernels::store_gradient, or a fused optimizer update).
  template <class In, backward_stage S, class T, class Sink = kernels::store_gradient>
  static void backward(stage<S>, const backward_args<T>& a, const Sink& sink = {}) noexcept {
    if constexpr (S == backward_stage::activation) {
      activation::template backward<Units>(a.kept, a.y, a.g, a.rows);
    } else if constexpr (S == backward_stage::params) {
      T* dw = a.dparams;
      if constexpr (activation::elementwise) {
        if (a.with_activation) {
          kernels::gemm_weight<In::size, Units>(a.x, a.g, a.rows, dw, dw + In::size * Units,
                                                typename activation::derivative_function{}, a.y, a.kept, a.share,
                                                sink);
          return;
        }
      }
      kernels::gemm_weight<In::size, Units>(a.x, a.g, a.rows, dw, dw + In::size * Units, a.share, sink);
    } else {
      if (a.with_activation) activation::template backward<Units>(a.kept, a.y, a.g, a.rows);
      kernels::gemm_input<In::size, Units>(a.g, a.rows, a.params, a.dx, a.accumulate);
    }
  }
};

}  // namespace frost
