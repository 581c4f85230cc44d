// DESIGN's semantics 1-8 on convolutional networks: freezing changes no inference forward, frozen
// weights and statistics never move, trainable gradients do not depend on what else is frozen
// and flow through frozen layers, and the plan keeps nothing for a frozen convolutional prefix.
#include <frost/frost.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <span>
#include <type_traits>
#include <vector>

namespace {

using cnn = frost::sequential<frost::input<12, 12, 1>, frost::conv2d<8, 3, 3>, frost::batch_normalization<>,
                              frost::activation<frost::relu>, frost::max_pooling2d<2, 2>, frost::conv2d<16, 3, 3, frost::relu>,
                              frost::flatten, frost::dense<10, frost::softmax>>;
constexpr std::size_t flat = 3 * 3 * 16;

frost::matrix<float, 12, 12, 1> images(std::size_t rows, std::uint64_t seed) {
  frost::matrix<float, 12, 12, 1> x(rows);
  frost_test::fill_uniform(x.values(), seed);
  return x;
}
frost::matrix<float, 10> labels(std::size_t rows) {
  frost::matrix<float, 10> y(rows);
  for (std::size_t i = 0; i < rows; ++i) y(i, (i * 3) % 10) = 1.f;
  return y;
}
std::span<const float> bytes_of(std::span<const float> s) { return s; }

template <class L, class In>
constexpr bool has_params_stage = requires(const frost::backward_args<float>& a) {
  L::template backward<In>(frost::stage<frost::backward_stage::params>{}, a);
};

}  // namespace

TEST_CASE("cnn semantics 1: the inference forward pass is bit-identical whatever is frozen", "[graph][cnn][semantics]") {
  const auto x = images(9, 1);
  const auto all = cnn::init(4)(x);
  const auto base = frost::freeze<0, 1, 4>(cnn::init(4))(x);
  const auto middle = frost::freeze<4>(cnn::init(4))(x);
  REQUIRE(frost_test::same_bytes(all.values(), base.values()));
  REQUIRE(frost_test::same_bytes(all.values(), middle.values()));
  // Training mode too, when no batch normalization is frozen (a frozen one switches to inference
  // mode, as in Keras: semantics 7).
  auto a = cnn::init(4);
  auto b = frost::freeze<0, 4>(cnn::init(4));
  const auto la = frost::value_and_grad(a, frost::categorical_crossentropy{}, x, labels(9)).loss;
  const auto lb = frost::value_and_grad(b, frost::categorical_crossentropy{}, x, labels(9)).loss;
  REQUIRE(la == lb);
}

TEST_CASE("cnn semantics 2 and 7: frozen weights and frozen statistics are bit-unchanged by training",
          "[graph][cnn][semantics]") {
  auto m = frost::freeze<0, 1>(cnn::init(5));
  const std::vector<float> frozen(m.frozen_parameters().begin(), m.frozen_parameters().end());
  const std::vector<float> state(m.state().begin(), m.state().end());
  const std::vector<float> trainable(m.trainable_parameters().begin(), m.trainable_parameters().end());
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 16);
  for (int s = 0; s < 4; ++s) tr.step(images(16, 10 + s), labels(16));
  REQUIRE(frost_test::same_bytes(bytes_of(frozen), bytes_of(m.frozen_parameters())));
  REQUIRE(frost_test::same_bytes(bytes_of(state), bytes_of(m.state())));
  REQUIRE_FALSE(frost_test::same_bytes(bytes_of(trainable), bytes_of(m.trainable_parameters())));
  // A trainable batch normalization's statistics move (and only in training).
  auto t = cnn::init(5);
  auto tt = frost::make_trainer(t, frost::categorical_crossentropy{}, frost::adam{}, 16);
  tt.step(images(16, 10), labels(16));
  REQUIRE_FALSE(frost_test::same_bytes(bytes_of(state), bytes_of(t.state())));
}

TEST_CASE("cnn semantics 3: trainable gradients equal the fully trainable model's", "[graph][cnn][semantics]") {
  const auto x = images(7, 2);
  auto full = cnn::init(6);
  auto part = frost::freeze<0, 4>(cnn::init(6));  // both convolutions frozen, batch normalization trains
  const auto gf = frost::value_and_grad(full, frost::categorical_crossentropy{}, x, labels(7)).grads;
  const auto gp = frost::value_and_grad(part, frost::categorical_crossentropy{}, x, labels(7)).grads;
  STATIC_REQUIRE(std::is_same_v<decltype(gp.layer<0>()), frost::no_gradient>);
  STATIC_REQUIRE(std::is_same_v<decltype(gp.layer<4>()), frost::no_gradient>);
  for (std::size_t i = 0; i < 8; ++i) {
    REQUIRE(frost_test::close(gp.layer<1>().gamma()[i], gf.layer<1>().gamma()[i], 1e-5));
    REQUIRE(frost_test::close(gp.layer<1>().beta()[i], gf.layer<1>().beta()[i], 1e-5));
  }
  for (std::size_t i = 0; i < flat * 10; ++i)
    REQUIRE(frost_test::close(gp.layer<6>().kernel()[i], gf.layer<6>().kernel()[i], 1e-5));
}

