// docs/functional.md quotes this file: functional models (Keras's `keras.Model(inputs, outputs)`)
// whose type is their graph. A residual model with a frozen branch, what the plan does with it,
// names, progressive unfreezing with trainer::rebind, a two-input model, and summary. Every fact
// the page states is checked here, at compile time or at run time (exit code 1 on a mismatch).
#include <frost/frost.hpp>

#include <boost/hana/tuple.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdio>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

int main() {
  using namespace frost;
  int failures = 0;
  auto check = [&](bool ok, const char* what) {
    if (!ok) {
      std::printf("FAILED: %s\n", what);
      ++failures;
    }
  };

  // --- A residual model with a frozen branch ---
  auto x = input<8>{};                                              // keras.Input(shape=(8,))
  auto h = dense<16, relu>{}(x);                                    // h feeds two layers below
  auto r = add{}(h, dense<16, relu>{}(h));                          // a residual connection: h + f(h)
  auto features = frozen<named<"features", dense<16, relu>>>{}(x);  // a frozen branch, named
  auto both = concatenate{}(r, features);                           // last axis: 16 + 16 -> 32
  auto out = dense<3, softmax>{}(both);
  auto model = make_model(x, out);                                  // keras.Model(inputs=x, outputs=out)
  using M = decltype(model);

  // The type is the graph, in Keras's model.layers order: node i reads the nodes listed after it.
  static_assert(std::is_same_v<M::graph_type,
                               graph<layer_node<input<8>>,                                      // 0 input_layer
                                     layer_node<dense<16, relu>, 1>,                            // 1 dense: reads 0
                                     layer_node<dense<16, relu>, 1>,                            // 2 dense_1: reads 1
                                     layer_node<add, 2, 1>,                                     // 3 add: reads 1, 2
                                     layer_node<frozen<named<"features", dense<16, relu>>>, 4>,  // 4 features: reads 0
                                     layer_node<concatenate, 2, 1>,                             // 5 concatenate: 3, 4
                                     layer_node<dense<3, softmax>, 1>>>);                       // 6 dense_2: reads 5
  static_assert(std::is_same_v<M, basic_functional<float, M::graph_type, std::index_sequence<0>>>);

  // Layer indices count the input, as Keras's model.get_layer(index=i) does.
  static_assert(M::layer_count == 7 && std::is_same_v<M::layer_type<0>, input<8>>);
  static_assert(M::names[0] == "input_layer" && M::names[1] == "dense" && M::names[2] == "dense_1");
  static_assert(M::names[4] == "features" && M::names[6] == "dense_2");
  static_assert(M::index_of<"features"> == 4 && M::index_of<"dense_2"> == 6);
  std::span<float, 8 * 16> k = model.layer<"features">().kernel();  // the same as model.layer<4>()
  check(k.data() == model.layer<4>().kernel().data(), "layer<\"features\"> is layer<4>");

  // Structural identity: the same layer type on the same input is the same node.
  static_assert(std::is_same_v<decltype(dense<8>{}(x)), decltype(dense<8>{}(x))>);
  auto left = named<"left", dense<8>>{}(x);
  auto right = named<"right", dense<8>>{}(x);
  auto pair = make_model(x, add{}(left, right));  // two layers: names make them distinct
  static_assert(decltype(pair)::layer_count == 4);

  // --- What the plan does on the graph ---
  constexpr auto& p = M::plan;
  // The frozen branch reads only the input: no backward, nothing kept, no gradient buffer.
  static_assert(!p.backward_active[4] && !p.keeps_output[4] && p.gradient_offset[4] == p.npos);
  // h feeds dense_1 and add: add's backward writes dL/dh, dense_1's then adds to it in place.
  static_assert(!p.edge_accumulates[p.facts[3].first_edge] && p.edge_accumulates[p.facts[2].first_edge]);
  // Stored: gradients and optimizer state for the trainable 144 + 272 + 99 parameters only.
  static_assert(M::trainable_param_count == 515 && M::frozen_param_count == 144);
  static_assert(gradients<M>::size == 515 && optimizer<M, adam>::state_size == 2 * 515);
  // Kept for backward, per sample: h (16), dense_1's output (16), the concatenation (32, read by
  // the head's weight gradient) and the output (3); not the add's output, not the frozen branch.
  static_assert(p.kept_per_sample == 16 + 16 + 32 + 3);

  summary(model);

  // --- Training, then progressive unfreezing ---
  matrix<float, 8> xs(32);
  matrix<float, 3> ys(32);
  random_stream rng(5);
  for (float& v : xs.values()) v = float(rng.uniform(-1, 1));
  for (std::size_t i = 0; i < 32; ++i) ys(i, (xs(i, 0) > 0) + (xs(i, 1) > 0)) = 1.f;

  auto tr = make_trainer(model, categorical_crossentropy{}, adam{.learning_rate = 0.01f}, 32);
  const float first = tr.step(xs, ys);
  for (int s = 1; s < 30; ++s) tr.step(xs, ys);
  const std::vector<float> head_m(tr.get_optimizer().state().begin() + M::plan.trainable_offset[6],
                                  tr.get_optimizer().state().begin() + M::plan.trainable_offset[6] + 99);

  auto all = unfreeze<"features">(std::move(model));  // model.get_layer("features").trainable = True
  auto tr2 = std::move(tr).rebind(all);                // recompile, keeping Adam's state and step count
  using A = decltype(all);
  static_assert(std::is_same_v<A::layer_type<4>, named<"features", dense<16, relu>>>);
  check(tr2.get_optimizer().iterations() == 30, "rebind keeps the step count");
  const auto state = tr2.get_optimizer().state();
  check(std::all_of(state.begin() + A::plan.trainable_offset[4], state.begin() + A::plan.trainable_offset[4] + 144,
                    [](float v) { return v == 0.f; }),
        "a newly trainable layer starts with zero state");
  check(std::equal(head_m.begin(), head_m.end(), state.begin() + A::plan.trainable_offset[6]),
        "a layer trainable before and after keeps its state");
  float last = 0;
  for (int s = 0; s < 30; ++s) last = tr2.step(xs, ys);
  std::printf("loss: %.4f at step 1, %.4f at step %llu\n", double(first), double(last),
              static_cast<unsigned long long>(tr2.get_optimizer().iterations()));
  check(last < first, "training lowers the loss");

  // The model given to unfreeze was moved from: every accessor throws state_error.
  try {
    (void)model.layer<1>();
    check(false, "a moved-from model throws");
  } catch (const state_error& e) {
    std::printf("state_error: %s\n", e.what());
  }

  // --- Two inputs ---
  auto a = input<5>{};
  auto b = input<4>{};
  auto q = dense<3, relu>{}(dense<6, relu>{}(a));       // branch a: two layers
  auto rb = dense<4, sigmoid>{}(b);                     // branch b: one layer
  auto y2 = dense<2, sigmoid>{}(concatenate{}(q, rb));
  auto two = make_model(boost::hana::make_tuple(a, b), y2);  // keras.Model(inputs=[a, b], outputs=y2)
  using T2 = decltype(two);
  static_assert(std::is_same_v<T2::layer_type<2>, input<4>>);  // input b is layer 2, as in Keras
  static_assert(T2::input_nodes == std::array<std::size_t, 2>{0, 2});
  static_assert(T2::names[2] == "input_layer_1" && T2::names[3] == "dense_1" && T2::names[4] == "dense_2");

  // Two inputs of one shape are one node, as any two equal layers on equal inputs: name them apart.
  auto left_in = named<"left", input<5>>{};
  auto right_in = named<"right", input<5>>{};
  auto joined = concatenate{}(dense<4, relu>{}(left_in), dense<4, relu>{}(right_in));
  auto same_shape = make_model(boost::hana::make_tuple(left_in, right_in), dense<1, sigmoid>{}(joined));
  static_assert(decltype(same_shape)::input_count == 2 && decltype(same_shape)::names[1] == "right");

  matrix<float, 5> da(8);
  matrix<float, 4> db(8);
  matrix<float, 2> dy(8);
  for (float& v : da.values()) v = float(rng.uniform(-1, 1));
  for (float& v : db.values()) v = float(rng.uniform(-1, 1));
  for (std::size_t i = 0; i < 8; ++i) dy(i, i % 2) = 1.f;

  auto p2 = two(da, db);  // one matrix per input, in make_model's order
  auto [loss2, grads2] = value_and_grad(two, binary_crossentropy{}, std::tie(da, db), dy);
  auto tr3 = make_trainer(two, binary_crossentropy{}, adam{.learning_rate = 0.01f}, 8);
  tr3.step(std::tie(da, db), dy);
  auto p3 = tr3.predict(std::tie(da, db));
  check(p2.rows() == 8 && p3.rows() == 8 && loss2 > 0.f && grads2.size == T2::trainable_param_count,
        "two inputs: model(a, b), value_and_grad, step and predict");

  // Freeze branch a by index; train with an explicit optimizer; unfreeze model and optimizer.
  auto frozen_a = freeze<1, 3>(std::move(two));
  static_assert(decltype(frozen_a)::trainable_param_count == 4 * 4 + 4 + 7 * 2 + 2);
  static_assert(!decltype(frozen_a)::plan.backward_active[1] && !decltype(frozen_a)::plan.backward_active[3]);
  auto opt = make_optimizer(frozen_a, adam{.learning_rate = 0.01f});
  for (int s = 0; s < 5; ++s) {
    auto [loss, grads] = value_and_grad(frozen_a, binary_crossentropy{}, std::tie(da, db), dy);
    opt.apply_gradients(frozen_a, grads);
  }
  auto thawed = unfreeze<1, 3>(std::move(frozen_a));
  auto thawed_opt = unfreeze<1, 3>(std::move(opt));  // branch b and the head keep Adam's m and v
  thawed_opt.apply_gradients(thawed, value_and_grad(thawed, binary_crossentropy{}, std::tie(da, db), dy).grads);
  check(thawed_opt.iterations() == 6, "the optimizer's step count carries over");

  return failures == 0 ? 0 : 1;
}
