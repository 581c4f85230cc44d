// dense needs a rank-1 input; an 8x8x1 image must be flattened first.
#include <frost/frost.hpp>

#ifdef FROST_EXPECT_COMPILE_ERROR
using net = frost::sequential<frost::input<8, 8, 1>, frost::dense<10>>;
#else
using net = frost::sequential<frost::input<64>, frost::dense<10>>;
#endif

int main() { return net::layer_count == 1 ? 0 : 1; }
