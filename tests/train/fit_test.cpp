// fit, evaluate and the dataset view: Keras's batching, validation split, history and the
// equality of fit with the hand-written step loop it replaces.
#include <frost/frost.hpp>

#include "support/fit_data.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <tuple>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Net = frost_test::blob_net;
using frost_test::blobs;
using frost_test::weights_of;

// Records each batch's rows and loss through the hooks.
struct batch_log {
  std::vector<std::size_t> rows;
  std::vector<double> losses;
  std::vector<std::size_t> epochs_begun;
  template <class Ctx>
  void on_epoch_begin(Ctx& ctx) {
    epochs_begun.push_back(ctx.epoch());
  }
  template <class Ctx>
  void on_batch_end(Ctx& ctx) {
    rows.push_back(ctx.batch_rows());
    losses.push_back(ctx.batch_loss());
  }
};

constexpr frost::fit_options quiet{.verbose = 0};

// A metric that sums the labels it is shown: each epoch must see every label exactly once.
struct label_sum : frost::detail::sample_mean {
  static constexpr std::string_view name = "label_sum";
  template <std::size_t K, class T, class Y>
  void update(const T*, const Y* y, std::size_t rows) noexcept {
    for (std::size_t i = 0; i < rows; ++i) sum += y[i] * 1000.0 + 1;
    count = 1;
  }
};


}  // namespace

TEST_CASE("dataset views the caller's arrays and splits as Keras's validation_split", "[train][fit]") {
  blobs d(100);
  auto data = frost::dataset(d.x, d.y);
  REQUIRE(data.size() == 100);
  REQUIRE(data.x().data() == d.x.data());  // a view: no copy
  REQUIRE(data.y().data() == d.y.data());
  auto [train, val] = data.split(0.2f);  // floor(100 * 0.8) = 80 train, the last 20 validate
  REQUIRE(train.size() == 80);
  REQUIRE(val.size() == 20);
  REQUIRE(val.x().data() == d.x.data() + 80 * 4);
  blobs big(1797);  // floor(1797 * 0.8) = floor(1437.6) = 1437
  REQUIRE(frost::dataset(big.x, big.y).split(0.2f).first.size() == 1437);
  REQUIRE(frost::dataset(big.x, big.y).split(0.25f).first.size() == 1347);  // floor(1347.75)
  auto s = data.slice(10, 13);
  REQUIRE(s.size() == 3);
  REQUIRE(s.y().data() == d.y.data() + 10);
  REQUIRE_THROWS_AS(data.slice(5, 101), frost::shape_error);
  REQUIRE_THROWS_WITH(data.split(1.5f), Catch::Contains("validation_split: expected a fraction in (0, 1)"));
  blobs two(2);
  REQUIRE_THROWS_WITH(frost::dataset(two.x, two.y).split(0.6f), Catch::Contains("0 rows to train on"));  // floor(0.8)
  frost::matrix<int, 1> short_y(99);
  REQUIRE_THROWS_WITH(frost::dataset(d.x, short_y), "frost::dataset: rows of y: expected 100 (the rows of x), got 99");
}

TEST_CASE("fit cuts epochs into Keras's batches, the last one smaller", "[train][fit]") {
  blobs d(70);
  Net net = Net::init(1);
  auto tr = frost::make_trainer(net, frost::sparse_categorical_crossentropy{}, frost::sgd{}, 32);
  batch_log log;
  auto h = frost::fit(tr, d.x, d.y, {.epochs = 2, .batch_size = 32, .verbose = 0}, log);
  REQUIRE(log.rows == std::vector<std::size_t>{32, 32, 6, 32, 32, 6});
  REQUIRE(log.epochs_begun == std::vector<std::size_t>{0, 1});
  REQUIRE(h.size() == 2);
  REQUIRE(h.epoch() == std::vector<std::size_t>{0, 1});
  REQUIRE(tr.get_optimizer().iterations() == 6);
  // The epoch's loss is the mean over its samples: batches weighted by their rows.
  const double epoch0 = (log.losses[0] * 32 + log.losses[1] * 32 + log.losses[2] * 6) / 70;
  REQUIRE(h["loss"][0] == Approx(epoch0).epsilon(1e-12));
}

