// A trainer updates its model in place: it cannot train a const model.
#include <frost/frost.hpp>

using net = frost::sequential<frost::input<4>, frost::dense<2, frost::softmax>>;

int main() {
#ifdef FROST_EXPECT_COMPILE_ERROR
  const net m = net::init(1);
#else
  net m = net::init(1);
#endif
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 2);
  return tr.max_batch() == 2 ? 0 : 1;
}
