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
// The functional workloads are torch::nn::Module subclasses whose forward() is the graph:
//   residual    h = relu(d0(x)); h = h + relu(d1(h)); h = h + relu(d2(h)); logits = d3(h)
//   two_branch  logits = head(cat({relu(a2(relu(a1(a)))), relu(b1(b))}, 1)); under `frozen`,
//               a1's and a2's parameters are requires_grad_(false) and left out of the optimizer,
//               so autograd computes no gradient in branch A, not even dL/d(branch A's output)
// The convolutional workload (cnn) is a torch::nn::Module of torch::nn::Conv2d (valid padding,
// bias), torch::nn::BatchNorm2d (eps 1e-3, momentum 0.01: PyTorch weighs the batch statistics by
// its momentum, Keras weighs the moving ones by its 0.99), torch::nn::MaxPool2d and a Linear head,
// in torch's native NCHW layout: the NHWC data is permuted once, outside the timed loop, and the
// peers' kernels (HWIO) and head rows ((h, w, c) order) are permuted into torch's layouts.
//   trainable   module in train() mode: batch norm with the batch's statistics, moving ones updated
//   frozen      the base's parameters (both convolutions, both batch norms) requires_grad_(false)
//               and left out of the optimizer; both batch norms in eval() (moving statistics);
//               the base runs under torch::NoGradGuard and its output is detach()ed, so autograd
//               records nothing below the head, whose weight gradient is the only product of the
//               backward
//   inference   module in eval(), forward and softmax under torch::NoGradGuard
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
#include <initializer_list>
#include <string>
#include <vector>

namespace {

using namespace frost_peers;

// Loads the peers' (inputs × units) Glorot-uniform weights and zero biases into a Linear, which
// stores their transpose.
void load_linear(torch::nn::Linear& linear, std::size_t inputs, std::size_t units, std::uint32_t seed) {
  torch::NoGradGuard no_grad;
  std::vector<float> values(inputs * units);
  glorot_uniform(values.data(), inputs, units, seed);
  linear->weight.copy_(torch::from_blob(values.data(), {std::int64_t(inputs), std::int64_t(units)}).t());
  linear->bias.zero_();
}

torch::Tensor input_tensor(std::size_t batch, std::size_t features, std::uint32_t seed) {
  std::vector<float> xs(batch * features);
  fill_inputs(xs.data(), batch, features, seed);
  return torch::from_blob(xs.data(), {std::int64_t(batch), std::int64_t(features)}).clone();
}

torch::Tensor label_tensor(std::size_t batch) {
  std::vector<std::int64_t> ys(batch);
  for (std::size_t r = 0; r < batch; ++r) ys[r] = std::int64_t(label(r));
  return torch::from_blob(ys.data(), {std::int64_t(batch)}, torch::kLong).clone();
}

// Times training steps (or, without `training`, inference) of the network whose logits
// `logits()` computes, through frost_peers::time_steps (three warm-up steps, in which libtorch
// allocates the gradients and Adam's state; at least 20 timed steps; the loss counter);
// `trainable` are the parameters the optimizer updates.
template <class Logits>
void time_net(benchmark::State& state, bool training, const std::vector<torch::Tensor>& trainable, Logits logits,
              const torch::Tensor& y) {
  if (!training) {
    torch::NoGradGuard no_grad;
    frost_peers::time_steps(state, [&] {
      torch::Tensor p = torch::softmax(logits(), 1);
      benchmark::DoNotOptimize(p.data_ptr<float>());
      benchmark::ClobberMemory();
    });
    return;
  }
  torch::optim::Adam optimizer(trainable, torch::optim::AdamOptions(adam_hyper::learning_rate)
                                              .betas({adam_hyper::beta_1, adam_hyper::beta_2})
                                              .eps(adam_hyper::epsilon));
  frost_peers::time_steps(state, [&] {
    optimizer.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(logits(), y);
    loss.backward();
    optimizer.step();
    return loss.item<float>();
  });
}

void run_case(benchmark::State& state, const bench_case& bc) {
  const workload& w = *bc.w;
  const std::size_t layers = w.layer_count, frozen = bc.frozen();

  torch::nn::Sequential net;
  std::vector<torch::nn::Linear> linear;
  for (std::size_t l = 0; l < layers; ++l) {
    linear.emplace_back(std::int64_t(w.in(l)), std::int64_t(w.out(l)));
    net->push_back(linear.back());
    if (l + 1 < layers) net->push_back(torch::nn::ReLU());
  }

  for (std::size_t l = 0; l < layers; ++l) load_linear(linear[l], w.in(l), w.out(l), 42 + std::uint32_t(l));
  std::vector<torch::Tensor> trainable;
  for (std::size_t l = 0; l < layers; ++l) {
    if (l < frozen) {
      linear[l]->weight.requires_grad_(false);
      linear[l]->bias.requires_grad_(false);
    } else {
      trainable.push_back(linear[l]->weight);
      trainable.push_back(linear[l]->bias);
    }
  }

  const torch::Tensor x = input_tensor(bc.batch, w.inputs(), default_input_seed);
  time_net(state, bc.training(), trainable, [&] { return net->forward(x); }, label_tensor(bc.batch));
}

// ---------------------------------------------------------------------------------------------
// The functional workloads.

struct residual_net : torch::nn::Module {
  torch::nn::Linear d0{nullptr}, d1{nullptr}, d2{nullptr}, d3{nullptr};

