// An activation is a function of _x alone.
#include <frost/frost.hpp>

using namespace frost;

#ifdef FROST_EXPECT_COMPILE_ERROR
using net = sequential<input<4>, dense<3, _x * _y_true>>;
#else
using net = sequential<input<4>, dense<3, _x * _x>>;
#endif

int main() { return net::layer_count == 1 ? 0 : 1; }
