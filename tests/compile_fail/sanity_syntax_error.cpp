// Sanity case: proves the harness sees compile errors at all.
#include <frost/frost.hpp>

int main() {
#ifdef FROST_EXPECT_COMPILE_ERROR
  int x = ;
#endif
  return 0;
}
