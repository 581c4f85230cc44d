// The fused update (the optimizer applied inside the weight-gradient products, no gradient
// stored) against the gradient-arena path, on dense models: the same bits in losses,
// parameters and optimizer state, for every optimizer, several freeze masks, on 1 and 2
// threads; what needs the arena. Convolutions: fused_update_cnn_test.cpp; functional models:
// fused_update_functional_test.cpp.

#include "support/fused_update.hpp"

#include <cstddef>
#include <limits>
#include <string_view>
#include <type_traits>

using namespace frost;
using namespace frost_test::fused;

TEST_CASE("fused update: an MLP gives the bits of the gradient-arena path", "[train][fused]") {
  matrix<float, 12> x(10);
  frost_test::fill_uniform(x.values(), 1);
  SECTION("all trainable") { run_all<mlp<as_is, as_is>>(x); }
  SECTION("first layer frozen") { run_all<mlp<frozen, as_is>>(x); }
  SECTION("middle layer frozen") { run_all<mlp<as_is, frozen>>(x); }
}

TEST_CASE("fused update: wide layers and batches over 256 rows use the update scratch and give the same bits",
          "[train][fused]") {
  // 520 units: the packed weight-gradient product, taken whole into the scratch and updated in
  // one pass, with a partial last vector; 300 rows: two blocks of rows, whose partial sums wait
  // in the scratch.
  using wide = sequential<input<16>, dense<520, relu>, dense<3, softmax>>;
  using narrow = sequential<input<16>, dense<40, relu>, dense<3, softmax>>;
  STATIC_REQUIRE(detail::takes_whole_block<wide, 1>());
  STATIC_REQUIRE_FALSE(detail::takes_whole_block<wide, 2>());
  STATIC_REQUIRE_FALSE(detail::takes_whole_block<narrow, 1>());
  matrix<float, 16> x(300);
  frost_test::fill_uniform(x.values(), 2);
  run_all<wide>(x);
  run_all<narrow>(x);
  wide w = wide::init(1);
  narrow n = narrow::init(1);
  // The wide layer's whole gradient, whatever the batch; the narrow one's partial sums only
  // above 256 rows (the largest such layer: 16 × 40 + 40 scalars).
  REQUIRE(make_trainer(w, categorical_crossentropy{}, adam{}, 300).update_scratch_bytes() ==
          (16 * 520 + 520) * sizeof(float));
  REQUIRE(make_trainer(w, categorical_crossentropy{}, adam{}, 8).update_scratch_bytes() ==
          (16 * 520 + 520) * sizeof(float));
  REQUIRE(make_trainer(n, categorical_crossentropy{}, adam{}, 300).update_scratch_bytes() ==
          (16 * 40 + 40) * sizeof(float));
  REQUIRE(make_trainer(n, categorical_crossentropy{}, adam{}, 256).update_scratch_bytes() == 0);
}

namespace {
// A layer written without a gradient sink (as docs/layers.md shows): y = x ⊙ w. Its params stage
// stores its whole gradient block; the fused trainer updates from it afterwards.
template <std::size_t Units>
struct plain_scale : layer_call<plain_scale<Units>> {
  static constexpr std::string_view keras_name = "plain_scale";
  using expected_input = shape<Units>;
  template <class In>
  static constexpr bool accepts = std::is_same_v<In, shape<Units>>;
  template <class In>
  using output_shape = In;
  template <class In>
  static constexpr std::size_t param_count = Units;
  template <class In, class T>
  struct params {
    explicit params(T* p) noexcept : weights(p) {}
    T* weights;
  };
  static constexpr bool param_grad_reads_input = true;
  static constexpr bool rows_independent = true;
  template <class In, class T>
  static void initialize(T* w, random_stream&) noexcept {
    for (std::size_t j = 0; j < Units; ++j) w[j] = T(1) + T(j) / T(8);
  }
  template <class In, class T>
  static void forward(const forward_args<T>& a) noexcept {
    for (std::size_t r = 0; r < a.rows; ++r)
      for (std::size_t j = 0; j < Units; ++j) a.y[r * Units + j] = a.x[r * Units + j] * a.params[j];
  }
  template <class In, backward_stage S, class T>
  static void backward(stage<S>, const backward_args<T>& a) noexcept {
    if constexpr (S == backward_stage::params) {
      for (std::size_t j = 0; j < Units; ++j) a.dparams[j] = T{0};
      for (std::size_t r = 0; r < a.rows; ++r)
        for (std::size_t j = 0; j < Units; ++j) a.dparams[j] += a.x[r * Units + j] * a.g[r * Units + j];
    } else if constexpr (S == backward_stage::input) {
      for (std::size_t r = 0; r < a.rows; ++r)
        for (std::size_t j = 0; j < Units; ++j) {
          const std::size_t i = r * Units + j;
          a.dx[i] = (a.accumulate ? a.dx[i] : T{0}) + a.g[i] * a.params[j];
        }
    }
  }
};
}  // namespace

