// docs/convolution.md quotes this file: convolutional networks, batch normalization with Keras's
// frozen semantics, dropout, and what freezing a convolutional base saves. Every fact the page
// states is checked here, at compile time or at run time (exit code 1 on a mismatch).
#include <frost/frost.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <type_traits>
#include <vector>

int main() {
  using namespace frost;
  int failures = 0;
  auto check = [&](bool ok, const char* what) {
    if (!ok) {
      std::printf("FAILED: %s\n", what);
      ++failures;
    }
  };

  // --- A small CNN on 28x28 grey images ---
  using cnn = sequential<input<28, 28, 1>,
                         conv2d<32, 3, 3>, batch_normalization<>, activation<relu>, max_pooling2d<2, 2>,
                         conv2d<64, 3, 3>, batch_normalization<>, activation<relu>, max_pooling2d<2, 2>,
                         flatten, dropout<0.25f>, dense<10, softmax>>;
  static_assert(std::is_same_v<cnn::node_output_shape<4>, shape<13, 13, 32>>);  // after the first pooling
  static_assert(std::is_same_v<cnn::node_output_shape<10>, shape<1600>>);       // flatten: 5 * 5 * 64
  cnn model = cnn::init(42);

  // --- Images: a batch of H x W x C samples, and its flat view without a copy ---
  matrix<float, 28, 28, 1> images(64);
  images(0, 27, 27, 0) = 1.f;  // x(i, h, w, c)
  matrix_view<float, 784> flat = images.view<784>();
  check(flat.data() == images.data() && flat(0, 783) == 1.f, "a view shares the storage");

  // --- Options: strides and padding, in any order ---
  using strided = sequential<input<28, 28, 1>, conv2d<16, 5, 5, relu, strides<2>, padding::same>>;
  static_assert(std::is_same_v<strided::output_shape, shape<14, 14, 16>>);  // ceil(28 / 2)

  // --- Batch normalization: parameters and state ---
  auto bn = model.layer<1>();
  std::span<float, 32> gamma = bn.gamma();
  std::span<float, 32> moving_variance = bn.moving_variance();
  check(gamma[0] == 1.f && bn.beta()[0] == 0.f && bn.moving_mean()[0] == 0.f && moving_variance[0] == 1.f,
        "Keras's initial values");
  static_assert(cnn::state_count == 2 * 32 + 2 * 64);  // moving_mean and moving_variance

  // --- Training mode updates the moving statistics; inference reads them ---
  matrix<float, 10> labels(64);
  for (std::size_t i = 0; i < 64; ++i) {
    labels(i, i % 10) = 1.f;
    for (std::size_t p = 0; p < 784; ++p) images.data()[i * 784 + p] = float((i * 7 + p * 3) % 17) / 17.f;
  }
  auto tr = make_trainer(model, categorical_crossentropy{}, adam{}, 64, threads{1}, seed{7});
  tr.step(images, labels);                         // batch statistics; moving = 0.99 * moving + 0.01 * batch
  check(model.layer<1>().moving_mean()[0] != 0.f, "a training step moved the statistics");
  matrix<float, 10> p = model(images);             // moving statistics, dropout off
  check(std::abs(p(0, 0) + p(0, 1) + p(0, 2) + p(0, 3) + p(0, 4) + p(0, 5) + p(0, 6) + p(0, 7) + p(0, 8) + p(0, 9) - 1.f) < 1e-4f,
        "probabilities");

  // --- Freezing the convolutional base ---
  auto base_frozen = freeze<0, 1, 4, 5>(std::move(model));
  static_assert(decltype(base_frozen)::trainable_param_count == 1600 * 10 + 10);  // the head
  static_assert(decltype(base_frozen)::plan.kept_per_sample == 1600 + 10);  // the head's input and its softmax
  const std::vector<float> statistics(base_frozen.state().begin(), base_frozen.state().end());
  auto head = make_trainer(base_frozen, categorical_crossentropy{}, adam{}, 64);
  head.step(images, labels);                       // frozen batch normalization: inference mode
  check(std::equal(statistics.begin(), statistics.end(), base_frozen.state().begin()), "frozen statistics never move");
  summary(base_frozen);

  // --- The frozen form ---
  static_assert(std::is_same_v<spec_t<frozen<batch_normalization<>>>, detail::frozen_batch_normalization<0.99f, 1e-3f>>);

  // --- Dropout and seeds ---
  using with_dropout = sequential<input<64>, dense<32, relu>, dropout<0.5f>, dense<10, softmax>>;
  auto a = with_dropout::init(1), b = with_dropout::init(1);
  matrix<float, 64> x(8);
  matrix<float, 10> y(8);
  for (std::size_t i = 0; i < 8; ++i) {
    y(i, i) = 1.f;
    for (std::size_t j = 0; j < 64; ++j) x(i, j) = float((i + j) % 5) / 5.f;
  }
  auto ta = make_trainer(a, categorical_crossentropy{}, sgd{}, 8, threads{1}, seed{3});
  auto tb = make_trainer(b, categorical_crossentropy{}, sgd{}, 8, threads{2}, seed{3});
  check(ta.step(x, y) == tb.step(x, y), "the same seed draws the same masks on any number of threads");
  set_random_seed(5);  // value_and_grad's masks, as keras.utils.set_random_seed
  const float l1 = value_and_grad(a, categorical_crossentropy{}, x, y).loss;
  set_random_seed(5);
  const float l2 = value_and_grad(a, categorical_crossentropy{}, x, y).loss;
  check(l1 == l2, "set_random_seed restarts value_and_grad's stream");

  std::printf("%s\n", failures == 0 ? "all checks passed" : "some checks failed");
  return failures == 0 ? 0 : 1;
}
