// A distributed trainer sums the ranks' gradients between backward and the update, so it needs a
// trainer that keeps them (make_trainer(..., keep_gradients)), not a fused one.
#include <frost/frost.hpp>
#include <frost/distributed/trainer.hpp>

using net = frost::sequential<frost::input<4>, frost::dense<2, frost::softmax>>;

int main() {
  net m = net::init(1);
#ifdef FROST_EXPECT_COMPILE_ERROR
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 2);
#else
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 2, frost::keep_gradients);
#endif
  using dist = frost::distributed<decltype(tr)>;
  return dist::gradient_values == 10 ? 0 : 1;
}
