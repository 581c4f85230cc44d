// A sequential model starts with input<...>.
#include <frost/frost.hpp>

#ifdef FROST_EXPECT_COMPILE_ERROR
using net = frost::sequential<frost::dense<4>, frost::dense<3>>;
#else
using net = frost::sequential<frost::input<4>, frost::dense<3>>;
#endif

int main() { return net::layer_count == 1 ? 0 : 1; }
