// Functional models: building a DAG, Keras's layer order and names, the plan on a DAG, DESIGN's
// semantics on a model with a residual connection and a frozen branch, and Keras's numbers.
#include <frost/frost.hpp>

#include "fixtures/keras/residual_adam.hpp"
#include "fixtures/keras/residual_frozen_branch_sgd.hpp"
#include "fixtures/keras/two_input_all_trainable_adam.hpp"
#include "fixtures/keras/two_input_frozen_branch_adam.hpp"
#include "support/gradcheck.hpp"

#include <boost/hana/tuple.hpp>
#include <catch2/catch.hpp>

#include <array>
#include <cstddef>
#include <cstring>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace hana = boost::hana;
using namespace frost;

namespace {

// The fixtures' residual network: x = Input(6); h = Dense(8, relu)(x); r = Dense(8, tanh)(h);
// s = Add()([h, r]); out = Dense(3, softmax)(s). With FrozenBranch the tanh layer is frozen.
template <class T, bool FrozenBranch>
auto residual_model() {
  auto x = input<6>{};
  auto h = dense<8, relu>{}(x);
  auto r = std::conditional_t<FrozenBranch, frozen<dense<8, tanh_activation>>, dense<8, tanh_activation>>{}(h);
  auto out = dense<3, softmax>{}(add{}(h, r));
  using M = decltype(make_model(x, out));
  return basic_functional<T, typename M::graph_type, std::index_sequence<0>>::init(1);
}

// The fixtures' two-input network: a = Input(5), b = Input(4); p = Dense(6, relu)(a);
// q = Dense(3, relu)(p); r = Dense(4, sigmoid)(b); c = Concatenate()([q, r]);
// out = Dense(2, sigmoid)(c). With FrozenBranch, branch a (p and q) is frozen.
template <class T, bool FrozenBranch>
auto two_input_model() {
  auto a = input<5>{};
  auto b = input<4>{};
  auto p = std::conditional_t<FrozenBranch, frozen<dense<6, relu>>, dense<6, relu>>{}(a);
  auto q = std::conditional_t<FrozenBranch, frozen<dense<3, relu>>, dense<3, relu>>{}(p);
  auto r = dense<4, sigmoid>{}(b);
  auto out = dense<2, sigmoid>{}(concatenate{}(q, r));
  using M = decltype(make_model(hana::make_tuple(a, b), out));
  return basic_functional<T, typename M::graph_type, typename M::input_nodes_type>::init(1);
}

// Keras's model.layers as the fixture recorded it: classes, inbound layers, widths.
struct keras_layers {
  std::span<const char* const> classes;
  std::span<const std::size_t> inbound_offsets, inbound, widths;
};

template <class Model>
void check_keras_order(const keras_layers& k) {
  constexpr auto& p = Model::plan;
  REQUIRE(Model::layer_count == k.classes.size());
  for (std::size_t i = 0; i < k.classes.size(); ++i) {
    INFO("layer " << i);
    REQUIRE(p.facts[i].arity == k.inbound_offsets[i + 1] - k.inbound_offsets[i]);
    for (std::size_t e = 0; e < p.facts[i].arity; ++e)
      REQUIRE(p.edges[p.facts[i].first_edge + e].from == k.inbound[k.inbound_offsets[i] + e]);
    REQUIRE(p.facts[i].out_size == k.widths[i]);
  }
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    const std::array<std::string, sizeof...(I)> classes{
        detail::class_name(detail::keras_name_of<typename Model::template layer_type<I>>())...};
    for (std::size_t i = 0; i < classes.size(); ++i) REQUIRE(classes[i] == k.classes[i]);
  }(std::make_index_sequence<Model::layer_count>{});
}

template <class View, class K, class B>
void load(View v, const K& k, const B& b) {
  REQUIRE(v.kernel().size() == k.size());
  for (std::size_t i = 0; i < k.size(); ++i) v.kernel()[i] = static_cast<float>(k[i]);
  for (std::size_t i = 0; i < b.size(); ++i) v.bias()[i] = static_cast<float>(b[i]);
}

template <class R, class E>
void expect_close(const R& got, const E& expected, double eps = 2e-4, double margin = 2e-6) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO("index " << i);
    REQUIRE(got[i] == Approx(expected[i]).epsilon(eps).margin(margin));
  }
}

