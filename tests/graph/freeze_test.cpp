// DESIGN semantics 1–4 and 6 as properties over every freeze mask of a 3-layer model.
#include <frost/frost.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using l0 = frost::dense<6, frost::relu>;
using l1 = frost::dense<5, frost::tanh_activation>;
using l2 = frost::dense<3, frost::softmax>;

template <class L, bool Frozen>
using maybe_frozen = std::conditional_t<Frozen, frost::frozen<L>, L>;

template <class T, unsigned Mask>  // bit i set: layer i frozen
using masked = frost::basic_sequential<T, frost::input<4>, maybe_frozen<l0, (Mask & 1) != 0>,
                                       maybe_frozen<l1, (Mask & 2) != 0>, maybe_frozen<l2, (Mask & 4) != 0>>;

template <class T>
struct batch {
  frost::matrix<T, 4> x{8};
  frost::matrix<T, 3> y{8};
  batch() {
    frost_test::fill_uniform(x.values(), 21);
    for (std::size_t i = 0; i < 8; ++i) y(i, i % 3) = T(1);
  }
};

template <class A, class B>
bool same_layer(const A& a, const B& b) {
  return std::memcmp(a.kernel().data(), b.kernel().data(), a.kernel().size_bytes()) == 0 &&
         std::memcmp(a.bias().data(), b.bias().data(), a.bias().size_bytes()) == 0;
}

template <unsigned Mask>
void forward_is_bit_identical() {
  batch<float> d;
  const auto full = masked<float, 0>::init(3);
  const auto part = masked<float, Mask>::init(3);
  const auto a = full(d.x), b = part(d.x);
  REQUIRE(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  // The training forward too: the loss is computed from the same output bits.
  const float la = frost::value_and_grad(full, frost::categorical_crossentropy{}, d.x, d.y).loss;
  const float lb = frost::value_and_grad(part, frost::categorical_crossentropy{}, d.x, d.y).loss;
  REQUIRE(std::memcmp(&la, &lb, sizeof la) == 0);
}

template <unsigned Mask, class Spec>
void frozen_stay_bit_unchanged(Spec spec) {
  batch<float> d;
  auto m = masked<float, Mask>::init(4);
  const auto before = m;  // a deep copy
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, spec, 8);
  for (int s = 0; s < 25; ++s) tr.step(d.x, d.y);
  REQUIRE(frost_test::same_bytes(before.frozen_parameters(), m.frozen_parameters()));
  if constexpr (masked<float, Mask>::trainable_param_count > 0) {
    REQUIRE_FALSE(frost_test::same_bytes(before.trainable_parameters(), m.trainable_parameters()));
  }
  if constexpr ((Mask & 1) != 0) REQUIRE(same_layer(before.template layer<0>(), m.template layer<0>()));
  if constexpr ((Mask & 2) != 0) REQUIRE(same_layer(before.template layer<1>(), m.template layer<1>()));
  if constexpr ((Mask & 4) != 0) REQUIRE(same_layer(before.template layer<2>(), m.template layer<2>()));
}

template <unsigned Mask>
void frozen_unchanged_under_every_optimizer() {
  frozen_stay_bit_unchanged<Mask>(frost::sgd{.learning_rate = 0.1f});
  frozen_stay_bit_unchanged<Mask>(frost::sgd{.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true});
  frozen_stay_bit_unchanged<Mask>(frost::adam{.learning_rate = 0.01f});
  frozen_stay_bit_unchanged<Mask>(frost::adamw{.learning_rate = 0.01f});
  frozen_stay_bit_unchanged<Mask>(frost::rmsprop{.learning_rate = 0.01f, .momentum = 0.5f, .centered = true});
}

// Trainable gradients equal those of the fully trainable model with the same weights, and match
// finite differences in double (which also proves gradient flows through frozen layers).
template <unsigned Mask>
void gradients_match_full_model() {
  batch<double> d;
  auto full = masked<double, 0>::init(6);
  auto part = masked<double, Mask>::init(6);
  const auto gf = frost::value_and_grad(full, frost::categorical_crossentropy{}, d.x, d.y).grads;
  const auto gp = frost::value_and_grad(part, frost::categorical_crossentropy{}, d.x, d.y).grads;
  auto compare = [](const auto& a, const auto& b) {
    for (std::size_t i = 0; i < a.kernel().size(); ++i) REQUIRE(a.kernel()[i] == Approx(b.kernel()[i]).epsilon(1e-12).margin(1e-15));
    for (std::size_t i = 0; i < a.bias().size(); ++i) REQUIRE(a.bias()[i] == Approx(b.bias()[i]).epsilon(1e-12).margin(1e-15));
  };
  if constexpr ((Mask & 1) == 0) compare(gp.template layer<0>(), gf.template layer<0>());
  if constexpr ((Mask & 2) == 0) compare(gp.template layer<1>(), gf.template layer<1>());
  if constexpr ((Mask & 4) == 0) compare(gp.template layer<2>(), gf.template layer<2>());
  frost_test::check_model_gradients(part, frost::categorical_crossentropy{}, d.x, d.y);
}

}  // namespace

