// A program that uses an installed frost through find_package(frost).
#include <frost/frost.hpp>

int main() {
  using net = frost::sequential<frost::input<4>, frost::dense<3, frost::relu>, frost::dense<2, frost::softmax>>;
  auto m = frost::freeze<0>(net::init(1));
  static_assert(decltype(m)::trainable_param_count == 3 * 2 + 2);
  frost::matrix<float, 4> x(2);
  frost::matrix<float, 2> y(2);
  y(0, 0) = y(1, 1) = 1.f;
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 2);
  const float loss = tr.step(x, y);
  return loss > 0.f ? 0 : 1;
}
