// Adam's update (Keras's equations) as a plain loop, the reference for "batch1/adam_update/...":
// what a compiler makes of the equations on its own. This file alone is compiled with
// -fno-math-errno, so that std::sqrt may become a vector square root (with errno semantics
// g++ keeps the loop scalar: a call per element). A timing reference, not an exact one: the
// compiler may contract a product and a sum into one fused multiply-add, which frost's pass,
// rounding each operation as Keras does, never does.
#include <cmath>
#include <cstddef>

namespace frost_bench {

void adam_plain_loop(float* __restrict w, const float* __restrict g, float* __restrict m,
                     float* __restrict v, std::size_t n, float alpha, float one_b1, float one_b2,
                     float eps) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    m[i] += (g[i] - m[i]) * one_b1;
    v[i] += (g[i] * g[i] - v[i]) * one_b2;
    w[i] -= alpha * m[i] / (std::sqrt(v[i]) + eps);
  }
}

}  // namespace frost_bench
