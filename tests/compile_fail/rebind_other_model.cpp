// Optimizer state moves only between the same model with other layers frozen.
#include <frost/frost.hpp>

#include <utility>

using net = frost::sequential<frost::input<4>, frost::dense<3>, frost::dense<2>>;
using other = frost::sequential<frost::input<8>, frost::dense<3>, frost::dense<2>>;

int main() {
  net m = net::init(1);
  auto opt = frost::make_optimizer(m, frost::adam{});
#ifdef FROST_EXPECT_COMPILE_ERROR
  auto moved = std::move(opt).rebind<other>();
#else
  auto moved = std::move(opt).rebind<frost::frozen_model_t<net, 0>>();
#endif
  return moved.iterations() == 0 ? 0 : 1;
}
