// Peer: the floor. Exactly the matrix products each configuration needs, as cblas_sgemm calls
// on preallocated row-major buffers, and nothing else: no bias, activation, loss or optimizer.
//   forward, every layer l:                      Z_l  = A_{l-1} · W_l      (batch × out)
//   dW, each trainable layer:                    dW_l = A_{l-1}ᵀ · dZ_l    (in × out)
//   dX, each layer with a trainable layer below: dZ_{l-1} = dZ_l · W_lᵀ    (batch × in)
// A_{l-1} is the previous layer's Z (A_{-1} is the input), and the gradient reaching the head is
// a fixed buffer, filled once. The GEMM count and shapes are those of the FLOP counter, so this
// peer's FLOP rate is what OpenBLAS achieves on the workload's products alone.
//
// The functional workloads:
//   residual    the products of the 784-512-512-512-10 MLP, as above: the residual additions
//               are elementwise, so the step's products are the same GEMMs
//   two_branch  forward: A1 = a·W_a1, A2 = A1·W_a2 and B = b·W_b written into the two column
//               blocks of one (batch × 384) buffer, which is the concatenation, then Z = C·W_head;
//               backward: dW_head = Cᵀ·dZ; dB = dZ·W_head[256:384]ᵀ (only branch B's columns of
//               dC); dW_b = bᵀ·dB; and, only when branch A trains, dA2 = dZ·W_head[0:256]ᵀ,
//               dW_a2 = A1ᵀ·dA2, dA1 = dA2·W_a2ᵀ, dW_a1 = aᵀ·dA1. With branch A frozen there is
//               no weight gradient and no input gradient in branch A. No dX of the inputs a, b.
//
// The convolutional workload (cnn), its convolutions in im2col form, NHWC, per batch of N:
//   forward     Z1 = P1·W1, (N·26·26 × 9)·(9 × 32); Z2 = P2·W2, (N·11·11 × 288)·(288 × 64);
//               Z = A·W_head, (N × 1600)·(1600 × 10)
//   trainable   dW_head = Aᵀ·dZ; dA = dZ·W_headᵀ; dW2 = P2ᵀ·dZ2; dP2 = dZ2·W2ᵀ (the gradient
//               of conv2's patch matrix, which col2im would fold into conv2's input gradient);
//               dW1 = P1ᵀ·dZ1. No dX of conv1 (its input is the data)
//   frozen      the forward products and dW_head only
//   inference   the forward products
// The patch matrices P1 (of the input) and P2 (of the pooled conv1 output), the head's input A
// (the pooled conv2 output) and the gradients dZ2, dZ1 reaching the convolutions' outputs are
// prepared once, before the timed loop: im2col, col2im, batch norm, relu and pooling are not
// products, and their cost is left out of the floor like every other elementwise step.
//
// Every case is timed through time_steps (workloads.hpp): three warm-up steps, at least 20 timed
// ones. A step here computes no loss, so this peer reports none.
//
// Threads: openblas_set_num_threads(FROST_BENCH_THREADS).

#include "workloads.hpp"

#include <cblas.h>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <vector>

namespace {

using namespace frost_peers;

// The MLP step's products: workload w at `batch`, layers [0, frozen) frozen.
void run_mlp(benchmark::State& state, const workload& w, std::size_t batch, bool training, std::size_t frozen) {
  const std::size_t layers = w.layer_count;
  const int m = int(batch);

  std::vector<float> x(batch * w.inputs());
  fill_inputs(x.data(), batch, w.inputs());
  std::vector<std::vector<float>> wt(layers), z(layers), dz(layers), dw(layers);
  for (std::size_t l = 0; l < layers; ++l) {
    wt[l].resize(w.in(l) * w.out(l));  // row-major (in × out)
    glorot_uniform(wt[l].data(), w.in(l), w.out(l), 42 + std::uint32_t(l));
    z[l].resize(batch * w.out(l));
    if (l >= frozen) {
      dz[l].resize(batch * w.out(l));
      dw[l].resize(w.in(l) * w.out(l));
    }
  }
  // The gradient reaching the head: fixed values, only ever read.
  fill_inputs(dz[layers - 1].data(), batch, w.outputs());

  auto forward = [&] {
    for (std::size_t l = 0; l < layers; ++l) {
      const float* a = l == 0 ? x.data() : z[l - 1].data();
      const int k = int(w.in(l)), n = int(w.out(l));
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a, k, wt[l].data(), n, 0.f, z[l].data(), n);
    }
  };

