// The article's example 3 in frost: a functional model (Keras `tf.keras.Model(inputs, outputs)`),
// its two Dense layers frozen by index as `model.get_layer(index=1)` and `index=2` (the input
// layer is index 0), one Adam step on binary crossentropy against [[0.]], and the weights before
// and after: the frozen layers are bit-identical, the output layer changed.
#include <frost/frost.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

int main() {
  using namespace frost;
  // inputs = tf.keras.Input(shape=(10,))
  auto inputs = input<10>{};
  // x = Dense(64, relu)(inputs); x = Dense(32, relu)(x); outputs = Dense(1, sigmoid)(x)
  // (each call gives a tensor of a new type, so each gets a name of its own)
  auto x1 = dense<64, relu>{}(inputs);
  auto x2 = dense<32, relu>{}(x1);
  auto outputs = dense<1, sigmoid>{}(x2);
  auto built = make_model(inputs, outputs);  // tf.keras.Model(inputs=inputs, outputs=outputs)

  // model.get_layer(index=1).trainable = False; model.get_layer(index=2).trainable = False
  auto model = freeze<1, 2>(std::move(built));
  static_assert(decltype(model)::trainable_param_count == 32 + 1);

  // input_data = tf.random.normal(shape=(1, 10)); output = model(input_data)
  matrix<float, 10> input_data(1);
  random_stream rng(11);
  for (float& v : input_data.values()) v = float(rng.uniform(-1, 1));
  const auto output = model(input_data);
  std::printf("output: %.6f\n", double(output(0, 0)));

  // [layer.weights[0] for layer in model.layers[1:]]
  const std::vector<float> k1(model.layer<1>().kernel().begin(), model.layer<1>().kernel().end());
  const std::vector<float> k2(model.layer<2>().kernel().begin(), model.layer<2>().kernel().end());
  const std::vector<float> k3(model.layer<3>().kernel().begin(), model.layer<3>().kernel().end());
  std::printf("Model weights before training: layer 1 k[0]=%.6f, layer 2 k[0]=%.6f, layer 3 k[0]=%.6f\n",
              double(k1[0]), double(k2[0]), double(k3[0]));

  // One Adam step on binary_crossentropy(tf.constant([[0.]]), predictions).
  auto optimizer = make_optimizer(model, adam{.learning_rate = 0.01f});
  matrix<float, 1> target(1);
  auto [loss, gradients] = value_and_grad(model, binary_crossentropy{}, input_data, target);
  optimizer.apply_gradients(model, gradients);
  std::printf("loss: %.6f\n", double(loss));

  std::printf("Model weights after pseudo-training: layer 1 k[0]=%.6f, layer 2 k[0]=%.6f, layer 3 k[0]=%.6f\n",
              double(model.layer<1>().kernel()[0]), double(model.layer<2>().kernel()[0]),
              double(model.layer<3>().kernel()[0]));
  auto largest_change = [](const std::vector<float>& before, auto after) {
    double d = 0;
    for (std::size_t i = 0; i < before.size(); ++i) d = std::max(d, std::abs(double(after[i]) - double(before[i])));
    return d;
  };
  std::printf("largest change of a kernel weight: layer 1 %g, layer 2 %g, layer 3 %g\n",
              largest_change(k1, model.layer<1>().kernel()), largest_change(k2, model.layer<2>().kernel()),
              largest_change(k3, model.layer<3>().kernel()));
  auto same = [](const std::vector<float>& before, auto after) {
    return std::memcmp(before.data(), after.data(), after.size_bytes()) == 0;
  };
  const bool l1 = same(k1, model.layer<1>().kernel()), l2 = same(k2, model.layer<2>().kernel());
  const bool l3 = same(k3, model.layer<3>().kernel());
  std::printf("layer 1 (frozen):    %s\n", l1 ? "unchanged (bit-identical)" : "CHANGED");
  std::printf("layer 2 (frozen):    %s\n", l2 ? "unchanged (bit-identical)" : "CHANGED");
  std::printf("layer 3 (trainable): %s\n", l3 ? "unchanged" : "changed");
  return l1 && l2 && !l3 ? 0 : 1;
}
