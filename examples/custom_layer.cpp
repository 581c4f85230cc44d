// docs/layers.md ("Writing a layer") quotes this file: a layer written outside frost through the
// layer protocol (include/frost/layers/layer_spec.hpp), used in a sequential and a functional
// model, checked against hand computation and central differences in double, and trained. It
// also counts which backward stages the plan calls. Exit code 1 on any mismatch.
#include <frost/frost.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <span>
#include <string_view>
#include <type_traits>

namespace {

// How often the plan called each backward stage of a scale layer: activation, params, input.
std::array<int, 3> stage_calls{};

/// A view of a scale layer's parameters (or of their gradients): one weight per feature.
template <class T, std::size_t Units>
class scale_params {
 public:
  explicit scale_params(T* p) noexcept : p_(p) {}
  std::span<T, Units> weights() const noexcept { return std::span<T, Units>(p_, Units); }

 private:
  T* p_;
};

/// y = x ⊙ w: feature j times its own weight w_j, initialized to 1.
template <std::size_t Units>
struct scale : frost::layer_call<scale<Units>> {  // layer_call: scale<4>{}(h) in functional models
  static constexpr std::string_view keras_name = "scale";  // default names: scale, scale_1, ...
  using expected_input = frost::shape<Units>;               // printed in a shape mismatch error
  template <class In>
  static constexpr bool accepts = std::is_same_v<In, frost::shape<Units>>;
  template <class In>
  using output_shape = In;
  template <class In>
  static constexpr std::size_t param_count = Units;
  template <class In, class T>
  using params = scale_params<T, Units>;  // what model.layer<i>() and grads.layer<i>() return

  static constexpr bool param_grad_reads_input = true;  // dL/dw reads x: the plan keeps x
  static constexpr bool rows_independent = true;        // a step may split the batch by rows

  template <class In, class T>
  static void initialize(T* w, frost::random_stream&) noexcept {
    std::fill(w, w + Units, T{1});
  }

  template <class In, class T>
  static void forward(const frost::forward_args<T>& a) noexcept {
    for (std::size_t r = 0; r < a.rows; ++r)
      for (std::size_t j = 0; j < Units; ++j) a.y[r * Units + j] = a.x[r * Units + j] * a.params[j];
  }

  template <class In, frost::backward_stage S, class T>
  static void backward(frost::stage<S>, const frost::backward_args<T>& a) noexcept {
    ++stage_calls[static_cast<std::size_t>(S)];
    if constexpr (S == frost::backward_stage::activation) {
      // No activation: dL/dz = dL/dy, so g stays as it is.
    } else if constexpr (S == frost::backward_stage::params) {
      // dL/dw_j = Σ_r x_rj · g_rj over the whole batch, written (not added) into dparams.
      std::fill(a.dparams, a.dparams + Units, T{0});
      for (std::size_t r = 0; r < a.rows; ++r)
        for (std::size_t j = 0; j < Units; ++j) a.dparams[j] += a.x[r * Units + j] * a.g[r * Units + j];
    } else {
      // dL/dx_rj = g_rj · w_j; added when another reader of x wrote its gradient first.
      // (with_activation asks for f' on g first: f' = 1 here.)
      for (std::size_t r = 0; r < a.rows; ++r)
        for (std::size_t j = 0; j < Units; ++j) {
          const std::size_t i = r * Units + j;
          a.dx[i] = (a.accumulate ? a.dx[i] : T{0}) + a.g[i] * a.params[j];
        }
    }
  }
};

/// Every trainable parameter's gradient from value_and_grad against a central difference of
/// the loss (double precision).
template <class Model, class Loss, class Y>
bool matches_finite_differences(Model& model, Loss loss, const frost::matrix<double, 4>& x, const Y& y) {
  const auto analytic = frost::value_and_grad(model, loss, x, y).grads;
  auto w = model.trainable_parameters();
  for (std::size_t i = 0; i < w.size(); ++i) {
    const double w0 = w[i], h = 1e-6;
    w[i] = w0 + h;
    const double up = frost::value_and_grad(model, loss, x, y).loss;
    w[i] = w0 - h;
    const double down = frost::value_and_grad(model, loss, x, y).loss;
    w[i] = w0;
    const double numeric = (up - down) / (2 * h), got = analytic.values()[i];
    if (std::abs(got - numeric) > 1e-6 * std::max({1.0, std::abs(got), std::abs(numeric)})) {
      std::printf("parameter %zu: analytic %.9g, numeric %.9g\n", i, got, numeric);
      return false;
    }
  }
  return true;
}

}  // namespace