  if (!training) {
    time_steps(state, [&] {
      forward();
      benchmark::DoNotOptimize(z[layers - 1].data());
      benchmark::ClobberMemory();
    });
    return;
  }

  time_steps(state, [&] {
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
  });
}

void run_case(benchmark::State& state, const bench_case& bc) {
  run_mlp(state, *bc.w, bc.batch, bc.training(), bc.frozen());
}

// Row-major C (m × n) = op(A) · op(B), beta 0, with leading dimensions given.
void gemm(bool ta, bool tb, int m, int n, int k, const float* a, int lda, const float* b, int ldb, float* c, int ldc) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, 1.f, a, lda, b,
              ldb, 0.f, c, ldc);
}

void run_two_branch(benchmark::State& state, const graph_case& gc) {
  using s = two_branch_sizes;
  const int m = int(gc.batch);
  const int na = int(s::a_inputs), nb = int(s::b_inputs), a1 = int(s::a1), a2 = int(s::a2), b1 = int(s::b1);
  const int joined = int(s::joined), k = int(classes);
  const bool train_a = gc.c == config::trainable;

  std::vector<float> xa(gc.batch * s::a_inputs), xb(gc.batch * s::b_inputs);
  fill_inputs(xa.data(), gc.batch, s::a_inputs);
  fill_inputs(xb.data(), gc.batch, s::b_inputs, second_input_seed);
  std::vector<float> w_a1(s::a_inputs * s::a1), w_a2(s::a1 * s::a2), w_b(s::b_inputs * s::b1);
  std::vector<float> w_head(s::joined * classes);
  glorot_uniform(w_a1.data(), s::a_inputs, s::a1, 42);
  glorot_uniform(w_a2.data(), s::a1, s::a2, 43);
  glorot_uniform(w_b.data(), s::b_inputs, s::b1, 44);
  glorot_uniform(w_head.data(), s::joined, classes, 45);
  std::vector<float> h_a1(gc.batch * s::a1), joined_out(gc.batch * s::joined), z(gc.batch * classes);
  std::vector<float> dz(gc.batch * classes), dw_head(w_head.size()), d_b(gc.batch * s::b1), dw_b(w_b.size());
  std::vector<float> d_a2, dw_a2, d_a1, dw_a1;
  if (train_a) {
    d_a2.resize(gc.batch * s::a2);
    dw_a2.resize(w_a2.size());
    d_a1.resize(gc.batch * s::a1);
    dw_a1.resize(w_a1.size());
  }
  fill_inputs(dz.data(), gc.batch, classes);  // the gradient reaching the head: fixed, only read
  float* c_a = joined_out.data();             // columns [0, 256): branch A's output
  float* c_b = joined_out.data() + s::a2;     // columns [256, 384): branch B's output

  auto forward = [&] {
    gemm(false, false, m, a1, na, xa.data(), na, w_a1.data(), a1, h_a1.data(), a1);
    gemm(false, false, m, a2, a1, h_a1.data(), a1, w_a2.data(), a2, c_a, joined);
    gemm(false, false, m, b1, nb, xb.data(), nb, w_b.data(), b1, c_b, joined);
    gemm(false, false, m, k, joined, joined_out.data(), joined, w_head.data(), k, z.data(), k);
  };

  if (!gc.training()) {
    time_steps(state, [&] {
      forward();
      benchmark::DoNotOptimize(z.data());
      benchmark::ClobberMemory();
    });
    return;
  }

  time_steps(state, [&] {
    forward();
    // dW_head (384 × 10) = Cᵀ (384 × m) · dZ (m × 10)
    gemm(true, false, joined, k, m, joined_out.data(), joined, dz.data(), k, dw_head.data(), k);
    // dB (m × 128) = dZ (m × 10) · W_head[256:384]ᵀ (10 × 128); dW_b (64 × 128) = bᵀ · dB
    gemm(false, true, m, b1, k, dz.data(), k, w_head.data() + s::a2 * classes, k, d_b.data(), b1);
    gemm(true, false, nb, b1, m, xb.data(), nb, d_b.data(), b1, dw_b.data(), b1);
    if (train_a) {
      gemm(false, true, m, a2, k, dz.data(), k, w_head.data(), k, d_a2.data(), a2);
      gemm(true, false, a1, a2, m, h_a1.data(), a1, d_a2.data(), a2, dw_a2.data(), a2);
      gemm(false, true, m, a1, a2, d_a2.data(), a2, w_a2.data(), a2, d_a1.data(), a1);
      gemm(true, false, na, a1, m, xa.data(), na, d_a1.data(), a1, dw_a1.data(), a1);
    }
    benchmark::DoNotOptimize(dw_b.data());
    benchmark::ClobberMemory();
  });
}

