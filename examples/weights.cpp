// Weight files: Keras 3 .weights.h5, safetensors, PyTorch state_dicts and checkpoints.
// docs/weights.md walks through it. Writes its files to a scratch directory.
#include <frost/frost.hpp>
#include <frost/io/weight_files.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

using net = frost::sequential<frost::input<64>, frost::dense<32, frost::relu>, frost::dense<10, frost::softmax>>;

int main() {
  const auto dir = std::filesystem::temp_directory_path() / "frost-weights-example";
  std::filesystem::create_directories(dir);
  const std::string keras_file = (dir / "net.weights.h5").string(), st_file = (dir / "net.safetensors").string(),
                    torch_file = (dir / "torch.safetensors").string(), ckpt_file = (dir / "run.ckpt").string();

  frost::matrix<float, 64> x(16);
  frost::matrix<float, 10> y(16);
  for (std::size_t i = 0; i < 16; ++i) {
    for (std::size_t j = 0; j < 64; ++j) x(i, j) = static_cast<float>((i * 7 + j * 3) % 11) / 10.f;
    y(i, i % 10) = 1.f;
  }

  // Save in both formats; a Keras 3 model.load_weights("net.weights.h5") reads the first.
  auto model = net::init(1);
  frost::save_keras_weights(model, keras_file);
  frost::save_safetensors(model, st_file);

  // Load a Keras file (what model.save_weights wrote, or a .keras archive) into a fresh model.
  auto pretrained = net::init(2);
  frost::load_keras_weights(pretrained, keras_file);
  std::cout << "loaded " << keras_file << ": same outputs: " << std::boolalpha
            << (pretrained(x).values()[0] == model(x).values()[0]) << '\n';

  // Fine-tune the head on the frozen base, checkpointing half-way.
  auto tuned = frost::freeze<0>(std::move(pretrained));
  auto tr = frost::make_trainer(tuned, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 16);
  for (int step = 0; step < 5; ++step) tr.step(x, y);
  frost::save_checkpoint(tr, ckpt_file);
  float loss = 0;
  for (int step = 5; step < 10; ++step) loss = tr.step(x, y);

  // Resume from the checkpoint in a fresh model and trainer: the same bits.
  auto resumed = frost::freeze<0>(net::init(3));
  auto tr2 = frost::make_trainer(resumed, frost::categorical_crossentropy{}, frost::adam{.learning_rate = 0.01f}, 16);
  frost::load_checkpoint(tr2, ckpt_file);
  float loss2 = 0;
  for (int step = 5; step < 10; ++step) loss2 = tr2.step(x, y);
  std::cout << "step 10 loss " << loss << ", resumed from step 5: " << loss2 << '\n';

  // A PyTorch state_dict of nn.Sequential(Linear(64, 32), ReLU(), Linear(32, 10)): names
  // "0.weight", "0.bias", "2.weight", "2.bias", Linear weights (out, in). Written here by hand
  // from the tuned model (what safetensors.torch.save_file would write).
  std::vector<float> w0(32 * 64), w2(10 * 32);
  const auto k0 = tuned.layer<0>().kernel();
  const auto k1 = tuned.layer<1>().kernel();
  for (std::size_t i = 0; i < 64; ++i)
    for (std::size_t o = 0; o < 32; ++o) w0[o * 64 + i] = k0[i * 32 + o];
  for (std::size_t i = 0; i < 32; ++i)
    for (std::size_t o = 0; o < 10; ++o) w2[o * 32 + i] = k1[i * 10 + o];
  auto bytes = [](auto span) { return std::as_bytes(std::span(span.data(), span.size())); };
  frost::write_safetensors(torch_file,
                           {{"0.weight", frost::dtype::f32, {32, 64}, bytes(std::span<const float>(w0))},
                            {"0.bias", frost::dtype::f32, {32}, bytes(tuned.layer<0>().bias())},
                            {"2.weight", frost::dtype::f32, {10, 32}, bytes(std::span<const float>(w2))},
                            {"2.bias", frost::dtype::f32, {10}, bytes(tuned.layer<1>().bias())}},
                           {{"format", "pt"}});
  auto from_torch = net::init(4);
  frost::load_pytorch_safetensors(from_torch, torch_file);  // transposes Linear weights to (in, units)
  std::cout << "loaded the PyTorch state_dict: same outputs: "
            << (from_torch(x).values()[3] == tuned(x).values()[3]) << '\n';

  // fit's model_checkpoint callback: the best epoch's weights (by the training loss here) and
  // every epoch's, named by epoch and loss; each save is atomic.
  auto ck_model = net::init(5);
  auto ck_tr = frost::make_trainer(ck_model, frost::categorical_crossentropy{}, frost::adam{}, 16);
  frost::model_checkpoint best{.filepath = (dir / "best.safetensors").string(), .monitor = "loss", .save_best_only = true};
  frost::model_checkpoint every{.filepath = (dir / "epoch_{epoch:02d}_{loss:.3f}.safetensors").string()};
  frost::fit(ck_tr, x, y, {.epochs = 3, .batch_size = 8, .verbose = 0}, best, every);
  std::cout << "checkpoints: best saved " << best.saves << " times, last " << every.last_saved << '\n';

  // Bad files are refused with the file, the tensor, what was expected and what came; the
  // model is left as it was.
  try {
    frost::load_pytorch_safetensors(model, st_file);
  } catch (const frost::format_error& e) {
    std::cout << "refused: " << e.what() << '\n';
  }
  try {
    frost::load_safetensors(model, torch_file);
  } catch (const frost::format_error& e) {
    std::cout << "refused: " << e.what() << '\n';
  }
  std::filesystem::remove_all(dir);
  return loss == loss2 ? 0 : 1;
}
