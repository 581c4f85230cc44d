// docs/getting-started.md: the time of one training step of the article's network
// (100-64-32-10, batch 32, categorical cross-entropy, Adam) with the flags this file is built
// with. Build it with other flags to see what they are worth on your machine, e.g.
//   g++ -std=c++20 -O3 -march=native -Iinclude examples/step_time.cpp -o step_time && ./step_time
#include <frost/frost.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>

int main() {
  using namespace frost;
  using Net = sequential<input<100>, dense<64, relu>, dense<32, relu>, dense<10, softmax>>;
  Net model = Net::init(42);

  matrix<float, 100> x(32);
  matrix<float, 10> y(32);
  random_stream rng(1);
  for (float& v : x.values()) v = float(rng.uniform(-1, 1));
  for (std::size_t i = 0; i < 32; ++i) y(i, i % 10) = 1.f;
  auto trainer = make_trainer(model, categorical_crossentropy{}, adam{.learning_rate = 0.001f}, /*max_batch=*/32);

  // Rounds of at least 50 ms each; the median of 7 rounds is what is printed, so that another
  // program briefly taking the core does not decide the figure.
  using clock = std::chrono::steady_clock;
  for (int i = 0; i < 10; ++i) trainer.step(x, y);
  std::array<double, 7> us_per_step{};
  for (double& us : us_per_step) {
    long steps = 0;
    const auto start = clock::now();
    auto elapsed = clock::now() - start;
    while (elapsed < std::chrono::milliseconds(50)) {
      for (int i = 0; i < 10; ++i) trainer.step(x, y);
      steps += 10;
      elapsed = clock::now() - start;
    }
    us = std::chrono::duration<double, std::micro>(elapsed).count() / double(steps);
  }
  std::sort(us_per_step.begin(), us_per_step.end());

#if defined(__OPTIMIZE__)
  const char* optimized = "optimized";
#else
  const char* optimized = "NOT optimized (-O0)";
#endif
  std::printf("training step, 100-64-32-10, batch 32, Adam: %.1f us (median of %zu rounds)\n",
              us_per_step[us_per_step.size() / 2], us_per_step.size());
  std::printf("build: %s, vectors of %zu floats\n", optimized, simd::native<float>::width);
  return 0;
}
