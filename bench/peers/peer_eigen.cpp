// Peer: the training step written by hand on Eigen (eigen_mlp.hpp). Preallocated buffers,
// noalias() products, bias + relu as one array expression, softmax and cross-entropy fused into
// the gradient (p - y)/N, no weight gradient for frozen layers and no backward below the first
// trainable one, Adam over the contiguous trainable parameters.
//
// Threads: Eigen::setNbThreads(FROST_BENCH_THREADS); Eigen parallelizes its GEMM only when built
// with OpenMP (the CMake target links it when found).
//
// FROST_PEER_FLUSH_SUBNORMALS=1 sets the calling thread's flush-to-zero and denormals-are-zero
// modes (MXCSR) before any case runs, as frost sets them inside its calls: at batch 1 Adam's
// moments turn subnormal, and Eigen as is then times subnormal arithmetic more than the step
// (bench/peers/README.md). scripts/bench runs Eigen both ways.

#include "eigen_mlp.hpp"
#include "workloads.hpp"

#include <Eigen/Core>

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <string>

#if defined(__SSE__)
#include <xmmintrin.h>
#endif

namespace {

using namespace frost_peers;
using net = eigen_peer::mlp<float>;

void run_case(benchmark::State& state, const bench_case& bc) {
  const workload& w = *bc.w;
  const auto batch = Eigen::Index(bc.batch);
  net::matrix x(Eigen::Index(w.inputs()), batch);  // one sample per column
  net::matrix y(Eigen::Index(classes), batch);
  fill_inputs(x.data(), bc.batch, w.inputs());     // row-major (batch × inputs) = this layout
  fill_one_hot(y.data(), bc.batch);
  net model(w, bc.batch, bc.frozen());

  if (bc.training()) {
    time_steps(state, [&] { return model.step(x, y); });
  } else {
    time_steps(state, [&] {
      const auto& p = model.predict(x);
      benchmark::DoNotOptimize(p.data());
      benchmark::ClobberMemory();
    });
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* flush = std::getenv("FROST_PEER_FLUSH_SUBNORMALS");
  const bool flushing = flush != nullptr && std::strcmp(flush, "1") == 0;
#if defined(__SSE__)
  if (flushing) _mm_setcsr(_mm_getcsr() | 0x8040u);  // FTZ (bit 15) and DAZ (bit 6)
#endif
  benchmark::AddCustomContext("subnormals", flushing ? "flushed to zero (FTZ, DAZ)" : "as the CPU computes them");
  Eigen::setNbThreads(threads());
  register_all(run_case);
  std::string library = "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) +
                        "." + std::to_string(EIGEN_MINOR_VERSION);
#ifdef _OPENMP
  library += " (OpenMP)";
#endif
  benchmark::AddCustomContext("eigen_threads", std::to_string(Eigen::nbThreads()));
  return run(argc, argv, "eigen", library);
}
