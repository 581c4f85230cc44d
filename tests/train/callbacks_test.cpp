// Callbacks, metrics, schedules, non-finite steps and progressive unfreezing inside fit, each
// against values worked out by hand from Keras's definitions.
#include <frost/frost.hpp>

#include "support/fit_data.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Net = frost_test::blob_net;
using frost_test::blobs;
using frost_test::weights_of;

// Replaces the monitored value with a scripted one, and keeps each epoch's weights, so that a
// callback after it sees a sequence worked out by hand.
struct scripted {
  std::string key;
  std::vector<double> values;
  std::vector<std::vector<float>> weights;
  template <class Ctx>
  void on_epoch_end(Ctx& ctx) {
    ctx.logs().set(key, values.at(ctx.epoch()));
    weights.push_back(weights_of(ctx.model()));
  }
};

template <class Stopper>
std::pair<std::size_t, Stopper> stop_after(std::vector<double> values, Stopper stop, std::vector<std::vector<float>>* kept = nullptr,
                                           std::vector<float>* final_weights = nullptr) {
  blobs d(40);
  Net net = Net::init(1);
  auto tr = frost::make_trainer(net, frost::sparse_categorical_crossentropy{}, frost::sgd{.learning_rate = 0.05f}, 32);
  scripted s{stop.monitor, values, {}};
  auto h = frost::fit(tr, d.x, d.y, {.epochs = values.size(), .verbose = 0}, s, stop);
  if (kept != nullptr) *kept = s.weights;
  if (final_weights != nullptr) *final_weights = weights_of(net);
  return {h.size(), stop};
}

struct rates {
  std::vector<double> seen;
  template <class Ctx>
  void on_batch_end(Ctx& ctx) {
    seen.push_back(ctx.learning_rate());
  }
};

struct hooks {
  std::vector<std::string>* calls;
  template <class C>
  void on_train_begin(C&) { calls->push_back("train_begin"); }
  template <class C>
  void on_epoch_begin(C& c) { calls->push_back("epoch_begin " + std::to_string(c.epoch())); }
  template <class C>
  void on_batch_begin(C& c) { calls->push_back("batch_begin " + std::to_string(c.batch())); }
  template <class C>
  void on_batch_end(C& c) {
    calls->push_back("batch_end " + std::to_string(c.batch()));
    if (c.epoch() == 1 && c.batch() == 0) c.stop_training();
  }
  template <class C>
  void on_epoch_end(C& c) { calls->push_back("epoch_end " + std::to_string(c.epoch()) + " " + (c.logs().contains("loss") ? "loss" : "-")); }
  template <class C>
  void on_train_end(C&) { calls->push_back("train_end"); }
};

struct ends {
  bool* ended;
  template <class C>
  void on_train_end(C&) { *ended = true; }
};

struct keep {
  std::vector<std::vector<float>>* out;
  template <class C>
  void on_batch_end(C& c) { out->push_back(weights_of(c.model())); }
};

}  // namespace

TEST_CASE("metrics follow Keras's formulas on values worked out by hand", "[train][metrics]") {
  // Three samples, three classes.
  const float p[] = {0.1f, 0.7f, 0.2f,   // argmax 1
                     0.5f, 0.2f, 0.3f,   // argmax 0
                     0.3f, 0.3f, 0.4f};  // argmax 2
  const float onehot[] = {0, 1, 0, 0, 0, 1, 0, 0, 1};
  const int labels[] = {1, 2, 2};
  frost::categorical_accuracy ca;
  ca.update<3>(p, onehot, 3);
  REQUIRE(ca.result() == Approx(2.0 / 3));
  frost::sparse_categorical_accuracy sa;
  sa.update<3>(p, labels, 3);
  REQUIRE(sa.result() == Approx(2.0 / 3));
  frost::accuracy a;
  a.update<3>(p, labels, 2);  // batches accumulate: 1 of 2, then 1 of 1
  a.update<3>(p + 6, labels + 2, 1);
  REQUIRE(a.result() == Approx(2.0 / 3));
  // Ties go to the first index, as NumPy's argmax: [0.5, 0.5] is class 0.
  const float tie[] = {0.5f, 0.5f};
  const int zero[] = {0};
  frost::sparse_categorical_accuracy st;
  st.update<2>(tie, zero, 1);
  REQUIRE(st.result() == 1.0);

  // Binary: per sample, the share of outputs on the right side of 0.5; then the mean.
  const float pb[] = {0.6f, 0.4f, 0.5f, 0.9f};  // predicts 1, 0, 0 (0.5 is not > 0.5), 1
  const float yb[] = {1, 1, 0, 1};
  frost::binary_accuracy ba;
  ba.update<2>(pb, yb, 2);  // sample 0: (1 + 0)/2, sample 1: (1 + 1)/2
  REQUIRE(ba.result() == Approx(0.75));
  frost::binary_accuracy strict(0.8);
  strict.update<1>(pb, yb, 4);  // predicts 0, 0, 0, 1 against 1, 1, 0, 1
  REQUIRE(strict.result() == Approx(0.5));
  frost::accuracy one_output;
  one_output.update<1>(pb, yb, 4);  // 1, 0, 0, 1 against 1, 1, 0, 1
  REQUIRE(one_output.result() == Approx(0.75));

  // Mean absolute error: mean over outputs, then over samples.
  const float pm[] = {1, 2, 3, 4};
  const float ym[] = {1.5f, 2, 0, 4};
  frost::mean_absolute_error mae;
  mae.update<2>(pm, ym, 2);  // (0.5 + 0)/2 = 0.25 and (3 + 0)/2 = 1.5
  REQUIRE(mae.result() == Approx(0.875));
  mae.reset();
  REQUIRE(mae.result() == 0.0);
}

