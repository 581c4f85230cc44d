// Correctness checks for the Eigen peer's step (eigen_mlp.hpp), on W1 (100-64-32-10), batch 32:
//   1. gradients against central finite differences (double precision);
//   2. the Adam update against a scalar reference of Keras's formula;
//   3. 20 steps on one fixed batch reduce the loss, trainable and frozen;
//   4. frozen layers stay bit-identical, and the head's gradient is the same frozen or not;
//   5. no heap allocation inside step() or predict() at W1's batches, 1, 32 and 256
//      (EIGEN_RUNTIME_NO_MALLOC).
// Prints what it checks and exits non-zero on the first failure.

// Eigen reports a forbidden allocation through eigen_assert, which NDEBUG (Release) would remove.
#undef NDEBUG
#define EIGEN_RUNTIME_NO_MALLOC
#include "eigen_mlp.hpp"
#include "workloads.hpp"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

using namespace frost_peers;
const workload& w1 = workloads[0];

int failures = 0;
void expect(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok  " : "FAIL", what);
  if (!ok) ++failures;
}

template <class T>
struct batch_data {
  typename eigen_peer::mlp<T>::matrix x, y;
  explicit batch_data(std::size_t batch) : x(Eigen::Index(w1.inputs()), Eigen::Index(batch)), y(Eigen::Index(classes), Eigen::Index(batch)) {
    fill_inputs(x.data(), batch, w1.inputs());
    fill_one_hot(y.data(), batch);
  }
};

// 1. Every weight gradient entry of every layer against (L(w + h) - L(w - h)) / 2h, in double.
void check_gradients(std::size_t frozen) {
  eigen_peer::mlp<double> net(w1, 32, frozen);
  batch_data<double> d(32);
  net.loss_and_gradients(d.x, d.y);
  double worst = 0;
  for (std::size_t l = frozen; l < net.layers(); ++l) {
    auto& wl = net.weights(l);
    for (Eigen::Index j = 0; j < wl.cols(); j += 7) {
      for (Eigen::Index i = 0; i < wl.rows(); i += 3) {
        const double h = 1e-6, saved = wl(i, j);
        wl(i, j) = saved + h;
        const double up = net.loss(d.x, d.y);
        wl(i, j) = saved - h;
        const double down = net.loss(d.x, d.y);
        wl(i, j) = saved;
        const double numeric = (up - down) / (2 * h);
        const double analytic = net.weight_gradient(l)(i, j);
        worst = std::max(worst, std::abs(numeric - analytic) / std::max(1e-6, std::abs(numeric) + std::abs(analytic)));
      }
    }
  }
  std::printf("      largest relative gradient error (frozen layers: %zu): %.2e\n", frozen, worst);
  expect(worst < 1e-4, "weight gradients match finite differences");
}

// 2. Three Adam steps against a scalar loop over the trainable parameters.
void check_adam() {
  eigen_peer::mlp<float> net(w1, 32, 0);
  batch_data<float> d(32);
  const std::size_t off = net.trainable_offset(), n = std::size_t(net.grads().size());
  std::vector<double> w(n), m(n, 0.0), v(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) w[i] = net.params()[Eigen::Index(off + i)];
  double worst = 0;
  for (int t = 1; t <= 3; ++t) {
    net.loss_and_gradients(d.x, d.y);
    for (std::size_t i = 0; i < n; ++i) w[i] = net.params()[Eigen::Index(off + i)];
    const double b1 = adam_hyper::beta_1, b2 = adam_hyper::beta_2, eps = adam_hyper::epsilon;
    const double alpha = adam_hyper::learning_rate * std::sqrt(1 - std::pow(b2, t)) / (1 - std::pow(b1, t));
    for (std::size_t i = 0; i < n; ++i) {
      const double g = net.grads()[Eigen::Index(i)];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      w[i] -= alpha * m[i] / (std::sqrt(v[i]) + eps);
    }
    net.adam_update();
    for (std::size_t i = 0; i < n; ++i) worst = std::max(worst, std::abs(w[i] - net.params()[Eigen::Index(off + i)]));
  }
  std::printf("      largest difference from the reference after each of 3 steps: %.2e\n", worst);
  expect(worst < 1e-6, "Adam update matches Keras's formula");
}

// 3 and 4. Loss over 20 steps on one batch; frozen parameters untouched.
void check_training() {
  batch_data<float> d(32);
  for (std::size_t frozen : {std::size_t(0), w1.frozen_prefix}) {
    eigen_peer::mlp<float> net(w1, 32, frozen);
    const std::vector<float> before(net.params().data(), net.params().data() + net.trainable_offset());
    std::printf("      frozen layers %zu, loss per step:", frozen);
    float first = 0, last = 0;
    bool decreasing = true;
    for (int s = 0; s < 20; ++s) {
      const float loss = net.step(d.x, d.y);
      std::printf(" %.4f", double(loss));
      if (s == 0) first = loss;
      else decreasing = decreasing && loss < last;
      last = loss;
    }
    std::printf("\n");
    expect(last < first && decreasing, frozen ? "frozen: loss decreases at every step" : "trainable: loss decreases at every step");
    if (frozen) {
      const bool same = std::equal(before.begin(), before.end(), net.params().data());
      expect(same && !before.empty(), "frozen layers' parameters are bit-identical after 20 steps");
    }
  }
  eigen_peer::mlp<float> all(w1, 32, 0), head(w1, 32, w1.frozen_prefix);
  all.loss_and_gradients(d.x, d.y);
  head.loss_and_gradients(d.x, d.y);
  const std::size_t top = w1.layer_count - 1;
  expect(all.weight_gradient(top) == head.weight_gradient(top) && all.bias_gradient(top) == head.bias_gradient(top),
         "the head's gradient is identical with layers 0 and 1 frozen");
}

// 5. step() and predict() after construction allocate nothing (Eigen asserts on a heap allocation).
static_assert(w1.batch_count == 3 && w1.batches[0] == 1 && w1.batches[1] == 32 && w1.batches[2] == 256);
void check_no_allocation() {
  for (std::size_t b = 0; b < w1.batch_count; ++b) {
    const std::size_t batch = w1.batches[b];
    batch_data<float> d(batch);
    eigen_peer::mlp<float> all(w1, batch, 0), head(w1, batch, w1.frozen_prefix);
    Eigen::internal::set_is_malloc_allowed(false);
    all.step(d.x, d.y);
    head.step(d.x, d.y);
    all.predict(d.x);
    Eigen::internal::set_is_malloc_allowed(true);
  }
  expect(true, "no heap allocation in step() and predict() at batch 1, 32 and 256");
}

}  // namespace

int main() {
  check_gradients(0);
  check_gradients(w1.frozen_prefix);
  check_adam();
  check_training();
  check_no_allocation();
  std::printf(failures ? "%d check(s) failed\n" : "all checks passed\n", failures);
  return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