int main() {
  using namespace frost;
  int failures = 0;
  auto check = [&](bool ok, const char* what) {
    std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
    failures += ok ? 0 : 1;
  };

  frost::matrix<double, 4> x(6);
  frost::matrix<double, 3> y(6);
  random_stream rng(7);
  for (double& v : x.values()) v = rng.uniform(-1, 1);
  for (std::size_t i = 0; i < 6; ++i) y(i, i % 3) = 1.0;

  // By hand: one scale layer and reduce_sum, so y = x ⊙ w and dL/dw_j = Σ_r x_rj.
  {
    using One = basic_sequential<double, input<4>, scale<4>>;
    One m = One::init(0);
    check(std::all_of(m.layer<0>().weights().begin(), m.layer<0>().weights().end(), [](double w) { return w == 1; }),
          "w starts at 1");
    const std::array<double, 4> w{0.5, -1, 2, 3};
    std::copy(w.begin(), w.end(), m.layer<0>().weights().begin());
    const auto out = m(x);
    bool forward_ok = true, grad_ok = true;
    for (std::size_t r = 0; r < 6; ++r)
      for (std::size_t j = 0; j < 4; ++j) forward_ok = forward_ok && out(r, j) == x(r, j) * w[j];
    stage_calls = {};
    const auto [loss, grads] = value_and_grad(m, reduce_sum{}, x);
    for (std::size_t j = 0; j < 4; ++j) {
      double column = 0;
      for (std::size_t r = 0; r < 6; ++r) column += x(r, j);
      grad_ok = grad_ok && std::abs(grads.layer<0>().weights()[j] - column) < 1e-12;
    }
    check(forward_ok && grad_ok, "y = x * w and dL/dw = column sums of x, by hand");
    // Nothing trains before the scale layer: no input stage.
    check(stage_calls == std::array<int, 3>{1, 1, 0}, "first layer: activation and params stages only");
  }

  // Sequential, between two dense layers: every stage runs, and gradients match.
  {
    using Net = basic_sequential<double, input<4>, dense<4, tanh_activation>, scale<4>, dense<3, softmax>>;
    Net m = Net::init(1);
    for (double& w : m.layer<1>().weights()) w = rng.uniform(0.5, 1.5);
    stage_calls = {};
    (void)value_and_grad(m, categorical_crossentropy{}, x, y);
    check(stage_calls == std::array<int, 3>{1, 1, 1}, "trainable, between dense layers: all three stages");
    check(matches_finite_differences(m, categorical_crossentropy{}, x, y), "sequential: gradients = central differences");

    // Frozen, the gradient still flows through it: the input stage alone runs.
    using Frozen = basic_sequential<double, input<4>, dense<4, tanh_activation>, frozen<scale<4>>, dense<3, softmax>>;
    Frozen f = freeze<1>(std::move(m));
    stage_calls = {};
    (void)value_and_grad(f, categorical_crossentropy{}, x, y);
    check(stage_calls == std::array<int, 3>{0, 0, 1}, "frozen: the input stage only; params never instantiated");
    check(matches_finite_differences(f, categorical_crossentropy{}, x, y), "frozen: gradients = central differences");
  }

  // Functional: h feeds both the scale layer and the add, so scale's input stage adds into dL/dh.
  auto in = input<4>{};
  auto h = dense<4, relu>{}(in);
  auto out = dense<3, softmax>{}(add{}(h, scale<4>{}(h)));
  using M = decltype(make_model(in, out));
  static_assert(M::names[2] == "scale" && M::index_of<"scale"> == 2);
  static_assert(M::plan.edge_accumulates[M::plan.facts[2].first_edge]);
  {
    auto m = basic_functional<double, M::graph_type, M::input_nodes_type>::init(2);
    for (double& w : m.layer<2>().weights()) w = rng.uniform(0.5, 1.5);
    check(matches_finite_differences(m, categorical_crossentropy{}, x, y), "functional: gradients = central differences");
  }

  // Training, in float: a few steps of each model lower the loss and move w away from 1.
  frost::matrix<float, 4> xf(6);
  frost::matrix<float, 3> yf(6);
  for (std::size_t i = 0; i < x.values().size(); ++i) xf.values()[i] = float(x.values()[i]);
  for (std::size_t i = 0; i < y.values().size(); ++i) yf.values()[i] = float(y.values()[i]);

  using Seq = sequential<input<4>, dense<4, tanh_activation>, scale<4>, dense<3, softmax>>;
  Seq seq = Seq::init(3);
  auto ts = make_trainer(seq, categorical_crossentropy{}, adam{.learning_rate = 0.05f}, 6);
  const float seq_first = ts.step(xf, yf);
  float seq_last = seq_first;
  for (int s = 1; s < 20; ++s) seq_last = ts.step(xf, yf);

  M fun = M::init(3);
  auto tf = make_trainer(fun, categorical_crossentropy{}, adam{.learning_rate = 0.05f}, 6);
  const float fun_first = tf.step(xf, yf);
  float fun_last = fun_first;
  for (int s = 1; s < 20; ++s) fun_last = tf.step(xf, yf);

  std::printf("sequential loss %.4f -> %.4f, w[0] = %.4f; functional loss %.4f -> %.4f, w[0] = %.4f\n",
              double(seq_first), double(seq_last), double(seq.layer<1>().weights()[0]), double(fun_first),
              double(fun_last), double(fun.layer<"scale">().weights()[0]));
  check(seq_last < seq_first && seq.layer<1>().weights()[0] != 1.f, "sequential: trains, w moves");
  check(fun_last < fun_first && fun.layer<"scale">().weights()[0] != 1.f, "functional: trains, w moves");
  return failures == 0 ? 0 : 1;
}
