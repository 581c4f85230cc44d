// A 4x4 pooling window without padding does not fit the 3x3 output of the convolution.
#include <frost/frost.hpp>

#ifdef FROST_EXPECT_COMPILE_ERROR
using net = frost::sequential<frost::input<5, 5, 2>, frost::conv2d<4, 3, 3>, frost::max_pooling2d<4, 4>>;
#else
using net = frost::sequential<frost::input<5, 5, 2>, frost::conv2d<4, 3, 3>, frost::max_pooling2d<2, 2>>;
#endif

int main() { return net::layer_count == 2 ? 0 : 1; }
