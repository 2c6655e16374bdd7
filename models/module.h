// Module: the base of every network. It owns the parameters as ONE allocation (llm.c's
// malloc_and_point_parameters) with a named view per tensor, each view a leaf requiring grad, in
// the reference's order (conv1.weight, conv1.bias, norm1.weight, norm1.bias, …, classifier.weight,
// classifier.bias). BatchNorm running statistics are buffers (not parameters), also one allocation.
//
// Networks declare their layers in the constructor (conv/linear/norm below, in forward order),
// call finish() once, and implement features() and head(). Layers are plain handles holding
// indices into the parameter list, so the same code runs the functional form
// forward(params, x) that gradient matching and MTT need.
//
// Shape letters: N batch, C channels, H×W image, K classes, D embedding dim, P parameter count.
// Initialisation: PyTorch's defaults (spec/networks.md §8), drawn from the Generator given.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/ops/conv2d.h"
#include "engine/ops/norm.h"
#include "engine/rng.h"
#include "engine/tensor.h"

namespace loco::models {

enum class ActKind { relu, sigmoid, leaky_relu, swish };
// instance = GroupNorm(C, C) (affine, no running stats), as the reference's 'instancenorm'.
enum class NormKind { none, instance, batch, layer, group };
enum class PoolKind { none, avg, max };

// Where and in what element type a network lives. f64 is CPU-only (gradient checks).
struct ModuleOptions {
  Device device = Device::cpu;
  DType dtype = DType::f32;
};

// Layer handles: indices into the parameter list (-1 where absent).
struct ConvLayer {
  int64_t weight = -1, bias = -1;
  Conv2dOpts opts;
};
struct LinearLayer {
  int64_t weight = -1, bias = -1;
};
struct NormLayer {
  NormKind kind = NormKind::none;
  int64_t gamma = -1, beta = -1;
  int64_t groups = 0;    // group_norm's G (C for instance norm)
  int64_t bn_state = -1; // index into the BatchNorm states
};

// Output size of a conv or pooling along one dim (floor), for shape bookkeeping.
inline int64_t conv_out(int64_t in, int64_t k, int64_t stride, int64_t pad) { return (in + 2 * pad - k) / stride + 1; }

class Module {
 public:
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  const std::string& name() const { return name_; }
  // The registry names a network by what it was asked for ("ConvNetBN"), for messages and reports.
  void set_name(std::string n) { name_ = std::move(n); }
  Device device() const { return opts_.device; }
  DType dtype() const { return opts_.dtype; }

  // Parameters: leaves requiring grad, views into one buffer, in the reference's order.
  const std::vector<Tensor>& parameters() const { return params_; }
  const std::vector<std::string>& parameter_names() const { return param_names_; }
  int64_t num_parameters() const { return flat_.numel(); }
  // The one buffer, [P], no autograd: write into it to update every parameter at once.
  const Tensor& flat_parameters() const { return flat_; }
  // Copies a [P] vector into the parameters (MTT's start epoch, checkpoints).
  void load_flat_parameters(const Tensor& flat);
  // Copies parameters by name (as parameter_names() gives them, e.g. from a safetensors file
  // that `loco train` wrote); throws naming `source` and the tensor that is missing or misshapen.
  void load_parameters(const std::map<std::string, Tensor>& named, const std::string& source);
  // Splits a [P] tensor (possibly requiring grad) into parameter-shaped tensors with
  // differentiable ops, for the functional forward on a flat vector (MTT).
  std::vector<Tensor> unflatten(const Tensor& flat) const;
  void zero_grad();

  // BatchNorm running statistics: "<norm>.running_mean" / ".running_var" pairs.
  bool has_batchnorm() const { return !bn_.empty(); }
  std::vector<BatchNormState>& batchnorm_states() { return bn_; }
  std::vector<std::string> buffer_names() const;
  std::vector<Tensor> buffers() const;

  // Train mode (the default) uses batch statistics in BatchNorm and updates the running ones;
  // eval mode uses the running ones. Other layers behave the same in both.
  void train(bool on = true) { training_ = on; }
  void eval() { training_ = false; }
  bool training() const { return training_; }

  // Logits [N,K] for x [N,C,H,W].
  Tensor forward(const Tensor& x) { return forward(params_, x); }
  // The same network on another parameter list of the same shapes (gradient matching, MTT).
  Tensor forward(const std::vector<Tensor>& params, const Tensor& x);
  // Features before the classifier, [N,D] (DM's embedding). Throws for LeNet and MLP.
  bool has_embed() const { return has_embed_; }
  int64_t embed_dim() const;
  Tensor embed(const Tensor& x) { return embed(params_, x); }
  Tensor embed(const std::vector<Tensor>& params, const Tensor& x);

 protected:
  Module(std::string name, int64_t channel, int64_t classes, int64_t im_size, ModuleOptions o);

  // Declarations, in the order the forward uses them (which is the parameter order).
  ConvLayer conv(const std::string& name, int64_t cin, int64_t cout, int64_t k, Conv2dOpts o, bool bias = true);
  LinearLayer linear(const std::string& name, int64_t in, int64_t out);
  // [c, h, w] is the feature shape the norm sees; layer norm's γ, β take all of it.
  NormLayer norm(const std::string& name, NormKind kind, int64_t c, int64_t h, int64_t w);
  // Allocates the buffers and draws the initial values; call once, after every declaration.
  void finish(Generator& g, int64_t feature_dim, bool has_embed);

  Tensor apply(const ConvLayer& l, const std::vector<Tensor>& p, const Tensor& x) const;
  Tensor apply(const LinearLayer& l, const std::vector<Tensor>& p, const Tensor& x) const;
  Tensor apply(const NormLayer& l, const std::vector<Tensor>& p, const Tensor& x);
  static Tensor activate(ActKind a, const Tensor& x);
  static Tensor pool(PoolKind k, const Tensor& x);

  // x [N,C,H,W] → flattened features [N,D]; then the classifier [N,D] → [N,K].
  virtual Tensor features(const std::vector<Tensor>& p, const Tensor& x) = 0;
  virtual Tensor head(const std::vector<Tensor>& p, const Tensor& f) = 0;

 private:
  enum class Init { uniform, ones, zeros };
  struct Spec {
    std::string name;
    Shape shape;
    Init init;
    double bound;   // U(−bound, bound) for Init::uniform
    int64_t offset; // into the one buffer, in elements
  };
  int64_t add_param(std::string name, Shape shape, Init init, double bound);
  void check_input(const Tensor& x, const char* who) const;
  void check_params(const std::vector<Tensor>& p, const char* who) const;

  std::string name_;
  int64_t channel_, im_size_;
  ModuleOptions opts_;
  std::vector<Spec> specs_;
  std::vector<std::string> param_names_, bn_names_;
  std::vector<Tensor> params_;
  std::vector<BatchNormState> bn_;
  std::vector<int64_t> bn_channels_;
  Tensor flat_, bn_flat_;
  int64_t feature_dim_ = 0;
  bool has_embed_ = true, training_ = true, finished_ = false;
};

}  // namespace loco::models
