// Data-parallel training under mpirun (tests/CMakeLists.txt runs this with 2 and 3 processes):
// every rank ends with the weights one process gets from the same global batches, whatever its
// own starting weights, shard sizes even or not; exactly the trainable bytes travel per step.
#define CATCH_CONFIG_RUNNER
#include <frost/distributed/trainer.hpp>
#include <frost/frost.hpp>
#include <frost/io/weight_files.hpp>

#include "support/gradcheck.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

namespace {
using net = frost::sequential<frost::input<6>, frost::frozen<frost::dense<8, frost::relu>>, frost::dense<5, frost::relu>,
                              frost::dense<3, frost::softmax>>;

// The fingerprint tells apart what must agree across ranks: frozen layers, loss, optimizer.
static_assert(frost::type_fingerprint<net>() == frost::type_fingerprint<net>());
static_assert(frost::type_fingerprint<net>() != frost::type_fingerprint<frost::unfrozen_model_t<net, 0>>());
static_assert(frost::type_fingerprint<frost::trainer<net, frost::categorical_crossentropy, frost::sgd, true>>() !=
              frost::type_fingerprint<frost::trainer<net, frost::categorical_crossentropy, frost::adam, true>>());

frost::mpi::communicator world() { return frost::mpi::communicator::world(std::chrono::seconds(20)); }

// A 64-bit hash of a span's bytes, to compare whole arenas across ranks.
template <class S>
std::uint64_t hash_of(const S& values) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  const auto* p = reinterpret_cast<const unsigned char*>(values.data());
  for (std::size_t i = 0; i < values.size() * sizeof(values[0]); ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

struct batches {
  std::vector<frost::matrix<float, 6>> x;
  std::vector<frost::matrix<float, 3>> y;
};

// Global batches of `rows` (the same on every rank), one-hot targets.
batches make_batches(std::size_t count, std::size_t rows) {
  batches b;
  for (std::size_t k = 0; k < count; ++k) {
    frost::matrix<float, 6> x(rows);
    frost::matrix<float, 3> y(rows);
    frost_test::fill_uniform(x.values(), 100 + static_cast<int>(k));
    for (std::size_t i = 0; i < rows; ++i) y(i, (i * 7 + k) % 3) = 1.f;
    b.x.push_back(std::move(x));
    b.y.push_back(std::move(y));
  }
  return b;
}
}  // namespace

TEST_CASE("every rank ends with the weights of one process trained on the same global batches", "[distributed]") {
  auto comm = world();
  const std::size_t rank = comm.rank();
  // One sum after backward; one per trainable layer, started as backward finishes it; and buckets
  // of at least 100 bytes (the last layer's 72 wait for the one before).
  constexpr std::size_t one = frost::bucket_bytes::one_sum;
  const std::size_t buckets = GENERATE(std::size_t(frost::bucket_bytes::one_sum), std::size_t(0), std::size_t(100));
  const std::size_t sums_a_step = buckets == one ? 1 : (buckets == 0 ? 2 : 1);
  // Rows that divide evenly among 2 ranks and unevenly among 3, and a batch smaller than the rank
  // count would leave a rank without rows (not here: 3 rows or more).
  for (const std::size_t rows : {std::size_t(12), std::size_t(31), std::size_t(4)}) {
    CAPTURE(rows, comm.size(), buckets);
    const batches data = make_batches(6, rows);
    // Rank 0's starting weights are the reference's; every other rank starts elsewhere, and the
    // construction must copy rank 0's to it.
    net m = net::init(rank == 0 ? 7 : 70 + rank);
    net reference = net::init(7);
    auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 16,
                                  frost::keep_gradients);
    auto ref = frost::make_trainer(reference, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 64,
                                   frost::keep_gradients);
    frost::distributed dist(tr, comm, frost::bucket_bytes{buckets});
    REQUIRE(dist.bucket_size() == buckets);
    REQUIRE(frost_test::same_bytes(m.frozen_parameters(), reference.frozen_parameters()));
    REQUIRE(frost_test::same_bytes(m.trainable_parameters(), reference.trainable_parameters()));
    for (std::size_t k = 0; k < data.x.size(); ++k) {
      const float loss = dist.step(data.x[k], data.y[k]);
      const float expected = ref.step(data.x[k], data.y[k]);
      REQUIRE(loss == Approx(expected).epsilon(1e-5));
    }
    const auto a = m.trainable_parameters();
    const auto b = reference.trainable_parameters();
    for (std::size_t i = 0; i < a.size(); ++i) REQUIRE(a[i] == Approx(b[i]).epsilon(1e-4).margin(1e-6));
    // The frozen layer never changed, and every rank holds the same bytes.
    REQUIRE(frost_test::same_bytes(m.frozen_parameters(), reference.frozen_parameters()));
    const auto [lo, hi] = comm.min_max(hash_of(a), "test");
    REQUIRE(lo == hi);
    // Exactly the trainable parameters travelled, once a step.
    REQUIRE(dist.gradient_bytes_sent() == data.x.size() * net::trainable_param_count * sizeof(float));
    REQUIRE(decltype(dist)::gradient_values == net::trainable_param_count);
    REQUIRE(dist.other_bytes_sent() == data.x.size() * sizeof(float));
    REQUIRE(dist.gradient_sums() == data.x.size() * sums_a_step);
  }
}

