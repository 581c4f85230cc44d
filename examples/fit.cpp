// docs/fit.md: Keras's model.fit, evaluate and predict on a frost trainer. A small MLP learns four
// classes of points in 16 dimensions (four random centres plus noise) with fit: validation_split,
// accuracy, early stopping, a cosine learning-rate schedule and a lambda callback. Then evaluate,
// predict, an inference object reused, the history as CSV and as a plot, non-finite batches,
// progressive unfreezing with unfreeze_at, and the errors fit and its companions throw.
// Returns 1 if training did not learn or a message differs from docs/errors.md (ctest runs it).
#include <frost/frost.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <type_traits>
#include <utility>

namespace {

using namespace frost;
using Net = sequential<input<16>, dense<32, relu>, dense<32, relu>, dense<4, softmax>>;

// Sample i is of class i % 4: that class's centre (fixed) plus noise uniform in [-1, 1) per feature.
void make_blobs(matrix<float, 16>& x, matrix<int, 1>& y, std::uint64_t seed) {
  random_stream centres(7), noise(seed);
  float centre[4][16];
  for (auto& c : centre)
    for (float& v : c) v = float(centres.uniform(-1, 1));
  for (std::size_t i = 0; i < x.rows(); ++i) {
    y(i, 0) = int(i % 4);
    for (std::size_t j = 0; j < 16; ++j) x(i, j) = centre[i % 4][j] + float(noise.uniform(-1, 1));
  }
}

// Whether f() throws E with exactly `message` (the text docs/errors.md shows); prints what it threw.
template <class E, class F>
bool throws(const char* message, F&& f) {
  try {
    f();
  } catch (const E& e) {
    std::printf("  %s\n", e.what());
    return std::strcmp(e.what(), message) == 0;
  }
  std::printf("  no error; expected: %s\n", message);
  return false;
}

}  // namespace