TEST_CASE("cnn semantics 4: the gradient flows through frozen convolution and pooling to a trainable layer below",
          "[graph][cnn][semantics][gradients]") {
  using net = frost::basic_sequential<double, frost::input<7, 6, 2>, frost::conv2d<3, 2, 2, frost::tanh_activation>,
                                      frost::frozen<frost::conv2d<4, 3, 2, frost::sigmoid, frost::padding::same>>,
                                      frost::frozen<frost::max_pooling2d<2, 2>>, frost::frozen<frost::batch_normalization<>>,
                                      frost::flatten, frost::dense<2>>;
  frost::matrix<double, 7, 6, 2> x(3);
  frost_test::fill_uniform(x.values(), 3);
  frost::matrix<double, 2> y(3);
  frost_test::fill_uniform(y.values(), 4);
  auto m = net::init(7);
  // The first convolution and the head: 6x5x3 -> same 6x5x4 -> pooled 3x2x4 = 24 features.
  constexpr std::size_t trained = (2 * 2 * 2 * 3 + 3) + (24 * 2 + 2);
  STATIC_REQUIRE(net::trainable_param_count == trained);
  REQUIRE(frost_test::check_model_gradients(m, frost::mean_squared_error{}, x, y) == trained);
}

TEST_CASE("cnn semantics 5: a frozen convolutional prefix keeps nothing, sized at compile time",
          "[graph][cnn][semantics][plan]") {
  using base_frozen = frost::frozen_model_t<cnn, 0, 1, 4>;
  constexpr auto& p = base_frozen::plan;
  // Only the head trains: its input (the flattened features, read by dW) and the softmax output
  // (read by the loss) are kept; no patches, no convolution or pooling outputs.
  STATIC_REQUIRE(p.kept_per_sample == flat + 10);
  STATIC_REQUIRE(p.extra_offset[1] == p.npos);
  STATIC_REQUIRE(p.extra_offset[5] == p.npos);
  STATIC_REQUIRE(frost::gradients<base_frozen>::size == flat * 10 + 10);
  STATIC_REQUIRE(base_frozen::state_count == 2 * 8);
  // All trainable: each convolution keeps its patches for its weight gradient.
  STATIC_REQUIRE(cnn::plan.extra_offset[1] != cnn::plan.npos);
  STATIC_REQUIRE(cnn::plan.facts[5].extra_kept == (3 * 3) * (3 * 3 * 8));  // positions × window
  STATIC_REQUIRE(cnn::plan.kept_per_sample > p.kept_per_sample + 10 * 10 * 9 + 9 * 72);
  STATIC_REQUIRE(frost::gradients<cnn>::size == cnn::trainable_param_count);
}

TEST_CASE("cnn semantics 6: a frozen batch normalization is its inference affine, without batch-statistics code",
          "[graph][cnn][semantics]") {
  using frozen_spec = frost::spec_t<frost::frozen<frost::batch_normalization<>>>;
  STATIC_REQUIRE(std::is_same_v<frozen_spec, frost::detail::frozen_batch_normalization<0.99f, 1e-3f>>);
  using in = frost::shape<4, 4, 8>;
  // The frozen form has no weight-gradient stage at all, and it needs nothing of the batch.
  STATIC_REQUIRE_FALSE(has_params_stage<frozen_spec, in>);
  STATIC_REQUIRE(has_params_stage<frost::batch_normalization<>, in>);
  STATIC_REQUIRE(frost::layer_traits<frozen_spec>::rows_independent);
  STATIC_REQUIRE_FALSE(frost::layer_traits<frost::batch_normalization<>>::rows_independent);
}

TEST_CASE("cnn: two threads give the bits of one", "[graph][cnn][threads]") {
  const auto x = images(64, 8);
  auto run = [&](std::size_t threads, auto model) {
    auto tr = frost::make_trainer(model, frost::categorical_crossentropy{}, frost::adam{}, 64, frost::threads{threads});
    std::vector<float> losses;
    for (int s = 0; s < 3; ++s) losses.push_back(tr.step(x, labels(64)));
    losses.insert(losses.end(), model.trainable_parameters().begin(), model.trainable_parameters().end());
    losses.insert(losses.end(), model.state().begin(), model.state().end());
    return losses;
  };
  const auto one = run(1, cnn::init(9)), two = run(2, cnn::init(9));
  REQUIRE(frost_test::same_bytes(bytes_of(one), bytes_of(two)));
  const auto f1 = run(1, frost::freeze<0, 1>(cnn::init(9))), f2 = run(2, frost::freeze<0, 1>(cnn::init(9)));
  REQUIRE(frost_test::same_bytes(bytes_of(f1), bytes_of(f2)));
}

