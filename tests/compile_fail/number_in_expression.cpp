// Numbers in expressions are compile-time constants, so an expression stays an empty type.
#include <frost/frost.hpp>

using namespace frost;

int main() {
#ifdef FROST_EXPECT_COMPILE_ERROR
  constexpr auto f = _x * 2.0;
#else
  constexpr auto f = _x * 2.0_c;
#endif
  return expr::expression<decltype(f)> ? 0 : 1;
}
