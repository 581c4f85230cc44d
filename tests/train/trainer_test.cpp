#include <frost/frost.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>
#include <type_traits>
#include <vector>

namespace {
using net = frost::sequential<frost::input<6>, frost::frozen<frost::dense<8, frost::relu>>, frost::dense<5, frost::relu>,
                              frost::dense<3, frost::softmax>>;
}

TEST_CASE("trainer::step equals value_and_grad followed by apply_gradients, bit for bit", "[train][trainer]") {
  frost::matrix<float, 6> x(7);
  frost::matrix<float, 3> y(7);
  frost_test::fill_uniform(x.values(), 5);
  for (std::size_t i = 0; i < 7; ++i) y(i, i % 3) = 1.f;
  net a = net::init(2), b = net::init(2);
  auto tr = frost::make_trainer(a, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 16,
                                frost::keep_gradients);
  auto opt = frost::make_optimizer(b, frost::adam{.learning_rate = 0.01f});
  for (int s = 0; s < 5; ++s) {
    const float la = tr.step(x, y);
    auto [lb, g] = frost::value_and_grad(b, frost::categorical_crossentropy{}, x, y);
    opt.apply_gradients(b, g);
    REQUIRE(std::memcmp(&la, &lb, sizeof la) == 0);
    REQUIRE(frost_test::same_bytes(a.trainable_parameters(), b.trainable_parameters()));
    REQUIRE(frost_test::same_bytes(tr.last_gradients().values(), g.values()));  // the step's gradients
  }
  REQUIRE(tr.get_optimizer().iterations() == 5);
}

TEST_CASE("training lowers the loss on a learnable problem", "[train][trainer]") {
  frost::matrix<float, 6> x(30);
  frost::matrix<int, 1> labels(30);
  frost_test::fill_uniform(x.values(), 6);
  for (std::size_t i = 0; i < 30; ++i) labels(i, 0) = x(i, 0) > 0.3f ? 2 : (x(i, 1) > 0.f ? 1 : 0);
  using open = frost::sequential<frost::input<6>, frost::dense<16, frost::relu>, frost::dense<3, frost::softmax>>;
  open m = open::init(4);
  auto tr = frost::make_trainer(m, frost::sparse_categorical_crossentropy{}, frost::adam{.learning_rate = 0.02f}, 30);
  const float first = tr.step(x, labels);
  float last = first;
  for (int s = 0; s < 200; ++s) last = tr.step(x, labels);
  REQUIRE(last < 0.5f * first);
}

TEST_CASE("bad batches throw shape_error or value_error and change nothing", "[train][trainer]") {
  net m = net::init(3);
  const net before = m;
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 4);
  frost::matrix<float, 6> big(5), x(2);
  frost::matrix<float, 3> ybig(5), y3(3);
  REQUIRE_THROWS_AS(tr.step(big, ybig), frost::shape_error);
  REQUIRE_THROWS_WITH(tr.step(big, ybig), "frost::trainer::step: batch rows: expected at most 4 (max_batch), got 5");
  REQUIRE_THROWS_WITH(tr.step(x, y3), "frost::trainer::step: rows of y: expected 2 (the rows of x), got 3");

  using sparse_net = frost::sequential<frost::input<6>, frost::dense<3, frost::softmax>>;
  sparse_net s = sparse_net::init(1);
  const sparse_net s_before = s;
  auto ts = frost::make_trainer(s, frost::sparse_categorical_crossentropy{}, frost::sgd{}, 4);
  frost::matrix<int, 1> labels(2);
  labels(1, 0) = 3;
  REQUIRE_THROWS_AS(ts.step(x, labels), frost::value_error);
  REQUIRE_THROWS_WITH(ts.step(x, labels),
                      "frost::trainer::step: label of row 1: expected a class index in [0, 3), got 3");
  REQUIRE_THROWS_WITH(frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 0),
                      "frost::make_trainer: max_batch: expected at least 1, got 0");
  // Nothing was lost: no parameter and no optimizer step moved.
  REQUIRE(frost_test::same_bytes(before.trainable_parameters(), m.trainable_parameters()));
  REQUIRE(frost_test::same_bytes(s_before.trainable_parameters(), s.trainable_parameters()));
  REQUIRE(tr.get_optimizer().iterations() == 0);
  REQUIRE(ts.get_optimizer().iterations() == 0);
}

