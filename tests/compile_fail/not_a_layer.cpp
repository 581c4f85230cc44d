// Every entry after input<...> must be a layer spec.
#include <frost/frost.hpp>

#ifdef FROST_EXPECT_COMPILE_ERROR
using net = frost::sequential<frost::input<4>, frost::dense<3>, int>;
#else
using net = frost::sequential<frost::input<4>, frost::dense<3>, frost::dense<2>>;
#endif

int main() { return net::layer_count == 2 ? 0 : 1; }
