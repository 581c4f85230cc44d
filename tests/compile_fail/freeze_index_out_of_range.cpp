// A model of 3 layers has indices 0, 1, 2.
#include <frost/frost.hpp>

#include <utility>

using net = frost::sequential<frost::input<4>, frost::dense<3>, frost::dense<3>, frost::dense<2>>;

int main() {
#ifdef FROST_EXPECT_COMPILE_ERROR
  auto m = frost::freeze<3>(net::init(1));
#else
  auto m = frost::freeze<2>(net::init(1));
#endif
  return decltype(m)::trainable_param_count > 0 ? 0 : 1;
}