TEST_CASE("shards cover the global batch in order, the first ranks taking the extra rows", "[distributed]") {
  auto comm = world();
  net m = net::init(1);
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 8, frost::keep_gradients);
  frost::distributed dist(tr, comm);
  for (const std::size_t rows : {std::size_t(1), std::size_t(2), std::size_t(10), std::size_t(11)}) {
    std::size_t next = 0;
    for (std::size_t r = 0; r < comm.size(); ++r) {
      const auto [first, count] = dist.shard_of(r, rows);
      REQUIRE(first == next);
      REQUIRE(count + 1 >= (rows + comm.size() - 1) / comm.size());  // no shard two rows short of another
      next += count;
    }
    REQUIRE(next == rows);
  }
  REQUIRE(dist.max_batch() == 8 * comm.size());
  // A global batch with more rows than the ranks' capacities together is refused on every rank,
  // before anything moves.
  frost::matrix<float, 6> x(8 * comm.size() + 1);
  frost::matrix<float, 3> y(8 * comm.size() + 1);
  const net before = m;
  REQUIRE_THROWS_AS(dist.step(x, y), frost::shape_error);
  REQUIRE(frost_test::same_bytes(m.trainable_parameters(), before.trainable_parameters()));
}

TEST_CASE("a rank without rows contributes zeros and applies the same update", "[distributed]") {
  auto comm = world();
  if (comm.size() < 2) return;
  const batches data = make_batches(3, 1);  // one row: every rank but rank 0 has none
  net m = net::init(5), reference = net::init(5);
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{.learning_rate = 0.1f}, 4,
                                frost::keep_gradients);
  auto ref = frost::make_trainer(reference, frost::categorical_crossentropy{}, frost::sgd{.learning_rate = 0.1f}, 4,
                                 frost::keep_gradients);
  // Ranks without rows start the same sums as rank 0, whose backward starts one per layer.
  const std::size_t buckets = GENERATE(std::size_t(frost::bucket_bytes::one_sum), std::size_t(0));
  CAPTURE(buckets);
  frost::distributed dist(tr, comm, frost::bucket_bytes{buckets});
  for (std::size_t k = 0; k < data.x.size(); ++k) {
    const float loss = dist.step(data.x[k], data.y[k]);
    REQUIRE(loss == Approx(ref.step(data.x[k], data.y[k])).epsilon(1e-6));
  }
  REQUIRE(frost_test::same_bytes(m.trainable_parameters(), reference.trainable_parameters()));
  REQUIRE(dist.gradient_sums() == data.x.size() * (buckets == 0 ? 2 : 1));
}

