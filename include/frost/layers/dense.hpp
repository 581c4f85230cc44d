#pragma once
/// \file
/// `dense<Units, Activation>`: y = f(x·W + b). Keras `layers.Dense(units, activation)`.

#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/expr/activations.hpp>
#include <frost/kernels/gemm.hpp>
#include <frost/layers/layer_spec.hpp>

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
struct dense {
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
  /// The pre-activation z, kept when the activation's derivative reads it.
  template <class In>
  static constexpr std::size_t extra_kept = activation::reads_input ? Units : 0;

  template <class In, class T>
  using params = dense_params<T, In::size, Units>;

  /// glorot_uniform kernel: U(-l, l), l = sqrt(6 / (fan_in + fan_out)); zero bias.
  template <class In, class T>
  static void initialize(T* p, random_stream& rng) {
    const double limit = std::sqrt(6.0 / static_cast<double>(In::size + Units));
    for (std::size_t i = 0; i < In::size * Units; ++i) p[i] = static_cast<T>(rng.uniform(-limit, limit));
    for (std::size_t j = 0; j < Units; ++j) p[In::size * Units + j] = T{};
  }

  /// y = f(x·W + b). An elementwise f runs in the product's epilogue, on each register tile
  /// before it is stored; z (when kept) is stored beside it. Softmax runs as a pass over rows.
  /// The forward pass of `share`'s units only (shares may run at once). Elementwise f only.
  template <class In, class T>
    requires activation::elementwise
  static void forward(const T* p, const T* x, std::size_t rows, T* y, T* z, part share) noexcept {
    kernels::gemm_forward<In::size, Units>(x, rows, p, p + In::size * Units, y, z, typename activation::function{},
                                           share);
  }

  template <class In, class T>
  static void forward(const T* p, const T* x, std::size_t rows, T* y, T* z) noexcept {
    const T* bias = p + In::size * Units;
    if constexpr (activation::elementwise) {
      kernels::gemm_forward<In::size, Units>(x, rows, p, bias, y, z, typename activation::function{});
    } else {
      T* sums = z != nullptr ? z : y;
      kernels::gemm_forward<In::size, Units>(x, rows, p, bias, sums);
      activation::template forward<Units>(sums, y, rows);
    }
  }

  template <class In, class T>
  static void backward_activation(const T*, const T* y, const T* z, T* g, T*, std::size_t rows) noexcept {
    activation::template backward<Units>(z, y, g, rows);
  }

  /// dW and db; `share` computes only its share of the units (shares may run at once).
  template <class In, class T>
  static void param_grad(const T* x, const T* dz, std::size_t rows, T* dp, part share = part::whole()) noexcept {
    kernels::gemm_weight<In::size, Units>(x, dz, rows, dp, dp + In::size * Units, share);
  }

  /// backward_activation then param_grad in one pass: f' is applied to each tile of dL/dy as
  /// the weight-gradient product loads it, and db is reduced in the same pass. Elementwise f only.
  template <class In, class T>
    requires activation::elementwise
  static void activation_and_param_grad(const T* x, const T* y, const T* z, T* g, std::size_t rows, T* dp,
                                        part share = part::whole()) noexcept {
    kernels::gemm_weight<In::size, Units>(x, g, rows, dp, dp + In::size * Units,
                                          typename activation::derivative_function{}, y, z, share);
  }

  template <class In, class T>
  static void input_grad(const T* p, const T* dz, std::size_t rows, T* dx) noexcept {
    kernels::gemm_input<In::size, Units>(dz, rows, p, dx);
  }
};

}  // namespace frost
