#pragma once
/// \file
/// `batch_normalization<Momentum, Epsilon>`: per-channel normalization with learned scale and
/// offset and moving statistics. Keras `layers.BatchNormalization(momentum=0.99, epsilon=1e-3)`
/// over the last axis, with Keras's frozen semantics: a frozen batch normalization runs in
/// inference mode, as the fixed per-channel affine it then is.

#include <frost/core/random.hpp>
#include <frost/core/shape.hpp>
#include <frost/core/simd.hpp>
#include <frost/kernels/gemm.hpp>
#include <frost/layers/layer_spec.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <span>
#include <string_view>
#include <utility>

namespace frost {

/// A view over one batch normalization layer's weights, in Keras's order: `gamma()` and
/// `beta()` (parameters, trainable unless the layer is frozen) and `moving_mean()` and
/// `moving_variance()` (state in the model's state arena, never trained). `T` may be const.
template <class T, std::size_t C>
class batch_normalization_params {
 public:
  batch_normalization_params(T* p, T* state) noexcept : p_(p), state_(state) {}
  std::span<T, C> gamma() const noexcept { return std::span<T, C>(p_, C); }
  std::span<T, C> beta() const noexcept { return std::span<T, C>(p_ + C, C); }
  std::span<T, C> moving_mean() const noexcept { return std::span<T, C>(state_, C); }
  std::span<T, C> moving_variance() const noexcept { return std::span<T, C>(state_ + C, C); }

 private:
  T* p_;
  T* state_;
};

/// The gradients of a batch normalization layer: `gamma()` and `beta()`.
template <class T, std::size_t C>
class batch_normalization_gradients {
 public:
  explicit batch_normalization_gradients(T* p) noexcept : p_(p) {}
  std::span<T, C> gamma() const noexcept { return std::span<T, C>(p_, C); }
  std::span<T, C> beta() const noexcept { return std::span<T, C>(p_ + C, C); }

 private:
  T* p_;
};

namespace detail {

template <class In>
inline constexpr std::size_t channels_of = In::dims[In::rank - 1];

/// What both forms of batch normalization share: shapes, weights, initialization and the
/// inference-mode affine y = x·s + (β − μ·s), s = γ / sqrt(σ² + ε) (Keras's formula).
template <float Momentum, float Epsilon>
struct batch_normalization_base {
  static_assert(Momentum >= 0.f && Momentum <= 1.f, "frost::batch_normalization: momentum must be in [0, 1]");
  static_assert(Epsilon > 0.f, "frost::batch_normalization: epsilon must be positive");
  static constexpr float momentum = Momentum;
  static constexpr float epsilon = Epsilon;
  static constexpr std::string_view keras_name = "batch_normalization";

  using expected_input = any_shape;
  template <class In>
  static constexpr bool accepts = In::rank >= 1;
  template <class In>
  using output_shape = In;
  /// gamma and beta.
  template <class In>
  static constexpr std::size_t param_count = 2 * channels_of<In>;
  /// moving_mean and moving_variance.
  template <class In>
  static constexpr std::size_t state_count = 2 * channels_of<In>;
  template <class In>
  static constexpr double flops = 4.0 * double(In::size);

  template <class In, class T>
  using params = batch_normalization_params<T, channels_of<In>>;
  template <class In, class T>
  using gradient_params = batch_normalization_gradients<T, channels_of<In>>;
  /// Keras's variables and save order: gamma, beta (parameters), moving_mean, moving_variance
  /// (state), each (channels).
  template <class In>
  static constexpr std::array<variable, 4> variables{
      variable{"gamma", false, 0, 1, {channels_of<In>}}, variable{"beta", false, channels_of<In>, 1, {channels_of<In>}},
      variable{"moving_mean", true, 0, 1, {channels_of<In>}},
      variable{"moving_variance", true, channels_of<In>, 1, {channels_of<In>}}};

  /// Keras's defaults: gamma 1, beta 0, moving_mean 0, moving_variance 1.
  template <class In, class T>
  static void initialize(T* p, T* state, random_stream&) noexcept {
    constexpr std::size_t C = channels_of<In>;
    std::fill_n(p, C, T{1});
    std::fill_n(p + C, C, T{});
    std::fill_n(state, C, T{});
    std::fill_n(state + C, C, T{1});
  }

  /// Inference mode is y = x·s + t per channel: the plan may fuse it into the product before it.
  static constexpr bool affine_in_inference = true;

