// Peer: dlib's DNN module (dlib 19), CPU build.
//   model      loss_multiclass_log<fc<10, relu<fc<...>>>> per workload over
//              input<matrix<float, 0, 1>>, with the same Glorot-uniform weights and zero biases
//              as the other peers. loss_multiclass_log takes class indices, applies softmax and
//              the log loss, and yields the gradient (p - y)/N
//   step       compute_parameter_gradients(x, labels) (forward, loss, backward) followed by
//              update_parameters(solvers, 0.001), as dnn_trainer does per mini-batch, but called
//              directly so that no trainer thread or data shuffling enters the timing. The input
//              tensor is built from the samples once, outside the timed loop
//   optimizer  dlib::adam(weight_decay 0, momentum1 0.9, momentum2 0.999). dlib's Adam uses the
//              same bias-corrected step size as Keras, alpha = lr·sqrt(1 - b2^t)/(1 - b1^t), but
//              a fixed epsilon of 1e-8 (Keras: 1e-7) inside the library; it writes the step into
//              a separate tensor that update_parameters then adds to the parameters
//   frozen     set_learning_rate_multiplier(0) on the frozen fc layers: dlib then skips their
//              weight gradients and their update, but still back-propagates the data gradient
//              through every layer, down to a gradient for the input itself (also in
//              `trainable`). That unneeded backward is part of what this peer shows
//   inference  forward to the logits, then tt::softmax into a preallocated tensor
//
// Threads: dlib's DNN has no thread setting of its own. Its products go through the system
// BLAS, on Debian OpenBLAS, whose thread pool gets FROST_BENCH_THREADS.

#include "workloads.hpp"

#include <dlib/dnn.h>
#include <dlib/revision.h>

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using namespace frost_peers;
using sample = dlib::matrix<float, 0, 1>;

using net_w1 = dlib::loss_multiclass_log<
    dlib::fc<10, dlib::relu<dlib::fc<32, dlib::relu<dlib::fc<64, dlib::input<sample>>>>>>>;
using net_w2 = dlib::loss_multiclass_log<
    dlib::fc<10, dlib::relu<dlib::fc<512, dlib::relu<dlib::fc<512, dlib::input<sample>>>>>>>;
using net_w3 = dlib::loss_multiclass_log<dlib::fc<
    10, dlib::relu<dlib::fc<1024, dlib::relu<dlib::fc<1024, dlib::relu<dlib::fc<1024, dlib::input<sample>>>>>>>>>;

template <class T>
struct is_fc : std::false_type {};
template <unsigned long N, dlib::fc_bias_mode M>
struct is_fc<dlib::fc_<N, M>> : std::true_type {};

template <class Net>
std::size_t count_fc(Net& net) {
  std::size_t n = 0;
  dlib::visit_computational_layers(net, [&](auto& details) {
    if constexpr (is_fc<std::decay_t<decltype(details)>>::value) ++n;
  });
  return n;
}

// Calls f(layer_index, fc) for each fc layer, layer_index counted from the input (0) upward.
template <class Net, class F>
void for_each_fc(Net& net, F f) {
  const std::size_t n = count_fc(net);
  std::size_t visited = 0;  // dlib visits from the loss toward the input
  dlib::visit_computational_layers(net, [&](auto& details) {
    if constexpr (is_fc<std::decay_t<decltype(details)>>::value) f(n - 1 - visited++, details);
  });
}

template <class Net>
void run_net(benchmark::State& state, const bench_case& bc) {
  const workload& w = *bc.w;
  const std::size_t frozen = bc.frozen();

  std::vector<float> xs(bc.batch * w.inputs());
  fill_inputs(xs.data(), bc.batch, w.inputs());
  std::vector<sample> samples(bc.batch, sample(long(w.inputs())));
  for (std::size_t r = 0; r < bc.batch; ++r)
    for (std::size_t j = 0; j < w.inputs(); ++j) samples[r](long(j)) = xs[r * w.inputs() + j];
  std::vector<unsigned long> labels(bc.batch);
  for (std::size_t r = 0; r < bc.batch; ++r) labels[r] = label(r);

  Net net;
  dlib::resizable_tensor x;
  net.to_tensor(samples.begin(), samples.end(), x);
  net.subnet().forward(x);  // sizes and allocates every layer's parameters

  // fc_ parameters are an (inputs + 1) × outputs tensor: the weights, row-major, then the bias.
  bool shapes_match = count_fc(net) == w.layer_count;
  for_each_fc(net, [&](std::size_t l, auto& fc) {
    shapes_match = shapes_match && fc.get_num_outputs() == w.out(l) &&
                   fc.get_layer_params().size() == (w.in(l) + 1) * w.out(l);
    if (!shapes_match) return;
    float* p = fc.get_layer_params().host();
    glorot_uniform(p, w.in(l), w.out(l), 42 + std::uint32_t(l));
    for (std::size_t j = 0; j < w.out(l); ++j) p[w.in(l) * w.out(l) + j] = 0.f;
    if (l < frozen) {
      fc.set_learning_rate_multiplier(0);
      fc.set_bias_learning_rate_multiplier(0);
    }
  });
  if (!shapes_match) {
    state.SkipWithError("the dlib network type does not match the workload's layer sizes");
    return;
  }

  if (!bc.training()) {
    dlib::resizable_tensor p;
    p.copy_size(net.subnet().get_output());
    for (auto _ : state) {
      const dlib::tensor& logits = net.subnet().forward(x);
      dlib::tt::softmax(p, logits);
      benchmark::DoNotOptimize(p.host());
      benchmark::ClobberMemory();
    }
    return;
  }

  std::vector<dlib::adam> solvers(Net::num_computational_layers,
                                  dlib::adam(0.f, adam_hyper::beta_1, adam_hyper::beta_2));
  for (auto _ : state) {
    double loss = net.compute_parameter_gradients(x, labels.begin());
    net.update_parameters(solvers, adam_hyper::learning_rate);
    benchmark::DoNotOptimize(loss);
  }
}

void run_case(benchmark::State& state, const bench_case& bc) {
  const std::string name = bc.w->name;
  if (name == "W1") run_net<net_w1>(state, bc);
  else if (name == "W2") run_net<net_w2>(state, bc);
  else if (name == "W3") run_net<net_w3>(state, bc);
  else state.SkipWithError("no dlib network type for this workload");
}

}  // namespace

int main(int argc, char** argv) {
  const bool openblas = set_openblas_threads_if_loaded(threads());
  register_all(run_case);
  benchmark::AddCustomContext("openblas_threads_set", openblas ? "yes" : "no (OpenBLAS not loaded)");
  return run(argc, argv, "dlib",
             "dlib " + std::to_string(DLIB_MAJOR_VERSION) + "." + std::to_string(DLIB_MINOR_VERSION));
}
