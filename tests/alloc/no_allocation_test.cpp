// DESIGN semantics 8: trainer::step allocates nothing. operator new is replaced to count.
#include <frost/frost.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <tuple>

namespace {
std::atomic<long> allocations{0};
}

// g++ sees free() on memory from a replaced operator new and warns; these replacements pair
// malloc/aligned_alloc with free on purpose.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, std::align_val_t a) {
  ++allocations;
  const std::size_t align = static_cast<std::size_t>(a);
  if (void* p = std::aligned_alloc(align, (n + align - 1) / align * align)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace {

template <class Model, class Loss, class Spec, class X, class Target>
int check(const char* what, Model& m, Loss loss, Spec spec, const X& x, const Target& y, std::size_t threads = 1) {
  auto tr = frost::make_trainer(m, loss, spec, y.rows(), frost::threads{threads});
  tr.step(x, y);  // warm-up
  const long before = allocations.load();
  float sum = 0;
  for (int s = 0; s < 20; ++s) sum += tr.step(x, y);
  const long during = allocations.load() - before;
  std::printf("%s: %ld heap allocations in 20 steps (loss sum %g)\n", what, during, double(sum));
  return during == 0 && sum > 0.f ? 0 : 1;
}

// fit allocates when it starts, and per epoch (the history), but nothing per step: the same
// fit over 4× the samples (4× the steps, same epochs) makes exactly as many allocations.
template <class Model, class X, class Y>
int check_fit(const char* what, Model& m, const X& x, const Y& y, std::size_t threads = 1) {
  std::FILE* sink = std::fopen("/dev/null", "w");
  auto run = [&](std::size_t rows) {
    auto tr = frost::make_trainer(m, frost::sparse_categorical_crossentropy{}, frost::adam{}, 32, frost::threads{threads});
    const auto xs = frost::matrix_view<const float, X::cols>(x.data(), rows);
    const auto ys = frost::matrix_view<const int, 1>(y.data(), rows);
    frost::early_stopping stop{.monitor = "val_loss", .patience = 100, .restore_best_weights = true};
    frost::learning_rate_schedule cosine{frost::cosine_decay{.initial_learning_rate = 1e-3, .decay_steps = 100}};
    const long before = allocations.load();
    auto h = frost::fit(tr, xs, ys, {.epochs = 2, .batch_size = 32, .validation_split = 0.25f, .verbose = 2, .output = sink},
                        frost::accuracy{}, stop, cosine, [](auto& ctx) { (void)ctx.logs()["loss"]; });
    const long n = allocations.load() - before;
    return std::pair{n, h["loss"].size()};
  };
  const auto [small, e1] = run(x.rows() / 4);
  const auto [big, e2] = run(x.rows());
  std::fclose(sink);
  std::printf("%s: fit over %zu rows made %ld allocations, over %zu rows %ld\n", what, x.rows() / 4, small, x.rows(), big);
  return small == big && e1 == 2 && e2 == 2 ? 0 : 1;
}

// An inference object's call allocates nothing.
template <class Model, class X>
int check_inference(const char* what, const Model& m, const X& x, std::size_t threads) {
  auto run = frost::make_inference(m, x.rows(), frost::threads{threads});
  typename Model::output_matrix out(x.rows());
  run(x, out);  // warm-up
  const long before = allocations.load();
  for (int i = 0; i < 20; ++i) run(x, out);
  const long during = allocations.load() - before;
  std::printf("%s: %ld heap allocations in 20 inference calls\n", what, during);
  return during == 0 ? 0 : 1;
}

}  // namespace

int main() {
  using Net = frost::sequential<frost::input<100>, frost::dense<64, frost::relu>, frost::dense<32, frost::relu>,
                                frost::dense<10, frost::softmax>>;
  frost::matrix<float, 100> x(32);
  frost::matrix<float, 10> y(32);
  frost::matrix<int, 1> labels(32);
  for (std::size_t i = 0; i < 32; ++i) {
    y(i, i % 10) = 1.f;
    labels(i, 0) = int(i % 10);
    for (std::size_t j = 0; j < 100; ++j) x(i, j) = float((i * 31 + j * 7) % 13) / 13.f;
  }
  Net full = Net::init(1);
  auto head = frost::freeze<0, 1>(Net::init(1));
  int failures = 0;
  failures += check("all trainable, adam", full, frost::categorical_crossentropy{}, frost::adam{}, x, y);
  failures += check("layers 0, 1 frozen, adam", head, frost::categorical_crossentropy{}, frost::adam{}, x, y);
  failures += check("sparse labels, rmsprop", full, frost::sparse_categorical_crossentropy{},
                    frost::rmsprop{.momentum = 0.5f, .centered = true}, x, labels);
  failures += check("sgd with nesterov", head, frost::categorical_crossentropy{},
                    frost::sgd{.momentum = 0.9f, .nesterov = true}, x, y);
  // Two threads, on a model big enough that every product of the step is split.
  using Wide = frost::sequential<frost::input<256>, frost::dense<256, frost::relu>, frost::dense<10, frost::softmax>>;
  frost::matrix<float, 256> wx(64);
  frost::matrix<float, 10> wy(64);
  for (std::size_t i = 0; i < 64; ++i) {
    wy(i, i % 10) = 1.f;
    for (std::size_t j = 0; j < 256; ++j) wx(i, j) = float((i * 17 + j * 5) % 11) / 11.f;
  }
  Wide wide = Wide::init(2);
  {
    frost::thread_pool probe(frost::threads{2});
    if (frost::detail::pool_for_step<Wide>(&probe, 64) != &probe) {
      std::printf("the two-thread case would not split: make it bigger\n");
      ++failures;
    }
  }
  failures += check("two threads, adam", wide, frost::categorical_crossentropy{}, frost::adam{}, wx, wy, 2);
  // Functional models: a residual connection with a frozen branch, and two inputs, on one and
  // two threads.
  {
    auto in = frost::input<256>{};
    auto h = frost::dense<256, frost::relu>{}(in);
    auto r = frost::add{}(h, frost::frozen<frost::dense<256, frost::tanh_activation>>{}(h));
    auto residual = frost::make_model(in, frost::dense<10, frost::softmax>{}(r));
    failures += check("functional residual, adam", residual, frost::categorical_crossentropy{}, frost::adam{}, wx, wy);
    failures += check("functional residual, two threads", residual, frost::categorical_crossentropy{}, frost::adam{}, wx,
                      wy, 2);
    auto a = frost::input<100>{};
    auto b = frost::input<256>{};
    auto both = frost::concatenate{}(frost::frozen<frost::dense<32, frost::relu>>{}(a), frost::dense<16, frost::relu>{}(b));
    auto two = frost::make_model(boost::hana::make_tuple(a, b), frost::dense<10, frost::softmax>{}(both));
    frost::matrix<float, 100> ax(64);
    failures += check("functional two inputs, rmsprop", two, frost::categorical_crossentropy{}, frost::rmsprop{},
                      std::tie(ax, wx), wy);
  }
  // A convolutional network with batch normalization, pooling and dropout: all trainable and with
  // its convolutional base frozen, on one and two threads.
  {
    using Cnn = frost::sequential<frost::input<12, 12, 1>, frost::conv2d<8, 3, 3>, frost::batch_normalization<>,
                                  frost::activation<frost::relu>, frost::max_pooling2d<2, 2>, frost::conv2d<16, 3, 3, frost::relu>,
                                  frost::average_pooling2d<2, 2>, frost::flatten, frost::dropout<0.25f>,
                                  frost::dense<10, frost::softmax>>;
    frost::matrix<float, 12, 12, 1> cx(64);
    for (std::size_t i = 0; i < cx.size(); ++i) cx.data()[i] = float((i * 13) % 17) / 17.f;
    Cnn cnn = Cnn::init(3);
    auto base_frozen = frost::freeze<0, 1, 4>(Cnn::init(3));
    failures += check("cnn, adam", cnn, frost::categorical_crossentropy{}, frost::adam{}, cx, wy);
    failures += check("cnn, two threads", cnn, frost::categorical_crossentropy{}, frost::adam{}, cx, wy, 2);
    failures += check("cnn, base frozen", base_frozen, frost::categorical_crossentropy{}, frost::adam{}, cx, wy);
    failures += check("cnn, base frozen, two threads", base_frozen, frost::categorical_crossentropy{}, frost::adam{}, cx,
                      wy, 2);
  }
  // fit and inference.
  {
    frost::matrix<float, 100> fx(512);
    frost::matrix<int, 1> fy(512);
    for (std::size_t i = 0; i < 512; ++i) {
      fy(i, 0) = int(i % 10);
      for (std::size_t j = 0; j < 100; ++j) fx(i, j) = float((i * 31 + j * 7) % 13) / 13.f;
    }
    failures += check_fit("fit, all trainable", full, fx, fy);
    failures += check_fit("fit, layers 0, 1 frozen, two threads", head, fx, fy, 2);
    failures += check_inference("inference", full, x, 1);
    failures += check_inference("inference, two threads", wide, wx, 2);
  }
  std::printf("%d passed, %d failed\n", 16 - failures, failures);
  return failures;
}
