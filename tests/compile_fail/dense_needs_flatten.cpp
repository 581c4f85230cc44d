// dense takes one axis of features: the 6x6x4 output of a convolution needs flatten first.
#include <frost/frost.hpp>

#ifdef FROST_EXPECT_COMPILE_ERROR
using net = frost::sequential<frost::input<8, 8, 1>, frost::conv2d<4, 3, 3>, frost::dense<10>>;
#else
using net = frost::sequential<frost::input<8, 8, 1>, frost::conv2d<4, 3, 3>, frost::flatten, frost::dense<10>>;
#endif

int main() { return net::layer_count == 2 ? 0 : 1; }
