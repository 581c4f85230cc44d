// Loading weights writes the model: a const model is refused with one message.
#include <frost/frost.hpp>
#include <frost/io/safetensors.hpp>

using net = frost::sequential<frost::input<4>, frost::dense<2, frost::softmax>>;

int main(int argc, char** argv) {
#ifdef FROST_EXPECT_COMPILE_ERROR
  const net m = net::init(1);
#else
  net m = net::init(1);
#endif
  if (argc > 1) frost::load_safetensors(m, argv[1]);
  return 0;
}
