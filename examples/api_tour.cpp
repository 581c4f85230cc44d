// docs/api.md and docs/freezing.md quote this file: each entry point used once, as documented.
#include <frost/frost.hpp>

#include <type_traits>
#include <utility>

int main() {
  using namespace frost;

  // Models.
  using Net = sequential<input<100>, dense<64, relu>, dense<10, softmax>>;
  Net m = Net::init(42);
  matrix<float, 100> x(32);
  x(0, 3) = 1.f;
  auto p = m(x);

  // Freezing, three ways: in the type, as a move, and back.
  // 1. In the type.
  using head_only = sequential<input<100>, frozen<dense<64, relu>>, frozen<dense<32, relu>>, dense<10, softmax>>;
  using Deep = sequential<input<100>, dense<64, relu>, dense<32, relu>, dense<10, softmax>>;
  Deep net = Deep::init(1);
  // 2. As a move from a trainable model: the weights are kept, each layer block moves once.
  auto ft = freeze<0, 1>(std::move(net));
  static_assert(std::is_same_v<decltype(ft), head_only>);
  // 3. Back again (progressive unfreezing).
  auto back = unfreeze<1>(std::move(ft));

  // Training.
  matrix<float, 10> y(32);
  for (std::size_t i = 0; i < 32; ++i) y(i, i % 10) = 1.f;
  auto model = head_only::init(3);
  auto tr = make_trainer(model, categorical_crossentropy{}, adam{.learning_rate = 0.01f}, 256);
  float loss = tr.step(x, y);

  // Inspection.
  summary(back);
  return p.rows() == 32 && loss > 0.f ? 0 : 1;
}
