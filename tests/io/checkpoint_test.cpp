// Checkpoints: training resumes with the same bits (10 steps = 5, save, load into a fresh
// trainer and model, 5), for every optimizer and several freeze masks; bad checkpoints change
// nothing.
#include <frost/frost.hpp>
#include <frost/io/checkpoint.hpp>
#include <frost/io/model_checkpoint.hpp>

#include "support/gradcheck.hpp"
#include "support/weight_files.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace frost;
using frost_test::snapshot;

namespace {

// Batch normalization (state), dropout (the random stream) and every kind of parameter.
using net = sequential<input<6, 6, 2>, conv2d<4, 3, 3>, batch_normalization<>, activation<relu>, flatten,
                       dropout<0.3f>, dense<8, relu>, dense<3, softmax>>;

struct data {
  matrix<float, 6, 6, 2> x{8};
  matrix<float, 3> y{8};
  data() {
    frost_test::fill_uniform(x.values(), 11);
    for (std::size_t i = 0; i < 8; ++i) y(i, (i * 7) % 3) = 1.f;
  }
};

template <class Model, class Spec>
void check_resume(Spec spec) {
  const data d;
  frost_test::scratch_dir dir;
  // The whole run: 10 steps.
  auto whole = Model::init(1);
  auto tw = make_trainer(whole, categorical_crossentropy{}, spec, 8, threads{1}, seed{5});
  std::vector<float> losses;
  for (int k = 0; k < 10; ++k) losses.push_back(tw.step(d.x, d.y));
  // 5 steps, saved; a fresh model and trainer (other weights, other seed) load them and go on.
  auto first = Model::init(1);
  auto tf = make_trainer(first, categorical_crossentropy{}, spec, 8, threads{1}, seed{5});
  for (int k = 0; k < 5; ++k) REQUIRE(tf.step(d.x, d.y) == losses[k]);
  save_checkpoint(tf, dir.file("run.ckpt"));
  auto second = Model::init(99);
  auto ts = make_trainer(second, categorical_crossentropy{}, spec, 8, threads{1}, seed{1234});
  load_checkpoint(ts, dir.file("run.ckpt"));
  REQUIRE(ts.get_optimizer().iterations() == 5);
  REQUIRE(ts.passes() == 5);
  for (int k = 5; k < 10; ++k) REQUIRE(ts.step(d.x, d.y) == losses[k]);
  REQUIRE(snapshot(second) == snapshot(whole));
  REQUIRE(frost_test::same_bytes(ts.get_optimizer().state(), tw.get_optimizer().state()));
  REQUIRE(ts.get_optimizer().iterations() == 10);
}

}  // namespace

TEST_CASE("a checkpoint resumes training bit for bit, every optimizer and freeze mask", "[io][checkpoint]") {
  using frozen_base = decltype(freeze<0, 1>(net::init(0)));
  using frozen_middle = decltype(freeze<5>(net::init(0)));
  check_resume<net>(sgd{.learning_rate = 0.05f, .momentum = 0.9f, .nesterov = true});
  check_resume<net>(adam{.learning_rate = 0.01f});
  check_resume<net>(adamw{.learning_rate = 0.01f, .weight_decay = 0.01f});
  check_resume<net>(rmsprop{.learning_rate = 0.01f, .momentum = 0.5f, .centered = true});
  check_resume<frozen_base>(adam{.learning_rate = 0.01f});
  check_resume<frozen_middle>(rmsprop{.learning_rate = 0.01f});
}

TEST_CASE("a checkpoint holds the weights, the optimizer's slots by name, and the counters", "[io][checkpoint]") {
  frost_test::scratch_dir dir;
  auto m = freeze<0>(net::init(1));
  auto tr = make_trainer(m, categorical_crossentropy{}, adam{}, 8);
  const data d;
  tr.step(d.x, d.y);
  save_checkpoint(tr, dir.file("c"));
  const auto bytes = frost_test::read_bytes(dir.file("c"));
  const tensor_table t = parse_safetensors(bytes, "c");
  REQUIRE(t.metadata.at("optimizer") == "adam");
  REQUIRE(t.find("conv2d/kernel") != nullptr);               // frozen: saved as a weight
  REQUIRE(t.find("optimizer/momentum/conv2d/kernel") == nullptr);  // but without optimizer state
  REQUIRE(t.find("optimizer/velocity/dense_1/bias") != nullptr);
  REQUIRE(t.find("optimizer/momentum/batch_normalization/gamma") != nullptr);
  REQUIRE(t.find("optimizer/momentum/batch_normalization/moving_mean") == nullptr);  // state is not trained
  REQUIRE(t.find("optimizer/iterations")->type == dtype::i64);
  // Adam's first slot of dense_1/bias is where the optimizer keeps it.
  const auto* r = t.find("optimizer/momentum/dense_1/bias");
  constexpr auto& vars = model_variables<decltype(m)>;
  std::vector<float> slot(3);
  to_scalars(*r, slot.data());
  REQUIRE(frost_test::same_bytes(std::span<const float>(slot),
                                 tr.get_optimizer().state().subspan(vars[vars.size() - 1].offset, 3)));
  // A checkpoint is a weights file too.
  auto w = net::init(2);
  load_safetensors(w, dir.file("c"), {.strict = false, .warn = [](const std::string&) {}});
  REQUIRE(frost_test::same_bytes(w.layer<6>().kernel(), m.layer<6>().kernel()));
}