  residual_net() {
    const workload& p = residual_products;
    d0 = register_module("d0", torch::nn::Linear(std::int64_t(p.in(0)), std::int64_t(p.out(0))));
    d1 = register_module("d1", torch::nn::Linear(std::int64_t(p.in(1)), std::int64_t(p.out(1))));
    d2 = register_module("d2", torch::nn::Linear(std::int64_t(p.in(2)), std::int64_t(p.out(2))));
    d3 = register_module("d3", torch::nn::Linear(std::int64_t(p.in(3)), std::int64_t(p.out(3))));
    static_assert(residual_blocks == 2);
    load_linear(d0, p.in(0), p.out(0), 42);
    load_linear(d1, p.in(1), p.out(1), 43);
    load_linear(d2, p.in(2), p.out(2), 44);
    load_linear(d3, p.in(3), p.out(3), 45);
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor h = torch::relu(d0(x));
    h = h + torch::relu(d1(h));
    h = h + torch::relu(d2(h));
    return d3(h);
  }
};

struct two_branch_net : torch::nn::Module {
  torch::nn::Linear a1{nullptr}, a2{nullptr}, b1{nullptr}, head{nullptr};

  explicit two_branch_net(bool frozen_a) {
    using s = two_branch_sizes;
    a1 = register_module("a1", torch::nn::Linear(std::int64_t(s::a_inputs), std::int64_t(s::a1)));
    a2 = register_module("a2", torch::nn::Linear(std::int64_t(s::a1), std::int64_t(s::a2)));
    b1 = register_module("b1", torch::nn::Linear(std::int64_t(s::b_inputs), std::int64_t(s::b1)));
    head = register_module("head", torch::nn::Linear(std::int64_t(s::joined), std::int64_t(classes)));
    load_linear(a1, s::a_inputs, s::a1, 42);
    load_linear(a2, s::a1, s::a2, 43);
    load_linear(b1, s::b_inputs, s::b1, 44);
    load_linear(head, s::joined, classes, 45);
    if (frozen_a)
      for (auto* l : {&a1, &a2}) {
        (*l)->weight.requires_grad_(false);
        (*l)->bias.requires_grad_(false);
      }
  }

  torch::Tensor forward(const torch::Tensor& a, const torch::Tensor& b) {
    return head(torch::cat({torch::relu(a2(torch::relu(a1(a)))), torch::relu(b1(b))}, 1));
  }
};

std::vector<torch::Tensor> trainable_parameters(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (const torch::Tensor& p : m.parameters())
    if (p.requires_grad()) out.push_back(p);
  return out;
}

void run_graph(benchmark::State& state, const graph_case& gc) {
  const torch::Tensor y = label_tensor(gc.batch);
  if (gc.g->model == graph_model::residual) {
    residual_net net;
    const torch::Tensor x = input_tensor(gc.batch, residual_products.inputs(), default_input_seed);
    time_net(state, gc.training(), trainable_parameters(net), [&] { return net.forward(x); }, y);
  } else {
    using s = two_branch_sizes;
    two_branch_net net(gc.frozen());
    const torch::Tensor a = input_tensor(gc.batch, s::a_inputs, default_input_seed);
    const torch::Tensor b = input_tensor(gc.batch, s::b_inputs, second_input_seed);
    time_net(state, gc.training(), trainable_parameters(net), [&] { return net.forward(a, b); }, y);
  }
}

// ---------------------------------------------------------------------------------------------
// The convolutional workload.

struct cnn_net : torch::nn::Module {
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr};
  torch::nn::MaxPool2d pool1{nullptr}, pool2{nullptr};
  torch::nn::Linear head{nullptr};

