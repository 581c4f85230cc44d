// Node identity is structural: two unnamed dense<8> on one input are one node, which add would
// then read twice. Naming them apart makes two layers.
#include <frost/frost.hpp>

int main() {
  auto in = frost::input<6>{};
#ifdef FROST_EXPECT_COMPILE_ERROR
  auto s = frost::add{}(frost::dense<8>{}(in), frost::dense<8>{}(in));
#else
  auto s = frost::add{}(frost::named<"a", frost::dense<8>>{}(in), frost::named<"b", frost::dense<8>>{}(in));
#endif
  auto m = frost::make_model(in, s);
  return m.layer_count == 4 ? 0 : 1;
}