TEST_CASE("early_stopping stops as Keras's EarlyStopping does", "[train][callbacks]") {
  // patience 2: epoch 1 improves (0.9 < 1.0); epochs 2 and 3 do not; wait reaches 2 at epoch 3.
  auto [epochs, stop] = stop_after({1.0, 0.9, 0.95, 0.92, 0.5, 0.4}, frost::early_stopping{.monitor = "val_loss", .patience = 2});
  REQUIRE(epochs == 4);
  REQUIRE(stop.stopped_epoch == 3);
  REQUIRE(stop.best_epoch == 1);
  REQUIRE(stop.best == 0.9);
  // min_delta 0.15: 0.9 is not better than 1.0 by more than 0.15, so with patience 1 epoch 1 stops.
  REQUIRE(stop_after({1.0, 0.9, 0.5}, frost::early_stopping{.monitor = "val_loss", .min_delta = 0.15, .patience = 1}).first == 2);
  // patience 0 never stops at epoch 0 (Keras: `epoch > 0`), and stops at the first epoch without progress.
  REQUIRE(stop_after({1.0, 1.0, 0.5}, frost::early_stopping{.monitor = "val_loss"}).first == 2);
  // Accuracy improves upward ("auto" mode): 0.5, 0.6, 0.6 stops at epoch 2 with patience 1.
  auto acc = stop_after({0.5, 0.6, 0.6, 0.9}, frost::early_stopping{.monitor = "val_accuracy", .patience = 1});
  REQUIRE(acc.first == 3);
  REQUIRE(acc.second.best == 0.6);
  // mode max on a loss-like name flips the direction.
  REQUIRE(stop_after({1.0, 0.9, 0.8}, frost::early_stopping{.monitor = "val_loss", .patience = 1, .mode = frost::monitor_mode::max})
              .first == 2);
  // An epoch that does not beat the baseline does not reset wait: with baseline 0.5, epoch 0
  // (0.9) leaves wait at 1 and epoch 1 reaches patience 2; without it epoch 2 does.
  REQUIRE(stop_after({0.9, 0.95, 0.96, 0.97}, frost::early_stopping{.monitor = "val_loss", .patience = 2, .baseline = 0.5}).first == 2);
  REQUIRE(stop_after({0.9, 0.95, 0.96, 0.97}, frost::early_stopping{.monitor = "val_loss", .patience = 2}).first == 3);
  // start_from_epoch: epochs before it are not looked at.
  REQUIRE(stop_after({1.0, 2.0, 3.0, 4.0, 5.0}, frost::early_stopping{.monitor = "val_loss", .patience = 1, .start_from_epoch = 2})
              .first == 4);
}

TEST_CASE("early_stopping restores the best epoch's weights when training ends", "[train][callbacks]") {
  std::vector<std::vector<float>> kept;
  std::vector<float> final_weights;
  auto [epochs, stop] = stop_after({1.0, 0.4, 0.6, 0.7, 0.8},
                                   frost::early_stopping{.monitor = "loss", .patience = 2, .restore_best_weights = true}, &kept,
                                   &final_weights);
  REQUIRE(epochs == 4);
  REQUIRE(stop.best_epoch == 1);
  REQUIRE(final_weights == kept[1]);
  REQUIRE(final_weights != kept[3]);
  // Without it the last epoch's weights stay.
  stop_after({1.0, 0.4, 0.6, 0.7}, frost::early_stopping{.monitor = "loss", .patience = 2}, &kept, &final_weights);
  REQUIRE(final_weights == kept.back());
}

