// make_model's output must depend on every input it is given.
#include <frost/frost.hpp>

int main() {
  auto a = frost::input<6>{};
  auto b = frost::input<5>{};
  auto out = frost::dense<8, frost::relu>{}(a);
#ifdef FROST_EXPECT_COMPILE_ERROR
  auto m = frost::make_model(b, out);
#else
  auto m = frost::make_model(a, out);
  (void)b;
#endif
  return m.layer_count == 2 ? 0 : 1;
}