int main() {
  matrix<float, 16> x(1200), x_test(400);
  matrix<int, 1> y(1200), y_test(400);
  make_blobs(x, y, 1);
  make_blobs(x_test, y_test, 2);

  // 1. fit: the last 20 % of (x, y) validates; the rest trains, reshuffled every epoch, in batches of 32.
  Net model = Net::init(42);
  auto tr = make_trainer(model, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.01f}, /*max_batch=*/256);
  early_stopping stop{.monitor = "val_loss", .patience = 3, .restore_best_weights = true};
  learning_rate_schedule cosine{cosine_decay{.initial_learning_rate = 0.01, .decay_steps = 600}};
  auto gap = [](auto& ctx) { ctx.logs().set("gap", ctx.logs()["val_loss"] - ctx.logs()["loss"]); };  // on_epoch_end
  history h = fit(tr, x, y, {.epochs = 30, .batch_size = 32, .validation_split = 0.2f, .seed = 1}, accuracy{}, stop, cosine, gap);
  std::printf("%zu epochs; best: epoch %zu, val_loss %.4f, val_accuracy %.4f\n", h.size(), stop.best_epoch + 1,
              h["val_loss"][stop.best_epoch], h["val_accuracy"][stop.best_epoch]);

  // 2. evaluate and predict, in inference mode.
  logs test = evaluate(tr, x_test, y_test, {}, accuracy{});  // batches of the trainer's max_batch
  std::printf("test: loss %.4f, accuracy %.4f\n", test["loss"], test["accuracy"]);
  auto p = predict(model, x_test, {.batch_size = 128, .threads = threads{2}});
  const bool same = std::memcmp(p.data(), model(x_test).data(), p.size() * sizeof(float)) == 0;  // bit for bit
  std::printf("predict on two threads %s model(x)\n", same ? "equals" : "DIFFERS FROM");

  // 3. One inference object for many calls: its workspace and threads are made once.
  auto run = make_inference(model, /*max_batch=*/50, threads{2});
  matrix<float, 4> out(50);
  std::size_t right = 0;
  for (std::size_t first = 0; first < x_test.rows(); first += 50) {
    run(matrix_view<const float, 16>(x_test.data() + first * 16, 50), out);  // allocates nothing
    for (std::size_t i = 0; i < 50; ++i)
      right += std::max_element(out.row(i).begin(), out.row(i).end()) - out.row(i).begin() == y_test(first + i, 0);
  }
  std::printf("inference, 8 calls of 50 rows: %zu of %zu right\n", right, x_test.rows());

  // 4. The history: a CSV file as Keras's CSVLogger writes, and a plot when gnuplot is installed.
  to_csv(h, "fit_history.csv");
  if (gnuplot_available()) {
    plot_history("fit_history.png", {{"mlp", &h}}, {.metrics = {"loss", "accuracy"}, .title = "four blobs"});
    std::printf("plot: %s\n", std::filesystem::absolute("fit_history.png").c_str());
  }

  // 5. A NaN in the data reaches the loss (relu passes NaN on). fit checks every step's loss
  //    (a trainer made with keep_gradients can check every gradient too: .check_finite = true).
  //    nonfinite::stop (the default) then ends training (on_train_end hooks run) and throws
  //    nonfinite_error; nonfinite::skip refuses that update and goes on. Either way the model
  //    never takes a non-finite update.
  matrix<float, 16> x_nan = x;
  x_nan(5, 0) = std::numeric_limits<float>::quiet_NaN();
  try {
    fit(tr, x_nan, y, {.epochs = 2, .verbose = 0});
  } catch (const nonfinite_error& e) {
    std::printf("%s (%zu epochs completed)\n", e.what(), e.history().size());
  }
  history skipped = fit(tr, x_nan, y, {.epochs = 2, .verbose = 0, .on_nonfinite = nonfinite::skip});
  std::printf("nonfinite::skip: %.0f batch skipped per epoch, loss %.4f\n", skipped["nonfinite_batches"].back(),
              skipped["loss"].back());

  // 6. Progressive unfreezing on a new task (the labels shifted by one): a fresh head on the
  //    frozen base trains first, layer 1 from epoch 3 (index 2) on, layer 0 from epoch 5 on.
  //    fit re-types the model and the trainer at each stage, so it takes std::move(trainer)
  //    and returns a fit_result that owns them.
  matrix<int, 1> y2(1200), y2_test(400);
  for (std::size_t i = 0; i < 1200; ++i) y2(i, 0) = (y(i, 0) + 1) % 4;
  for (std::size_t i = 0; i < 400; ++i) y2_test(i, 0) = (y_test(i, 0) + 1) % 4;
  auto base = freeze<0, 1>(std::move(model));  // layers 0 and 1: trainable = False
  std::ranges::fill(base.layer<2>().kernel(), 0.f);  // the fresh head starts from uniform outputs
  std::ranges::fill(base.layer<2>().bias(), 0.f);
  auto tr2 = make_trainer(base, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.003f}, 256);
  auto r = fit(std::move(tr2), x, y2, {.epochs = 6, .validation_split = 0.2f, .verbose = 2}, accuracy{},
               unfreeze_at<1>{.epoch = 2}, unfreeze_at<0>{.epoch = 4});
  static_assert(std::remove_reference_t<decltype(r.model())>::trainable_param_count == Net::param_count);
  const double tuned = evaluate(r.trainer, x_test, y2_test, {}, accuracy{})["accuracy"];
  std::printf("unfreeze_at: %zu epochs, test accuracy on the new task %.4f\n", r.history.size(), tuned);

  // 7. What is refused before anything is touched, with the messages of docs/errors.md.
  std::printf("errors:\n");
  bool messages = true;
  messages &= throws<shape_error>("frost::fit: batch_size: expected at most 256 (the trainer's max_batch), got 512",
                                  [&] { fit(r.trainer, x, y2, {.batch_size = 512}); });
  messages &= throws<value_error>(
      "frost::fit: validation_split: expected a fraction that leaves samples on both sides of 1200 rows, got "
      "0.999900 (0 rows to train on)",
      [&] { fit(r.trainer, x, y2, {.validation_split = 0.9999f}); });
  messages &= throws<value_error>("frost::fit: validation_split: expected 0 when validation_data is given, got 0.200000",
                                  [&] { fit(r.trainer, x, y2, {.validation_split = 0.2f}, validation_data(x_test, y2_test)); });
  auto spare = freeze<0, 1>(Net::init(1));
  auto tr3 = make_trainer(spare, sparse_categorical_crossentropy{}, adam{.learning_rate = 0.003f}, 256);
  messages &= throws<value_error>("frost::fit: unfreeze_at epoch: expected epochs in order within [0, 6], got 2", [&] {
    fit(std::move(tr3), x, y2, {.epochs = 6, .validation_split = 0.2f, .verbose = 2}, accuracy{},
        unfreeze_at<1>{.epoch = 4}, unfreeze_at<0>{.epoch = 2});
  });
  messages &= throws<value_error>(
      "frost::plot_history: \"curves.jpg\": expected a path ending in .png, .svg or .txt (or \"-\"), got another",
      [&] { plot_history("curves.jpg", h); });
  messages &= throws<value_error>("frost::logs: key \"acc\": expected one of \"loss\", \"accuracy\", got a name not logged",
                                  [&] { return test["acc"]; });
  messages &= throws<value_error>(
      "frost::history: key \"accuracy\": expected one of \"loss\", \"nonfinite_batches\", got a key not recorded",
      [&] { return skipped["accuracy"]; });

  const bool learned = h["val_accuracy"][stop.best_epoch] >= 0.95 && test["accuracy"] >= 0.95 && right >= 380 &&
                       skipped["loss"].back() < 0.5 && tuned >= 0.9;
  return learned && same && messages ? 0 : 1;
}
