// Subnormal numbers are flushed to zero inside frost's calls (as TensorFlow's CPU threads do),
// and the caller's floating-point mode comes back afterwards.
#include <frost/frost.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <thread>

namespace {
// A product whose exact result is subnormal, computed at run time.
float half_of(float x) {
  volatile float v = x;  // not folded at compile time
  return v * 0.5f;
}
}  // namespace

TEST_CASE("flush_denormals flushes inside its scope and restores the mode after", "[core][denormals]") {
#if defined(__SSE__)
  const float tiny = 2.f * std::numeric_limits<float>::min();  // the smallest normal ×2
  const bool before = frost::flush_denormals::active();
  REQUIRE(!before);  // the test runner's default mode
  REQUIRE(std::fpclassify(half_of(tiny / 2)) == FP_SUBNORMAL);
  {
    const frost::flush_denormals flush;
    REQUIRE(frost::flush_denormals::active());
    REQUIRE(half_of(tiny / 2) == 0.f);
  }
  REQUIRE(!frost::flush_denormals::active());
  REQUIRE(std::fpclassify(half_of(tiny / 2)) == FP_SUBNORMAL);
#else
  SUCCEED("no SSE: flush_denormals does nothing");
#endif
}

TEST_CASE("Adam's second moment of a tiny gradient is flushed, not subnormal, and the caller's mode stays", "[core][denormals]") {
#if defined(__SSE__)
  using net = frost::sequential<frost::input<2>, frost::dense<1>>;
  net m = net::init(1);
  auto opt = frost::make_optimizer(m, frost::adam{});
  frost::gradients<net> g;
  for (float& v : std::span(g.data(), g.size)) v = 1e-20f;  // g² = 1e-40: subnormal in float
  opt.apply_gradients(m, g);
  // v = (1 − β₂)·g² = 1e-43 would be subnormal; flushed, it is 0. m = (1 − β₁)·g = 1e-21 is normal.
  const auto state = opt.state();
  REQUIRE(state[0] == Approx(1e-21f));
  REQUIRE(state[decltype(opt)::state_size / 2] == 0.f);
  REQUIRE(!frost::flush_denormals::active());
  // A trainer's step on two threads: the workers flush too, and the caller's mode comes back.
  frost::matrix<float, 2> x(4);
  frost::matrix<float, 1> y(4);
  auto tr = frost::make_trainer(m, frost::mean_squared_error{}, frost::adam{}, 4, frost::threads{2});
  tr.step(x, y);
  REQUIRE(!frost::flush_denormals::active());
#else
  SUCCEED("no SSE: flush_denormals does nothing");
#endif
}

TEST_CASE("a thread that flushes for good keeps its mode, and frost's calls on it leave MXCSR alone", "[core][denormals]") {
#if defined(__SSE__)
  const float tiny = 2.f * std::numeric_limits<float>::min();
  bool after_call = false, flushed = false, left_alone = false;
  std::thread t([&] {
    frost::flush_denormals_on_this_thread();
    {
      const frost::flush_denormals flush;
    }
    after_call = frost::flush_denormals::active();
    flushed = half_of(tiny / 2) == 0.f;
    // Clearing the bits on such a thread is a misuse the docs warn of; it shows that a frost
    // call there no longer reads or writes the mode.
    _mm_setcsr(_mm_getcsr() & ~0x8040u);
    const frost::flush_denormals flush;
    left_alone = !frost::flush_denormals::active();
  });
  t.join();
  REQUIRE(after_call);
  REQUIRE(flushed);
  REQUIRE(left_alone);
  REQUIRE(!frost::flush_denormals::active());  // the test's own thread is untouched
  // A thread that set FTZ and DAZ by itself keeps them after a frost call.
  bool kept = false;
  std::thread u([&] {
    _mm_setcsr(_mm_getcsr() | 0x8040u);
    {
      const frost::flush_denormals flush;
    }
    kept = frost::flush_denormals::active();
  });
  u.join();
  REQUIRE(kept);
#else
  SUCCEED("no SSE: flush_denormals does nothing");
#endif
}
