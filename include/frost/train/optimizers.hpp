#pragma once
/// \file
/// Optimizer specs: `sgd`, `adam`, `adamw`, `rmsprop`. Aggregates whose fields carry Keras's
/// argument names and defaults; each has an `update` that is one loop over the trainable arena.
/// The exact equations are in docs/optimizers.md. `update(w, g, state, n, stride, t)` updates n
/// parameters; slot s of parameter i is `state[s * stride + i]`; `t` counts steps from 1. Each
/// parameter's update reads only its own values, so the arena may be updated in pieces.

#include <frost/core/simd.hpp>

#include <array>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace frost {

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

  /// The update of step t as a function of (w, g, state, n, stride): its constants computed once
  /// per step, then applied to the whole arena or to one tile at a time (the fused update).
  template <class T>
  auto stepper(std::uint64_t) const noexcept {
    const T lr = static_cast<T>(learning_rate), mu = static_cast<T>(momentum);
    const bool plain = momentum == 0.f, nest = nesterov;
    return [=](T* w, const T* g, T* m, std::size_t n, std::size_t) noexcept {
    simd::for_each_lane<T>(n, [&]<std::size_t B>(std::size_t i) {
      using L = simd::lanes<T, B>;
      auto wi = L::load(w + i);
      const auto gi = L::load(g + i);
      if (plain) {
        wi -= lr * gi;
      } else {
        const auto mi = mu * L::load(m + i) - lr * gi;
        L::store(m + i, mi);
        wi += nest ? mu * mi - lr * gi : mi;
      }
      L::store(w + i, wi);
    });
    };
  }
  template <class T>
  void update(T* w, const T* g, T* state, std::size_t n, std::size_t stride, std::uint64_t t) const noexcept {
    stepper<T>(t)(w, g, state, n, stride);
  }
};

namespace detail {
/// Adam's update of step t over n parameters, its constants computed once (see adam::stepper).
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

  void operator()(T* w, const T* g, T* m, T* v, std::size_t n) const noexcept {
  simd::for_each_lane<T>(n, [&]<std::size_t B>(std::size_t i) {
    using L = simd::lanes<T, B>;
    const auto gi = L::load(g + i);
    auto mi = L::load(m + i), vi = L::load(v + i);
    mi += (gi - mi) * one_b1;
    vi += (gi * gi - vi) * one_b2;
    L::store(m + i, mi);
    L::store(v + i, vi);
    L::store(w + i, L::load(w + i) - alpha * mi / (L::sqrt(vi) + eps));
  });
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
    return [=](T* w, const T* g, T* state, std::size_t n, std::size_t stride) noexcept {
      step(w, g, state, state + stride, n);
    };
  }
  template <class T>
  void update(T* w, const T* g, T* state, std::size_t n, std::size_t stride, std::uint64_t t) const noexcept {
    stepper<T>(t)(w, g, state, n, stride);
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
    return [=](T* w, const T* g, T* state, std::size_t n, std::size_t stride) noexcept {
      simd::for_each_lane<T>(n, [&]<std::size_t B>(std::size_t i) {
        using L = simd::lanes<T, B>;
        const auto wi = L::load(w + i);
        L::store(w + i, wi - wi * decay);
      });
      step(w, g, state, state + stride, n);
    };
  }
  template <class T>
  void update(T* w, const T* g, T* state, std::size_t n, std::size_t stride, std::uint64_t t) const noexcept {
    stepper<T>(t)(w, g, state, n, stride);
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
    return [=](T* w, const T* g, T* state, std::size_t n, std::size_t stride) noexcept {
    T* v = state;
    T* mb = state + stride;
    T* a = state + 2 * stride;
    simd::for_each_lane<T>(n, [&]<std::size_t B>(std::size_t i) {
      using L = simd::lanes<T, B>;
      const auto gi = L::load(g + i);
      const auto vi = r * L::load(v + i) + one_r * gi * gi;
      L::store(v + i, vi);
      auto d = vi + eps;
      if (center) {
        const auto ai = r * L::load(a + i) + one_r * gi;
        L::store(a + i, ai);
        d = vi - ai * ai + eps;
      }
      const auto step = lr * gi / L::sqrt(d);
      if (with_momentum) {
        const auto bi = mu * L::load(mb + i) + step;
        L::store(mb + i, bi);
        L::store(w + i, L::load(w + i) - bi);
      } else {
        L::store(w + i, L::load(w + i) - step);
      }
    });
    };
  }
  template <class T>
  void update(T* w, const T* g, T* state, std::size_t n, std::size_t stride, std::uint64_t t) const noexcept {
    stepper<T>(t)(w, g, state, n, stride);
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
