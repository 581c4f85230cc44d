// A fit with a progress bar, for tests/progress/check_progress.sh to watch as a person would:
// in a terminal (tmux) and through a pipe. With FROST_PROGRESS_DIR set, it pauses at epoch 2,
// batch 7: it creates <dir>/paused, waits for <dir>/resume, then goes on. Prints "done" last.
#include <frost/frost.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/stat.h>
#include <thread>

namespace {

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

struct pause_point {
  std::string dir;
  template <class Ctx>
  void on_batch_begin(Ctx& ctx) {
    if (dir.empty() || ctx.epoch() != 1 || ctx.batch() != 6) return;
    if (std::FILE* f = std::fopen((dir + "/paused").c_str(), "w")) std::fclose(f);
    for (int i = 0; i < 1000 && !exists(dir + "/resume"); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  template <class Ctx>
  void on_batch_end(Ctx&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(60));  // every batch end redraws the bar
  }
};

}  // namespace

int main() {
  using Net = frost::sequential<frost::input<4>, frost::dense<8, frost::relu>, frost::dense<3, frost::softmax>>;
  Net net = Net::init(1);
  frost::matrix<float, 4> x(640);
  frost::matrix<int, 1> y(640);
  frost::random_stream r(3);
  for (std::size_t i = 0; i < x.rows(); ++i) {
    const int c = static_cast<int>(r.next() % 3);
    y(i, 0) = c;
    for (std::size_t j = 0; j < 4; ++j) x(i, j) = static_cast<float>(r.uniform(-1, 1)) + (j == std::size_t(c) ? 2.f : 0.f);
  }
  auto tr = frost::make_trainer(net, frost::sparse_categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 32);
  const char* dir = std::getenv("FROST_PROGRESS_DIR");
  auto h = frost::fit(tr, x, y, {.epochs = 3, .batch_size = 32}, frost::accuracy{}, pause_point{dir != nullptr ? dir : ""});
  std::printf("done: %zu epochs\n", h.size());
  return h["accuracy"].back() > 0.9 ? 0 : 1;
}