template <std::size_t N, class A>
frost::matrix<float, N> rows_of(const A& values, std::size_t rows) {
  frost::matrix<float, N> m(rows);
  for (std::size_t i = 0; i < values.size(); ++i) m.data()[i] = static_cast<float>(values[i]);
  return m;
}

}  // namespace

TEST_CASE("make_model orders layers as Keras's model.layers and connects them as called", "[graph][functional]") {
  using residual = decltype(residual_model<float, false>());
  using two_input = decltype(two_input_model<float, false>());
  {
    namespace F = frost_fixtures::residual_adam;
    check_keras_order<residual>({F::layer_classes, F::inbound_offsets, F::inbound, F::widths});
  }
  {
    namespace F = frost_fixtures::two_input_all_trainable_adam;
    check_keras_order<two_input>({F::layer_classes, F::inbound_offsets, F::inbound, F::widths});
  }
  // Input b comes third, between the two layers of branch a, as Keras orders it.
  STATIC_REQUIRE(std::is_same_v<two_input::layer_type<2>, input<4>>);
  STATIC_REQUIRE(two_input::input_nodes == std::array<std::size_t, 2>{0, 2});
  // The type is the graph: written out, it reads as the network.
  STATIC_REQUIRE(std::is_same_v<residual::graph_type,
                                graph<layer_node<input<6>>, layer_node<dense<8, relu>, 1>,
                                      layer_node<dense<8, tanh_activation>, 1>, layer_node<add, 2, 1>,
                                      layer_node<dense<3, softmax>, 1>>>);
}

TEST_CASE("a residual model matches Keras, trainable and with its branch frozen", "[graph][functional][keras]") {
  SECTION("all trainable, Adam") {
    namespace F = frost_fixtures::residual_adam;
    auto m = residual_model<float, false>();
    load(m.layer<1>(), F::kernel_1, F::bias_1);
    load(m.layer<2>(), F::kernel_2, F::bias_2);
    load(m.layer<4>(), F::kernel_4, F::bias_4);
    const auto x = rows_of<6>(F::x, F::rows);
    const auto y = rows_of<3>(F::y, F::rows);
    expect_close(m(x).values(), F::output, 1e-5, 1e-7);
    const std::array gk1 = {&F::grad_kernel_1_step_0, &F::grad_kernel_1_step_1};
    const std::array gk2 = {&F::grad_kernel_2_step_0, &F::grad_kernel_2_step_1};
    const std::array gb4 = {&F::grad_bias_4_step_0, &F::grad_bias_4_step_1};
    auto tr = make_trainer(m, categorical_crossentropy{}, adam{.learning_rate = float(F::learning_rate)}, F::rows);
    for (std::size_t s = 0; s < F::steps; ++s) {
      const auto [loss, grads] = value_and_grad(m, categorical_crossentropy{}, x, y);
      REQUIRE(loss == Approx(F::loss[s]).epsilon(1e-5));
      expect_close(grads.layer<1>().kernel(), *gk1[s]);
      expect_close(grads.layer<2>().kernel(), *gk2[s]);
      expect_close(grads.layer<4>().bias(), *gb4[s]);
      REQUIRE(tr.step(x, y) == loss);
    }
    expect_close(m.layer<1>().kernel(), F::final_kernel_1);
    expect_close(m.layer<2>().kernel(), F::final_kernel_2);
    expect_close(m.layer<4>().kernel(), F::final_kernel_4);
    expect_close(m.layer<4>().bias(), F::final_bias_4);
  }
  SECTION("the tanh branch frozen, SGD with momentum: gradient flows through it and the add") {
    namespace F = frost_fixtures::residual_frozen_branch_sgd;
    auto m = residual_model<float, true>();
    load(m.layer<1>(), F::kernel_1, F::bias_1);
    load(m.layer<2>(), F::kernel_2, F::bias_2);
    load(m.layer<4>(), F::kernel_4, F::bias_4);
    const auto x = rows_of<6>(F::x, F::rows);
    const auto y = rows_of<3>(F::y, F::rows);
    const auto frozen_before = m.frozen_parameters();
    const std::vector<float> frozen_copy(frozen_before.begin(), frozen_before.end());
    const std::array gk1 = {&F::grad_kernel_1_step_0, &F::grad_kernel_1_step_1, &F::grad_kernel_1_step_2};
    auto tr = make_trainer(m, categorical_crossentropy{},
                           sgd{.learning_rate = float(F::learning_rate), .momentum = float(F::momentum)}, F::rows);
    for (std::size_t s = 0; s < F::steps; ++s) {
      const auto [loss, grads] = value_and_grad(m, categorical_crossentropy{}, x, y);
      STATIC_REQUIRE(std::is_same_v<decltype(grads.layer<2>()), no_gradient>);
      REQUIRE(loss == Approx(F::loss[s]).epsilon(1e-5));
      expect_close(grads.layer<1>().kernel(), *gk1[s]);
      REQUIRE(tr.step(x, y) == loss);
    }
    REQUIRE(std::memcmp(frozen_copy.data(), m.frozen_parameters().data(), frozen_copy.size() * sizeof(float)) == 0);
    expect_close(m.layer<1>().kernel(), F::final_kernel_1);
    expect_close(m.layer<4>().kernel(), F::final_kernel_4);
  }
}