TEST_CASE("a trainer allocates what the plan says and no more", "[train][trainer]") {
  net m = net::init(3);
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::adam{}, 32);
  // Workspace: kept outputs (layer 0: 8, read by layer 1's weight gradient; layer 1: 5; layer 2: 3) plus the
  // gradients: dL/dy of the output (3) and of layer 1 (5), alive together while layer 2's backward runs. Layer 0
  // is frozen with nothing trainable below it: it receives no gradient. Per sample.
  STATIC_REQUIRE(decltype(tr)::workspace_per_sample == 8 + 5 + 3 + 3 + 5);
  // The fused update stores no gradient: the optimizer's two slots and the workspace.
  STATIC_REQUIRE(decltype(tr)::gradient_bytes == 0);
  REQUIRE(tr.allocated_bytes() == (32 * (8 + 5 + 3 + 3 + 5) + net::trainable_param_count * 2) * sizeof(float));
  // With keep_gradients, one more float per trainable parameter.
  auto kept = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::adam{}, 32, frost::keep_gradients);
  STATIC_REQUIRE(decltype(kept)::gradient_bytes == net::trainable_param_count * sizeof(float));
  REQUIRE(kept.allocated_bytes() == (32 * (8 + 5 + 3 + 3 + 5) + net::trainable_param_count * 3) * sizeof(float));
}

TEST_CASE("finite-check mode refuses an update from a NaN loss and changes nothing", "[train][trainer]") {
  net m = net::init(3);
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::adam{}, 4, frost::keep_gradients);
  frost::matrix<float, 6> x(2);
  frost::matrix<float, 3> y(2);
  y(0, 0) = y(1, 2) = 1.f;
  tr.step(x, y);  // a normal step first, so the optimizer has state to protect
  m.layer<2>().bias()[1] = std::numeric_limits<float>::quiet_NaN();  // e.g. a corrupted weight
  const net before = m;
  const std::vector<float> state(tr.get_optimizer().state().begin(), tr.get_optimizer().state().end());
  REQUIRE_FALSE(tr.check_finite());
  tr.check_finite(true);
  REQUIRE_THROWS_AS(tr.step(x, y), frost::value_error);
  REQUIRE_THROWS_WITH(tr.step(x, y), Catch::StartsWith("frost::trainer::step: loss: expected a finite value (finite-check mode), got nan"));
  REQUIRE(frost_test::same_bytes(before.trainable_parameters(), m.trainable_parameters()));
  REQUIRE(std::memcmp(state.data(), tr.get_optimizer().state().data(), state.size() * sizeof(float)) == 0);
  REQUIRE(tr.get_optimizer().iterations() == 1);
  // Without the check the NaN goes through, as in Keras.
  tr.check_finite(false);
  tr.step(x, y);
  REQUIRE(std::isnan(m.layer<2>().kernel()[1]));
}

TEST_CASE("finite-check mode names the layer of a non-finite gradient", "[train][trainer]") {
  // A finite loss with an overflowing weight gradient: dW = xᵀ·dz = 3e38 · (−1e10).
  using wide = frost::sequential<frost::input<2>, frost::dense<2>>;
  wide m = wide::init(1);
  m.layer<0>().kernel()[0] = m.layer<0>().kernel()[1] = 0.f;  // input 0 does not reach the output
  const wide before = m;
  auto tr = frost::make_trainer(m, frost::mean_squared_error{}, frost::sgd{}, 1, frost::keep_gradients);
  tr.check_finite(true);
  frost::matrix<float, 2> x(1);
  frost::matrix<float, 2> y(1);
  x(0, 0) = 3e38f;
  x(0, 1) = 0.5f;
  y(0, 0) = y(0, 1) = 1e10f;
  REQUIRE_THROWS_AS(tr.step(x, y), frost::value_error);
  REQUIRE_THROWS_WITH(tr.step(x, y), "frost::trainer::step: gradient 0 (layer 0): expected a finite value "
                                     "(finite-check mode), got -inf");
  REQUIRE(tr.get_optimizer().iterations() == 0);
  REQUIRE(frost_test::same_bytes(before.trainable_parameters(), m.trainable_parameters()));
}