TEST_CASE("cnn: a product, a batch normalization in its affine form and an activation run as one product",
          "[graph][cnn][fusion]") {
  // Inference fuses conv → batch normalization → relu whatever is frozen; a training pass only
  // where the batch normalization is frozen (trainable, it uses batch statistics).
  STATIC_REQUIRE(cnn::plan.inference_fused_into[2] == 1);
  STATIC_REQUIRE(cnn::plan.inference_fused_into[3] == 1);
  STATIC_REQUIRE(cnn::plan.inference_fused_last[1] == 3);
  STATIC_REQUIRE(cnn::plan.fused_into[2] == cnn::plan.npos);
  using base_frozen = frost::frozen_model_t<cnn, 0, 1>;
  STATIC_REQUIRE(base_frozen::plan.fused_into[2] == 1);
  STATIC_REQUIRE(base_frozen::plan.fused_last[1] == 3);
  // The second convolution (relu in its own epilogue) has no affine after it: nothing fused.
  STATIC_REQUIRE(cnn::plan.inference_fused_last[5] == 5);
  // A trainable batch normalization in a training pass applies the relu after it itself.
  STATIC_REQUIRE(cnn::plan.fused_into[3] == 2);
  STATIC_REQUIRE(cnn::plan.fused_last[2] == 3);
  STATIC_REQUIRE(cnn::plan.fused_last[1] == 1);

  // The fused result equals the layers run one at a time (separate models: nothing to fuse).
  using conv_bn_relu = frost::basic_sequential<double, frost::input<9, 8, 2>, frost::conv2d<5, 3, 3>,
                                               frost::batch_normalization<>, frost::activation<frost::relu>>;
  STATIC_REQUIRE(conv_bn_relu::plan.inference_fused_last[1] == 3);
  auto m = conv_bn_relu::init(3);
  auto bn = m.layer<1>();
  for (std::size_t c = 0; c < 5; ++c) {
    bn.gamma()[c] = 0.5 + 0.2 * double(c);
    bn.beta()[c] = 0.1 * double(c) - 0.2;
    bn.moving_mean()[c] = 0.05 * double(c);
    bn.moving_variance()[c] = 0.6 + 0.3 * double(c);
  }
  auto conv = frost::basic_sequential<double, frost::input<9, 8, 2>, frost::conv2d<5, 3, 3>>::init(0);
  std::copy(m.layer<0>().kernel().begin(), m.layer<0>().kernel().end(), conv.layer<0>().kernel().begin());
  auto norm = frost::basic_sequential<double, frost::input<7, 6, 5>, frost::batch_normalization<>>::init(0);
  std::copy(m.state().begin(), m.state().end(), norm.state().begin());
  std::copy(bn.gamma().begin(), bn.gamma().end(), norm.layer<0>().gamma().begin());
  std::copy(bn.beta().begin(), bn.beta().end(), norm.layer<0>().beta().begin());
  auto relu = frost::basic_sequential<double, frost::input<7, 6, 5>, frost::activation<frost::relu>>::init(0);
  frost::matrix<double, 9, 8, 2> x(4);
  frost_test::fill_uniform(x.values(), 17);
  const auto fused = m(x);
  const auto apart = relu(norm(conv(x)));
  REQUIRE(fused.size() == apart.size());
  for (std::size_t i = 0; i < fused.size(); ++i) REQUIRE(frost_test::close(fused.data()[i], apart.data()[i], 1e-12));
}

TEST_CASE("cnn: gradients through a fused frozen chain match finite differences", "[graph][cnn][fusion][gradients]") {
  // A trainable convolution below a frozen conv → frozen batch normalization → relu chain, which
  // the training pass fuses; then an activation whose derivative reads its input, which stops a
  // chain at the batch normalization.
  using net = frost::basic_sequential<double, frost::input<7, 6, 2>, frost::conv2d<3, 2, 2, frost::tanh_activation>,
                                      frost::frozen<frost::conv2d<4, 2, 2>>, frost::frozen<frost::batch_normalization<>>,
                                      frost::activation<frost::relu>, frost::frozen<frost::conv2d<3, 2, 2>>,
                                      frost::frozen<frost::batch_normalization<0.9f>>, frost::activation<frost::swish>,
                                      frost::flatten, frost::dense<2>>;
  STATIC_REQUIRE(net::plan.fused_into[3] == 2);
  STATIC_REQUIRE(net::plan.fused_into[4] == 2);
  STATIC_REQUIRE(net::plan.fused_into[6] == 5);
  STATIC_REQUIRE(net::plan.fused_into[7] == net::plan.npos);  // swish' reads its input
  frost::matrix<double, 7, 6, 2> x(3);
  frost_test::fill_uniform(x.values(), 5);
  frost::matrix<double, 2> y(3);
  frost_test::fill_uniform(y.values(), 6);
  auto m = net::init(8);
  m.layer<2>().moving_variance()[1] = 0.4;
  m.layer<2>().beta()[3] = 0.3;
  m.layer<5>().gamma()[0] = 1.7;
  REQUIRE(frost_test::check_model_gradients(m, frost::mean_squared_error{}, x, y) == net::trainable_param_count);
}
