// Online learning, one sample per step: an adaptive filter. An unknown system turns the last 8
// samples of a signal into its output, and the system drifts; the model tracks it from one
// (input, output) pair per call, as a real-time loop would feed it. The feature layer is frozen
// (fixed random tanh features); only the linear head trains. Nothing here touches the heap:
// the model keeps its weights inside itself (storage::inline_), the trainer its workspace and
// the Adam state of the head's 33 parameters (make_trainer<1>: one sample per step), and the
// samples are plain arrays seen through matrix views.
// It prints the mean squared error per block of samples: it falls, jumps when the system
// changes halfway, and falls again. ctest runs it; it fails if the error does not fall.
#include <frost/frost.hpp>

#include <array>
#include <cmath>
#include <cstdio>

int main() {
  using namespace frost;
  using Filter = sequential<input<8>, frozen<dense<32, tanh_activation>>, dense<1, linear>, storage::inline_>;
  static_assert(gradients<Filter>::size == 32 + 1);  // the head's weights and bias

  static Filter model = Filter::init(11);
  auto trainer = make_trainer<1>(model, mean_squared_error{}, adam{.learning_rate = 0.003f});
  static_assert(decltype(trainer)::heap_free);

  // The unknown system: a moving average whose taps change at sample 20,000.
  const auto system = [](int t, const std::array<float, 8>& w) {
    const float a = t < 20000 ? 0.5f : -0.3f;
    float y = 0.f;
    for (std::size_t k = 0; k < 8; ++k) y += (a + 0.1f * float(k)) * w[k] / 4.f;
    return y;
  };

  std::array<float, 8> window{};
  std::array<float, 1> target{};
  const matrix_view<const float, 8> x(window.data(), 1);
  const matrix_view<const float, 1> y(target.data(), 1);
  std::uint32_t noise = 1;
  double block_error = 0, first_block = 0, last_block = 0, block_before_change = 0;
  const int block = 2000, samples = 40000;
  for (int t = 0; t < samples; ++t) {
    noise = noise * 1664525u + 1013904223u;
    const float s = 0.3f * std::sin(0.05f * float(t)) + 1.6f * (float(noise >> 8) / float(1u << 24) - 0.5f);
    for (std::size_t k = 7; k > 0; --k) window[k] = window[k - 1];
    window[0] = s;
    target[0] = system(t, window);
    block_error += trainer.step(x, y);  // the loss of this sample, before its update
    if ((t + 1) % block == 0) {
      const double mse = block_error / block;
      std::printf("samples %5d-%5d: mean squared error %.6f\n", t + 1 - block, t, mse);
      if (t + 1 == block) first_block = mse;
      if (t + 1 == samples / 2) block_before_change = mse;
      last_block = mse;
      block_error = 0;
    }
  }
  const bool learned = block_before_change < first_block / 10 && last_block < first_block / 10;
  std::printf("%s\n", learned ? "the filter tracked the system" : "the error did not fall");
  return learned ? 0 : 1;
}