namespace {
// Big enough that a step of 61 rows is split across two threads (see pool_for_step): the forward
// pass by rows, each weight gradient by units, each input gradient by rows. swish keeps z; the
// pointwise relu layer and softmax run outside the products.
using wide = frost::sequential<frost::input<96>, frost::dense<160, frost::swish>, frost::activation<frost::relu>,
                               frost::dense<96, frost::tanh_activation>, frost::dense<40, frost::softmax>>;

template <class Model>
void same_on_two_threads(Model a, Model b) {
  const std::size_t rows = 61;
  typename Model::input_matrix x(rows);
  frost::matrix<float, 40> y(rows);
  frost_test::fill_uniform(x.values(), 11);
  for (std::size_t i = 0; i < rows; ++i) y(i, (i * 7) % 40) = 1.f;
  frost::thread_pool probe(frost::threads{2});
  REQUIRE(frost::detail::pool_for_step<Model>(&probe, rows) == &probe);
  auto one = frost::make_trainer(a, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 64,
                                 frost::keep_gradients);
  auto two = frost::make_trainer(b, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 64,
                                 frost::keep_gradients, frost::threads{2});
  REQUIRE(one.thread_count() == 1);
  REQUIRE(two.thread_count() == 2);
  for (int s = 0; s < 4; ++s) {
    const float la = one.step(x, y), lb = two.step(x, y);
    REQUIRE(std::memcmp(&la, &lb, sizeof la) == 0);
    REQUIRE(frost_test::same_bytes(one.last_gradients().values(), two.last_gradients().values()));
    REQUIRE(frost_test::same_bytes(a.trainable_parameters(), b.trainable_parameters()));
  }
  REQUIRE(frost_test::same_bytes(a.frozen_parameters(), b.frozen_parameters()));
}
}  // namespace

TEST_CASE("a step on two threads gives the bits of a step on one", "[train][trainer][threads]") {
  SECTION("all trainable") { same_on_two_threads(wide::init(4), wide::init(4)); }
  SECTION("first layer frozen") { same_on_two_threads(frost::freeze<0>(wide::init(4)), frost::freeze<0>(wide::init(4))); }
  SECTION("only the last layer trainable") {
    same_on_two_threads(frost::freeze<0, 1, 2>(wide::init(4)), frost::freeze<0, 1, 2>(wide::init(4)));
  }
}

TEST_CASE("a step of a model with big layers splits each layer by units, with the bits of one thread",
          "[train][trainer][threads]") {
  // 384 x 384 floats (590 KB) make the forward pass split layer by layer, dense layers by units.
  using big = frost::sequential<frost::input<384>, frost::dense<384, frost::swish>, frost::activation<frost::relu>,
                                frost::dense<40, frost::softmax>>;
  STATIC_REQUIRE(big::plan.split_forward_by_units);
  STATIC_REQUIRE(!wide::plan.split_forward_by_units);
  SECTION("all trainable") { same_on_two_threads(big::init(5), big::init(5)); }
  SECTION("first layer frozen") { same_on_two_threads(frost::freeze<0>(big::init(5)), frost::freeze<0>(big::init(5))); }
  SECTION("predict") {
    big m = big::init(5);
    frost::matrix<float, 384> x(61);
    frost_test::fill_uniform(x.values(), 14);
    auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 64, frost::threads{2});
    REQUIRE(frost_test::same_bytes(tr.predict(x).values(), m(x).values()));
  }
}

