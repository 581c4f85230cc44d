// A convolution's forward product in the two forms the convolutional layer could take, on the
// shapes of the benchmark CNN (bench/peers/workloads.hpp, batch 64):
//   - im2col: every output position's window copied into a row of a patch matrix, then one
//     product of the patches with the HWIO kernel (what conv2d does, kernels/im2col.hpp);
//   - direct: no patch matrix; for each sample and output row, the product of the input rows
//     under the window (their channels read in place, rows C values apart) with each kernel row,
//     added up over the kernel's rows, on the same register tiles.
// Both give the same values (checked once before timing); the counter is the convolution's FLOP.

#include <frost/frost.hpp>

#include <benchmark/benchmark.h>

#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <vector>

namespace {

template <std::size_t H, std::size_t W, std::size_t C, std::size_t F, std::size_t KH, std::size_t KW>
struct conv_case {
  static constexpr std::size_t batch = 64, OH = H - KH + 1, OW = W - KW + 1, K = KH * KW * C;
  using G = frost::detail::window_geometry<frost::shape<H, W, C>, KH, KW, 1, 1, false>;
  std::vector<float> x, w, b, p, y;
  conv_case() : x(batch * H * W * C), w(K * F), b(F), p(batch * OH * OW * K), y(batch * OH * OW * F) {
    frost::random_stream rng(3);
    for (float& v : x) v = static_cast<float>(rng.uniform(-1, 1));
    for (float& v : w) v = static_cast<float>(rng.uniform(-0.2, 0.2));
    for (float& v : b) v = static_cast<float>(rng.uniform(-0.1, 0.1));
  }
  void im2col() {
    frost::kernels::im2col<G, KH, KW, 1, 1>(x.data(), batch, p.data());
    frost::kernels::gemm_forward<K, F>(p.data(), batch * OH * OW, w.data(), b.data(), y.data());
  }
  void direct() {
    namespace kd = frost::kernels::detail;
    for (std::size_t n = 0; n < batch; ++n)
      for (std::size_t oh = 0; oh < OH; ++oh) {
        float* yr = y.data() + (n * OH + oh) * OW * F;
        for (std::size_t kh = 0; kh < KH; ++kh) {
          const float* xr = x.data() + (n * H + oh + kh) * W * C;
          const float* wk = w.data() + kh * KW * C * F;
          auto rows = [&]<std::size_t R>(std::size_t i) {
            kd::tile_rows<R, true>(xr + i * C, C, wk, F, KW * C, 0, F, static_cast<float*>(nullptr), yr + i * F, F,
                                   kh == 0 ? b.data() : nullptr, kh == 0 ? nullptr : yr + i * F,
                                   frost::kernels::identity{});
          };
          kd::for_row_tiles(OW, rows);
        }
      }
  }
  double flop() const { return 2.0 * double(batch * OH * OW) * double(K) * double(F); }
};

template <class Case>
void check_same(Case& c) {
  c.im2col();
  const std::vector<float> a = c.y;
  c.direct();
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::abs(a[i] - c.y[i]) > 1e-4f * (1.f + std::abs(a[i]))) std::abort();
}

template <class Case, bool Direct>
void run(benchmark::State& state) {
  static Case c;
  check_same(c);
  for (auto _ : state) {
    if constexpr (Direct) c.direct();
    else c.im2col();
    benchmark::DoNotOptimize(c.y.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOP"] = benchmark::Counter(c.flop(), benchmark::Counter::kIsIterationInvariantRate);
}

using conv1 = conv_case<28, 28, 1, 32, 3, 3>;   // 28x28x1 -> 26x26x32
using conv2 = conv_case<13, 13, 32, 64, 3, 3>;  // 13x13x32 -> 11x11x64

}  // namespace

BENCHMARK(run<conv1, false>)->Name("conv_forward/28x28x1_to_32/im2col")->Unit(benchmark::kMicrosecond);
BENCHMARK(run<conv1, true>)->Name("conv_forward/28x28x1_to_32/direct")->Unit(benchmark::kMicrosecond);
BENCHMARK(run<conv2, false>)->Name("conv_forward/13x13x32_to_64/im2col")->Unit(benchmark::kMicrosecond);
BENCHMARK(run<conv2, true>)->Name("conv_forward/13x13x32_to_64/direct")->Unit(benchmark::kMicrosecond);