TEST_CASE("fit without shuffling is the hand-written step loop, bit for bit", "[train][fit]") {
  blobs d(100);
  Net a = Net::init(7), b = Net::init(7);
  auto ta = frost::make_trainer(a, frost::sparse_categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 16);
  auto tb = frost::make_trainer(b, frost::sparse_categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 16);
  auto h = frost::fit(ta, d.x, d.y, {.epochs = 3, .batch_size = 16, .shuffle = false, .verbose = 0});
  std::vector<double> losses;
  for (int e = 0; e < 3; ++e) {
    double sum = 0;
    for (std::size_t first = 0; first < 100; first += 16) {
      const std::size_t n = std::min<std::size_t>(16, 100 - first);
      frost::matrix_view<const float, 4> xb(d.x.data() + first * 4, n);
      frost::matrix_view<const int, 1> yb(d.y.data() + first, n);
      sum += double(tb.step(xb, yb)) * double(n);
    }
    losses.push_back(sum / 100);
  }
  REQUIRE(weights_of(a) == weights_of(b));
  REQUIRE(h["loss"] == losses);
  REQUIRE(h["loss"][2] < h["loss"][0]);
}

TEST_CASE("a shuffled epoch shows every sample once, in an order the seed decides", "[train][fit]") {
  blobs d(90);
  double expected = 0;
  for (std::size_t i = 0; i < 90; ++i) expected += d.y(i, 0) * 1000.0 + 1;
  auto run = [&](bool shuffle, std::uint64_t seed) {
    Net net = Net::init(2);
    auto tr = frost::make_trainer(net, frost::sparse_categorical_crossentropy{}, frost::sgd{.learning_rate = 0.1f}, 32);
    auto h = frost::fit(tr, d.x, d.y, {.epochs = 3, .shuffle = shuffle, .seed = seed, .verbose = 0}, label_sum{});
    REQUIRE(h["label_sum"] == std::vector<double>(3, expected));
    return weights_of(net);
  };
  const auto plain = run(false, 0), s1 = run(true, 1), s1_again = run(true, 1), s2 = run(true, 2);
  REQUIRE(s1 == s1_again);
  REQUIRE(s1 != plain);
  REQUIRE(s1 != s2);
}

TEST_CASE("validation: val_loss and val_accuracy are evaluate's on the held-out rows", "[train][fit]") {
  blobs d(100);
  Net net = Net::init(3);
  auto tr = frost::make_trainer(net, frost::sparse_categorical_crossentropy{}, frost::adam{.learning_rate = 0.02f}, 32);
  auto h = frost::fit(tr, d.x, d.y, {.epochs = 4, .validation_split = 0.2f, .verbose = 0}, frost::accuracy{});
  REQUIRE(h.keys() == std::vector<std::string>{"loss", "accuracy", "val_loss", "val_accuracy"});
  frost::matrix_view<const float, 4> xv(d.x.data() + 80 * 4, 20);
  frost::matrix_view<const int, 1> yv(d.y.data() + 80, 20);
  const auto l = frost::evaluate(tr, xv, yv, {.batch_size = 32}, frost::accuracy{});
  REQUIRE(h["val_loss"].back() == l["loss"]);
  REQUIRE(h["val_accuracy"].back() == l["accuracy"]);
  // The same numbers computed independently: -log p[label] and argmax == label, sample by sample.
  const auto p = net(xv);
  double nll = 0, right = 0;
  for (std::size_t i = 0; i < 20; ++i) {
    nll -= std::log(double(p(i, std::size_t(yv(i, 0)))));
    const auto row = p.row(i);
    right += std::size_t(std::max_element(row.begin(), row.end()) - row.begin()) == std::size_t(yv(i, 0));
  }
  REQUIRE(l["loss"] == Approx(nll / 20).epsilon(1e-6));
  REQUIRE(l["accuracy"] == right / 20);
  REQUIRE(h["val_accuracy"].back() > 0.8);

  // validation_data instead of a split: the same numbers when it holds the same rows.
  Net net2 = Net::init(3);
  auto tr2 = frost::make_trainer(net2, frost::sparse_categorical_crossentropy{}, frost::adam{.learning_rate = 0.02f}, 32);
  frost::matrix_view<const float, 4> xt(d.x.data(), 80);
  frost::matrix_view<const int, 1> yt(d.y.data(), 80);
  auto h2 = frost::fit(tr2, xt, yt, {.epochs = 4, .seed = 0, .verbose = 0}, frost::validation_data(xv, yv), frost::accuracy{});
  REQUIRE(h2["val_loss"] == h["val_loss"]);
  REQUIRE(h2["accuracy"] == h["accuracy"]);
  REQUIRE_THROWS_WITH(frost::fit(tr2, xt, yt, {.validation_split = 0.2f, .verbose = 0}, frost::validation_data(xv, yv)),
                      Catch::Contains("validation_split: expected 0 when validation_data is given"));
}