namespace {

// One two-input fixture case: the numbers the test reads.
struct two_input_case {
  std::array<std::span<const double>, 4> kernel, bias, final_kernel;  // layers 1, 3, 4, 6
  std::span<const double> x_0, x_1, y, output, loss;
  std::array<std::span<const double>, 2> grad_kernel_4, grad_kernel_6;  // per step
  std::size_t rows, steps;
  double learning_rate;
};

template <bool Frozen>
void two_input_matches(const two_input_case& c) {
  auto m = two_input_model<float, Frozen>();
  load(m.template layer<1>(), c.kernel[0], c.bias[0]);
  load(m.template layer<3>(), c.kernel[1], c.bias[1]);
  load(m.template layer<4>(), c.kernel[2], c.bias[2]);
  load(m.template layer<6>(), c.kernel[3], c.bias[3]);
  const auto a = rows_of<5>(c.x_0, c.rows);
  const auto b = rows_of<4>(c.x_1, c.rows);
  const auto y = rows_of<2>(c.y, c.rows);
  expect_close(m(a, b).values(), c.output, 1e-5, 1e-7);
  auto tr = make_trainer(m, binary_crossentropy{}, adam{.learning_rate = float(c.learning_rate)}, c.rows);
  for (std::size_t s = 0; s < c.steps; ++s) {
    INFO("step " << s);
    const auto [loss, grads] = value_and_grad(m, binary_crossentropy{}, std::tie(a, b), y);
    REQUIRE(loss == Approx(c.loss[s]).epsilon(1e-5));
    expect_close(grads.template layer<4>().kernel(), c.grad_kernel_4[s]);
    expect_close(grads.template layer<6>().kernel(), c.grad_kernel_6[s]);
    if constexpr (Frozen) STATIC_REQUIRE(std::is_same_v<decltype(grads.template layer<3>()), no_gradient>);
    REQUIRE(tr.step(std::tie(a, b), y) == loss);
  }
  expect_close(m.template layer<1>().kernel(), c.final_kernel[0]);
  expect_close(m.template layer<3>().kernel(), c.final_kernel[1]);
  expect_close(m.template layer<4>().kernel(), c.final_kernel[2]);
  expect_close(m.template layer<6>().kernel(), c.final_kernel[3]);
}

}  // namespace

TEST_CASE("a two-input model with a frozen branch matches Keras", "[graph][functional][keras]") {
  SECTION("all trainable") {
    namespace F = frost_fixtures::two_input_all_trainable_adam;
    two_input_matches<false>({{F::kernel_1, F::kernel_3, F::kernel_4, F::kernel_6},
                              {F::bias_1, F::bias_3, F::bias_4, F::bias_6},
                              {F::final_kernel_1, F::final_kernel_3, F::final_kernel_4, F::final_kernel_6},
                              F::x_0, F::x_1, F::y, F::output, F::loss,
                              {F::grad_kernel_4_step_0, F::grad_kernel_4_step_1},
                              {F::grad_kernel_6_step_0, F::grad_kernel_6_step_1},
                              F::rows, F::steps, F::learning_rate});
  }
  SECTION("branch a frozen") {
    namespace F = frost_fixtures::two_input_frozen_branch_adam;
    two_input_matches<true>({{F::kernel_1, F::kernel_3, F::kernel_4, F::kernel_6},
                             {F::bias_1, F::bias_3, F::bias_4, F::bias_6},
                             {F::final_kernel_1, F::final_kernel_3, F::final_kernel_4, F::final_kernel_6},
                             F::x_0, F::x_1, F::y, F::output, F::loss,
                             {F::grad_kernel_4_step_0, F::grad_kernel_4_step_1},
                             {F::grad_kernel_6_step_0, F::grad_kernel_6_step_1},
                             F::rows, F::steps, F::learning_rate});
  }
}

