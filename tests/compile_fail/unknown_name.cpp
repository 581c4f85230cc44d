// model.layer<"name">() and freeze<"name"> need a layer of that name.
#include <frost/frost.hpp>

int main() {
  auto in = frost::input<6>{};
  auto m = frost::make_model(in, frost::named<"encoder", frost::dense<8, frost::relu>>{}(in));
#ifdef FROST_EXPECT_COMPILE_ERROR
  return m.layer<"decoder">().bias().size() == 8 ? 0 : 1;
#else
  return m.layer<"encoder">().bias().size() == 8 ? 0 : 1;
#endif
}