TEST_CASE("an optimizer update split across threads equals one on a single thread", "[train][trainer][threads]") {
  using big = frost::sequential<frost::input<512>, frost::dense<300>>;  // 153,900 parameters: split on 2 threads
  big a = big::init(1), b = big::init(1);
  frost::matrix<float, 512> x(3);
  frost::matrix<float, 300> y(3);
  frost_test::fill_uniform(x.values(), 12);
  auto [loss, g] = frost::value_and_grad(a, frost::mean_squared_error{}, x, y);
  auto oa = frost::make_optimizer(a, frost::rmsprop{.momentum = 0.5f, .centered = true});
  auto ob = frost::make_optimizer(b, frost::rmsprop{.momentum = 0.5f, .centered = true});
  frost::thread_pool pool(frost::threads{2});
  for (int s = 0; s < 3; ++s) {
    oa.apply(a.trainable_parameters().data(), g.data());
    ob.apply(b.trainable_parameters().data(), g.data(), &pool);
    REQUIRE(frost_test::same_bytes(a.trainable_parameters(), b.trainable_parameters()));
    REQUIRE(frost_test::same_bytes(oa.state(), ob.state()));
  }
  REQUIRE(loss > 0.f);
}

TEST_CASE("make_trainer refuses zero threads", "[train][trainer][threads]") {
  net m = net::init(1);
  REQUIRE_THROWS_AS(frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 4, frost::threads{0}),
                    frost::value_error);
}

TEST_CASE("trainer::predict equals model(x) on one thread and on two", "[train][trainer][threads]") {
  wide m = wide::init(6);
  frost::matrix<float, 96> x(61);
  frost_test::fill_uniform(x.values(), 13);
  const auto expected = m(x);
  for (std::size_t threads : {1u, 2u}) {
    auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 64, frost::threads{threads});
    const auto got = tr.predict(x);
    REQUIRE(got.rows() == 61);
    REQUIRE(frost_test::same_bytes(got.values(), expected.values()));
    frost::matrix<float, 96> too_many(65);
    REQUIRE_THROWS_AS(tr.predict(too_many), frost::shape_error);
  }
}

namespace {

// Slot s of the optimizer state of the parameters [at, at + n) of a trainable arena of `size`.
template <class Opt>
std::vector<float> state_of(const Opt& opt, std::size_t slot, std::size_t size, std::size_t at, std::size_t n) {
  const auto s = opt.state();
  return std::vector<float>(s.begin() + slot * size + at, s.begin() + slot * size + at + n);
}

}  // namespace

