// Adding two feature maps needs the same channels: 8 and 16 filters do not add.
#include <frost/frost.hpp>

int main() {
  auto in = frost::input<8, 8, 3>{};
  auto a = frost::conv2d<8, 3, 3, frost::relu, frost::padding::same>{}(in);
#ifdef FROST_EXPECT_COMPILE_ERROR
  auto b = frost::conv2d<16, 1, 1>{}(in);
#else
  auto b = frost::conv2d<8, 1, 1>{}(in);
#endif
  auto m = frost::make_model(in, frost::add{}(a, b));
  return m.layer_count == 4 ? 0 : 1;
}
