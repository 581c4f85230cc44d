#pragma once
/// \file
/// `conv2d<Filters, KH, KW, Activation, Options...>`: a 2-D convolution over H×W×C images.
/// Keras `layers.Conv2D(filters, (kh, kw), strides, padding, activation)`, channels_last.

#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/expr/activations.hpp>
#include <frost/kernels/gemm.hpp>
#include <frost/kernels/im2col.hpp>
#include <frost/layers/layer_spec.hpp>
#include <frost/layers/spatial.hpp>

#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <string_view>
#include <type_traits>

namespace frost {

/// A view over one conv2d layer's parameters (or their gradients): `kernel()` in Keras's HWIO
/// layout, `[kh][kw][in_channels][filters]` row-major, then `bias()` (filters). `T` may be const.
template <class T, std::size_t KH, std::size_t KW, std::size_t C, std::size_t F>
class conv2d_params {
 public:
  static constexpr std::size_t kernel_size = KH * KW * C * F;
  explicit conv2d_params(T* p) noexcept : p_(p) {}
  std::span<T, kernel_size> kernel() const noexcept { return std::span<T, kernel_size>(p_, kernel_size); }
  std::span<T, F> bias() const noexcept { return std::span<T, F>(p_ + kernel_size, F); }
  /// The kernel weight at (kh, kw, input channel c, filter f).
  T& kernel(std::size_t kh, std::size_t kw, std::size_t c, std::size_t f) const noexcept {
    return p_[((kh * KW + kw) * C + c) * F + f];
  }

 private:
  T* p_;
};

/// A 2-D convolution with `Filters` output channels and a KH×KW window, followed by
/// `Activation` (default `linear`; any elementwise built-in or expression whose derivative needs
/// only the output or nothing: `relu`, `sigmoid`, `tanh`, `linear`, ...; put others after it as
/// `activation<f>`). Options, in any order: `strides<s>` or `strides<sh, sw>` (default 1) and
/// `padding::valid` (default) or `padding::same`. Input: an H×W×C image; output OH×OW×Filters
/// with Keras's sizes. Parameters: kernel (KH·KW·C × Filters, HWIO, glorot_uniform with
/// fan_in = KH·KW·C and fan_out = KH·KW·Filters) then bias (zeros).
///
/// It runs as im2col and the dense products of kernels/gemm.hpp: each output position's window
/// becomes a row of patches P, y = f(P·W + b), dW = Pᵀ·dz, dP = dz·Wᵀ scattered back onto the
/// input. Training keeps P for the weight gradient (only when the layer trains; a frozen
/// convolution keeps nothing) and takes P and dP as scratch otherwise.
/// ```cpp
/// using net = frost::sequential<frost::input<28, 28, 1>, frost::conv2d<32, 3, 3, frost::relu>,
///                               frost::conv2d<64, 3, 3, frost::relu, frost::strides<2>, frost::padding::same>>;
/// ```
template <std::size_t Filters, std::size_t KH, std::size_t KW, auto Activation = linear, class... Options>
  requires activation_function<std::remove_cvref_t<decltype(Activation)>>
struct conv2d : layer_call<conv2d<Filters, KH, KW, Activation, Options...>> {
  static_assert(Filters > 0 && KH > 0 && KW > 0, "frost::conv2d: filters and kernel size must be positive");
  using activation_type = std::remove_cvref_t<decltype(Activation)>;
  using activation = activation_traits<activation_type>;
  static_assert(activation::elementwise && !activation::reads_input,
                "frost::conv2d: the activation must act on each value and have a derivative that reads only its "
                "output (relu, sigmoid, tanh, linear, ...): write conv2d<F, kh, kw> followed by activation<f>");
  using options = detail::window_options<strides<1>, Options...>;
  static constexpr std::size_t filters = Filters;
  static constexpr std::size_t stride_rows = options::stride_type::rows, stride_cols = options::stride_type::cols;
  static constexpr bool same_padding = options::same;
  static constexpr std::string_view keras_name = "conv2d";

  template <class In>
  using geometry = detail::window_geometry<In, KH, KW, stride_rows, stride_cols, same_padding>;
  /// Columns of the patch matrix: one window.
  template <class In>
  static constexpr std::size_t patch = KH * KW * geometry<In>::C;
  /// Rows of the patch matrix per sample: the output positions.
  template <class In>
  static constexpr std::size_t positions = geometry<In>::OH * geometry<In>::OW;

  using expected_input = image_at_least<same_padding ? 1 : KH, same_padding ? 1 : KW>;
  template <class In>
  static constexpr bool accepts = geometry<In>::fits;
  template <class In>
  using output_shape = shape<geometry<In>::OH, geometry<In>::OW, Filters>;
  template <class In>
  static constexpr std::size_t param_count = patch<In> * Filters + Filters;
  template <class In>
  static constexpr double flops = 2.0 * double(positions<In>) * double(patch<In>) * double(Filters);

