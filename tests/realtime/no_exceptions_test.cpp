// Built with -fno-exceptions -fno-rtti (tests/CMakeLists.txt), beside a unit that includes every
// public header the same way: frost works without exceptions, and its errors go to the error
// handler. Trains the article's network at batch 1, runs an inference object, then misuses it:
// the handler must receive the shape error, and ctest checks the message it prints.
#include <frost/frost.hpp>

#include <cstdio>
#include <cstdlib>

static_assert(!frost::throws_errors, "this test is built without exceptions");

namespace {

int failures = 0;
void check(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) ++failures;
}

void report_and_exit(const frost::error& e) {
  std::printf("handled: %s\n", e.what());
  std::fflush(stdout);
  std::_Exit(failures == 0 ? 0 : 1);
}

}  // namespace

int main() {
  using net = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>, frost::dense<32, frost::relu>,
                                frost::dense<10, frost::softmax>>;
  net model = net::init(7);
  frost::matrix<float, 100> x(1);
  frost::matrix<float, 10> y(1);
  for (std::size_t j = 0; j < 100; ++j) x(0, j) = float(j % 7) / 7.f - 0.4f;
  y(0, 3) = 1.f;

  auto trainer = frost::make_trainer(model, frost::categorical_crossentropy{}, frost::adam{}, 1);
  const float first = trainer.step(x, y);
  float last = first;
  for (int i = 0; i < 50; ++i) last = trainer.step(x, y);
  std::printf("loss %g -> %g after 51 steps of one sample\n", double(first), double(last));
  check(last < first, "the loss falls");

  auto run = frost::make_inference(model, 1);
  frost::matrix<float, 10> out(1);
  run(x, out);
  const auto expected = model(x);
  bool same = true;
  for (std::size_t j = 0; j < 10; ++j) same = same && out(0, j) == expected(0, j);
  check(same, "the inference object gives model(x)");

  check(frost::get_error_handler() != nullptr, "a default handler is set");
  frost::set_error_handler(&report_and_exit);
  check(frost::get_error_handler() == &report_and_exit, "set_error_handler replaces it");

  frost::matrix<float, 100> two(2);
  frost::matrix<float, 10> out2(2);
  run(two, out2);  // more rows than max_batch: the handler reports and ends the program
  std::printf("FAILED: the call returned\n");
  return 1;
}