TEST_CASE("fused update: a custom layer without a gradient sink gives the same bits", "[train][fused]") {
  using net = sequential<input<12>, dense<19, relu>, plain_scale<19>, dense<4, softmax>>;
  STATIC_REQUIRE_FALSE(net::plan.facts[2].params_take_sink);
  STATIC_REQUIRE(net::plan.facts[1].params_take_sink);
  matrix<float, 12> x(10);
  frost_test::fill_uniform(x.values(), 8);
  run_all<net>(x);
  net m = net::init(1);
  // Its whole gradient block waits in the trainer's scratch.
  REQUIRE(make_trainer(m, categorical_crossentropy{}, sgd{}, 10).update_scratch_bytes() == 19 * sizeof(float));
}

TEST_CASE("fused update: memory and what needs the gradient arena", "[train][fused]") {
  using net = mlp<frozen, as_is>;
  net m = net::init(1);
  auto fused = make_trainer(m, categorical_crossentropy{}, adam{}, 32);
  auto kept = make_trainer(m, categorical_crossentropy{}, adam{}, 32, keep_gradients);
  // The arena path holds one more float per trainable parameter, nothing else differs.
  REQUIRE(kept.allocated_bytes() - fused.allocated_bytes() == net::trainable_param_count * sizeof(float));
  REQUIRE(fused.update_scratch_bytes() == 0);

  // Finite-check mode and clipping need the whole gradient before the update.
  REQUIRE_THROWS_AS(fused.check_finite(true), value_error);
  REQUIRE_THROWS_WITH(fused.check_finite(true), Catch::Contains("frost::keep_gradients"));
  REQUIRE_NOTHROW(fused.check_finite(false));
  REQUIRE_NOTHROW(kept.check_finite(true));
  REQUIRE_THROWS_WITH(make_trainer(m, categorical_crossentropy{}, adam{.clipnorm = 1.f}, 32),
                      Catch::Contains("keep_gradients") && Catch::Contains("clip"));
  REQUIRE_NOTHROW(make_trainer(m, categorical_crossentropy{}, adam{.clipnorm = 1.f}, 32, keep_gradients));

  // fit's finite-check mode likewise, before the first step.
  {
    matrix<float, 12> xs(8);
    frost_test::fill_uniform(xs.values(), 10);
    const auto ys = one_hot<4>(xs);
    const net untouched = m;
    REQUIRE_THROWS_WITH(fit(fused, xs, ys, {.epochs = 1, .verbose = 0, .check_finite = true}),
                        Catch::Contains("frost::keep_gradients"));
    require_same_state(m, untouched);
    REQUIRE(fused.get_optimizer().iterations() == 0);
    REQUIRE_FALSE(fused.check_finite());
    REQUIRE(fit(kept, xs, ys, {.epochs = 1, .verbose = 0, .check_finite = true}).size() == 1);
    m = untouched;
  }

  // Clipping switched on through config() later: the step refuses before anything changes.
  matrix<float, 12> x(4);
  frost_test::fill_uniform(x.values(), 9);
  const auto y = one_hot<4>(x);
  fused.get_optimizer().config().global_clipnorm = 1.f;
  const net before = m;
  REQUIRE_THROWS_AS(fused.step(x, y), value_error);
  require_same_state(m, before);
  REQUIRE(fused.get_optimizer().iterations() == 0);
}

TEST_CASE("fused update: a non-finite loss refuses the update in try_step and leaves everything as it was",
          "[train][fused]") {
  using net = mlp<as_is, as_is>;
  net m = net::init(1);
  auto tr = make_trainer(m, categorical_crossentropy{}, adam{}, 8);
  matrix<float, 12> x(4);
  frost_test::fill_uniform(x.values(), 9);
  auto y = one_hot<4>(x);
  x(1, 3) = std::numeric_limits<float>::quiet_NaN();
  const net before = m;
  const auto r = tr.try_step(x, y);
  REQUIRE_FALSE(r.applied());
  REQUIRE(r.nonfinite == decltype(r)::loss_index);
  REQUIRE(frost_test::same_bytes(m.trainable_parameters(), before.trainable_parameters()));
  REQUIRE(tr.get_optimizer().iterations() == 0);
  for (float s : tr.get_optimizer().state()) REQUIRE(s == 0.f);
}
