// docs/expressions.md: activations and losses written as expressions, with the derivatives frost
// generates for them at compile time.
#include <frost/frost.hpp>

#include <cstdio>
#include <type_traits>

using namespace frost;

// An activation is an expression of _x. Numbers are compile-time constants: 0.5_c or c<0.5>.
// mish(x) = x · tanh(softplus(x)); softplus is itself an expression of _x.
constexpr auto mish = _x * tanh(softplus);

int main() {
  // swish is one line: _x * sigmoid(_x). Its derivative is another expression type, simplified.
  std::printf("swish  = %s\n", expr::to_string(swish).c_str());
  std::printf("swish' = %s\n", expr::to_string(d(swish, _x)).c_str());

  // Where the derivative recomputes the activation, backward reads the kept output _y instead:
  // sigmoid' = y * (1 - y), so a dense layer with it keeps only its output.
  using sigmoid_derivative = expr::activation_derivative_t<decltype(sigmoid(_x))>;
  std::printf("sigmoid' = %s\n", expr::to_string(sigmoid_derivative{}).c_str());

  // Expressions go wherever an activation goes: dense<units, f> and activation<f>.
  using Net = sequential<input<4>, dense<16, mish>, dense<8, gelu>, activation<swish>, dense<1>>;
  Net model = Net::init(1);

  // A loss is an expression of _y_true and _y_pred: averaged over the outputs and the batch.
  constexpr auto residual = _y_pred - _y_true;
  constexpr auto huber = where(abs(residual) <= 1_c, 0.5_c * residual * residual, abs(residual) - 0.5_c);
  std::printf("huber' = %s\n", expr::to_string(d(huber, _y_pred)).c_str());
  // compose(f, e) applies an activation to any expression: log cosh e = e + softplus(−2e) − log 2.
  constexpr auto log_cosh = residual + compose(softplus, -2_c * residual) - c<0.6931471805599453>;
  std::printf("log_cosh = %s\n", expr::to_string(log_cosh).c_str());

  matrix<float, 4> x(32);
  matrix<float, 1> y(32);
  for (std::size_t i = 0; i < 32; ++i) {
    for (std::size_t j = 0; j < 4; ++j) x(i, j) = float((i * 7 + j * 3) % 11) / 11.f - 0.5f;
    y(i, 0) = x(i, 0) * x(i, 1) + x(i, 2);
  }
  auto [loss, grads] = value_and_grad(model, huber, x, y);
  auto trainer = make_trainer(model, huber, adam{.learning_rate = 0.01f}, 32);
  float last = loss;
  for (int step = 0; step < 200; ++step) last = trainer.step(x, y);
  std::printf("huber loss: %.5f -> %.5f\n", double(loss), double(last));
  return last < loss ? 0 : 1;
}