TEST_CASE("fit with a distributed trainer logs what one process's fit logs; rank 0 alone prints", "[distributed]") {
  auto comm = world();
  frost::matrix<float, 6> x(90);
  frost::matrix<int, 1> labels(90);
  frost_test::fill_uniform(x.values(), 11);
  for (std::size_t i = 0; i < 90; ++i) labels(i, 0) = x(i, 0) > 0.3f ? 2 : (x(i, 1) > 0.f ? 1 : 0);
  using open = frost::sequential<frost::input<6>, frost::dense<16, frost::relu>, frost::dense<3, frost::softmax>>;
  open m = open::init(3 + comm.rank()), reference = open::init(3);
  auto tr = frost::make_trainer(m, frost::sparse_categorical_crossentropy{}, frost::adam{.learning_rate = 0.02f}, 16,
                                frost::keep_gradients);
  auto ref = frost::make_trainer(reference, frost::sparse_categorical_crossentropy{}, frost::adam{.learning_rate = 0.02f},
                                 16, frost::keep_gradients);
  frost::distributed dist(tr, comm);
  std::FILE* out = std::tmpfile();
  REQUIRE(out != nullptr);
  const frost::fit_options o{.epochs = 4, .batch_size = 16, .validation_split = 0.2f, .seed = 5, .verbose = 2, .output = out};
  frost::model_checkpoint every{.filepath = "distributed_fit_test_rank_check.safetensors", .save_weights_only = true};
  const frost::history h = frost::fit(dist, x, labels, o, frost::accuracy{}, every);
  const frost::history r = frost::fit(ref, x, labels, {.epochs = 4, .batch_size = 16, .validation_split = 0.2f, .seed = 5, .verbose = 0},
                                      frost::accuracy{});
  for (const char* key : {"loss", "val_loss"})
    for (std::size_t e = 0; e < 4; ++e) REQUIRE(h[key][e] == Approx(r[key][e]).epsilon(1e-4));
  for (const char* key : {"accuracy", "val_accuracy"})
    for (std::size_t e = 0; e < 4; ++e) REQUIRE(std::abs(h[key][e] - r[key][e]) <= 1.5 / 72);  // a sample at most
  // Every rank counts the checkpoints; rank 0 alone wrote the file and printed.
  REQUIRE(every.saves == 4);
  const long printed = std::ftell(out);
  std::fclose(out);
  if (comm.rank() == 0) REQUIRE(printed > 0);
  else REQUIRE(printed == 0);
  comm.min_max(0, "test");  // rank 0 has written the file before anyone looks
  std::FILE* saved = std::fopen("distributed_fit_test_rank_check.safetensors", "rb");
  REQUIRE(saved != nullptr);
  std::fclose(saved);
  comm.min_max(0, "test");
  if (comm.rank() == 0) std::remove("distributed_fit_test_rank_check.safetensors");
}

TEST_CASE("batch normalization normalizes each shard alone and averages the moving statistics", "[distributed]") {
  auto comm = world();
  using bn = frost::sequential<frost::input<5>, frost::dense<4, frost::linear>, frost::batch_normalization<>,
                               frost::activation<frost::relu>, frost::dense<2, frost::softmax>>;
  const std::size_t rows = 13;
  frost::matrix<float, 5> x(rows);
  frost::matrix<float, 2> y(rows);
  frost_test::fill_uniform(x.values(), 21);
  for (std::size_t i = 0; i < rows; ++i) y(i, i % 2) = 1.f;
  bn m = bn::init(4), alone = bn::init(4);
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{.learning_rate = 0.1f}, 8,
                                frost::keep_gradients);
  auto solo = frost::make_trainer(alone, frost::categorical_crossentropy{}, frost::sgd{.learning_rate = 0.1f}, 8,
                                  frost::keep_gradients);
  // The state's sum runs beside the gradients' last: with one sum, and with a sum per layer.
  const std::size_t buckets = GENERATE(std::size_t(frost::bucket_bytes::one_sum), std::size_t(0));
  CAPTURE(buckets);
  frost::distributed dist(tr, comm, frost::bucket_bytes{buckets});
  dist.step(x, y);
  // What this rank's shard alone does to the statistics, averaged over the ranks by hand.
  const auto [first, count] = dist.shard(rows);
  solo.step(frost::matrix_view<const float, 5>(x.data() + first * 5, count),
            frost::matrix_view<const float, 2>(y.data() + first * 2, count));
  std::vector<float> expected(alone.state().begin(), alone.state().end());
  comm.sum(expected.data(), expected.size(), "test");
  for (float& v : expected) v /= static_cast<float>(comm.size());
  const auto state = m.state();
  REQUIRE(state.size() == 8);  // moving mean and variance of 4 units
  for (std::size_t i = 0; i < state.size(); ++i) REQUIRE(state[i] == Approx(expected[i]).epsilon(1e-5).margin(1e-7));
  const auto [lo, hi] = comm.min_max(hash_of(state), "test");
  REQUIRE(lo == hi);
  REQUIRE(dist.other_bytes_sent() == sizeof(float) + state.size() * sizeof(float));
}

