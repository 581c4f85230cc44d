// The README's example: a network whose first two layers are frozen, trained on a batch.
#include <frost/frost.hpp>

#include <cstdio>
#include <utility>

int main() {
  using namespace frost;
  using Net = sequential<input<100>, dense<64, relu>, dense<32, relu>, dense<10, softmax>>;

  auto model = freeze<0, 1>(Net::init(42));                   // layers 0 and 1: trainable = False
  static_assert(decltype(model)::trainable_param_count == 330);  // only the head trains

  matrix<float, 100> x(32);                                    // a batch of 32 samples
  matrix<float, 10> y(32);                                     // one-hot targets
  for (std::size_t i = 0; i < 32; ++i) {
    y(i, i % 10) = 1.f;
    for (std::size_t j = 0; j < 100; ++j) x(i, j) = float((i + j) % 7) / 7.f;
  }

  auto trainer = make_trainer(model, categorical_crossentropy{}, adam{.learning_rate = 0.01f}, /*max_batch=*/32);
  float first = trainer.step(x, y), last = first;
  for (int step = 1; step < 100; ++step) last = trainer.step(x, y);
  std::printf("loss: %.4f -> %.4f\n", double(first), double(last));
  summary(model);
  return last < first ? 0 : 1;
}
