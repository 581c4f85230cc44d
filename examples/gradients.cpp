// docs/training.md: what value_and_grad returns. A loss_and_gradients<Model> with .loss and
// .grads; grads is a gradients<Model>: layer<i>() views (kernel(), bias(), or no_gradient for a
// frozen layer), values(), data() and size, laid out as the model's trainable parameters.
#include <frost/frost.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <span>
#include <type_traits>

int main() {
  using namespace frost;
  using Net = sequential<input<4>, dense<8, relu>, dense<3, softmax>>;
  auto model = freeze<0>(Net::init(1));  // layer 0 frozen: only layer 1 has gradients

  matrix<float, 4> x(6);
  matrix<float, 3> y(6);
  for (std::size_t i = 0; i < 6; ++i) {
    x(i, i % 4) = 1.f;
    y(i, i % 3) = 1.f;
  }

  // Structured bindings take the members in order: loss, then grads.
  auto [loss, grads] = value_and_grad(model, categorical_crossentropy{}, x, y);
  std::span<float, 8 * 3> dk = grads.layer<1>().kernel();  // dL/dW, [in][out] as Keras: dk[i * 3 + j]
  std::span<float, 3> db = grads.layer<1>().bias();        // dL/db
  static_assert(std::is_same_v<decltype(grads.layer<0>()), no_gradient>);  // frozen: no storage
  static_assert(decltype(grads)::size == decltype(model)::trainable_param_count);  // 8 * 3 + 3
  std::printf("loss %.4f, dL/dW[0][0] %.4f, dL/db[0] %.4f\n", double(loss), double(dk[0]), double(db[0]));

  // The same result by member; its type is loss_and_gradients<decltype(model)>.
  loss_and_gradients<decltype(model)> result = value_and_grad(model, categorical_crossentropy{}, x, y);
  std::printf("loss %.4f, %zu gradient values\n", double(result.loss), result.grads.size);

  // values() is every gradient as one span (data() the same as a pointer), so whole-model work
  // is one loop: here, clipping by global norm (Keras: global_clipnorm=1.0) before the update.
  float norm2 = 0;
  for (float g : grads.values()) norm2 += g * g;
  const float scale = std::min(1.f, 1.f / std::sqrt(norm2));
  for (float& g : grads.values()) g *= scale;
  auto opt = make_optimizer(model, sgd{.learning_rate = 0.1f});
  opt.apply_gradients(model, grads);

  // The layer views look into the same block: layer 1's kernel, then its bias.
  const bool same_block = grads.data() == dk.data() && grads.data() + 8 * 3 == db.data();
  return same_block && result.loss == loss ? 0 : 1;
}
