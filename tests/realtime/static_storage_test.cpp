// Static storage: a model made with storage::inline_, an inference object and a trainer with a
// compile-time capacity hold everything inside themselves. This program replaces the global
// operator new with one that fails (it prints and aborts), arms it, and then makes, runs, trains,
// moves and freezes such models: any heap allocation ends the test. A twin on the heap, made
// before arming, trains on the same samples; the two must hold the same bits after every step.
// No test framework here: it would allocate.
#include <frost/frost.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

namespace {
bool armed = false;
int failures = 0;

void check(bool ok, const char* what) {
  std::printf("%s: %s\n", ok ? "ok" : "FAILED", what);
  if (!ok) ++failures;
}

[[noreturn]] void refuse(std::size_t bytes) {
  std::printf("FAILED: operator new(%zu) called in a heap-free section\n", bytes);
  std::fflush(stdout);
  std::abort();
}

void* allocate(std::size_t bytes, std::size_t align) {
  if (armed) refuse(bytes);
  void* p = std::aligned_alloc(align, (bytes + align - 1) / align * align + align);
  if (p == nullptr) std::abort();
  return p;
}
}  // namespace

void* operator new(std::size_t n) { return allocate(n, alignof(std::max_align_t)); }
void* operator new[](std::size_t n) { return allocate(n, alignof(std::max_align_t)); }
void* operator new(std::size_t n, std::align_val_t a) { return allocate(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return allocate(n, static_cast<std::size_t>(a)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {
using features = frost::frozen<frost::dense<32, frost::tanh_activation>>;
using head = frost::dense<1, frost::linear>;
using filter = frost::sequential<frost::input<8>, features, head, frost::storage::inline_>;
using filter_on_heap = frost::sequential<frost::input<8>, features, head>;

static_assert(std::is_same_v<filter::storage_type, frost::storage::inline_>);
static_assert(std::is_same_v<filter_on_heap::storage_type, frost::storage::heap>);
static_assert(filter::layer_count == 2, "the storage policy is not a layer");
static_assert(sizeof(filter) >= (filter::param_count + filter::state_count) * sizeof(float),
              "the parameters are inside the object");
static_assert(sizeof(filter_on_heap) < filter::param_count * sizeof(float));

// The model lives in static storage, made before main.
filter model;

// A drifting target: a fixed linear function of the input.
float target_of(const std::array<float, 8>& x) {
  float t = 0.f;
  for (std::size_t j = 0; j < 8; ++j) t += (float(j) - 3.5f) * 0.1f * x[j];
  return t;
}
}  // namespace

int main() {
  // The heap twin and its trainer are made before arming; its steps allocate nothing either.
  filter_on_heap twin = filter_on_heap::init(0);
  auto twin_trainer = frost::make_trainer(twin, frost::mean_squared_error{}, frost::adam{.learning_rate = 0.01f}, 1);
  frost::random_stream rng(11);
  armed = true;

  check(std::memcmp(model.trainable_parameters().data(), twin.trainable_parameters().data(),
                    filter::trainable_param_count * sizeof(float)) == 0 &&
            std::memcmp(model.frozen_parameters().data(), twin.frozen_parameters().data(),
                        filter::frozen_param_count * sizeof(float)) == 0,
        "an inline model initializes as its heap twin does");

  auto run = frost::make_inference<1>(model);
  static_assert(decltype(run)::heap_free);
  check(run.allocated_bytes() == 0, "the inference object allocated nothing");

  auto tr = frost::make_trainer<1>(model, frost::mean_squared_error{}, frost::adam{.learning_rate = 0.01f});
  static_assert(decltype(tr)::heap_free && decltype(tr)::fused_update);
  check(tr.allocated_bytes() == 0, "the trainer allocated nothing");

  std::array<float, 8> x{};
  std::array<float, 1> y{}, out{};
  double early = 0, late = 0;
  bool same_bits = true;
  for (int i = 0; i < 6000; ++i) {
    for (auto& v : x) v = static_cast<float>(rng.uniform(-1.0, 1.0));
    y[0] = target_of(x);
    const frost::matrix_view<const float, 8> xv(x.data(), 1);
    const frost::matrix_view<const float, 1> yv(y.data(), 1);
    run(xv, frost::matrix_view<float, 1>(out.data(), 1));
    const double e = double(out[0] - y[0]) * double(out[0] - y[0]);
    if (i < 200) early += e;
    if (i >= 5800) late += e;
    const float a = tr.step(xv, yv), b = twin_trainer.step(xv, yv);
    same_bits = same_bits && std::memcmp(&a, &b, sizeof a) == 0;
  }
  same_bits = same_bits && std::memcmp(model.trainable_parameters().data(), twin.trainable_parameters().data(),
                                       filter::trainable_param_count * sizeof(float)) == 0;
  std::printf("squared error, first 200 samples %.3g, last 200 %.3g\n", early / 200, late / 200);
  check(late * 10 < early, "online training without a heap: the error falls tenfold");
  check(same_bits, "the inline trainer gives the heap trainer's losses and weights, bit for bit");

  // Moves copy the arrays and leave the source empty, as the heap arenas do.
  filter other = filter::init(5);
  filter moved = std::move(other);
  check(!other.holds_weights() && moved.holds_weights(), "a moved-from inline model holds no weights");
  auto unfrozen = frost::unfreeze<0>(std::move(moved));
  static_assert(std::is_same_v<decltype(unfrozen)::storage_type, frost::storage::inline_>);
  check(!moved.holds_weights() && unfrozen.holds_weights(), "unfreeze moves an inline model into an inline type");

  // A functional model, inline.
  auto in = frost::input<8>{};
  auto h = frost::dense<4, frost::relu>{}(in);
  auto small = frost::make_model(in, frost::dense<1>{}(h), frost::storage::inline_{});
  static_assert(std::is_same_v<decltype(small)::storage_type, frost::storage::inline_>);
  auto small_run = frost::make_inference<1>(small);
  auto small_tr = frost::make_trainer<1>(small, frost::mean_squared_error{}, frost::sgd{.learning_rate = 0.05f});
  const frost::matrix_view<const float, 8> xv(x.data(), 1);
  const frost::matrix_view<const float, 1> yv(y.data(), 1);
  const float l0 = small_tr.step(xv, yv);
  float l1 = l0;
  for (int i = 0; i < 20; ++i) l1 = small_tr.step(xv, yv);
  small_run(xv, frost::matrix_view<float, 1>(out.data(), 1));
  check(std::isfinite(out[0]) && l1 < l0, "an inline functional model runs and trains");

  armed = false;
  std::printf("%s\n", failures == 0 ? "all passed" : "FAILED");
  return failures == 0 ? 0 : 1;
}
