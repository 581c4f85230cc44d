// A storage policy is the last entry of a sequential model, after every layer.
#include <frost/frost.hpp>

#ifdef FROST_EXPECT_COMPILE_ERROR
using net = frost::sequential<frost::input<4>, frost::storage::inline_, frost::dense<3>>;
#else
using net = frost::sequential<frost::input<4>, frost::dense<3>, frost::storage::inline_>;
#endif

int main() { return net::layer_count == 1 ? 0 : 1; }
