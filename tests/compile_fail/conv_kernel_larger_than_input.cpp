// A 3x3 convolution without padding does not fit a 2x2 image.
#include <frost/frost.hpp>

#ifdef FROST_EXPECT_COMPILE_ERROR
using net = frost::sequential<frost::input<2, 2, 1>, frost::conv2d<4, 3, 3>>;
#else
using net = frost::sequential<frost::input<3, 3, 1>, frost::conv2d<4, 3, 3>>;
#endif

int main() { return net::layer_count == 1 ? 0 : 1; }