TEST_CASE("learning-rate schedules give Keras's formulas", "[train][callbacks]") {
  const frost::exponential_decay e{.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 0.5};
  REQUIRE(e(0) == 0.1);
  REQUIRE(e(5) == Approx(0.1 * std::sqrt(0.5)));
  REQUIRE(e(20) == Approx(0.025));
  const frost::exponential_decay stairs{.initial_learning_rate = 0.1, .decay_steps = 10, .decay_rate = 0.5, .staircase = true};
  REQUIRE(stairs(9) == 0.1);
  REQUIRE(stairs(15) == Approx(0.05));
  const frost::cosine_decay c{.initial_learning_rate = 1.0, .decay_steps = 100, .alpha = 0.1};
  REQUIRE(c(0) == Approx(1.0));
  REQUIRE(c(50) == Approx(0.55));  // 0.1 + 0.9 * (1 + cos(pi/2)) / 2
  REQUIRE(c(100) == Approx(0.1));
  REQUIRE(c(1000) == Approx(0.1));  // held at the end
  const frost::piecewise_constant_decay pw{.boundaries = {10, 20}, .values = {1.0, 0.5, 0.1}};
  REQUIRE(pw(10) == 1.0);  // up to and including the boundary
  REQUIRE(pw(11) == 0.5);
  REQUIRE(pw(21) == 0.1);
}

TEST_CASE("a learning_rate_schedule sets the rate before every step; a scheduler before every epoch", "[train][callbacks]") {
  blobs d(64);
  Net net = Net::init(1);
  auto tr = frost::make_trainer(net, frost::sparse_categorical_crossentropy{}, frost::sgd{}, 16);
  rates r;
  const frost::exponential_decay e{.initial_learning_rate = 0.1, .decay_steps = 4, .decay_rate = 0.5, .staircase = true};
  auto h = frost::fit(tr, d.x, d.y, {.epochs = 2, .batch_size = 16, .verbose = 0}, frost::learning_rate_schedule{e}, r);
  REQUIRE(r.seen.size() == 8);
  for (std::size_t step = 0; step < 8; ++step) REQUIRE(r.seen[step] == Approx(float(e(step))));
  REQUIRE(h["learning_rate"] == std::vector<double>{double(float(0.1)), double(float(0.05))});
  frost::learning_rate_schedule bad{frost::piecewise_constant_decay{.boundaries = {3}, .values = {1.0}}};
  REQUIRE_THROWS_WITH(frost::fit(tr, d.x, d.y, {.batch_size = 16, .verbose = 0}, bad),
                      Catch::Contains("values: expected 2 values (one more than boundaries), got 1"));

  frost::learning_rate_scheduler halve{[](std::size_t epoch, double lr) { return epoch == 0 ? 0.2 : lr / 2; }};
  auto h2 = frost::fit(tr, d.x, d.y, {.epochs = 3, .batch_size = 16, .verbose = 0}, halve);
  REQUIRE(h2["learning_rate"] == std::vector<double>{double(0.2f), double(0.1f), double(0.05f)});
}

TEST_CASE("a lambda is an on_epoch_end callback and may stop training; hooks run in order", "[train][callbacks]") {
  blobs d(64);
  Net net = Net::init(1);
  auto tr = frost::make_trainer(net, frost::sparse_categorical_crossentropy{}, frost::sgd{}, 32);
  std::vector<std::string> calls;
  std::size_t lambda_calls = 0;
  auto h = frost::fit(tr, d.x, d.y, {.epochs = 5, .batch_size = 32, .verbose = 0}, hooks{&calls},
                      [&](auto& ctx) { lambda_calls += 1 + 0 * ctx.epoch(); });
  REQUIRE(calls == std::vector<std::string>{"train_begin", "epoch_begin 0", "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1",
                                            "epoch_end 0 loss", "epoch_begin 1", "batch_begin 0", "batch_end 0", "epoch_end 1 loss",
                                            "train_end"});
  REQUIRE(lambda_calls == 2);
  REQUIRE(h.size() == 2);  // the stopped epoch is still logged, as in Keras
  // Stopped inside epoch 1 after its first batch: 3 steps in all.
  REQUIRE(tr.get_optimizer().iterations() == 3);
}