TEST_CASE("a checkpoint for another optimizer or model, or a weights file, changes nothing", "[io][checkpoint][errors]") {
  frost_test::scratch_dir dir;
  const data d;
  auto a = net::init(1);
  auto ta = make_trainer(a, categorical_crossentropy{}, adam{}, 8);
  ta.step(d.x, d.y);
  save_checkpoint(ta, dir.file("adam.ckpt"));
  save_safetensors(a, dir.file("weights.safetensors"));

  auto b = net::init(2);
  auto tb = make_trainer(b, categorical_crossentropy{}, rmsprop{}, 8);
  tb.step(d.x, d.y);
  const auto before = snapshot(b);
  const std::vector<float> state(tb.get_optimizer().state().begin(), tb.get_optimizer().state().end());
  auto unchanged = [&] {
    REQUIRE(snapshot(b) == before);
    REQUIRE(frost_test::same_bytes(tb.get_optimizer().state(), std::span<const float>(state)));
    REQUIRE(tb.get_optimizer().iterations() == 1);
    REQUIRE(tb.passes() == 1);
  };
  REQUIRE_THROWS_WITH(load_checkpoint(tb, dir.file("adam.ckpt")), Catch::Contains("optimizer: expected rmsprop (this trainer's), got adam"));
  unchanged();
  REQUIRE_THROWS_WITH(load_checkpoint(tb, dir.file("weights.safetensors")), Catch::Contains("a weights file?"));
  unchanged();
  // Same optimizer, other model: the first layer frozen, so dense slots exist but conv ones do not.
  auto c = freeze<0>(net::init(3));
  auto tc = make_trainer(c, categorical_crossentropy{}, rmsprop{}, 8);
  save_checkpoint(tc, dir.file("frozen.ckpt"));
  REQUIRE_THROWS_WITH(load_checkpoint(tb, dir.file("frozen.ckpt")),
                      Catch::Contains("missing: optimizer/velocity/conv2d/kernel"));
  unchanged();
}

namespace {
// Sets the monitored value to a scripted sequence and keeps each epoch's weights.
struct scripted_loss {
  std::vector<double> values;
  std::vector<std::vector<float>> weights;
  template <class Ctx>
  void on_epoch_end(Ctx& ctx) {
    ctx.logs().set("val_loss", values.at(ctx.epoch()));
    const auto& m = ctx.model();
    std::vector<float> w(m.trainable_parameters().begin(), m.trainable_parameters().end());
    w.insert(w.end(), m.frozen_parameters().begin(), m.frozen_parameters().end());
    weights.push_back(w);
  }
};

template <class Model>
std::vector<float> loaded_weights(const std::string& path) {
  Model m = Model::init(1234);
  load_safetensors(m, path);
  std::vector<float> w(m.trainable_parameters().begin(), m.trainable_parameters().end());
  w.insert(w.end(), m.frozen_parameters().begin(), m.frozen_parameters().end());
  return w;
}
}  // namespace

TEST_CASE("model_checkpoint keeps the best epoch's weights, every epoch's, or the whole trainer", "[io][checkpoint]") {
  using mlp = sequential<input<4>, dense<6, relu>, dense<3, softmax>>;
  const frost_test::scratch_dir scratch;
  const std::string dir = scratch.path.string();
  matrix<float, 4> x(40);
  matrix<int, 1> y(40);
  frost_test::fill_uniform(x.values(), 5);
  for (std::size_t i = 0; i < 40; ++i) y(i, 0) = int(i % 3);
  mlp m = mlp::init(1);
  auto tr = make_trainer(m, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.01f}, 8);
  scripted_loss script{{1.0, 0.5, 0.7, 0.4, 0.6}, {}};
  model_checkpoint best{.filepath = dir + "/best.safetensors", .monitor = "val_loss", .save_best_only = true};
  model_checkpoint every{.filepath = dir + "/epoch_{epoch:02d}_{val_loss:.2f}.safetensors"};
  model_checkpoint whole{.filepath = dir + "/trainer.safetensors", .save_weights_only = false};
  fit(tr, x, y, {.epochs = 5, .batch_size = 8, .verbose = 0}, script, best, every, whole);
  // Improvements at epochs 0, 1 and 3: the best file holds epoch 3's weights.
  REQUIRE(best.saves == 3);
  REQUIRE(best.best == 0.4);
  REQUIRE(loaded_weights<mlp>(dir + "/best.safetensors") == script.weights[3]);
  REQUIRE(every.saves == 5);
  REQUIRE(every.last_saved == dir + "/epoch_05_0.60.safetensors");
  REQUIRE(loaded_weights<mlp>(dir + "/epoch_02_0.50.safetensors") == script.weights[1]);
  // The trainer checkpoint resumes with the optimizer's state: same step count, same next step.
  mlp m2 = mlp::init(99);
  auto tr2 = make_trainer(m2, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.01f}, 8);
  load_checkpoint(tr2, dir + "/trainer.safetensors");
  REQUIRE(tr2.get_optimizer().iterations() == tr.get_optimizer().iterations());
  matrix_view<const float, 4> xb(x.data(), 8);
  matrix_view<const int, 1> yb(y.data(), 8);
  REQUIRE(tr2.step(xb, yb) == tr.step(xb, yb));
  REQUIRE(snapshot(m2) == snapshot(m));
  // A name of another format, or a field that names nothing logged, is refused before any step.
  model_checkpoint bad{.filepath = dir + "/model.bin"};
  REQUIRE_THROWS_WITH(fit(tr, x, y, {.batch_size = 8, .verbose = 0}, bad),
                      Catch::Contains("expected a name ending in \".safetensors\" or \".weights.h5\", got another"));
  model_checkpoint unknown{.filepath = dir + "/m_{val_acc}.safetensors"};
  REQUIRE_THROWS_WITH(fit(tr, x, y, {.batch_size = 8, .verbose = 0}, unknown),
                      Catch::Contains("filepath field {val_acc}: expected {epoch} or a logged name (\"loss\"), got \"val_acc\""));
}