TEST_CASE("evaluate on a model with threads gives the trainer's numbers", "[train][fit]") {
  blobs d(77);
  Net net = Net::init(5);
  auto tr = frost::make_trainer(net, frost::sparse_categorical_crossentropy{}, frost::sgd{}, 77);
  const auto a = frost::evaluate(tr, d.x, d.y, {}, frost::accuracy{}, frost::sparse_categorical_accuracy{});
  const auto b = frost::evaluate(net, frost::sparse_categorical_crossentropy{}, d.x, d.y,
                                 {.batch_size = 77, .threads = frost::threads{2}}, frost::accuracy{});
  REQUIRE(a["loss"] == b["loss"]);
  REQUIRE(a["accuracy"] == b["accuracy"]);
  REQUIRE(a["sparse_categorical_accuracy"] == a["accuracy"]);
  REQUIRE_THROWS_WITH(a["val_loss"], Catch::Contains("expected one of \"loss\", \"accuracy\", \"sparse_categorical_accuracy\""));
  REQUIRE_THROWS_AS(frost::evaluate(tr, d.x, d.y, {.batch_size = 78}), frost::shape_error);
}

TEST_CASE("fit refuses bad arguments before the first step", "[train][fit]") {
  blobs d(40);
  Net net = Net::init(1);
  const auto before = weights_of(net);
  auto tr = frost::make_trainer(net, frost::sparse_categorical_crossentropy{}, frost::sgd{}, 16);
  REQUIRE_THROWS_WITH(frost::fit(tr, d.x, d.y, quiet),
                      "frost::fit: batch_size: expected at most 16 (the trainer's max_batch), got 32");
  REQUIRE_THROWS_WITH(frost::fit(tr, d.x, d.y, {.batch_size = 0, .verbose = 0}), Catch::Contains("batch_size: expected at least 1"));
  REQUIRE_THROWS_WITH(frost::fit(tr, d.x, d.y, {.epochs = 2, .batch_size = 16, .verbose = 0, .initial_epoch = 3}),
                      Catch::Contains("initial_epoch: expected at most epochs (2), got 3"));
  d.y(39, 0) = 3;  // a label out of range, in the last batch
  REQUIRE_THROWS_WITH(frost::fit(tr, d.x, d.y, {.batch_size = 16, .verbose = 0}),
                      "frost::fit: label of row 39: expected a class index in [0, 3), got 3");
  REQUIRE(weights_of(net) == before);
  REQUIRE(tr.get_optimizer().iterations() == 0);
}

TEST_CASE("history and logs name what they hold; to_csv writes Keras's CSVLogger layout", "[train][fit]") {
  frost::history h;
  frost::logs l;
  l.set("loss", 0.5);
  l.set("accuracy", 0.25);
  h.add(0, l);
  l.set("loss", 0.125);
  l.set("val_loss", 1e-8);
  h.add(1, l);
  REQUIRE(h.keys() == std::vector<std::string>{"loss", "accuracy", "val_loss"});
  REQUIRE(h["loss"] == std::vector<double>{0.5, 0.125});
  REQUIRE(std::isnan(h["val_loss"][0]));  // first logged in epoch 1
  REQUIRE_THROWS_WITH(h["acc"], "frost::history: key \"acc\": expected one of \"loss\", \"accuracy\", \"val_loss\", got a key not recorded");
  const std::string path = "fit_test_history.csv";
  frost::to_csv(h, path);
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  REQUIRE(text.str() == "epoch,accuracy,loss,val_loss\r\n0,0.25,0.5,nan\r\n1,0.25,0.125,1e-08\r\n");
  std::remove(path.c_str());
  REQUIRE_THROWS_AS(frost::to_csv(h, "/nonexistent-dir/h.csv"), frost::io_error);
}