  static constexpr bool rows_independent = true;
  static constexpr bool backward_reads_output = activation::reads_output;
  /// The forward splits by rows (each share makes its own patches); the weight gradient by filters,
  /// or, with a linear activation, by rows of the kernel (each share reads its part of P).
  static constexpr bool param_grad_splits_units = true;
  static constexpr bool fuses_activation = true;
  /// Its weight gradient reduces over every output position of every sample.
  template <class In>
  static constexpr std::size_t reduction_rows = positions<In>;
  /// The patches, kept from forward for the weight gradient when the layer trains.
  template <class In>
  static constexpr std::size_t extra_kept = positions<In> * patch<In>;
  static constexpr bool extra_kept_for_params = true;
  /// Patches in forward when they are not kept; their gradient in backward.
  template <class In>
  static constexpr std::size_t scratch = positions<In> * patch<In>;

  template <class In, class T>
  using params = conv2d_params<T, KH, KW, geometry<In>::C, Filters>;
  /// Keras's variables and save order: kernel (kh, kw, in_channels, filters), then bias.
  template <class In>
  static constexpr std::array<variable, 2> variables{
      variable{"kernel", false, 0, 4, {KH, KW, geometry<In>::C, Filters}},
      variable{"bias", false, patch<In> * Filters, 1, {Filters}}};

  /// With a linear activation and a kernel that fits the stack folded, the plan may fuse a
  /// following per-channel affine and activation into this product (`forward_fused`).
  template <class In>
  static constexpr bool fusable_producer =
      std::is_same_v<activation_type, activations::linear> && param_count<In> <= kernels::max_folded;

  /// glorot_uniform kernel: U(-l, l), l = sqrt(6 / (fan_in + fan_out)); zero bias.
  template <class In, class T>
  static void initialize(T* p, random_stream& rng) {
    const double limit = std::sqrt(6.0 / static_cast<double>(KH * KW * (geometry<In>::C + Filters)));
    for (std::size_t i = 0; i < patch<In> * Filters; ++i) p[i] = static_cast<T>(rng.uniform(-limit, limit));
    for (std::size_t j = 0; j < Filters; ++j) p[patch<In> * Filters + j] = T{};
  }

  /// P = im2col(x) (into the kept buffer when training needs it, else scratch); y = f(P·W + b)
  /// with f in the product's epilogue.
  template <class In, class T>
  static void forward(const forward_args<T>& a) noexcept {
    using G = geometry<In>;
    T* p = a.kept != nullptr ? a.kept : a.scratch;
    kernels::im2col<G, KH, KW, stride_rows, stride_cols>(a.x, a.rows, p);
    const T* w = a.params;
    kernels::gemm_forward<patch<In>, Filters>(p, a.rows * positions<In>, w, w + patch<In> * Filters, a.y,
                                              static_cast<T*>(nullptr), typename activation::function{});
  }

  /// y = f(scale·(P·W + b) + shift) per filter: this layer, an affine and an activation as one
  /// product (the plan's epilogue fusion).
  template <class In, class T, class F>
  static void forward_fused(const forward_args<T>& a, const T* scale, const T* shift, const F& f) noexcept {
    T* p = a.kept != nullptr ? a.kept : a.scratch;
    kernels::im2col<geometry<In>, KH, KW, stride_rows, stride_cols>(a.x, a.rows, p);
    const T* w = a.params;
    kernels::gemm_forward_affine<patch<In>, Filters>(p, a.rows * positions<In>, w, w + patch<In> * Filters, scale,
                                                     shift, a.y, f);
  }

  /// activation: dz = f'·dL/dy in place. params: dW = Pᵀ·dz, db = Σ dz over `a.share` of the
  /// filters, f' fused into the load of dL/dy when `with_activation`. input: dP = dz·Wᵀ, then
  /// dx (+)= col2im(dP).
  template <class In, backward_stage S, class T, class Sink = kernels::store_gradient>
  static void backward(stage<S>, const backward_args<T>& a, const Sink& sink = {}) noexcept {
    constexpr std::size_t m_per_row = positions<In>;
    if constexpr (S == backward_stage::activation) {
      activation::template backward<Filters>(static_cast<const T*>(nullptr), a.y, a.g, a.rows * m_per_row);
    } else if constexpr (S == backward_stage::params) {
      T* dw = a.dparams;
      if constexpr (std::is_same_v<activation_type, activations::linear> && patch<In> >= 32) {
        // Nothing to apply to dL/dy: split by rows of dW, each share reading its columns of P. (Each
        // share still reads all of dL/dy: with few rows of dW, that would cost more than it saves.)
        kernels::gemm_weight_rows<patch<In>, Filters>(a.kept, a.g, a.rows * m_per_row, dw, dw + patch<In> * Filters,
                                                      a.share, sink);
        return;
      }
      if (a.with_activation)
        kernels::gemm_weight<patch<In>, Filters>(a.kept, a.g, a.rows * m_per_row, dw, dw + patch<In> * Filters,
                                                 typename activation::derivative_function{}, a.y,
                                                 static_cast<const T*>(nullptr), a.share, sink);
      else
        kernels::gemm_weight<patch<In>, Filters>(a.kept, a.g, a.rows * m_per_row, dw, dw + patch<In> * Filters,
                                                 a.share, sink);
    } else {
      if (a.with_activation)
        activation::template backward<Filters>(static_cast<const T*>(nullptr), a.y, a.g, a.rows * m_per_row);
      kernels::gemm_input<patch<In>, Filters>(a.g, a.rows * m_per_row, a.params, a.scratch);
      kernels::col2im<geometry<In>, KH, KW, stride_rows, stride_cols>(a.scratch, a.rows, a.dx, a.accumulate);
    }
  }
};

}  // namespace frost