TEST_CASE("forward is bit-identical whatever is frozen", "[graph][freeze]") {
  forward_is_bit_identical<1>();
  forward_is_bit_identical<2>();
  forward_is_bit_identical<3>();
  forward_is_bit_identical<4>();
  forward_is_bit_identical<5>();
  forward_is_bit_identical<6>();
  forward_is_bit_identical<7>();
}

TEST_CASE("frozen parameters are bit-unchanged after 25 steps of every optimizer", "[graph][freeze]") {
  frozen_unchanged_under_every_optimizer<1>();
  frozen_unchanged_under_every_optimizer<2>();
  frozen_unchanged_under_every_optimizer<3>();
  frozen_unchanged_under_every_optimizer<4>();
  frozen_unchanged_under_every_optimizer<5>();
  frozen_unchanged_under_every_optimizer<6>();
  frozen_unchanged_under_every_optimizer<7>();
}

TEST_CASE("trainable gradients equal the fully trainable model's and finite differences", "[graph][freeze]") {
  gradients_match_full_model<0>();
  gradients_match_full_model<1>();
  gradients_match_full_model<2>();
  gradients_match_full_model<3>();
  gradients_match_full_model<4>();
  gradients_match_full_model<5>();
  gradients_match_full_model<6>();
}

TEST_CASE("gradient flows through a frozen middle layer to the layer below", "[graph][freeze]") {
  batch<double> d;
  auto m = masked<double, 2>::init(8);
  const auto g = frost::value_and_grad(m, frost::categorical_crossentropy{}, d.x, d.y).grads;
  double norm = 0;
  for (double v : g.layer<0>().kernel()) norm += v * v;
  REQUIRE(norm > 1e-6);
  STATIC_REQUIRE(std::is_same_v<decltype(g.layer<1>()), frost::no_gradient>);
}

TEST_CASE("freeze then unfreeze returns the same type and the same weights", "[graph][freeze]") {
  using full = masked<float, 0>;
  const full original = full::init(12);
  full copy = original;
  auto f = frost::freeze<0, 2>(std::move(copy));
  STATIC_REQUIRE(std::is_same_v<decltype(f), masked<float, 5>>);
  REQUIRE(same_layer(f.layer<0>(), original.layer<0>()));
  REQUIRE(f.layer<0>().kernel().data() == f.frozen_parameters().data());
  auto again = frost::freeze<0>(std::move(f));  // freezing a frozen layer keeps it frozen
  STATIC_REQUIRE(std::is_same_v<decltype(again), masked<float, 5>>);
  auto back = frost::unfreeze<0, 2>(std::move(again));
  STATIC_REQUIRE(std::is_same_v<decltype(back), full>);
  REQUIRE(frost_test::same_bytes(back.trainable_parameters(), original.trainable_parameters()));
}

TEST_CASE("unfreezing carries optimizer state over for layers that stay trainable", "[graph][freeze]") {
  batch<float> d;
  auto m = masked<float, 3>::init(13);  // layers 0, 1 frozen
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 8);
  for (int s = 0; s < 3; ++s) tr.step(d.x, d.y);
  auto opt = std::move(tr.get_optimizer());
  const std::vector<float> head_state(opt.state().begin(), opt.state().end());
  auto m2 = frost::unfreeze<1>(std::move(m));
  auto opt2 = frost::unfreeze<1>(std::move(opt));
  STATIC_REQUIRE(std::is_same_v<decltype(opt2), frost::optimizer<decltype(m2), frost::adam>>);
  REQUIRE(opt2.iterations() == 3);
  constexpr std::size_t head = 5 * 3 + 3, middle = 6 * 5 + 5, n2 = head + middle;
  for (std::size_t i = 0; i < head; ++i) {
    REQUIRE(opt2.state()[middle + i] == head_state[i]);             // m of the head
    REQUIRE(opt2.state()[n2 + middle + i] == head_state[head + i]);  // v of the head
  }
  for (std::size_t i = 0; i < middle; ++i) REQUIRE(opt2.state()[i] == 0.f);
  auto tr2 = frost::make_trainer(m2, frost::categorical_crossentropy{}, std::move(opt2), 8);
  REQUIRE(tr2.step(d.x, d.y) > 0.f);
}

