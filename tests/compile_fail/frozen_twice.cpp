// frozen<frozen<L>> has no meaning.
#include <frost/frost.hpp>

#ifdef FROST_EXPECT_COMPILE_ERROR
using net = frost::sequential<frost::input<4>, frost::frozen<frost::frozen<frost::dense<3>>>, frost::dense<2>>;
#else
using net = frost::sequential<frost::input<4>, frost::frozen<frost::dense<3>>, frost::dense<2>>;
#endif

int main() { return net::frozen_param_count == 15 ? 0 : 1; }
