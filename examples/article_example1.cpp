// The article's example 1 in frost: a frozen dense layer, a forward pass, reduce_sum, and the
// gradients — which do not exist. In Keras they come back as None at run time; here the type
// of the gradient is `no_gradient` and there is no storage for it at all.
#include <frost/frost.hpp>

#include <cstdio>
#include <type_traits>

int main() {
  using namespace frost;
  // tf.keras.layers.Dense(units=10, activation='relu'); layer.trainable = False
  using layer_model = sequential<input<5>, frozen<dense<10, relu>>>;
  layer_model layer = layer_model::init(7);

  matrix<float, 5> input_data(1);  // tf.random.normal(shape=(1, 5))
  random_stream rng(1);
  for (float& v : input_data.values()) v = float(rng.uniform(-1, 1));

  const auto output = layer(input_data);
  std::printf("Initial weights: [");
  for (float w : layer.layer<0>().kernel()) std::printf(" %.4f", double(w));
  std::printf(" ]\nInitial biases: [");
  for (float b : layer.layer<0>().bias()) std::printf(" %.4f", double(b));
  std::printf(" ]\nOutput: [");
  for (float o : output.values()) std::printf(" %.4f", double(o));
  std::printf(" ]\n");

  auto [loss, gradients] = value_and_grad(layer, reduce_sum{}, input_data);
  // The compile-time "None": asking for the frozen layer's gradient gives an empty type.
  static_assert(std::is_same_v<decltype(gradients.layer<0>()), no_gradient>);
  static_assert(decltype(gradients)::size == 0);
  std::printf("Loss (reduce_sum): %.4f\n", double(loss));
  std::printf("Gradients (should be None): no_gradient — layer 0 is frozen, so its gradient type is empty "
              "and %zu bytes of gradient storage exist\n",
              decltype(gradients)::size * sizeof(float));
  return 0;
}
