// add sums inputs of one shape: 8 and 4 units do not add.
#include <frost/frost.hpp>

int main() {
  auto in = frost::input<6>{};
  auto a = frost::dense<8, frost::relu>{}(in);
#ifdef FROST_EXPECT_COMPILE_ERROR
  auto b = frost::dense<4, frost::relu>{}(in);
#else
  auto b = frost::dense<8, frost::tanh_activation>{}(in);
#endif
  auto m = frost::make_model(in, frost::add{}(a, b));
  return m.layer_count == 4 ? 0 : 1;
}
