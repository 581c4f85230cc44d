// docs/training.md: value_and_grad with an explicit optimizer (Keras's GradientTape loop), then
// the same with a trainer, and the errors a bad batch raises.
#include <frost/frost.hpp>

#include <cstdio>

int main() {
  using namespace frost;
  using Net = sequential<input<4>, dense<8, tanh_activation>, dense<3, softmax>>;
  Net model = Net::init(1);

  matrix<float, 4> x(6);
  matrix<int, 1> labels(6);  // integer classes for sparse_categorical_crossentropy
  for (std::size_t i = 0; i < 6; ++i) {
    x(i, i % 4) = 1.f;
    labels(i, 0) = int(i % 3);
  }

  // The GradientTape loop: loss and gradients, then apply_gradients.
  auto opt = make_optimizer(model, sgd{.learning_rate = 0.1f, .momentum = 0.9f});
  for (int step = 0; step < 5; ++step) {
    auto [loss, grads] = value_and_grad(model, sparse_categorical_crossentropy{}, x, labels);
    opt.apply_gradients(model, grads);
    std::printf("tape step %d: loss %.4f\n", step, double(loss));
  }

  // The hot path: a trainer owns every buffer and allocates nothing per step.
  auto tr = make_trainer(model, sparse_categorical_crossentropy{}, rmsprop{.learning_rate = 0.01f}, /*max_batch=*/8);
  float loss = 0;
  for (int step = 0; step < 50; ++step) loss = tr.step(x, labels);
  std::printf("trainer: loss %.4f\n", double(loss));

  // The same on two threads (the caller and one worker the trainer starts now): every step
  // gives the bits one thread gives; this small model is not worth splitting, so it is not.
  Net twin = Net::init(1);
  auto tr2 = make_trainer(twin, sparse_categorical_crossentropy{}, rmsprop{.learning_rate = 0.01f}, 8, threads{2});
  for (int step = 0; step < 3; ++step) tr2.step(x, labels);
  auto p = tr2.predict(x);  // inference in the trainer's workspace, on its threads
  std::printf("two threads: %zu threads, first prediction %.4f\n", tr2.thread_count(), double(p(0, 0)));

  // Bad input throws and changes nothing.
  labels(0, 0) = 7;
  try {
    tr.step(x, labels);
  } catch (const value_error& e) {
    std::printf("value_error: %s\n", e.what());
  }
  matrix<float, 4> too_big(9);
  matrix<int, 1> too_big_labels(9);
  try {
    tr.step(too_big, too_big_labels);
  } catch (const shape_error& e) {
    std::printf("shape_error: %s\n", e.what());
  }
  return 0;
}