  /// s and t of channels [c0, c1) from gamma, beta, a mean and a variance.
  template <class T>
  static void scale_shift(const T* gamma, const T* beta, const T* mean, const T* var, T* s, T* t, std::size_t c0,
                          std::size_t c1) noexcept {
    for (std::size_t c = c0; c < c1; ++c) {
      s[c] = gamma[c] / std::sqrt(var[c] + static_cast<T>(Epsilon));
      t[c] = beta[c] - mean[c] * s[c];
    }
  }
  /// The inference-mode affine: s and t from the weights and the moving statistics.
  template <class In, class T>
  static void affine(const T* params, const T* state, T* s, T* t) noexcept {
    constexpr std::size_t C = channels_of<In>;
    scale_shift(params, params + C, state, state + C, s, t, 0, C);
  }

  /// y = f(x·s + t) for channels [c0, c1) of `rows` samples, with s and t from `mean` and `var`
  /// (f: an elementwise activation the plan fused here, or none).
  template <class In, class T, class F = kernels::identity>
  static void normalize(const T* x, std::size_t rows, T* y, const T* gamma, const T* beta, const T* mean,
                        const T* var, std::size_t c0, std::size_t c1, const F& f = {}) noexcept {
    constexpr std::size_t C = channels_of<In>;
    std::array<T, C> s{}, t{};
    scale_shift(gamma, beta, mean, var, s.data(), t.data(), c0, c1);
    const std::size_t n = rows * (In::size / C);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t c = c0; c < c1; ++c) y[i * C + c] = f(x[i * C + c] * s[c] + t[c]);
  }
};

/// Per-channel sums over `n` positions of channels [c0, c1): Σ f(i, c), accumulated in blocks
/// of T and then in double, so that a long batch loses no precision.
template <std::size_t C, class T, class F>
void channel_sums(std::size_t n, std::size_t c0, std::size_t c1, std::array<double, C>& out, F&& f) noexcept {
  constexpr std::size_t block = 64;
  std::array<T, C> part{};
  for (std::size_t c = c0; c < c1; ++c) out[c] = 0;
  for (std::size_t i0 = 0; i0 < n; i0 += block) {
    for (std::size_t c = c0; c < c1; ++c) part[c] = T{};
    const std::size_t i1 = std::min(n, i0 + block);
    for (std::size_t i = i0; i < i1; ++i)
      for (std::size_t c = c0; c < c1; ++c) part[c] += f(i, c);
    for (std::size_t c = c0; c < c1; ++c) out[c] += static_cast<double>(part[c]);
  }
}

/// Two per-channel sums in one pass: f(i, c) returns both terms as a pair.
template <std::size_t C, class T, class F>
void channel_sums(std::size_t n, std::size_t c0, std::size_t c1, std::array<double, C>& out0,
                  std::array<double, C>& out1, F&& f) noexcept {
  constexpr std::size_t block = 64;
  std::array<T, C> p0{}, p1{};
  for (std::size_t c = c0; c < c1; ++c) out0[c] = out1[c] = 0;
  for (std::size_t i0 = 0; i0 < n; i0 += block) {
    for (std::size_t c = c0; c < c1; ++c) p0[c] = p1[c] = T{};
    const std::size_t i1 = std::min(n, i0 + block);
    for (std::size_t i = i0; i < i1; ++i)
      for (std::size_t c = c0; c < c1; ++c) {
        const auto [a, b] = f(i, c);
        p0[c] += a;
        p1[c] += b;
      }
    for (std::size_t c = c0; c < c1; ++c) {
      out0[c] += static_cast<double>(p0[c]);
      out1[c] += static_cast<double>(p1[c]);
    }
  }
}

/// The batch mean and (biased) variance of channels [c0, c1) over `n` positions of x.
template <std::size_t C, class T>
void batch_moments(const T* x, std::size_t n, std::size_t c0, std::size_t c1, std::array<T, C>& mean,
                   std::array<T, C>& var) noexcept {
  std::array<double, C> sum{};
  channel_sums<C, T>(n, c0, c1, sum, [&](std::size_t i, std::size_t c) { return x[i * C + c]; });
  for (std::size_t c = c0; c < c1; ++c) mean[c] = static_cast<T>(sum[c] / static_cast<double>(n));
  channel_sums<C, T>(n, c0, c1, sum, [&](std::size_t i, std::size_t c) {
    const T d = x[i * C + c] - mean[c];
    return d * d;
  });
  for (std::size_t c = c0; c < c1; ++c) var[c] = static_cast<T>(sum[c] / static_cast<double>(n));
}

/// A frozen batch normalization: always inference mode, the fixed affine of its weights and
/// moving statistics; no batch statistics, no update. What `frozen<batch_normalization<>>` runs.
template <float Momentum, float Epsilon>
struct frozen_batch_normalization : batch_normalization_base<Momentum, Epsilon> {
  using base = batch_normalization_base<Momentum, Epsilon>;
  static constexpr bool rows_independent = true;
  /// Always the affine: the plan may fuse it into the product before it in training too, or a
  /// following activation into it.
  static constexpr bool affine_in_training = true;
  static constexpr bool activation_epilogue = true;