// ---------------------------------------------------------------------------------------------
// The convolutional workload.

// im2col of a valid 3×3 stride-1 convolution, NHWC: x is (n, h, w, c); row (i, oy, ox) of the
// result holds x[i, oy + ky, ox + kx, ch] in (ky, kx, ch) order, the row order of an HWIO kernel.
std::vector<float> im2col(const std::vector<float>& x, std::size_t n, std::size_t h, std::size_t w, std::size_t c,
                          std::size_t k) {
  const std::size_t oh = h - k + 1, ow = w - k + 1;
  std::vector<float> p(n * oh * ow * k * k * c);
  float* out = p.data();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t oy = 0; oy < oh; ++oy)
      for (std::size_t ox = 0; ox < ow; ++ox)
        for (std::size_t ky = 0; ky < k; ++ky)
          for (std::size_t kx = 0; kx < k; ++kx)
            for (std::size_t ch = 0; ch < c; ++ch) *out++ = x[((i * h + oy + ky) * w + ox + kx) * c + ch];
  return p;
}

// 2×2 stride-2 max pooling, NHWC, of relu(x): (n, h, w, c) -> (n, h/2, w/2, c).
std::vector<float> relu_max_pool(const std::vector<float>& x, std::size_t n, std::size_t h, std::size_t w,
                                 std::size_t c) {
  const std::size_t oh = h / 2, ow = w / 2;
  std::vector<float> y(n * oh * ow * c);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t oy = 0; oy < oh; ++oy)
      for (std::size_t ox = 0; ox < ow; ++ox)
        for (std::size_t ch = 0; ch < c; ++ch) {
          float m = 0.f;
          for (std::size_t dy = 0; dy < 2; ++dy)
            for (std::size_t dx = 0; dx < 2; ++dx)
              m = std::max(m, x[((i * h + 2 * oy + dy) * w + 2 * ox + dx) * c + ch]);
          y[((i * oh + oy) * ow + ox) * c + ch] = m;
        }
  return y;
}

