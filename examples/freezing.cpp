// docs/freezing.md: what freezing stores, computes and skips, as compile-time facts; and
// progressive unfreezing that carries the optimizer's state over.
#include <frost/frost.hpp>

#include <cstdio>
#include <type_traits>
#include <utility>

int main() {
  using namespace frost;
  using Net = sequential<input<100>, dense<64, relu>, dense<32, relu>, dense<10, softmax>>;
  using Head = sequential<input<100>, frozen<dense<64, relu>>, frozen<dense<32, relu>>, dense<10, softmax>>;

  // Stored: gradients and optimizer state exist for trainable parameters only.
  static_assert(gradients<Net>::size == 8874 && gradients<Head>::size == 330);
  static_assert(optimizer<Head, adam>::state_size == 2 * 330);
  // A trainer applies Adam inside the weight-gradient products (the fused update, the default)
  // and stores no gradient at all; one made with keep_gradients stores them first.
  using fused = trainer<Head, categorical_crossentropy, adam>;
  using kept = trainer<Head, categorical_crossentropy, adam, /*KeepGradients=*/true>;
  static_assert(fused::fused_update && fused::gradient_bytes == 0);
  static_assert(!kept::fused_update && kept::gradient_bytes == 330 * sizeof(float));
  // Kept for backward, per sample: the head's input (32) and the output (10); layer 0's output
  // is never kept, since no backward reads it.
  static_assert(Net::plan.kept_per_sample == 64 + 32 + 10 && Head::plan.kept_per_sample == 32 + 10);
  // Computed: only the head takes part in backward; nothing is generated for layers 0 and 1.
  // The plan counts nodes, the input first: layer i of a sequential model is node i + 1.
  static_assert(!Head::plan.backward_active[1] && !Head::plan.backward_active[2]);
  static_assert(Head::plan.needs_param_grad[3] && !Head::plan.needs_input_grad[3]);

  // Progressive unfreezing: train the head, then unfreeze layer 1 and carry Adam's state over.
  Head model = freeze<0, 1>(Net::init(3));
  matrix<float, 100> x(16);
  matrix<float, 10> y(16);
  for (std::size_t i = 0; i < 16; ++i) {
    y(i, i % 10) = 1.f;
    x(i, i) = 1.f;
  }
  auto tr = make_trainer(model, categorical_crossentropy{}, adam{.learning_rate = 0.01f}, 16);
  for (int s = 0; s < 20; ++s) tr.step(x, y);
  auto opt = std::move(tr.get_optimizer());

  auto deeper = unfreeze<1>(std::move(model));
  auto deeper_opt = unfreeze<1>(std::move(opt));  // layer 2 keeps m and v; layer 1 starts at zero
  static_assert(std::is_same_v<decltype(deeper), sequential<input<100>, frozen<dense<64, relu>>, dense<32, relu>,
                                                            dense<10, softmax>>>);
  auto tr2 = make_trainer(deeper, categorical_crossentropy{}, std::move(deeper_opt), 16);
  const float loss = tr2.step(x, y);
  std::printf("after unfreezing layer 1: step %llu, loss %.4f\n",
              static_cast<unsigned long long>(tr2.get_optimizer().iterations()), double(loss));
  return tr2.get_optimizer().iterations() == 21 ? 0 : 1;
}
