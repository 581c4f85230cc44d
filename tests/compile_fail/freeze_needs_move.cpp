// freeze moves the weights into a new type: the model is passed as an rvalue.
#include <frost/frost.hpp>

#include <utility>

using net = frost::sequential<frost::input<4>, frost::dense<3>, frost::dense<2>>;

int main() {
  net n = net::init(1);
#ifdef FROST_EXPECT_COMPILE_ERROR
  auto m = frost::freeze<0>(n);
#else
  auto m = frost::freeze<0>(std::move(n));
#endif
  (void)m;
  return 0;
}