TEST_CASE("progressive unfreezing carries Adam's state over bit for bit, new slots start at zero",
          "[train][trainer][unfreeze]") {
  using base = frost::sequential<frost::input<6>, frost::frozen<frost::dense<8, frost::relu>>,
                                 frost::frozen<frost::dense<5, frost::relu>>, frost::dense<3, frost::softmax>>;
  frost::matrix<float, 6> x(7);
  frost::matrix<float, 3> y(7);
  frost_test::fill_uniform(x.values(), 41);
  for (std::size_t i = 0; i < 7; ++i) y(i, i % 3) = 1.f;
  base m = base::init(4);
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 7);
  for (int s = 0; s < 3; ++s) tr.step(x, y);
  constexpr std::size_t head = 5 * 3 + 3;
  STATIC_REQUIRE(base::trainable_param_count == head);
  const auto m_head = state_of(tr.get_optimizer(), 0, head, 0, head);
  const auto v_head = state_of(tr.get_optimizer(), 1, head, 0, head);
  const std::vector<float> w_head(m.trainable_parameters().begin(), m.trainable_parameters().end());

  // Unfreeze layer 1: its 8·5 + 5 parameters join the trainable arena before the head's.
  auto deeper = frost::unfreeze<1>(std::move(m));
  auto tr2 = std::move(tr).rebind(deeper);
  using D = decltype(deeper);
  constexpr std::size_t layer1 = 8 * 5 + 5, size = layer1 + head;
  STATIC_REQUIRE(D::trainable_param_count == size);
  REQUIRE(tr2.get_optimizer().iterations() == 3);
  REQUIRE(state_of(tr2.get_optimizer(), 0, size, layer1, head) == m_head);
  REQUIRE(state_of(tr2.get_optimizer(), 1, size, layer1, head) == v_head);
  REQUIRE(state_of(tr2.get_optimizer(), 0, size, 0, layer1) == std::vector<float>(layer1, 0.f));
  REQUIRE(state_of(tr2.get_optimizer(), 1, size, 0, layer1) == std::vector<float>(layer1, 0.f));
  REQUIRE(std::memcmp(w_head.data(), deeper.trainable_parameters().data() + layer1, head * sizeof(float)) == 0);

  // The next step is Keras's: t = 4 for every slot, m ← m + (g − m)(1 − β₁) from the carried m.
  const auto g = frost::value_and_grad(deeper, frost::categorical_crossentropy{}, x, y).grads;
  const std::vector<float> layer1_before(deeper.layer<1>().kernel().begin(), deeper.layer<1>().kernel().end());
  tr2.step(x, y);
  REQUIRE(tr2.get_optimizer().iterations() == 4);
  const auto m_after = state_of(tr2.get_optimizer(), 0, size, 0, size);
  for (std::size_t i = 0; i < size; ++i) {
    const float m_old = i < layer1 ? 0.f : m_head[i - layer1];
    REQUIRE(m_after[i] == Approx(m_old + (g.values()[i] - m_old) * (1.f - 0.9f)).epsilon(1e-5).margin(1e-9));
  }
  REQUIRE_FALSE(frost_test::same_bytes(std::span<const float>(layer1_before), deeper.layer<1>().kernel()));

  // And back: freezing layer 1 again drops its state and keeps the head's.
  const auto m_head2 = state_of(tr2.get_optimizer(), 0, size, layer1, head);
  auto again = frost::freeze<1>(std::move(deeper));
  auto tr3 = std::move(tr2).rebind(again);
  STATIC_REQUIRE(std::is_same_v<decltype(again), base>);
  REQUIRE(tr3.get_optimizer().iterations() == 4);
  REQUIRE(state_of(tr3.get_optimizer(), 0, head, 0, head) == m_head2);
  tr3.step(x, y);
  REQUIRE(tr3.get_optimizer().iterations() == 5);
}

TEST_CASE("a functional model unfreezes by name and its trainer follows", "[train][trainer][unfreeze]") {
  auto in = frost::input<6>{};
  auto base_out = frost::frozen<frost::named<"base", frost::dense<8, frost::relu>>>{}(in);
  auto out = frost::dense<3, frost::softmax>{}(frost::add{}(base_out, frost::dense<8, frost::tanh_activation>{}(base_out)));
  auto m = frost::make_model(in, out);
  frost::matrix<float, 6> x(5);
  frost::matrix<float, 3> y(5);
  frost_test::fill_uniform(x.values(), 42);
  for (std::size_t i = 0; i < 5; ++i) y(i, i % 3) = 1.f;
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{.learning_rate = 0.1f, .momentum = 0.9f}, 5,
                                frost::threads{2});
  for (int s = 0; s < 2; ++s) tr.step(x, y);
  const auto before = m.layer<"base">();
  const std::vector<float> base_kernel(before.kernel().begin(), before.kernel().end());
  const auto momentum = state_of(tr.get_optimizer(), 0, decltype(m)::trainable_param_count, 0,
                                 decltype(m)::trainable_param_count);
  auto all = frost::unfreeze<"base">(std::move(m));
  auto tr2 = std::move(tr).rebind(all);
  REQUIRE(tr2.thread_count() == 2);
  constexpr std::size_t base_params = 6 * 8 + 8;
  REQUIRE(state_of(tr2.get_optimizer(), 0, decltype(all)::trainable_param_count, base_params, momentum.size()) == momentum);
  tr2.step(x, y);
  REQUIRE_FALSE(frost_test::same_bytes(std::span<const float>(base_kernel), all.layer<"base">().kernel()));
}
