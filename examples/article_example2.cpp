// The article's example 2 in frost: a Sequential model with its first two layers frozen, two
// Adam steps on a random one-hot target, and the weights before and after.
#include <frost/frost.hpp>

#include <cstdio>
#include <cstring>
#include <utility>
#include <vector>

int main() {
  using namespace frost;
  using Net = sequential<input<100>, dense<64, relu>, dense<32, relu>, dense<10, softmax>>;
  // model.layers[0].trainable = False; model.layers[1].trainable = False
  auto model = freeze<0, 1>(Net::init(42));

  matrix<float, 100> input_data(1);
  random_stream rng(7);
  for (float& v : input_data.values()) v = float(rng.uniform(-1, 1));

  const auto output = model(input_data);  // forward pass
  (void)output;
  const std::vector<float> k0(model.layer<0>().kernel().begin(), model.layer<0>().kernel().end());
  const std::vector<float> k1(model.layer<1>().kernel().begin(), model.layer<1>().kernel().end());
  const std::vector<float> k2(model.layer<2>().kernel().begin(), model.layer<2>().kernel().end());
  std::printf("Model weights before training: layer 0 k[0]=%.6f, layer 1 k[0]=%.6f, layer 2 k[0]=%.6f\n",
              double(k0[0]), double(k1[0]), double(k2[0]));

  auto optimizer = make_optimizer(model, adam{.learning_rate = 0.01f});
  for (int step = 0; step < 2; ++step) {
    matrix<float, 10> target(1);
    target(0, rng.next() % 10) = 1.f;  // tf.one_hot(tf.random.uniform([1], 0, 10, tf.int32), 10)
    auto [loss, gradients] = value_and_grad(model, categorical_crossentropy{}, input_data, target);
    optimizer.apply_gradients(model, gradients);
    std::printf("step %d: loss %.4f\n", step + 1, double(loss));
  }

  auto same = [](const std::vector<float>& before, auto after) {
    return std::memcmp(before.data(), after.data(), after.size_bytes()) == 0;
  };
  std::printf("Model weights after pseudo-training: layer 0 k[0]=%.6f, layer 1 k[0]=%.6f, layer 2 k[0]=%.6f\n",
              double(model.layer<0>().kernel()[0]), double(model.layer<1>().kernel()[0]),
              double(model.layer<2>().kernel()[0]));
  const bool l0 = same(k0, model.layer<0>().kernel()), l1 = same(k1, model.layer<1>().kernel());
  const bool l2 = same(k2, model.layer<2>().kernel());
  std::printf("layer 0 (frozen):    %s\n", l0 ? "unchanged (bit-identical)" : "CHANGED");
  std::printf("layer 1 (frozen):    %s\n", l1 ? "unchanged (bit-identical)" : "CHANGED");
  std::printf("layer 2 (trainable): %s\n", l2 ? "unchanged" : "changed");
  return l0 && l1 && !l2 ? 0 : 1;
}
