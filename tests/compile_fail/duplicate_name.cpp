// Layer names are unique within a model.
#include <frost/frost.hpp>

int main() {
  auto in = frost::input<6>{};
  auto a = frost::named<"encoder", frost::dense<8, frost::relu>>{}(in);
#ifdef FROST_EXPECT_COMPILE_ERROR
  auto b = frost::named<"encoder", frost::dense<8, frost::tanh_activation>>{}(a);
#else
  auto b = frost::named<"decoder", frost::dense<8, frost::tanh_activation>>{}(a);
#endif
  auto m = frost::make_model(in, b);
  return m.layer_count == 3 ? 0 : 1;
}