TEST_CASE("progress: plain lines through a pipe or file, nothing when silent", "[train][fit]") {
  blobs d(50);
  Net net = Net::init(1);
  auto tr = frost::make_trainer(net, frost::sparse_categorical_crossentropy{}, frost::sgd{}, 32);
  std::FILE* f = std::tmpfile();
  REQUIRE(f != nullptr);
  auto h = frost::fit(tr, d.x, d.y, {.epochs = 2, .verbose = 1, .output = f}, frost::accuracy{});
  std::rewind(f);
  std::string text;
  for (int c; (c = std::fgetc(f)) != EOF;) text += char(c);
  std::fclose(f);
  REQUIRE(text.find('\r') == std::string::npos);  // not a terminal: no bar redrawn in place
  char expected_loss[32];
  std::snprintf(expected_loss, sizeof expected_loss, " - loss: %.4f", h["loss"][1]);
  REQUIRE_THAT(text, Catch::StartsWith("Epoch 1/2\n2/2 - "));
  REQUIRE_THAT(text, Catch::Contains("\nEpoch 2/2\n2/2 - "));
  REQUIRE_THAT(text, Catch::Contains(std::string(expected_loss) + " - accuracy: "));
  REQUIRE_THAT(text, Catch::Contains("samples/s"));
  REQUIRE(std::count(text.begin(), text.end(), '\n') == 4);

  std::FILE* g = std::tmpfile();
  frost::fit(tr, d.x, d.y, {.epochs = 2, .verbose = 0, .output = g});
  REQUIRE(std::ftell(g) == 0);
  std::fclose(g);

  char buf[64];
  REQUIRE(frost::progress_printer::put_value(buf, sizeof buf, "loss", 0.00012) == std::strlen(" - loss: 1.2000e-04"));
  REQUIRE(std::string(buf) == " - loss: 1.2000e-04");
  frost::progress_printer::put_value(buf, sizeof buf, "accuracy", 0.5);
  REQUIRE(std::string(buf) == " - accuracy: 0.5000");
}

TEST_CASE("fit, evaluate and predict on a two-input functional model, shuffled", "[train][fit]") {
  auto a = frost::input<3>{};
  auto b = frost::input<2>{};
  auto h = frost::concatenate{}(frost::dense<4, frost::relu>{}(a), b);
  auto out = frost::dense<1, frost::sigmoid>{}(h);
  auto model = frost::make_model(boost::hana::make_tuple(a, b), out);
  frost::matrix<float, 3> xa(64);
  frost::matrix<float, 2> xb(64);
  frost::matrix<float, 1> y(64);
  frost::random_stream r(9);
  for (std::size_t i = 0; i < 64; ++i) {
    for (std::size_t j = 0; j < 3; ++j) xa(i, j) = float(r.uniform(-1, 1));
    for (std::size_t j = 0; j < 2; ++j) xb(i, j) = float(r.uniform(-1, 1));
    y(i, 0) = xa(i, 0) + xb(i, 1) > 0.f ? 1.f : 0.f;
  }
  auto tr = frost::make_trainer(model, frost::binary_crossentropy{}, frost::adam{.learning_rate = 0.05f}, 16);
  auto hist = frost::fit(tr, std::tie(xa, xb), y, {.epochs = 80, .batch_size = 16, .validation_split = 0.25f, .verbose = 0},
                         frost::accuracy{}, frost::binary_accuracy{});
  REQUIRE(hist["accuracy"] == hist["binary_accuracy"]);  // one output: accuracy is binary accuracy
  REQUIRE(hist["loss"].back() < hist["loss"].front());
  REQUIRE(hist["val_accuracy"].back() >= 0.75);
  // Batches of whole row tiles (16 rows) give model(x)'s bits; batches of 5 add a row's
  // products in another order (kernels/gemm.hpp), so they agree to rounding.
  const auto q = model(xa, xb);
  const auto p = frost::predict(model, std::tie(xa, xb), {.batch_size = 16, .threads = frost::threads{2}});
  REQUIRE(std::equal(p.values().begin(), p.values().end(), q.values().begin()));
  const auto p5 = frost::predict(model, std::tie(xa, xb), {.batch_size = 5, .threads = frost::threads{2}});
  for (std::size_t i = 0; i < 64; ++i) REQUIRE(p5(i, 0) == Approx(q(i, 0)).epsilon(1e-6));
  const auto l = frost::evaluate(tr, std::tie(xa, xb), y, {.batch_size = 16}, frost::binary_accuracy{});
  REQUIRE(l["binary_accuracy"] >= 0.75);
}
