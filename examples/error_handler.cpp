// Errors in builds without exceptions (docs/errors.md): frost hands each error to a handler
// instead of throwing it. This program sets a handler and says which way its own build goes;
// built with -fno-exceptions, a misuse would end in on_frost_error. ctest runs it.
#include <frost/frost.hpp>

#include <cstdio>
#include <cstdlib>

[[noreturn]] void on_frost_error(const frost::error& e) {
  std::fprintf(stderr, "model error: %s\n", e.what());  // log it, then leave the real-time path
  std::_Exit(3);
}

int main() {
  const frost::error_handler previous = frost::set_error_handler(&on_frost_error);
  std::printf("errors are %s\n", frost::throws_errors ? "thrown" : "sent to the handler");
  const bool set = frost::get_error_handler() == &on_frost_error;
  frost::set_error_handler(previous);
  return set ? 0 : 1;
}