  template <class In, class T>
  static void forward(const forward_args<T>& a) noexcept {
    forward_fused<In>(a, static_cast<const T*>(nullptr), static_cast<const T*>(nullptr), kernels::identity{});
  }
  template <class In, class T, class F>
  static void forward_fused(const forward_args<T>& a, const T*, const T*, const F& f) noexcept {
    constexpr std::size_t C = channels_of<In>;
    base::template normalize<In>(a.x, a.rows, a.y, a.params, a.params + C, a.state, a.state + C, 0, C, f);
  }

  /// input: dx (+)= s·dL/dy.
  template <class In, class T>
  static void backward(stage<backward_stage::input>, const backward_args<T>& a) noexcept {
    constexpr std::size_t C = channels_of<In>;
    std::array<T, C> s{};
    for (std::size_t c = 0; c < C; ++c) s[c] = a.params[c] / std::sqrt(a.state[C + c] + static_cast<T>(Epsilon));
    const std::size_t n = a.rows * (In::size / C);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t c = 0; c < C; ++c)
        a.dx[i * C + c] = (a.accumulate ? a.dx[i * C + c] : T{}) + a.g[i * C + c] * s[c];
  }
};

}  // namespace detail

/// Normalizes each channel (the last axis) and applies a learned scale γ and offset β. In a
/// training-mode pass it uses the batch's mean μ and biased variance σ² over every axis but the
/// last, and updates the moving statistics: moving = moving·Momentum + batch·(1 − Momentum). In
/// inference (`model(x)`) it uses the moving statistics. Frozen (`frozen<batch_normalization<>>`)
/// it always runs in inference mode and never updates its statistics, as in Keras; that form is
/// a different layer spec (`detail::frozen_batch_normalization`), so no batch-statistics code is
/// compiled for it. Weights: gamma, beta (parameters), moving_mean, moving_variance (state).
/// ```cpp
/// using net = frost::sequential<frost::input<28, 28, 1>, frost::conv2d<32, 3, 3>, frost::batch_normalization<>,
///                               frost::activation<frost::relu>>;
/// ```
template <float Momentum = 0.99f, float Epsilon = 1e-3f>
struct batch_normalization : detail::batch_normalization_base<Momentum, Epsilon>,
                             layer_call<batch_normalization<Momentum, Epsilon>> {
  using base = detail::batch_normalization_base<Momentum, Epsilon>;
  using frozen_form = detail::frozen_batch_normalization<Momentum, Epsilon>;
  /// Batch statistics tie the samples together; channels are independent, so a pass may split
  /// the channels across threads.
  static constexpr bool rows_independent = false;
  static constexpr bool splits_units = true;
  static constexpr bool backward_reads_input = true;
  static constexpr bool param_grad_reads_input = true;
  /// The batch mean and variance of each channel, from forward (kept per batch: the first 2·C
  /// scalars of the rows' space).
  template <class In>
  static constexpr std::size_t extra_kept = 2 * detail::channels_of<In>;
  /// Σ dL/dy and Σ dL/dy·(x − μ) per channel, from the params stage for the input stage, and γ
  /// as it was before a fused update changed it in the params stage.
  template <class In>
  static constexpr std::size_t scratch = 3 * detail::channels_of<In>;
  static constexpr bool input_after_params = true;
  /// Its parameter gradients are per-channel sums, finished in one pass.
  template <class In>
  static constexpr std::size_t reduction_rows = 0;

  /// A following elementwise activation may run in its normalizing pass (`forward_fused`).
  static constexpr bool activation_epilogue = true;

  /// Training: batch statistics, normalize, update the moving statistics; inference: the affine
  /// of the moving statistics. Over `a.share` of the channels.
  template <class In, class T>
  static void forward(const forward_args<T>& a) noexcept {
    forward_fused<In>(a, static_cast<const T*>(nullptr), static_cast<const T*>(nullptr), kernels::identity{});
  }

  /// The same with y = f(normalized x): this layer and the activation after it in one pass.
  template <class In, class T, class F>
  static void forward_fused(const forward_args<T>& a, const T*, const T*, const F& f) noexcept {
    constexpr std::size_t C = detail::channels_of<In>;
    const index_range ch = a.share.of(C);
    if (!a.training) {
      base::template normalize<In>(a.x, a.rows, a.y, a.params, a.params + C, a.state, a.state + C, ch.begin, ch.end, f);
      return;
    }
    std::array<T, C> mean{}, var{};
    detail::batch_moments<C>(a.x, a.rows * (In::size / C), ch.begin, ch.end, mean, var);
    base::template normalize<In>(a.x, a.rows, a.y, a.params, a.params + C, mean.data(), var.data(), ch.begin, ch.end,
                                 f);
    const T m = static_cast<T>(Momentum), rest = static_cast<T>(1.0f - Momentum);
    for (std::size_t c = ch.begin; c < ch.end; ++c) {
      a.state[c] = a.state[c] * m + mean[c] * rest;
      a.state[C + c] = a.state[C + c] * m + var[c] * rest;
      if (a.kept != nullptr) {
        a.kept[c] = mean[c];
        a.kept[C + c] = var[c];
      }
    }
  }

  /// With x̂ = (x − μ)/sqrt(σ² + ε) from the batch statistics forward kept: params (over
  /// `a.share` of the channels): dγ = Σ dL/dy·x̂, dβ = Σ dL/dy, and the two sums kept in scratch
  /// for the input stage, which the plan runs next on the same step (a trainable layer always
  /// gets its params stage first): dx (+)= γ/sqrt(σ² + ε) · (dL/dy − dβ/M − x̂·dγ/M), M the
  /// positions per channel.
  template <class In, backward_stage S, class T, class Sink = kernels::store_gradient>
  static void backward(stage<S>, const backward_args<T>& a, const Sink& sink = {}) noexcept {
    constexpr std::size_t C = detail::channels_of<In>;
    const T* mean = a.kept;
    const T* var = a.kept + C;
    T* sums = a.scratch;  // Σ g, then Σ g·(x − μ), then γ
    const std::size_t n = a.rows * (In::size / C);
    if constexpr (S == backward_stage::params) {
      const index_range ch = a.share.of(C);
      std::array<double, C> sg{}, sgx{};
      detail::channel_sums<C, T>(n, ch.begin, ch.end, sg, sgx, [&](std::size_t i, std::size_t c) {
        const T g = a.g[i * C + c];
        return std::pair<T, T>(g, g * (a.x[i * C + c] - mean[c]));
      });
      // dγ then dβ, and one vector of padding: the sink's whole-vector path, never taken for
      // fewer channels than a vector has lanes, then still reads inside the array (g++ 12 at
      // -O2 with AVX-512 warns about that path otherwise).
      std::array<T, 2 * C + simd::native<T>::width> d{};
      for (std::size_t c = ch.begin; c < ch.end; ++c) {
        const T inv = T{1} / std::sqrt(var[c] + static_cast<T>(Epsilon));
        sums[c] = static_cast<T>(sg[c]);
        sums[C + c] = static_cast<T>(sgx[c]);
        sums[2 * C + c] = a.params[c];
        d[c] = static_cast<T>(sgx[c] * inv);
        d[C + c] = static_cast<T>(sg[c]);
      }
      sink.span(a.dparams + ch.begin, d.data() + ch.begin, ch.size());
      sink.span(a.dparams + C + ch.begin, d.data() + C + ch.begin, ch.size());
    } else if constexpr (S == backward_stage::input) {
      const index_range ch = a.share.of(C);
      std::array<T, C> k{}, mg{}, mgx{}, inv{};
      const T count = static_cast<T>(n);
      for (std::size_t c = ch.begin; c < ch.end; ++c) {
        inv[c] = T{1} / std::sqrt(var[c] + static_cast<T>(Epsilon));
        k[c] = sums[2 * C + c] * inv[c];
        mg[c] = sums[c] / count;
        mgx[c] = sums[C + c] * inv[c] * inv[c] / count;  // mean of dL/dy·x̂, over sqrt(σ² + ε)
      }
      for (std::size_t i = 0; i < n; ++i)
        for (std::size_t c = ch.begin; c < ch.end; ++c) {
          const T d = k[c] * (a.g[i * C + c] - mg[c] - (a.x[i * C + c] - mean[c]) * mgx[c]);
          a.dx[i * C + c] = (a.accumulate ? a.dx[i * C + c] : T{}) + d;
        }
    }
  }
};

}  // namespace frost