TEST_CASE("a non-finite step stops fit with the error, or is skipped and counted", "[train][callbacks]") {
  using Lin = frost::sequential<frost::input<4>, frost::dense<3, frost::softmax>>;  // NaN in, NaN loss out
  blobs d(64);
  d.x(40, 2) = std::numeric_limits<float>::quiet_NaN();  // in batch 2 (rows 32..47) of batch size 16
  Lin net = Lin::init(1);
  auto tr = frost::make_trainer(net, frost::sparse_categorical_crossentropy{}, frost::adam{}, 16);
  std::vector<std::vector<float>> after_batch;
  bool ended = false;
  try {
    frost::fit(tr, d.x, d.y, {.epochs = 3, .batch_size = 16, .shuffle = false, .verbose = 0}, keep{&after_batch}, ends{&ended});
    FAIL("fit went on past a NaN loss");
  } catch (const frost::nonfinite_error& e) {
    REQUIRE(std::string(e.what()) ==
            "frost::fit: epoch 1, batch 3: loss: expected a finite value, got nan; the update was refused and training stopped");
    REQUIRE(e.history().empty());
  }
  REQUIRE(ended);  // training ended as Keras's TerminateOnNaN ends it: on_train_end ran
  REQUIRE(after_batch.size() == 2);
  REQUIRE(weights_of(net) == after_batch.back());  // the NaN batch changed nothing
  REQUIRE(tr.get_optimizer().iterations() == 2);

  auto h = frost::fit(tr, d.x, d.y, {.epochs = 2, .batch_size = 16, .shuffle = false, .verbose = 0, .on_nonfinite = frost::nonfinite::skip},
                      frost::accuracy{});
  REQUIRE(h["nonfinite_batches"] == std::vector<double>{1, 1});
  REQUIRE(std::isfinite(h["loss"][0]));
  REQUIRE(tr.get_optimizer().iterations() == 2 + 6);
  for (float w : weights_of(net)) REQUIRE(std::isfinite(w));
  // The skipped batch's 16 samples count in neither loss nor accuracy: accuracy is a multiple of 1/48.
  REQUIRE(std::fmod(h["accuracy"][0] * 48, 1.0) == Approx(0).margin(1e-9));
}

TEST_CASE("a NaN input reaches the loss through relu layers, and fit stops", "[train][callbacks]") {
  blobs d(64);
  d.x(5, 0) = std::numeric_limits<float>::quiet_NaN();
  Net net = Net::init(1);
  const auto before = weights_of(net);
  auto tr = frost::make_trainer(net, frost::sparse_categorical_crossentropy{}, frost::adam{}, 16);
  REQUIRE_THROWS_WITH(frost::fit(tr, d.x, d.y, {.batch_size = 16, .shuffle = false, .verbose = 0}),
                      Catch::StartsWith("frost::fit: epoch 1, batch 1: loss: expected a finite value, got nan"));
  REQUIRE(weights_of(net) == before);
}

TEST_CASE("a non-finite step in a staged fit gives the model back in its first type", "[train][callbacks]") {
  using Frozen = frost::frozen_model_t<Net, 0>;
  blobs d(64);
  d.x(40, 1) = std::numeric_limits<float>::infinity();  // epoch 3 (index 2) never comes: rows 32..47 fail at epoch 1
  Frozen m = frost::freeze<0>(Net::init(4));
  auto tr = frost::make_trainer(m, frost::sparse_categorical_crossentropy{}, frost::adam{}, 16);
  std::vector<std::vector<float>> after_batch;
  try {
    frost::fit(std::move(tr), d.x, d.y, {.epochs = 4, .batch_size = 16, .shuffle = false, .verbose = 0},
               frost::unfreeze_at<0>{.epoch = 2}, keep{&after_batch});
    FAIL("fit went on past an infinite input");
  } catch (const frost::nonfinite_error& e) {
    REQUIRE_THAT(e.what(), Catch::StartsWith("frost::fit: epoch 1, batch 3: loss: expected a finite value"));
  }
  REQUIRE(m.holds_weights());  // the model came back into the variable fit started from
  REQUIRE(weights_of(m) == after_batch.back());
}

