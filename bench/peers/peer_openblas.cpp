// Peer: the floor. Exactly the matrix products each configuration needs, as cblas_sgemm calls
// on preallocated row-major buffers, and nothing else: no bias, activation, loss or optimizer.
//   forward, every layer l:                      Z_l  = A_{l-1} · W_l      (batch × out)
//   dW, each trainable layer:                    dW_l = A_{l-1}ᵀ · dZ_l    (in × out)
//   dX, each layer with a trainable layer below: dZ_{l-1} = dZ_l · W_lᵀ    (batch × in)
// A_{l-1} is the previous layer's Z (A_{-1} is the input), and the gradient reaching the head is
// a fixed buffer, filled once. The GEMM count and shapes are those of the FLOP counter, so this
// peer's FLOP rate is what OpenBLAS achieves on the workload's products alone.
//
// Threads: openblas_set_num_threads(FROST_BENCH_THREADS).

#include "workloads.hpp"

#include <cblas.h>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <vector>

namespace {

using namespace frost_peers;

void run_case(benchmark::State& state, const bench_case& bc) {
  const workload& w = *bc.w;
  const std::size_t layers = w.layer_count, frozen = bc.frozen();
  const int m = int(bc.batch);

  std::vector<float> x(bc.batch * w.inputs());
  fill_inputs(x.data(), bc.batch, w.inputs());
  std::vector<std::vector<float>> wt(layers), z(layers), dz(layers), dw(layers);
  for (std::size_t l = 0; l < layers; ++l) {
    wt[l].resize(w.in(l) * w.out(l));  // row-major (in × out)
    glorot_uniform(wt[l].data(), w.in(l), w.out(l), 42 + std::uint32_t(l));
    z[l].resize(bc.batch * w.out(l));
    if (l >= frozen) {
      dz[l].resize(bc.batch * w.out(l));
      dw[l].resize(w.in(l) * w.out(l));
    }
  }
  // The gradient reaching the head: fixed values, only ever read.
  fill_inputs(dz[layers - 1].data(), bc.batch, w.outputs());

  auto forward = [&] {
    for (std::size_t l = 0; l < layers; ++l) {
      const float* a = l == 0 ? x.data() : z[l - 1].data();
      const int k = int(w.in(l)), n = int(w.out(l));
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a, k, wt[l].data(), n, 0.f, z[l].data(), n);
    }
  };

  if (!bc.training()) {
    for (auto _ : state) {
      forward();
      benchmark::DoNotOptimize(z[layers - 1].data());
      benchmark::ClobberMemory();
    }
    return;
  }

  for (auto _ : state) {
    forward();
    for (std::size_t l = layers; l-- > frozen;) {
      const float* a = l == 0 ? x.data() : z[l - 1].data();
      const int k = int(w.in(l)), n = int(w.out(l));
      // dW_l (k × n) = A_{l-1}ᵀ (k × m) · dZ_l (m × n)
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, k, n, m, 1.f, a, k, dz[l].data(), n, 0.f, dw[l].data(), n);
      // dZ_{l-1} (m × k) = dZ_l (m × n) · W_lᵀ (n × k)
      if (l > frozen)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, k, n, 1.f, dz[l].data(), n, wt[l].data(), n, 0.f,
                    dz[l - 1].data(), k);
    }
    benchmark::DoNotOptimize(dw[frozen].data());
    benchmark::ClobberMemory();
  }
}

}  // namespace

int main(int argc, char** argv) {
  openblas_set_num_threads(threads());
  register_all(run_case);
  benchmark::AddCustomContext("openblas_threads", std::to_string(openblas_get_num_threads()));
  return run(argc, argv, "openblas", openblas_get_config());
}
