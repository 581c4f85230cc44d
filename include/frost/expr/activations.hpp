#pragma once
/// \file
/// Activations. Built-ins (`linear`, `relu`, `sigmoid`, `tanh_activation`, `softmax`) are objects
/// of hand-specialized types in `frost::activations`; any elementwise expression of `_x` is an
/// activation too (`swish`, `gelu`, ... below are one-line expressions), its derivative derived
/// at compile time. `activation_traits<A>` gives both kinds one interface for the layers.
/// ```cpp
/// using net = frost::sequential<frost::input<8>, frost::dense<16, frost::swish>, frost::dense<1, frost::sigmoid>>;
/// ```

#include <frost/core/simd.hpp>
#include <frost/expr/derivative.hpp>
#include <frost/expr/evaluate.hpp>
#include <frost/expr/expression.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <limits>
#include <string_view>
#include <type_traits>

namespace frost {

/// What an activation's backward needs from its forward pass.
enum class backward_reads { nothing, output };

/// The built-in activations' types: hand-specialized loops. Use them through the objects
/// `frost::relu`, `frost::sigmoid`, ... (`dense<64, relu>`). Calling one on an expression gives its
/// expression form: `relu(_x)` is `where(_x > 0_c, _x, 0_c)`.
namespace activations {

// The loops of an elementwise built-in `A`, over whole vectors and then a scalar tail:
// z ← A::apply(z), and g ← A::derivative(g, y).
template <class A, class T>
void elementwise_forward(T* z, std::size_t n) noexcept {
  simd::for_each_lane<T>(n, [&]<std::size_t B>(std::size_t i) {
    using L = simd::lanes<T, B>;
    L::store(z + i, A::apply(L::load(z + i)));
  });
}
template <class A, class T>
void elementwise_backward(const T* y, T* g, std::size_t n) noexcept {
  simd::for_each_lane<T>(n, [&]<std::size_t B>(std::size_t i) {
    using L = simd::lanes<T, B>;
    L::store(g + i, A::derivative(L::load(g + i), L::load(y + i)));
  });
}

/// f(z) = z. Keras `"linear"`. Backward keeps nothing.
struct linear {
  static constexpr std::string_view name = "linear";
  static constexpr backward_reads reads = backward_reads::nothing;
  static constexpr bool outputs_probabilities = false;
  template <class V>
  static V apply(V z) noexcept {
    return z;
  }
  template <class V>
  static V derivative(V g, V) noexcept {
    return g;
  }
  template <std::size_t N, class T>
  static void forward(T*, std::size_t) noexcept {}
  template <std::size_t N, class T>
  static void backward(const T*, T*, std::size_t) noexcept {}
  template <expr::expression A>
  constexpr A operator()(A) const noexcept {
    return {};
  }
};

/// f(z) = max(z, 0), NaN for NaN (as TensorFlow's and PyTorch's relu: a NaN input reaches the
/// loss, where fit's check sees it). Keras `"relu"`. f'(z) = [y > 0], read from the output.
struct relu {
  static constexpr std::string_view name = "relu";
  static constexpr backward_reads reads = backward_reads::output;
  static constexpr bool outputs_probabilities = false;
  template <class V>
  static V apply(V z) noexcept {
    return simd::select(z <= simd::splat<V>(0), simd::splat<V>(0), z);
  }
  template <class V>
  static V derivative(V g, V y) noexcept {
    return simd::select(y > simd::splat<V>(0), g, simd::splat<V>(0));
  }
  template <std::size_t N, class T>
  static void forward(T* z, std::size_t rows) noexcept {
    elementwise_forward<relu>(z, rows * N);
  }
  template <std::size_t N, class T>
  static void backward(const T* y, T* g, std::size_t rows) noexcept {
    elementwise_backward<relu>(y, g, rows * N);
  }
  // where(a <= 0, 0, a) rather than max(a, 0): the derivative is then 0 at 0, as the built-in's
  // and TensorFlow's relu gradient is, and NaN stays NaN.
  template <expr::expression A>
  constexpr auto operator()(A a) const noexcept {
    return expr::where(a <= expr::zero{}, expr::zero{}, a);
  }
};

/// f(z) = 1 / (1 + e^-z). Keras `"sigmoid"`. f'(z) = y (1 - y).
struct sigmoid {
  static constexpr std::string_view name = "sigmoid";
  static constexpr backward_reads reads = backward_reads::output;
  static constexpr bool outputs_probabilities = true;
  template <class V>
  static V apply(V z) noexcept {
    return simd::splat<V>(1) / (simd::splat<V>(1) + simd::exp(-z));
  }
  template <class V>
  static V derivative(V g, V y) noexcept {
    return g * (y * (simd::splat<V>(1) - y));
  }
  template <std::size_t N, class T>
  static void forward(T* z, std::size_t rows) noexcept {
    elementwise_forward<sigmoid>(z, rows * N);
  }
  template <std::size_t N, class T>
  static void backward(const T* y, T* g, std::size_t rows) noexcept {
    elementwise_backward<sigmoid>(y, g, rows * N);
  }
  template <expr::expression A>
  constexpr auto operator()(A) const noexcept {
    return expr::node<expr::sigmoid_op, A>{};
  }
};

/// f(z) = tanh z. Keras `"tanh"`. f'(z) = 1 - y².
struct tanh {
  static constexpr std::string_view name = "tanh";
  static constexpr backward_reads reads = backward_reads::output;
  static constexpr bool outputs_probabilities = false;
  template <class V>
  static V apply(V z) noexcept {
    return simd::tanh(z);
  }
  template <class V>
  static V derivative(V g, V y) noexcept {
    return g * (simd::splat<V>(1) - y * y);
  }
  template <std::size_t N, class T>
  static void forward(T* z, std::size_t rows) noexcept {
    elementwise_forward<tanh>(z, rows * N);
  }
  template <std::size_t N, class T>
  static void backward(const T* y, T* g, std::size_t rows) noexcept {
    elementwise_backward<tanh>(y, g, rows * N);
  }
  template <expr::expression A>
  constexpr auto operator()(A a) const noexcept {
    return expr::tanh(a);
  }
};

/// Row-wise y_j = e^(z_j - max z) / Σ_k e^(z_k - max z). Keras `"softmax"` (last axis).
/// Backward: dz_j = y_j (g_j - Σ_k g_k y_k). Not elementwise, so it has no expression form.
struct softmax {
  static constexpr std::string_view name = "softmax";
  static constexpr backward_reads reads = backward_reads::output;
  static constexpr bool outputs_probabilities = true;
  /// The softmax of one row held in one vector, its first n lanes used (the rest come out 0).
  template <class V>
  static V row(V v, std::size_t n) noexcept {
    using T = simd::element_t<V>;
    constexpr std::size_t L = sizeof(V) / sizeof(T);
    V lanes{};
    for (std::size_t l = 0; l < L; ++l) lanes[l] = static_cast<T>(l);
    const auto used = lanes < simd::splat<V>(static_cast<T>(n));
    const T top = simd::reduce_max<T, sizeof(V)>(simd::select(used, v, simd::splat<V>(-std::numeric_limits<T>::infinity())));
    const V e = simd::select(used, simd::exp(v - simd::splat<V>(top)), V{});
    return e * simd::splat<V>(T{1} / simd::reduce_add<T, sizeof(V)>(e));
  }
  /// `row` as a product's epilogue on rows of at most one vector: the layer's sums go from
  /// the accumulators to probabilities without being stored first.
  struct row_function {
    static constexpr bool whole_row = true;
    template <class V>
    V operator()(V v, std::size_t n) const noexcept {
      return row(v, n);
    }
  };
  template <std::size_t N, class T>
  static void forward(T* z, std::size_t rows) noexcept {
    constexpr std::size_t L = simd::native<T>::width;
    if constexpr (N <= L) {
      // A row fits one vector: max, e^(z - max), sum and scale all in registers.
      using V = simd::native_t<T>;
      constexpr std::size_t B = simd::simd_bytes;
      auto one_row = [&](V v) { return row(v, N); };
      auto load_row = [&](const T* row) { return N == L ? simd::load<T, B>(row) : simd::load_n<T, B>(row, N); };
      auto store_row = [&](T* row, V y) {
        if constexpr (N == L) simd::store<T, B>(row, y);
        else simd::store_n<T, B>(row, y, N);
      };
      // Blocks of 4 rows, all loaded before any is stored: a masked store delays a later load of
      // the same cache line, which would chain the rows one after another.
      const std::size_t whole = rows / 4 * 4;
      for (std::size_t r = 0; r < whole; r += 4) {
        T* at = z + r * N;
        V v0 = load_row(at), v1 = load_row(at + N), v2 = load_row(at + 2 * N), v3 = load_row(at + 3 * N);
        v0 = one_row(v0);
        v1 = one_row(v1);
        v2 = one_row(v2);
        v3 = one_row(v3);
        store_row(at, v0);
        store_row(at + N, v1);
        store_row(at + 2 * N, v2);
        store_row(at + 3 * N, v3);
      }
      for (std::size_t r = whole; r < rows; ++r) store_row(z + r * N, one_row(load_row(z + r * N)));
      return;
    }
    for (std::size_t r = 0; r < rows; ++r) {
      T* row = z + r * N;
      const T top = *std::max_element(row, row + N);
      // e^(z - max) in registers: whole vectors, then the rest as one masked vector.
      using V = simd::native_t<T>;
      constexpr std::size_t L = simd::native<T>::width;
      const V shift = simd::splat<V>(top);
      std::size_t j = 0;
      for (; j + L <= N; j += L) simd::store<T, simd::simd_bytes>(row + j, simd::exp(simd::load<T>(row + j) - shift));
      if (j < N)
        simd::store_n<T, simd::simd_bytes>(row + j, simd::exp(simd::load_n<T, simd::simd_bytes>(row + j, N - j) - shift),
                                           N - j);
      T sum{};
      for (std::size_t j = 0; j < N; ++j) sum += row[j];
      const T inv = T{1} / sum;
      for (std::size_t j = 0; j < N; ++j) row[j] *= inv;
    }
  }
  template <std::size_t N, class T>
  static void backward(const T* y, T* g, std::size_t rows) noexcept {
    for (std::size_t r = 0; r < rows; ++r) {
      const T* yr = y + r * N;
      T* gr = g + r * N;
      T dot{};
      for (std::size_t j = 0; j < N; ++j) dot += gr[j] * yr[j];
      for (std::size_t j = 0; j < N; ++j) gr[j] = yr[j] * (gr[j] - dot);
    }
  }
};

}  // namespace activations

inline constexpr activations::linear linear{};
inline constexpr activations::relu relu{};
inline constexpr activations::sigmoid sigmoid{};
/// Keras's `"tanh"`, named so that it does not collide with `std::tanh` or `::tanh` under
/// `using namespace frost` (for expressions, `tanh(e)` is `frost::tanh`).
inline constexpr activations::tanh tanh_activation{};
inline constexpr activations::softmax softmax{};

/// A hand-specialized activation type: a name, a `reads` fact and forward/backward loops.
template <class A>
concept builtin_activation = requires {
  { A::name } -> std::convertible_to<std::string_view>;
  { A::reads } -> std::convertible_to<backward_reads>;
};

/// Anything `dense<units, f>` and `activation<f>` accept: a built-in or an expression of `_x`.
template <class A>
concept activation_function = builtin_activation<A> || expr::expression<A>;

// ---- Activations as one-line expressions (Keras's definitions and constants) ----

/// x·sigmoid(x). Keras `"swish"` / `"silu"`.
inline constexpr auto swish = _x * sigmoid(_x);
/// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). Keras `gelu(x, approximate=True)`.
inline constexpr auto gelu = 0.5_c * _x * (1_c + tanh(c<0.7978845608028654> * (_x + 0.044715_c * pow<3>(_x))));
/// log(1 + eˣ), written so that it never overflows and its derivative is exact everywhere,
/// 0.5 at 0 included: x + log1p(e^−x) for x > 0, log1p(eˣ) otherwise. Keras `"softplus"`.
inline constexpr auto softplus = where(_x > 0_c, _x + log1p(exp(-_x)), log1p(exp(_x)));
/// x if x > 0, else α(eˣ − 1). Keras `elu(x, alpha=1.0)`; `elu_with<α>` for another α.
template <double Alpha>
inline constexpr auto elu_with = where(_x > 0_c, _x, c<Alpha> * (exp(_x) - 1_c));
inline constexpr auto elu = elu_with<1.0>;
/// scale·elu(x, α) with Keras's constants α = 1.6732632423543772, scale = 1.0507009873554805.
inline constexpr auto selu =
    c<1.0507009873554805> * where(_x > 0_c, _x, c<1.6732632423543772> * (exp(_x) - 1_c));
/// x if x > 0, else slope·x (derivative `slope` at 0, as TensorFlow). Keras
/// `leaky_relu(x, negative_slope=0.2)`; `leaky_relu_with<s>` for another slope.
template <double Slope>
inline constexpr auto leaky_relu_with = where(_x > 0_c, _x, c<Slope> * _x);
inline constexpr auto leaky_relu = leaky_relu_with<0.2>;
/// relu6(x + 3)/6 = clip(x/6 + 1/2, 0, 1), with relu6's derivative: 1/6 strictly inside, 0 at and
/// beyond the bounds. Keras 3 `"hard_sigmoid"`.
inline constexpr auto hard_sigmoid =
    where(c<1.0 / 6.0> * _x + 0.5_c > 0_c, where(c<1.0 / 6.0> * _x + 0.5_c < 1_c, c<1.0 / 6.0> * _x + 0.5_c, 1_c), 0_c);

/// Does activation `A` output probabilities (values in [0, 1])? Crossentropy losses need it.
template <class A>
inline constexpr bool outputs_probabilities_v = [] {
  if constexpr (builtin_activation<A>) return A::outputs_probabilities;
  else return std::is_same_v<A, decltype(sigmoid(_x))> || std::is_same_v<A, std::remove_cv_t<decltype(hard_sigmoid)>>;
}();

/// Compile-error predicate: activation expression `E` does not use placeholder `P` (an
/// activation is a function of `_x` alone).
template <class E, class P>
inline constexpr bool activation_does_not_use = !expr::uses_v<E, P>;

/// Compile-error predicate: activation `E` has a derivative (checked where backward needs it,
/// for scalar type `T`).
template <class E, class T>
inline constexpr bool activation_is_differentiable = expr::differentiable_v<E, expr::placeholder<0>>;

/// One interface over both kinds, for the layers: `forward<N>(z, y, rows)` computes y = f(z)
/// (z and y may be the same buffer), `backward<N>(z, y, g, rows)` turns dL/dy into dL/dz in
/// place, reading z only if `reads_input` and y only if `reads_output`.
template <class A>
struct activation_traits;

template <builtin_activation A>
struct activation_traits<A> {
  static constexpr bool reads_input = false;
  static constexpr bool reads_output = A::reads == backward_reads::output;
  /// Does f act on each value alone (all but softmax)? Then `function` and `derivative_function`
  /// run inside the GEMM kernels, on register tiles.
  static constexpr bool elementwise = requires(float v) { A::apply(v); };
  /// f on a vector or scalar: the forward epilogue.
  struct function {
    template <class V>
    V operator()(V z) const noexcept {
      return A::apply(z);
    }
  };
  /// (g, z, y) ↦ g·f'(z), reading y only: the weight-gradient prologue.
  struct derivative_function {
    static constexpr bool reads_input = false;
    static constexpr bool reads_output = activation_traits::reads_output;
    template <class V>
    V operator()(V g, V, V y) const noexcept {
      return A::derivative(g, y);
    }
  };
  /// y = f(z): one pass for an elementwise f, in place or not; softmax over rows of y.
  template <std::size_t N, class T>
  static void forward(const T* z, T* y, std::size_t rows) noexcept {
    if constexpr (elementwise) {
      simd::for_each_lane<T>(rows * N, [&]<std::size_t B>(std::size_t i) {
        using L = simd::lanes<T, B>;
        L::store(y + i, A::apply(L::load(z + i)));
      });
    } else {
      if (y != z) std::copy(z, z + rows * N, y);
      A::template forward<N>(y, rows);
    }
  }
  template <std::size_t N, class T>
  static void backward(const T*, const T* y, T* g, std::size_t rows) noexcept {
    A::template backward<N>(y, g, rows);
  }
};

template <expr::expression E>
struct activation_traits<E> {
  static_assert(activation_does_not_use<E, expr::placeholder<1>>,
                "frost: an activation expression may use only _x; this one uses _y_true");
  static_assert(activation_does_not_use<E, expr::placeholder<2>>,
                "frost: an activation expression may use only _x; this one uses _y_pred");
  static_assert(activation_does_not_use<E, expr::placeholder<3>>,
                "frost: an activation expression may use only _x; this one uses _y");
  /// Without a derivative (floor, round), the activation still runs forward; backward through
  /// it is a compile error, raised only where a gradient must flow through it.
  static constexpr bool differentiable = expr::differentiable_v<E, expr::placeholder<0>>;
  /// The derivative backward evaluates, reading the kept output `_y` where it can.
  using derivative = std::conditional_t<differentiable, decltype([] {
                                          if constexpr (differentiable) return expr::activation_derivative_t<E>{};
                                          else return expr::zero{};
                                        }()),
                                        expr::zero>;
  static constexpr bool reads_input = expr::uses_v<derivative, expr::placeholder<0>>;
  static constexpr bool reads_output = expr::uses_v<derivative, expr::placeholder<3>>;
  static constexpr bool elementwise = true;
  /// f on a vector or scalar: the forward epilogue.
  struct function {
    template <class V>
    V operator()(V z) const noexcept {
      expr::bindings<V> b;
      b.x = z;
      return expr::evaluate(E{}, b);
    }
  };
  /// (g, z, y) ↦ g·f'(z), with f' reading z and/or the output y: the weight-gradient prologue.
  struct derivative_function {
    static constexpr bool reads_input = activation_traits::reads_input;
    static constexpr bool reads_output = activation_traits::reads_output;
    template <class V>
    V operator()(V g, V z, V y) const noexcept {
      static_assert(activation_is_differentiable<E, simd::element_t<V>>,
                    "frost: a gradient must flow through an activation that has no derivative (it uses floor, round, "
                    "or a comparison as a value); freeze it below every trainable layer, or write it differently");
      expr::bindings<V> b;
      if constexpr (reads_input) b.x = z;
      if constexpr (reads_output) b.y = y;
      return g * expr::evaluate(derivative{}, b);
    }
  };