TEST_CASE("check_finite also refuses an update from a non-finite gradient, then restores the mode", "[train][callbacks]") {
  // A finite loss with an overflowing weight gradient (as in trainer_test): dW = xᵀ·dz = 3e38 · (−1e10).
  using wide = frost::sequential<frost::input<2>, frost::dense<2>>;
  auto make = [] {
    wide m = wide::init(1);
    m.layer<0>().kernel()[0] = m.layer<0>().kernel()[1] = 0.f;
    return m;
  };
  frost::matrix<float, 2> x(1), y(1);
  x(0, 0) = 3e38f;
  x(0, 1) = 0.5f;
  y(0, 0) = y(0, 1) = 1e10f;
  wide m = make();
  auto tr = frost::make_trainer(m, frost::mean_squared_error{}, frost::sgd{}, 1, frost::keep_gradients);
  REQUIRE_THROWS_WITH(frost::fit(tr, x, y, {.batch_size = 1, .verbose = 0, .check_finite = true}),
                      "frost::fit: epoch 1, batch 1: gradient 0 (layer 0): expected a finite value, got -inf; the update "
                      "was refused and training stopped");
  REQUIRE(!tr.check_finite());
  REQUIRE(tr.get_optimizer().iterations() == 0);
  // Without it only the loss is checked, and the update goes through (Keras's TerminateOnNaN).
  frost::fit(tr, x, y, {.batch_size = 1, .verbose = 0});
  REQUIRE(tr.get_optimizer().iterations() == 1);
}

TEST_CASE("unfreeze_at re-types the model mid-fit and carries the optimizer over", "[train][callbacks]") {
  blobs d(96);
  using Frozen = frost::frozen_model_t<Net, 0>;
  // fit with a stage ...
  Frozen a = frost::freeze<0>(Net::init(4));
  auto ta = frost::make_trainer(a, frost::sparse_categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 32);
  auto r = frost::fit(std::move(ta), d.x, d.y, {.epochs = 4, .shuffle = false, .verbose = 0}, frost::unfreeze_at<0>{.epoch = 2},
                      frost::accuracy{});
  static_assert(std::is_same_v<std::remove_cvref_t<decltype(r.model())>, Net>);
  REQUIRE(!a.holds_weights());  // moved into the result
  REQUIRE(r.history.size() == 4);
  REQUIRE(r.trainer.get_optimizer().iterations() == 12);
  // ... is fit, unfreeze, rebind, fit.
  Frozen b = frost::freeze<0>(Net::init(4));
  auto tb = frost::make_trainer(b, frost::sparse_categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 32);
  auto h1 = frost::fit(tb, d.x, d.y, {.epochs = 2, .shuffle = false, .verbose = 0}, frost::accuracy{});
  Net b2 = frost::unfreeze<0>(std::move(b));
  auto tb2 = std::move(tb).rebind(b2);
  auto h2 = frost::fit(tb2, d.x, d.y, {.epochs = 4, .shuffle = false, .verbose = 0, .initial_epoch = 2}, frost::accuracy{});
  REQUIRE(weights_of(r.model()) == weights_of(b2));
  REQUIRE(r.history["loss"][3] == h2["loss"][1]);
  REQUIRE(h2.epoch() == std::vector<std::size_t>{2, 3});
  REQUIRE(r.history["loss"][0] == h1["loss"][0]);
  // Stages in order and within the epochs.
  Frozen c = frost::freeze<0>(Net::init(4));
  auto tc = frost::make_trainer(c, frost::sparse_categorical_crossentropy{}, frost::adam{}, 32);
  REQUIRE_THROWS_WITH(frost::fit(std::move(tc), d.x, d.y, {.epochs = 4, .verbose = 0}, frost::unfreeze_at<0>{.epoch = 5}),
                      Catch::Contains("unfreeze_at epoch: expected epochs in order within [0, 4], got 5"));
}

TEST_CASE("plot_history draws with gnuplot where it is installed", "[train][plot]") {
  frost::history h;
  frost::logs l;
  for (std::size_t e = 0; e < 3; ++e) {
    l.set("loss", 1.0 / double(e + 1));
    l.set("val_loss", 1.2 / double(e + 1));
    h.add(e, l);
  }
  REQUIRE_THROWS_WITH(frost::plot_history("curves.jpg", h), Catch::Contains("expected a path ending in .png, .svg or .txt"));
  REQUIRE_THROWS_WITH(frost::plot_history("curves.svg", h, {.metrics = {"accuracy"}}),
                      Catch::Contains("metric \"accuracy\": expected a key of the histories, got none"));
  if (!frost::gnuplot_available()) {
    REQUIRE_THROWS_AS(frost::plot_history("curves.svg", h), frost::io_error);
    return;
  }
  frost::plot_history("fit_test_curves.svg", {{"first", &h}, {"second", &h}}, {.title = "two runs"});
  std::ifstream in("fit_test_curves.svg");
  std::stringstream svg;
  svg << in.rdbuf();
  REQUIRE_THAT(svg.str(), Catch::Contains("<svg"));
  REQUIRE_THAT(svg.str(), Catch::Contains("second (validation)"));
  REQUIRE_THAT(svg.str(), Catch::Contains("two runs"));
  std::remove("fit_test_curves.svg");
}