TEST_CASE("an entirely frozen branch gets no backward code, no kept activations and no gradient storage",
          "[graph][functional][plan]") {
  using M = decltype(two_input_model<float, true>());
  constexpr auto& p = M::plan;
  // Branch a: layers 1 and 3, frozen, reading only an input.
  STATIC_REQUIRE(!p.backward_active[1] && !p.backward_active[3]);
  STATIC_REQUIRE(p.gradient_offset[1] == p.npos && p.gradient_offset[3] == p.npos);
  STATIC_REQUIRE(!p.keeps_output[1] && !p.keeps_output[3]);
  STATIC_REQUIRE(p.trainable_offset[1] == p.npos && p.trainable_offset[3] == p.npos);
  // The concatenation passes a gradient into branch b only.
  STATIC_REQUIRE(!p.edge_needs_grad[p.facts[5].first_edge] && p.edge_needs_grad[p.facts[5].first_edge + 1]);
  // What trains: Dense(4, sigmoid) on b and the head: 4·4 + 4 + 7·2 + 2 parameters.
  STATIC_REQUIRE(M::trainable_param_count == 36);
  STATIC_REQUIRE(gradients<M>::size == 36);
  STATIC_REQUIRE(optimizer<M, adam>::state_size == 72);
  STATIC_REQUIRE(std::is_same_v<decltype(std::declval<gradients<M>&>().layer<1>()), no_gradient>);
  // Kept for backward: the head's input (7, read by its weight gradient), r's output (4, read by
  // its sigmoid derivative) and the output (2). Nothing of branch a.
  STATIC_REQUIRE(p.kept_per_sample == 7 + 4 + 2);
}

TEST_CASE("DESIGN semantics hold on a DAG with a residual connection and a frozen branch",
          "[graph][functional][semantics]") {
  frost::matrix<double, 6> x(5);
  frost::matrix<double, 3> y(5);
  frost_test::fill_uniform(x.values(), 21);
  for (std::size_t i = 0; i < 5; ++i) y(i, i % 3) = 1.0;
  auto trainable = residual_model<double, false>();
  auto frozen_branch = residual_model<double, true>();
  // 1. The forward pass is bit-identical whatever is frozen.
  const auto pt = trainable(x), pf = frozen_branch(x);
  REQUIRE(std::memcmp(pt.data(), pf.data(), pt.size() * sizeof(double)) == 0);
  // 3, 4. Trainable gradients equal the fully trainable model's, including layer 1's, which
  // receives gradient both straight through the add and through the frozen tanh layer.
  const auto gt = value_and_grad(trainable, categorical_crossentropy{}, x, y);
  const auto gf = value_and_grad(frozen_branch, categorical_crossentropy{}, x, y);
  for (std::size_t i = 0; i < gf.grads.layer<1>().kernel().size(); ++i)
    REQUIRE(gf.grads.layer<1>().kernel()[i] == Approx(gt.grads.layer<1>().kernel()[i]).epsilon(1e-12).margin(1e-15));
  for (std::size_t i = 0; i < gf.grads.layer<4>().kernel().size(); ++i)
    REQUIRE(gf.grads.layer<4>().kernel()[i] == Approx(gt.grads.layer<4>().kernel()[i]).epsilon(1e-12).margin(1e-15));
  // ... and against central differences in double, through add, for both models.
  REQUIRE(frost_test::check_model_gradients(frozen_branch, categorical_crossentropy{}, x, y) == 8 * 6 + 8 + 8 * 3 + 3);
  REQUIRE(frost_test::check_model_gradients(trainable, categorical_crossentropy{}, x, y) ==
          decltype(trainable)::trainable_param_count);
  // 2. Frozen parameters are bit-unchanged by optimizer steps.
  const std::vector<double> before(frozen_branch.frozen_parameters().begin(), frozen_branch.frozen_parameters().end());
  auto tr = make_trainer(frozen_branch, categorical_crossentropy{}, adam{.learning_rate = 0.05f}, 5);
  for (int s = 0; s < 5; ++s) tr.step(x, y);
  REQUIRE(std::memcmp(before.data(), frozen_branch.frozen_parameters().data(), before.size() * sizeof(double)) == 0);
  // 5. Sizes follow what trains.
  STATIC_REQUIRE(gradients<decltype(frozen_branch)>::size == 8 * 6 + 8 + 8 * 3 + 3);
  STATIC_REQUIRE(optimizer<decltype(frozen_branch), adam>::state_size == 2 * (8 * 6 + 8 + 8 * 3 + 3));
}