  // One fused loop each, over whole vectors and then a scalar tail: the expression tree inlines
  // into the loop body.
  template <std::size_t N, class T>
  static void forward(const T* z, T* y, std::size_t rows) noexcept {
    simd::for_each_lane<T>(rows * N, [&]<std::size_t B>(std::size_t i) {
      using L = simd::lanes<T, B>;
      expr::bindings<typename L::type> b;
      b.x = L::load(z + i);
      L::store(y + i, expr::evaluate(E{}, b));
    });
  }
  template <std::size_t N, class T>
  static void backward(const T* z, const T* y, T* g, std::size_t rows) noexcept {
    static_assert(activation_is_differentiable<E, T>,
                  "frost: a gradient must flow through an activation that has no derivative (it uses floor, round, "
                  "or a comparison as a value); freeze it below every trainable layer, or write it differently");
    simd::for_each_lane<T>(rows * N, [&]<std::size_t B>(std::size_t i) {
      using L = simd::lanes<T, B>;
      expr::bindings<typename L::type> b;
      if constexpr (reads_input) b.x = L::load(z + i);
      if constexpr (reads_output) b.y = L::load(y + i);
      L::store(g + i, L::load(g + i) * expr::evaluate(derivative{}, b));
    });
  }
};

}  // namespace frost