// DESIGN semantics 6. A layer whose weight-gradient code cannot compile works frozen; a layer
// whose whole backward cannot compile works below the first trainable layer.
namespace {

template <class T>
inline constexpr bool never = false;

// dense<Units, relu> but for its backward: the weight-gradient stage cannot compile, and with
// AnyBackward false no stage can.
template <std::size_t Units, bool AnyBackward>
struct poisoned : frost::dense<Units, frost::relu> {
  template <class In, frost::backward_stage S, class T>
  static void backward(frost::stage<S> s, const frost::backward_args<T>& a) noexcept {
    static_assert(S != frost::backward_stage::params || never<T>, "weight-gradient code was instantiated for a frozen layer");
    static_assert(AnyBackward || never<T>, "backward code was instantiated below the first trainable layer");
    frost::dense<Units, frost::relu>::template backward<In>(s, a);
  }
};

}  // namespace

TEST_CASE("no weight-gradient code for frozen layers, no backward code below the first trainable one",
          "[graph][freeze]") {
  batch<float> d;
  // Frozen, below the trainable head: no backward at all is instantiated for layer 0.
  using below = frost::sequential<frost::input<4>, frost::frozen<poisoned<6, false>>, l2>;
  // Frozen, between trainable layers: its input gradient runs, its weight gradient does not.
  using middle = frost::sequential<frost::input<4>, frost::dense<6, frost::relu>, frost::frozen<poisoned<5, true>>, l2>;
  below a = below::init(1);
  middle b = middle::init(1);
  const below before_a = a;
  const middle before_b = b;
  auto ta = frost::make_trainer(a, frost::categorical_crossentropy{}, frost::sgd{.learning_rate = 0.1f}, 8);
  auto tb = frost::make_trainer(b, frost::categorical_crossentropy{}, frost::sgd{.learning_rate = 0.1f}, 8);
  ta.step(d.x, d.y);
  tb.step(d.x, d.y);
  REQUIRE(frost_test::same_bytes(before_a.frozen_parameters(), a.frozen_parameters()));
  REQUIRE(frost_test::same_bytes(before_b.frozen_parameters(), b.frozen_parameters()));
  REQUIRE_FALSE(frost_test::same_bytes(before_b.layer<0>().kernel(), b.layer<0>().kernel()));
}

TEST_CASE("in a functional model too: no weight-gradient code for a frozen branch, no backward for one below all",
          "[graph][freeze][functional]") {
  batch<float> d;
  auto in = frost::input<4>{};
  auto below = frost::frozen<poisoned<6, false>>{}(in);                        // nothing below it trains
  auto middle = frost::frozen<poisoned<5, true>>{}(frost::dense<6, frost::relu>{}(in));  // input gradient only
  auto model = frost::make_model(in, frost::dense<3, frost::softmax>{}(frost::concatenate{}(below, middle)));
  const auto before = model;
  auto tr = frost::make_trainer(model, frost::categorical_crossentropy{}, frost::sgd{.learning_rate = 0.1f}, 8);
  tr.step(d.x, d.y);
  REQUIRE(frost_test::same_bytes(before.frozen_parameters(), model.frozen_parameters()));
  REQUIRE_FALSE(frost_test::same_bytes(before.trainable_parameters(), model.trainable_parameters()));
}

TEST_CASE("a model moved from by freeze throws state_error instead of touching freed weights", "[graph][freeze]") {
  batch<float> d;
  auto m = masked<float, 0>::init(2);
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 8);
  auto f = frost::freeze<0>(std::move(m));
  REQUIRE(f.holds_weights());
  REQUIRE_FALSE(m.holds_weights());  // NOLINT(bugprone-use-after-move)
  const char* expected = "frost::trainer::step: model: expected a model holding its weights, got one that was moved from";
  REQUIRE_THROWS_AS(tr.step(d.x, d.y), frost::state_error);
  REQUIRE_THROWS_WITH(tr.step(d.x, d.y), Catch::StartsWith(expected));
  REQUIRE_THROWS_AS(frost::value_and_grad(m, frost::categorical_crossentropy{}, d.x, d.y), frost::state_error);
  REQUIRE_THROWS_AS(m(d.x), frost::state_error);
  REQUIRE(tr.get_optimizer().iterations() == 0);
}