TEST_CASE("gradients through concatenate and two inputs match central differences in double",
          "[graph][functional][gradcheck]") {
  frost::matrix<double, 5> a(3);
  frost::matrix<double, 4> b(3);
  frost::matrix<double, 2> y(3);
  frost_test::fill_uniform(a.values(), 31);
  frost_test::fill_uniform(b.values(), 32);
  for (std::size_t i = 0; i < 3; ++i) y(i, i % 2) = 1.0;
  auto m = two_input_model<double, false>();
  REQUIRE(frost_test::check_model_gradients(m, binary_crossentropy{}, std::tie(a, b), y) ==
          decltype(m)::trainable_param_count);
  auto f = two_input_model<double, true>();
  REQUIRE(frost_test::check_model_gradients(f, binary_crossentropy{}, std::tie(a, b), y) == 36);
}

TEST_CASE("a functional chain is the sequential model: same weights, outputs and training bits",
          "[graph][functional]") {
  using seq = sequential<input<10>, dense<16, relu>, dense<8, tanh_activation>, dense<3, softmax>>;
  auto in = input<10>{};
  auto out = dense<3, softmax>{}(dense<8, tanh_activation>{}(dense<16, relu>{}(in)));
  auto f = make_model(in, out);
  seq s = seq::init(0);  // layer i of seq draws from stream i; node i + 1 of f from stream i + 1
  load(f.layer<1>(), s.layer<0>().kernel(), s.layer<0>().bias());
  load(f.layer<2>(), s.layer<1>().kernel(), s.layer<1>().bias());
  load(f.layer<3>(), s.layer<2>().kernel(), s.layer<2>().bias());
  REQUIRE(frost_test::same_bytes(s.trainable_parameters(), f.trainable_parameters()));
  frost::matrix<float, 10> x(9);
  frost::matrix<float, 3> y(9);
  frost_test::fill_uniform(x.values(), 5);
  for (std::size_t i = 0; i < 9; ++i) y(i, i % 3) = 1.f;
  const auto ps = s(x), pf = f(x);
  REQUIRE(std::memcmp(ps.data(), pf.data(), ps.size() * sizeof(float)) == 0);
  auto ts = make_trainer(s, categorical_crossentropy{}, adam{.learning_rate = 0.01f}, 9);
  auto tf = make_trainer(f, categorical_crossentropy{}, adam{.learning_rate = 0.01f}, 9);
  for (int k = 0; k < 3; ++k) REQUIRE(ts.step(x, y) == tf.step(x, y));
  REQUIRE(frost_test::same_bytes(s.trainable_parameters(), f.trainable_parameters()));
  STATIC_REQUIRE(decltype(f)::plan.workspace_per_sample == seq::plan.workspace_per_sample);
}

TEST_CASE("a functional step on two threads gives the bits of one thread", "[graph][functional][threads]") {
  auto in = input<64>{};
  auto h = dense<256, relu>{}(in);
  auto r = add{}(h, dense<256, relu>{}(h));
  auto out = dense<10, softmax>{}(concatenate{}(r, frozen<dense<32, tanh_activation>>{}(in)));
  using M = decltype(make_model(in, out));
  M one = M::init(3), two = M::init(3);
  frost::matrix<float, 64> x(256);
  frost::matrix<float, 10> y(256);
  frost_test::fill_uniform(x.values(), 9);
  for (std::size_t i = 0; i < 256; ++i) y(i, i % 10) = 1.f;
  auto t1 = make_trainer(one, categorical_crossentropy{}, adam{}, 256);
  auto t2 = make_trainer(two, categorical_crossentropy{}, adam{}, 256, threads{2});
  for (int k = 0; k < 3; ++k) REQUIRE(t1.step(x, y) == t2.step(x, y));
  REQUIRE(frost_test::same_bytes(one.trainable_parameters(), two.trainable_parameters()));
  const auto p1 = t1.predict(x), p2 = t2.predict(x);
  REQUIRE(std::memcmp(p1.data(), p2.data(), p1.size() * sizeof(float)) == 0);
}

