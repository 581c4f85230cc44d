#pragma once
// The fused update's test harness (tests/train/fused_update*_test.cpp): runs the fused trainer
// and the gradient-arena trainer from the same model, step by step, and requires the same bits
// in losses, parameters, moving statistics and optimizer state, for every optimizer on 1 and 2
// threads. Split over three test files so that the build compiles them in parallel.

#include <frost/frost.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <cstring>

namespace frost_test::fused {

using namespace frost;

template <class Model>
void require_same_state(const Model& a, const Model& b) {
  REQUIRE(frost_test::same_bytes(a.trainable_parameters(), b.trainable_parameters()));
  REQUIRE(frost_test::same_bytes(a.frozen_parameters(), b.frozen_parameters()));
  if constexpr (Model::state_count != 0) REQUIRE(frost_test::same_bytes(a.state(), b.state()));
}

// Runs `steps` steps of the fused and the gradient-arena trainer from the same model and
// compares everything after each.
template <class Model, class Spec, class X, class Y>
void require_fused_equals_arena(const Model& start, Spec spec, const X& x, const Y& y, std::size_t threads_n,
                                int steps = 4) {
  Model a = start, b = start;
  auto fused = make_trainer(a, categorical_crossentropy{}, spec, y.rows(), threads{threads_n}, seed{7});
  auto kept = make_trainer(b, categorical_crossentropy{}, spec, y.rows(), keep_gradients, threads{threads_n}, seed{7});
  STATIC_REQUIRE(decltype(fused)::fused_update);
  STATIC_REQUIRE(decltype(fused)::gradient_bytes == 0);
  STATIC_REQUIRE_FALSE(decltype(kept)::fused_update);
  STATIC_REQUIRE(decltype(kept)::gradient_bytes == Model::trainable_param_count * sizeof(float));
  for (int s = 0; s < steps; ++s) {
    INFO("step " << s);
    const float la = fused.step(x, y), lb = kept.step(x, y);
    REQUIRE(std::memcmp(&la, &lb, sizeof la) == 0);
    require_same_state(a, b);
    REQUIRE(frost_test::same_bytes(fused.get_optimizer().state(), kept.get_optimizer().state()));
  }
  REQUIRE(fused.get_optimizer().iterations() == static_cast<std::uint64_t>(steps));
  // The update did something: the parameters moved.
  if constexpr (Model::trainable_param_count != 0)
    REQUIRE_FALSE(frost_test::same_bytes(a.trainable_parameters(), start.trainable_parameters()));
}

// Every optimizer, with the options that change its arithmetic.
template <class Run>
void for_each_optimizer(Run&& run) {
  SECTION("sgd") { run(sgd{.learning_rate = 0.05f}); }
  SECTION("sgd, Nesterov momentum") { run(sgd{.learning_rate = 0.05f, .momentum = 0.9f, .nesterov = true}); }
  SECTION("adam") { run(adam{.learning_rate = 0.01f}); }
  SECTION("adamw") { run(adamw{.learning_rate = 0.01f, .weight_decay = 0.1f}); }
  SECTION("rmsprop, centered, momentum") {
    run(rmsprop{.learning_rate = 0.01f, .momentum = 0.5f, .centered = true});
  }
}

template <std::size_t N, class X>
matrix<float, N> one_hot(const X& x) {
  matrix<float, N> y(x.rows());
  for (std::size_t i = 0; i < x.rows(); ++i) y(i, (i * 7 + (x.values()[i] > 0.f ? 1 : 0)) % N) = 1.f;
  return y;
}

template <class Model, class X>
void run_all(const X& x) {
  const Model start = Model::init(3);
  const auto y = one_hot<Model::output_shape::size>(x);
  for_each_optimizer([&](auto spec) {
    for (std::size_t t : {1, 2}) {
      INFO("threads " << t);
      require_fused_equals_arena(start, spec, x, y, t);
    }
  });
}

template <class L>
using as_is = L;

// An MLP with an activation whose derivative reads the output (relu), one that reads its
// input (swish: z is kept) and softmax, under three freeze masks.
template <template <class> class F0, template <class> class F1>
using mlp = sequential<input<12>, F0<dense<16, relu>>, F1<dense<8, swish>>, dense<4, softmax>>;

}  // namespace frost_test::fused