TEST_CASE("ranks that run different models refuse to start, each with the same clear error", "[distributed]") {
  auto comm = world();
  if (comm.size() < 2) return;
  // Rank 0 trains the first layer too: another trainer type, so another fingerprint.
  using unfrozen = frost::unfrozen_model_t<net, 0>;
  net m = net::init(1);
  unfrozen u = unfrozen::init(1);
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 8, frost::keep_gradients);
  auto tu = frost::make_trainer(u, frost::categorical_crossentropy{}, frost::sgd{}, 8, frost::keep_gradients);
  const net before = m;
  if (comm.rank() == 0)
    REQUIRE_THROWS_WITH(frost::distributed(tu, comm), Catch::Contains("frost::distributed: trainer on every rank") &&
                                                          Catch::Contains("the same model type, frozen layers"));
  else
    REQUIRE_THROWS_AS(frost::distributed(tr, comm), frost::distributed_error);
  REQUIRE(frost_test::same_bytes(m.trainable_parameters(), before.trainable_parameters()));  // nothing copied
  // The same trainer summing by other buckets would start other sums: refused the same way.
  const std::size_t buckets = comm.rank() == 0 ? 0 : frost::bucket_bytes::one_sum;
  REQUIRE_THROWS_WITH(frost::distributed(tr, comm, frost::bucket_bytes{buckets}),
                      Catch::Contains("frost::distributed: trainer on every rank") && Catch::Contains("bucket_bytes"));
}

TEST_CASE("a rank that does not answer in time is an error on the others, not a hang", "[distributed]") {
  auto comm = world();
  if (comm.size() < 2) return;
  static float data[4] = {1, 2, 3, 4};  // outlives the abandoned sum, which completes later
  if (comm.rank() == 1) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // late, then joins
    comm.sum(data, 4, "late rank");
  } else {
    comm.set_timeout(std::chrono::milliseconds(300));
    REQUIRE_THROWS_WITH(comm.sum(data, 4, "frost::distributed::step"),
                        Catch::Contains("frost::distributed::step: collective of") &&
                            Catch::Contains("within 300 ms") && Catch::Contains("a rank died, hangs"));
  }
  // Everyone meets again (the abandoned sums finish meanwhile), so the job ends cleanly.
  comm.set_timeout(std::chrono::seconds(20));
  const auto [lo, hi] = comm.min_max(7, "test");
  REQUIRE(lo == 7);
  REQUIRE(hi == 7);
}

// Hidden (run alone by tests/distributed/expect_job_fails.cmake): the last rank dies between two
// steps without a word; the job must end with an error, not hang.
TEST_CASE("a rank that dies mid-training ends the job", "[.die]") {
  auto comm = world();
  net m = net::init(1);
  auto tr = frost::make_trainer(m, frost::categorical_crossentropy{}, frost::sgd{}, 8, frost::keep_gradients);
  frost::distributed dist(tr, comm);
  const batches data = make_batches(2, 8);
  dist.step(data.x[0], data.y[0]);
  if (comm.rank() + 1 == comm.size()) std::_Exit(3);
  dist.step(data.x[1], data.y[1]);  // the others: mpirun ends the job, or the deadline throws
  FAIL("a step after a rank died returned");
}

int main(int argc, char** argv) {
  frost::mpi::environment mpi(argc, argv);
  return Catch::Session().run(argc, argv);
}