TEST_CASE("layers have Keras's default names or their own, found by name", "[graph][functional][names]") {
  auto in = input<4>{};
  auto h = named<"encoder", dense<8, relu>>{}(in);
  auto out = dense<2, softmax>{}(add{}(h, dense<8, relu>{}(h)));
  auto m = make_model(in, out);
  using M = decltype(m);
  REQUIRE(M::names[0].str() == "input_layer");
  REQUIRE(M::names[1].str() == "encoder");
  REQUIRE(M::names[2].str() == "dense");
  REQUIRE(M::names[3].str() == "add");
  REQUIRE(M::names[4].str() == "dense_1");
  STATIC_REQUIRE(M::index_of<"encoder"> == 1);
  STATIC_REQUIRE(M::index_of<"dense_1"> == 4);
  STATIC_REQUIRE(M::index_of<"decoder"> == static_cast<std::size_t>(-1));
  REQUIRE(m.layer<"encoder">().kernel().data() == m.layer<1>().kernel().data());
  // Freezing by name and by index give the same type.
  auto f = freeze<"encoder">(std::move(m));
  STATIC_REQUIRE(std::is_same_v<decltype(f), frozen_model_t<M, 1>>);
  STATIC_REQUIRE(std::is_same_v<decltype(f)::layer_type<1>, frozen<named<"encoder", dense<8, relu>>>>);
  auto g = unfreeze<"encoder">(std::move(f));
  STATIC_REQUIRE(std::is_same_v<decltype(g), M>);
  // Sequential models name their layers too (the input has no name there).
  using S = sequential<input<4>, dense<8>, named<"head", dense<2>>, dense<2>>;
  REQUIRE(S::names[1].str() == "dense");
  REQUIRE(S::names[2].str() == "head");
  REQUIRE(S::names[3].str() == "dense_1");
  STATIC_REQUIRE(S::index_of<"head"> == 1);
  STATIC_REQUIRE(std::is_same_v<decltype(freeze<"head">(S::init(0))), frozen_model_t<S, 1>>);
}

TEST_CASE("every accessor of a moved-from model throws state_error", "[graph][functional][moved]") {
  auto in = input<4>{};
  auto m = make_model(in, dense<2, softmax>{}(dense<3, relu>{}(in)));
  auto f = freeze<1>(std::move(m));
  (void)f;
  const char* moved = "expected a model holding its weights, got one that was moved from";
  // NOLINTBEGIN(bugprone-use-after-move)
  REQUIRE_THROWS_AS(m.layer<1>(), state_error);
  REQUIRE_THROWS_WITH(m.layer<1>(), Catch::Contains(moved));
  REQUIRE_THROWS_AS(m.layer<"dense">(), state_error);
  REQUIRE_THROWS_AS(m.trainable_parameters(), state_error);
  REQUIRE_THROWS_AS(m.frozen_parameters(), state_error);
  REQUIRE_THROWS_AS(summary_string(m), state_error);
  REQUIRE_THROWS_AS(m(frost::matrix<float, 4>(1)), state_error);
  REQUIRE_THROWS_AS(freeze<2>(std::move(m)), state_error);
  using S = sequential<input<4>, dense<3>, dense<2>>;
  S s = S::init(0);
  auto fs = freeze<0, 1>(std::move(s));
  (void)fs;
  REQUIRE_THROWS_AS(s.layer<1>(), state_error);
  REQUIRE_THROWS_AS(s.layer<1>().bias(), state_error);
  REQUIRE_THROWS_AS(s.trainable_parameters(), state_error);
  REQUIRE_THROWS_AS(s.frozen_parameters(), state_error);
  REQUIRE_THROWS_AS(summary_string(s), state_error);
  REQUIRE_THROWS_AS(make_optimizer(s, adam{}), state_error);
  // NOLINTEND(bugprone-use-after-move)
}

TEST_CASE("data of the wrong row count for a two-input model is refused before anything runs",
          "[graph][functional][errors]") {
  auto m = two_input_model<float, false>();
  frost::matrix<float, 5> a(3);
  frost::matrix<float, 4> b(2);
  frost::matrix<float, 2> y(3);
  REQUIRE_THROWS_AS(m(a, b), shape_error);
  REQUIRE_THROWS_WITH(m(a, b), "frost::functional::operator(): rows of input 1: expected 3 (the rows of input 0), got 2");
  REQUIRE_THROWS_AS(value_and_grad(m, binary_crossentropy{}, std::tie(a, b), y), shape_error);
}