  cnn_net() {
    using s = cnn_sizes;
    auto conv = [](std::size_t in, std::size_t out) {
      return torch::nn::Conv2d(torch::nn::Conv2dOptions(std::int64_t(in), std::int64_t(out), std::int64_t(s::kernel))
                                   .stride(1)
                                   .padding(0)
                                   .bias(true));
    };
    auto bn = [](std::size_t channels) {
      return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(std::int64_t(channels))
                                        .eps(s::bn_epsilon)
                                        .momentum(1.0 - double(s::bn_momentum)));
    };
    auto pool = [] { return torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(std::int64_t(s::pool))); };
    conv1 = register_module("conv1", conv(s::channels, s::filters1));
    bn1 = register_module("bn1", bn(s::filters1));
    pool1 = register_module("pool1", pool());
    conv2 = register_module("conv2", conv(s::filters1, s::filters2));
    bn2 = register_module("bn2", bn(s::filters2));
    pool2 = register_module("pool2", pool());
    head = register_module("head", torch::nn::Linear(std::int64_t(s::flat), std::int64_t(classes)));

    // The peers' weights: kernels (kh, kw, cin, filters) -> torch's (filters, cin, kh, kw); the
    // head's (1600 × 10) rows in (h, w, c) order -> torch's (10 × 1600) over (c, h, w).
    torch::NoGradGuard no_grad;
    cnn_weights w;
    const auto kk = std::int64_t(s::kernel);
    conv1->weight.copy_(torch::from_blob(w.conv1.data(), {kk, kk, std::int64_t(s::channels), std::int64_t(s::filters1)})
                            .permute({3, 2, 0, 1}));
    conv2->weight.copy_(torch::from_blob(w.conv2.data(), {kk, kk, std::int64_t(s::filters1), std::int64_t(s::filters2)})
                            .permute({3, 2, 0, 1}));
    const auto side = std::int64_t(s::pool2);
    head->weight.copy_(torch::from_blob(w.dense.data(), {side, side, std::int64_t(s::filters2), std::int64_t(classes)})
                           .permute({3, 2, 0, 1})
                           .reshape({std::int64_t(classes), std::int64_t(s::flat)}));
    conv1->bias.zero_();
    conv2->bias.zero_();
    head->bias.zero_();
  }

  // The convolutional base: (N, 1, 28, 28) -> (N, 1600).
  torch::Tensor base(const torch::Tensor& x) {
    torch::Tensor h = pool1(torch::relu(bn1(conv1(x))));
    h = pool2(torch::relu(bn2(conv2(h))));
    return h.flatten(1);
  }

  torch::Tensor forward(const torch::Tensor& x) { return head(base(x)); }

  // Freezes the base: no gradients for its parameters, batch norm on the moving statistics.
  void freeze_base() {
    for (torch::nn::Module* m : std::initializer_list<torch::nn::Module*>{conv1.get(), bn1.get(), conv2.get(), bn2.get()})
      for (torch::Tensor& p : m->parameters()) p.requires_grad_(false);
    bn1->eval();
    bn2->eval();
  }
};

// The cnn input, NHWC as generated, permuted once into torch's NCHW.
torch::Tensor cnn_input(std::size_t batch) {
  using s = cnn_sizes;
  return input_tensor(batch, s::inputs, default_input_seed)
      .reshape({std::int64_t(batch), std::int64_t(s::height), std::int64_t(s::width), std::int64_t(s::channels)})
      .permute({0, 3, 1, 2})
      .contiguous();
}

void run_cnn(benchmark::State& state, const cnn_case& cc) {
  cnn_net net;
  const torch::Tensor x = cnn_input(cc.batch);
  const torch::Tensor y = label_tensor(cc.batch);
  if (cc.c == config::inference) {
    net.eval();
    time_net(state, false, {}, [&] { return net.forward(x); }, y);
  } else if (cc.c == config::frozen) {
    net.train();
    net.freeze_base();
    time_net(state, true, trainable_parameters(net), [&] {
      torch::Tensor features;
      {
        torch::NoGradGuard no_grad;
        features = net.base(x);
      }
      return net.head(features.detach());
    }, y);
  } else {
    net.train();
    time_net(state, true, trainable_parameters(net), [&] { return net.forward(x); }, y);
  }
}

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(threads());
  at::set_num_interop_threads(threads());
  const bool openblas = set_openblas_threads_if_loaded(threads());
  register_all(run_case);
  register_graphs(run_graph);
  register_cnn(run_cnn);
  benchmark::AddCustomContext("torch_threads", std::to_string(torch::get_num_threads()));
  benchmark::AddCustomContext("openblas_threads_set", openblas ? "yes" : "no (OpenBLAS not loaded)");
  return run(argc, argv, "torch", std::string("libtorch ") + TORCH_VERSION);
}
