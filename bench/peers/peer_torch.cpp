// Peer: the libtorch C++ frontend, used as its documentation shows.
//   model      torch::nn::Sequential of torch::nn::Linear layers with torch::nn::ReLU between
//              them, initialized with the same Glorot-uniform weights and zero biases as the
//              other peers
//   loss       torch::nn::functional::cross_entropy on the logits with class indices (int64
//              labels rather than one-hot rows): libtorch fuses log_softmax and nll_loss there
//   optimizer  torch::optim::Adam over the trainable parameters only, lr 0.001, betas (0.9,
//              0.999), eps 1e-7. libtorch adds eps to sqrt(v) after bias correction,
//              sqrt(v / (1 - b2^t)) + eps, where Keras adds it before (sqrt(v) + eps with
//              alpha = lr·sqrt(1 - b2^t)/(1 - b1^t)); the arithmetic per element is the same
//              amount, only eps's effective size differs
//   frozen     the frozen layers' parameters are requires_grad_(false) and left out of the
//              optimizer; since the input needs no gradient either, autograd runs no backward
//              below the first trainable layer
//   inference  forward and softmax under torch::NoGradGuard
// A training iteration is zero_grad(), forward, loss, backward(), step() and reading the loss
// (item()), which is what a training loop does with it.
//
// Threads: torch::set_num_threads and at::set_num_interop_threads(FROST_BENCH_THREADS). libtorch
// does its float GEMMs in the system BLAS, on Debian OpenBLAS, whose own thread pool the same
// count is applied to.

#include "workloads.hpp"

#include <torch/torch.h>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace {

using namespace frost_peers;

void run_case(benchmark::State& state, const bench_case& bc) {
  const workload& w = *bc.w;
  const std::size_t layers = w.layer_count, frozen = bc.frozen();
  const auto batch = std::int64_t(bc.batch);

  torch::nn::Sequential net;
  std::vector<torch::nn::Linear> linear;
  for (std::size_t l = 0; l < layers; ++l) {
    linear.emplace_back(std::int64_t(w.in(l)), std::int64_t(w.out(l)));
    net->push_back(linear.back());
    if (l + 1 < layers) net->push_back(torch::nn::ReLU());
  }

  std::vector<torch::Tensor> trainable;
  {
    torch::NoGradGuard no_grad;
    for (std::size_t l = 0; l < layers; ++l) {
      std::vector<float> values(w.in(l) * w.out(l));
      glorot_uniform(values.data(), w.in(l), w.out(l), 42 + std::uint32_t(l));
      // The other peers' (inputs × units) weights; torch::nn::Linear stores their transpose.
      linear[l]->weight.copy_(torch::from_blob(values.data(), {std::int64_t(w.in(l)), std::int64_t(w.out(l))}).t());
      linear[l]->bias.zero_();
    }
  }
  for (std::size_t l = 0; l < layers; ++l) {
    if (l < frozen) {
      linear[l]->weight.requires_grad_(false);
      linear[l]->bias.requires_grad_(false);
    } else {
      trainable.push_back(linear[l]->weight);
      trainable.push_back(linear[l]->bias);
    }
  }

  std::vector<float> xs(bc.batch * w.inputs());
  fill_inputs(xs.data(), bc.batch, w.inputs());
  const torch::Tensor x = torch::from_blob(xs.data(), {batch, std::int64_t(w.inputs())}).clone();
  std::vector<std::int64_t> ys(bc.batch);
  for (std::size_t r = 0; r < bc.batch; ++r) ys[r] = std::int64_t(label(r));
  const torch::Tensor y = torch::from_blob(ys.data(), {batch}, torch::kLong).clone();

  if (!bc.training()) {
    torch::NoGradGuard no_grad;
    for (auto _ : state) {
      torch::Tensor p = torch::softmax(net->forward(x), 1);
      benchmark::DoNotOptimize(p.data_ptr<float>());
      benchmark::ClobberMemory();
    }
    return;
  }

  torch::optim::Adam optimizer(trainable, torch::optim::AdamOptions(adam_hyper::learning_rate)
                                              .betas({adam_hyper::beta_1, adam_hyper::beta_2})
                                              .eps(adam_hyper::epsilon));
  for (auto _ : state) {
    optimizer.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(net->forward(x), y);
    loss.backward();
    optimizer.step();
    float value = loss.item<float>();
    benchmark::DoNotOptimize(value);
  }
}

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(threads());
  at::set_num_interop_threads(threads());
  const bool openblas = set_openblas_threads_if_loaded(threads());
  register_all(run_case);
  benchmark::AddCustomContext("torch_threads", std::to_string(torch::get_num_threads()));
  benchmark::AddCustomContext("openblas_threads_set", openblas ? "yes" : "no (OpenBLAS not loaded)");
  return run(argc, argv, "torch", std::string("libtorch ") + TORCH_VERSION);
}
