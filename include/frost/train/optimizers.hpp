#pragma once
/// \file
/// Optimizer specs: `sgd`, `adam`, `adamw`, `rmsprop`. Aggregates whose fields carry Keras's
/// argument names and defaults; each has an `update` that is one loop over the trainable arena.
/// The exact equations are in docs/optimizers.md. `update(w, g, state, n, stride, t)` updates n
/// parameters; slot s of parameter i is `state[s * stride + i]`; `t` counts steps from 1. Each
/// parameter's update reads only its own values, so the arena may be updated in pieces. The
/// built-in specs also give `stepper<T>(t)`: the update of one native vector, which a fused
/// update runs on each finished tile of a weight gradient (train/fused_update.hpp).

#include <frost/core/simd.hpp>

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace frost {

namespace detail {
/// Loads and stores of one native vector of T, the unit every optimizer update works in: whole,
/// or (Partial) its first n lanes, the others read as zero and never written.
template <class T, bool Partial>
struct update_lanes {
  using type = simd::vec_t<T, simd::simd_bytes>;
  std::size_t n = simd::native<T>::width;
  type load(const T* p) const noexcept {
    if constexpr (Partial) return simd::load_n<T, simd::simd_bytes>(p, n);
    else return simd::load<T, simd::simd_bytes>(p);
  }
  void store(T* p, type v) const noexcept {
    if constexpr (Partial) simd::store_n<T, simd::simd_bytes>(p, v, n);
    else simd::store<T, simd::simd_bytes>(p, v);
  }
  static type sqrt(type v) noexcept { return simd::sqrt<T, simd::simd_bytes>(v); }
};

/// Runs `step.template operator()<Partial>(w, g, state, stride, n)`, an optimizer's update of
/// one native vector of parameters (`state`: slot s of parameter i at `state[s * stride + i]`),
/// over n parameters: the whole vectors, then the rest as one partial vector. Every parameter
/// thus goes through the same vector code wherever it lies, in the arena or in one tile of a
/// fused update: scalar code may be compiled with other contractions into fused multiply-adds
/// than vector code, and both update paths must give the same bits.
template <class T, class Step>
void vector_step(const Step& step, T* w, const T* g, T* state, std::size_t n, std::size_t stride) noexcept {
  constexpr std::size_t L = simd::native<T>::width;
  const std::size_t whole = n / L * L;
  for (std::size_t i = 0; i < whole; i += L) step.template operator()<false>(w + i, g + i, state + i, stride, L);
  if (whole != n) step.template operator()<true>(w + whole, g + whole, state + whole, stride, n - whole);
}
}  // namespace detail

/// Stochastic gradient descent with optional (Nesterov) momentum. Keras `optimizers.SGD`.
///   momentum = 0:  w ← w − lr·g
///   otherwise:     m ← μ·m − lr·g;  w ← w + m   (nesterov: w ← w + μ·m − lr·g)
/// State: one slot (the momentum buffer m), sized to the trainable parameters.
struct sgd {
  float learning_rate = 0.01f;
  float momentum = 0.f;
  bool nesterov = false;
  /// Gradient clipping before the update, as Keras's optimizer arguments (0: off; at most one
  /// of the two): each variable's gradient scaled to norm ≤ clipnorm, or all of them together
  /// to a global norm ≤ global_clipnorm. Either needs the whole gradient: a trainer that clips
  /// keeps a gradient arena (docs/optimizers.md).
  float clipnorm = 0.f;
  float global_clipnorm = 0.f;

  static constexpr std::string_view name = "sgd";
  static constexpr std::size_t slots = 1;
  /// Names of the state slots, as Keras names the variables (checkpoints use them).
  static constexpr std::array<std::string_view, slots> slot_names{"momentum"};

  /// The update of step t of one native vector of parameters (its first n lanes when Partial),
  /// `step.template operator()<Partial>(w, g, state, stride, n)`, its constants computed once
  /// per step: run over the whole arena (`update`) or on each finished tile of a weight gradient
  /// (the fused update).
  template <class T>
  auto stepper(std::uint64_t) const noexcept {
    const T lr = static_cast<T>(learning_rate), mu = static_cast<T>(momentum);
    const bool plain = momentum == 0.f, nest = nesterov;
    return [=]<bool Partial>(T* w, const T* g, T* m, std::size_t, std::size_t n) noexcept {
      const detail::update_lanes<T, Partial> L{n};
      auto wi = L.load(w);
      const auto gi = L.load(g);
      using simd::rounded;  // one rounding per operation, as Keras's equations
      if (plain) {
        wi -= rounded(lr * gi);
      } else {
        const auto mi = rounded(mu * L.load(m)) - rounded(lr * gi);
        L.store(m, mi);
        wi += nest ? rounded(mu * mi) - rounded(lr * gi) : mi;
      }
      L.store(w, wi);
    };
  }
  template <class T>
  void update(T* w, const T* g, T* state, std::size_t n, std::size_t stride, std::uint64_t t) const noexcept {
    detail::vector_step(stepper<T>(t), w, g, state, n, stride);
  }
};

namespace detail {
/// Adam's update of step t, its constants computed once (see adam::stepper).
template <class T>
struct adam_step {
  T alpha, one_b1, one_b2, eps;

  adam_step(std::uint64_t t, float lr, float beta_1, float beta_2, float epsilon) noexcept {
    // Keras's "epsilon hat" form: bias correction folded into the step size.
    const double b1 = beta_1, b2 = beta_2, st = static_cast<double>(t);
    alpha = static_cast<T>(static_cast<double>(lr) * std::sqrt(1.0 - std::pow(b2, st)) / (1.0 - std::pow(b1, st)));
    one_b1 = T(1) - static_cast<T>(beta_1);
    one_b2 = T(1) - static_cast<T>(beta_2);
    eps = static_cast<T>(epsilon);
  }

  /// One native vector (its first n lanes when Partial): w, g, and the moments m and v.
  template <bool Partial>
  void run(T* w, const T* g, T* m, T* v, std::size_t n) const noexcept {
    const update_lanes<T, Partial> L{n};
    using simd::rounded;  // one rounding per operation, as Keras's equations
    const auto gi = L.load(g);
    auto mi = L.load(m), vi = L.load(v);
    mi += rounded((gi - mi) * one_b1);
    vi += rounded((rounded(gi * gi) - vi) * one_b2);
    L.store(m, mi);
    L.store(v, vi);
    L.store(w, L.load(w) - alpha * mi / (L.sqrt(vi) + eps));
  }
};
}  // namespace detail

/// Adam. Keras `optimizers.Adam`:
///   m ← m + (g − m)(1 − β₁);  v ← v + (g² − v)(1 − β₂)
///   α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ);  w ← w − α·m/(√v + ε)
/// State: two slots (m, v).
struct adam {
  float learning_rate = 0.001f;
  float beta_1 = 0.9f;
  float beta_2 = 0.999f;
  float epsilon = 1e-7f;
  float clipnorm = 0.f;         ///< as sgd's
  float global_clipnorm = 0.f;  ///< as sgd's

  static constexpr std::string_view name = "adam";
  static constexpr std::size_t slots = 2;
  static constexpr std::array<std::string_view, slots> slot_names{"momentum", "velocity"};

  template <class T>
  auto stepper(std::uint64_t t) const noexcept {
    const detail::adam_step<T> step(t, learning_rate, beta_1, beta_2, epsilon);
    return [=]<bool Partial>(T* w, const T* g, T* state, std::size_t stride, std::size_t n) noexcept {
      step.template run<Partial>(w, g, state, state + stride, n);
    };
  }
  template <class T>
  void update(T* w, const T* g, T* state, std::size_t n, std::size_t stride, std::uint64_t t) const noexcept {
    detail::vector_step(stepper<T>(t), w, g, state, n, stride);
  }
};

/// Adam with decoupled weight decay. Keras `optimizers.AdamW`: first w ← w − w·λ·lr, then the
/// Adam step above. State: two slots (m, v).
struct adamw {
  float learning_rate = 0.001f;
  float weight_decay = 0.004f;
  float beta_1 = 0.9f;
  float beta_2 = 0.999f;
  float epsilon = 1e-7f;
  float clipnorm = 0.f;         ///< as sgd's
  float global_clipnorm = 0.f;  ///< as sgd's

  static constexpr std::string_view name = "adamw";
  static constexpr std::size_t slots = 2;
  static constexpr std::array<std::string_view, slots> slot_names{"momentum", "velocity"};

  template <class T>
  auto stepper(std::uint64_t t) const noexcept {
    const T decay = static_cast<T>(weight_decay) * static_cast<T>(learning_rate);
    const detail::adam_step<T> step(t, learning_rate, beta_1, beta_2, epsilon);
    return [=]<bool Partial>(T* w, const T* g, T* state, std::size_t stride, std::size_t n) noexcept {
      const detail::update_lanes<T, Partial> L{n};
      const auto wi = L.load(w);
      L.store(w, wi - simd::rounded(wi * decay));
      step.template run<Partial>(w, g, state, state + stride, n);
    };
  }
  template <class T>
  void update(T* w, const T* g, T* state, std::size_t n, std::size_t stride, std::uint64_t t) const noexcept {
    detail::vector_step(stepper<T>(t), w, g, state, n, stride);
  }
};

/// RMSprop. Keras `optimizers.RMSprop`:
///   v ← ρ·v + (1 − ρ)·g²;  centered: a ← ρ·a + (1 − ρ)·g, d = v − a² + ε; else d = v + ε
///   Δ = lr·g/√d;  momentum > 0: μb ← μ·μb + Δ, w ← w − μb; else w ← w − Δ
/// State: three slots (v, momentum buffer, average gradient).
struct rmsprop {
  float learning_rate = 0.001f;
  float rho = 0.9f;
  float momentum = 0.f;
  float epsilon = 1e-7f;
  bool centered = false;
  float clipnorm = 0.f;         ///< as sgd's
  float global_clipnorm = 0.f;  ///< as sgd's

  static constexpr std::string_view name = "rmsprop";
  static constexpr std::size_t slots = 3;
  static constexpr std::array<std::string_view, slots> slot_names{"velocity", "momentum", "average_gradient"};

  template <class T>
  auto stepper(std::uint64_t) const noexcept {
    const T r = static_cast<T>(rho), one_r = T(1) - static_cast<T>(rho);
    const T lr = static_cast<T>(learning_rate), mu = static_cast<T>(momentum), eps = static_cast<T>(epsilon);
    const bool center = centered, with_momentum = momentum > 0.f;
    return [=]<bool Partial>(T* w, const T* g, T* state, std::size_t stride, std::size_t n) noexcept {
      const detail::update_lanes<T, Partial> L{n};
      T* v = state;
      T* mb = state + stride;
      T* a = state + 2 * stride;
      using simd::rounded;  // one rounding per operation, as Keras's equations
      const auto gi = L.load(g);
      const auto vi = rounded(r * L.load(v)) + rounded(one_r * gi * gi);
      L.store(v, vi);
      auto d = vi + eps;
      if (center) {
        const auto ai = rounded(r * L.load(a)) + rounded(one_r * gi);
        L.store(a, ai);
        d = vi - rounded(ai * ai) + eps;
      }
      const auto step = lr * gi / L.sqrt(d);
      if (with_momentum) {
        const auto bi = rounded(mu * L.load(mb)) + step;
        L.store(mb, bi);
        L.store(w, L.load(w) - bi);
      } else {
        L.store(w, L.load(w) - step);
      }
    };
  }
  template <class T>
  void update(T* w, const T* g, T* state, std::size_t n, std::size_t stride, std::uint64_t t) const noexcept {
    detail::vector_step(stepper<T>(t), w, g, state, n, stride);
  }
};

/// An optimizer spec: a name, a state slot count, and `update` over (a range of) the trainable
/// arena, as described at the top of this header.
template <class O>
concept optimizer_spec = requires(const O& o, float* p, std::size_t n, std::uint64_t t) {
  { O::name } -> std::convertible_to<std::string_view>;
  { O::slots } -> std::convertible_to<std::size_t>;
  o.update(p, p, p, n, n, t);
};

}  // namespace frost