void run_cnn(benchmark::State& state, const cnn_case& cc) {
  using s = cnn_sizes;
  const std::size_t n = cc.batch;
  const int rows1 = int(n * s::conv1 * s::conv1), rows2 = int(n * s::conv2 * s::conv2), m = int(n);
  const int k1 = int(s::patch1), f1 = int(s::filters1), k2 = int(s::patch2), f2 = int(s::filters2);
  const int flat = int(s::flat), k = int(classes);
  const bool train_base = cc.c == config::trainable;

  const cnn_weights w;
  std::vector<float> x(n * s::inputs);
  fill_inputs(x.data(), n, s::inputs);

  // Before the timed loop: the patch matrices and the head's input, from one forward pass
  // without batch norm (the values do not matter to the products' speed, only their shapes).
  const std::vector<float> p1 = im2col(x, n, s::height, s::width, s::channels, s::kernel);
  std::vector<float> z1(std::size_t(rows1) * s::filters1), z2(std::size_t(rows2) * s::filters2), z(n * classes);
  gemm(false, false, rows1, f1, k1, p1.data(), k1, w.conv1.data(), f1, z1.data(), f1);
  const std::vector<float> p2 =
      im2col(relu_max_pool(z1, n, s::conv1, s::conv1, s::filters1), n, s::pool1, s::pool1, s::filters1, s::kernel);
  gemm(false, false, rows2, f2, k2, p2.data(), k2, w.conv2.data(), f2, z2.data(), f2);
  const std::vector<float> a = relu_max_pool(z2, n, s::conv2, s::conv2, s::filters2);  // (n × 1600)

  // The gradients reaching the head and the convolutions' outputs: fixed values, only read.
  std::vector<float> dz(n * classes), dw_head(w.dense.size());
  fill_inputs(dz.data(), n, classes);
  std::vector<float> d_a, dz2, dw2, dp2, dz1, dw1;
  if (train_base) {
    d_a.resize(n * s::flat);
    dz2.resize(z2.size());
    fill_inputs(dz2.data(), std::size_t(rows2), s::filters2);
    dw2.resize(w.conv2.size());
    dp2.resize(p2.size());
    dz1.resize(z1.size());
    fill_inputs(dz1.data(), std::size_t(rows1), s::filters1);
    dw1.resize(w.conv1.size());
  }

  auto forward = [&] {
    gemm(false, false, rows1, f1, k1, p1.data(), k1, w.conv1.data(), f1, z1.data(), f1);
    gemm(false, false, rows2, f2, k2, p2.data(), k2, w.conv2.data(), f2, z2.data(), f2);
    gemm(false, false, m, k, flat, a.data(), flat, w.dense.data(), k, z.data(), k);
  };

  if (!cc.training()) {
    time_steps(state, [&] {
      forward();
      benchmark::DoNotOptimize(z.data());
      benchmark::ClobberMemory();
    });
    return;
  }

  time_steps(state, [&] {
    forward();
    // dW_head (1600 × 10) = Aᵀ (1600 × n) · dZ (n × 10)
    gemm(true, false, flat, k, m, a.data(), flat, dz.data(), k, dw_head.data(), k);
    if (train_base) {
      // dA (n × 1600) = dZ (n × 10) · W_headᵀ (10 × 1600)
      gemm(false, true, m, flat, k, dz.data(), k, w.dense.data(), k, d_a.data(), flat);
      // dW2 (288 × 64) = P2ᵀ · dZ2; dP2 (n·121 × 288) = dZ2 · W2ᵀ
      gemm(true, false, k2, f2, rows2, p2.data(), k2, dz2.data(), f2, dw2.data(), f2);
      gemm(false, true, rows2, k2, f2, dz2.data(), f2, w.conv2.data(), f2, dp2.data(), k2);
      // dW1 (9 × 32) = P1ᵀ · dZ1
      gemm(true, false, k1, f1, rows1, p1.data(), k1, dz1.data(), f1, dw1.data(), f1);
    }
    benchmark::DoNotOptimize(dw_head.data());
    benchmark::ClobberMemory();
  });
}

void run_graph(benchmark::State& state, const graph_case& gc) {
  if (gc.g->model == graph_model::residual)
    run_mlp(state, residual_products, gc.batch, gc.training(), 0);
  else
    run_two_branch(state, gc);
}

}  // namespace

int main(int argc, char** argv) {
  openblas_set_num_threads(threads());
  register_all(run_case);
  register_graphs(run_graph);
  register_cnn(run_cnn);
  benchmark::AddCustomContext("openblas_threads", std::to_string(openblas_get_num_threads()));
  return run(argc, argv, "openblas", openblas_get_config());
}
