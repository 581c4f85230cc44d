// In a functional model, dense needs a rank-1 input: an 8x8x1 image must be flattened first.
#include <frost/frost.hpp>

int main() {
#ifdef FROST_EXPECT_COMPILE_ERROR
  auto in = frost::input<8, 8, 1>{};
#else
  auto in = frost::input<64>{};
#endif
  auto m = frost::make_model(in, frost::dense<10, frost::softmax>{}(in));
  return m.layer_count == 2 ? 0 : 1;
}
