// Module: parameter declaration, the one-buffer allocation with PyTorch-default initialisation,
// the functional forward, and the layer helpers every network shares. The networks themselves
// live in convnet.cpp, lenet.cpp, alexnet.cpp, vgg11.cpp, resnet18.cpp, mlp.cpp.
//
// Shape letters: N batch, C channels, H×W image, K classes, D embedding dim, P parameter count.
#include "models/module.h"

#include <cmath>

#include "engine/ops.h"

namespace loco::models {

Module::Module(std::string name, int64_t channel, int64_t classes, int64_t im_size, ModuleOptions o)
    : name_(std::move(name)), channel_(channel), im_size_(im_size), opts_(o) {
  LOCO_CHECK(channel >= 1 && classes >= 1 && im_size >= 1, name_, ": invalid size (channel ", channel, ", classes ",
             classes, ", im_size ", im_size, ")");
  LOCO_CHECK(is_floating(o.dtype), name_, ": parameters must be f32 or f64, got ", o.dtype);
  LOCO_CHECK(!(o.device == Device::cuda && o.dtype == DType::f64), name_, ": f64 networks live on the CPU only");
}

int64_t Module::add_param(std::string name, Shape shape, Init init, double bound) {
  LOCO_CHECK(!finished_, name_, ": parameter ", name, " declared after finish()");
  const int64_t offset = specs_.empty() ? 0 : specs_.back().offset + specs_.back().shape.numel();
  param_names_.push_back(name);
  specs_.push_back({std::move(name), std::move(shape), init, bound, offset});
  return static_cast<int64_t>(specs_.size()) - 1;
}

ConvLayer Module::conv(const std::string& name, int64_t cin, int64_t cout, int64_t k, Conv2dOpts o, bool bias) {
  // kaiming_uniform_(a=√5) on the weight and the bias rule both come out as U(±1/√fan_in).
  const double bound = 1.0 / std::sqrt(static_cast<double>(cin * k * k));
  ConvLayer l;
  l.opts = o;
  l.weight = add_param(name + ".weight", Shape{cout, cin, k, k}, Init::uniform, bound);
  if (bias) l.bias = add_param(name + ".bias", Shape{cout}, Init::uniform, bound);
  return l;
}

LinearLayer Module::linear(const std::string& name, int64_t in, int64_t out) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  LinearLayer l;
  l.weight = add_param(name + ".weight", Shape{out, in}, Init::uniform, bound);
  l.bias = add_param(name + ".bias", Shape{out}, Init::uniform, bound);
  return l;
}

NormLayer Module::norm(const std::string& name, NormKind kind, int64_t c, int64_t h, int64_t w) {
  NormLayer l;
  l.kind = kind;
  if (kind == NormKind::none) return l;
  const Shape s = kind == NormKind::layer ? Shape{c, h, w} : Shape{c};
  l.gamma = add_param(name + ".weight", s, Init::ones, 0);
  l.beta = add_param(name + ".bias", s, Init::zeros, 0);
  if (kind == NormKind::instance) l.groups = c;
  if (kind == NormKind::group) {
    l.groups = 4;  // the reference's 'groupnorm' is GroupNorm(4, C)
    LOCO_CHECK(c % 4 == 0, name_, ": groupnorm needs a width divisible by 4, got ", c);
  }
  if (kind == NormKind::batch) {
    l.bn_state = static_cast<int64_t>(bn_channels_.size());
    bn_channels_.push_back(c);
    bn_names_.push_back(name);
  }
  return l;
}

void Module::finish(Generator& g, int64_t feature_dim, bool has_embed) {
  LOCO_CHECK(!finished_, name_, ": finish() called twice");
  finished_ = true;
  feature_dim_ = feature_dim;
  has_embed_ = has_embed;

  // Drawn on the host in declaration order (PyTorch's construction order), copied once.
  const int64_t P = specs_.empty() ? 0 : specs_.back().offset + specs_.back().shape.numel();
  std::vector<double> host(static_cast<size_t>(P));
  for (const Spec& s : specs_) {
    double* dst = host.data() + s.offset;
    const int64_t n = s.shape.numel();
    if (s.init == Init::uniform) {
      const auto v = rand_uniform(s.shape, g, -s.bound, s.bound, DType::f64).to_vector<double>();
      std::copy(v.begin(), v.end(), dst);
    } else {
      std::fill(dst, dst + n, s.init == Init::ones ? 1.0 : 0.0);
    }
  }
  auto upload = [&](const std::vector<double>& v) {
    const Shape s{static_cast<int64_t>(v.size())};
    if (opts_.dtype == DType::f64) return from_vector(v, s, opts_.device);
    return from_vector(std::vector<float>(v.begin(), v.end()), s, opts_.device);
  };
  flat_ = upload(host);
  params_.clear();
  for (const Spec& s : specs_) {
    Tensor p = view_of(flat_, s.shape, static_cast<size_t>(s.offset));
    p.requires_grad_();
    params_.push_back(p);
  }

  // Running mean 0 and variance 1 per BatchNorm, [mean_0, var_0, mean_1, var_1, …].
  int64_t nbuf = 0;
  for (int64_t c : bn_channels_) nbuf += 2 * c;
  std::vector<double> bh;
  bh.reserve(static_cast<size_t>(nbuf));
  for (int64_t c : bn_channels_) {
    bh.insert(bh.end(), static_cast<size_t>(c), 0.0);
    bh.insert(bh.end(), static_cast<size_t>(c), 1.0);
  }
  bn_.clear();
  if (nbuf > 0) {
    bn_flat_ = upload(bh);
    int64_t off = 0;
    for (int64_t c : bn_channels_) {
      BatchNormState st;
      st.running_mean = view_of(bn_flat_, Shape{c}, static_cast<size_t>(off));
      st.running_var = view_of(bn_flat_, Shape{c}, static_cast<size_t>(off + c));
      bn_.push_back(st);
      off += 2 * c;
    }
  }
}

void Module::load_flat_parameters(const Tensor& flat) {
  LOCO_CHECK(flat.shape() == flat_.shape() && flat.dtype() == flat_.dtype(), name_,
             ".load_flat_parameters: expected ", flat_.dtype(), " ", flat_.shape(), ", got ", flat.dtype(), " ",
             flat.shape());
  copy_bytes(flat_.raw(), flat_.device(), flat.raw(), flat.device(), flat_.nbytes());
}

void Module::load_parameters(const std::map<std::string, Tensor>& named, const std::string& source) {
  for (size_t i = 0; i < params_.size(); ++i) {
    auto it = named.find(specs_[i].name);
    LOCO_CHECK(it != named.end(), source, ": no tensor '", specs_[i].name, "' for ", name_);
    const Tensor& t = it->second;
    LOCO_CHECK(t.shape() == specs_[i].shape && t.dtype() == params_[i].dtype(), source, ": '", specs_[i].name,
               "' is ", t.dtype(), " ", t.shape(), ", but ", name_, " needs ", params_[i].dtype(), " ",
               specs_[i].shape);
    copy_bytes(params_[i].raw(), params_[i].device(), t.raw(), t.device(), t.nbytes());
  }
}

std::vector<Tensor> Module::unflatten(const Tensor& flat) const {
  LOCO_CHECK(flat.shape() == flat_.shape(), name_, ".unflatten: expected a ", flat_.shape(), " vector, got ",
             flat.shape());
  std::vector<Tensor> out;
  out.reserve(specs_.size());
  for (const Spec& s : specs_) out.push_back(reshape(slice(flat, s.offset, s.offset + s.shape.numel()), s.shape));
  return out;
}

void Module::zero_grad() {
  for (Tensor& p : params_) p.zero_grad();
}

std::vector<std::string> Module::buffer_names() const {
  std::vector<std::string> out;
  for (const auto& n : bn_names_) {
    out.push_back(n + ".running_mean");
    out.push_back(n + ".running_var");
  }
  return out;
}

std::vector<Tensor> Module::buffers() const {
  std::vector<Tensor> out;
  for (const auto& s : bn_) {
    out.push_back(s.running_mean);
    out.push_back(s.running_var);
  }
  return out;
}

void Module::check_input(const Tensor& x, const char* who) const {
  LOCO_CHECK(x.defined() && x.ndim() == 4 && x.dim(1) == channel_ && x.dim(2) == im_size_ && x.dim(3) == im_size_,
             name_, ".", who, ": built for input [N,", channel_, ",", im_size_, ",", im_size_, "], got ",
             x.defined() ? x.shape().str() : "an undefined tensor");
}

void Module::check_params(const std::vector<Tensor>& p, const char* who) const {
  LOCO_CHECK(finished_, name_, ".", who, ": the network was never finished");
  LOCO_CHECK(p.size() == specs_.size(), name_, ".", who, ": expected ", specs_.size(), " parameter tensors, got ",
             p.size());
  for (size_t i = 0; i < p.size(); ++i)
    LOCO_CHECK(p[i].defined() && p[i].shape() == specs_[i].shape, name_, ".", who, ": parameter ", i, " (",
               specs_[i].name, ") should have shape ", specs_[i].shape, ", got ",
               p[i].defined() ? p[i].shape().str() : "an undefined tensor");
}

Tensor Module::forward(const std::vector<Tensor>& params, const Tensor& x) {
  check_params(params, "forward");
  check_input(x, "forward");
  return head(params, features(params, x));
}

int64_t Module::embed_dim() const {
  LOCO_CHECK(has_embed_, name_, " has no embedding (features before the classifier); use a ConvNet, AlexNet, "
                         "VGG11 or ResNet18 for distribution matching");
  return feature_dim_;
}

Tensor Module::embed(const std::vector<Tensor>& params, const Tensor& x) {
  embed_dim();  // throws for networks without one
  check_params(params, "embed");
  check_input(x, "embed");
  return features(params, x);
}

Tensor Module::apply(const ConvLayer& l, const std::vector<Tensor>& p, const Tensor& x) const {
  return conv2d(x, p[static_cast<size_t>(l.weight)], l.bias >= 0 ? p[static_cast<size_t>(l.bias)] : Tensor(), l.opts);
}

Tensor Module::apply(const LinearLayer& l, const std::vector<Tensor>& p, const Tensor& x) const {
  return loco::linear(x, p[static_cast<size_t>(l.weight)], p[static_cast<size_t>(l.bias)]);
}

Tensor Module::apply(const NormLayer& l, const std::vector<Tensor>& p, const Tensor& x) {
  if (l.kind == NormKind::none) return x;
  const Tensor& g = p[static_cast<size_t>(l.gamma)];
  const Tensor& b = p[static_cast<size_t>(l.beta)];
  switch (l.kind) {
    case NormKind::instance:
    case NormKind::group: return group_norm(x, l.groups, g, b);
    case NormKind::layer: return layer_norm(x, g, b);
    case NormKind::batch: return batch_norm(x, g, b, bn_[static_cast<size_t>(l.bn_state)], training_);
    case NormKind::none: break;
  }
  return x;
}

Tensor Module::activate(ActKind a, const Tensor& x) {
  switch (a) {
    case ActKind::relu: return relu(x);
    case ActKind::sigmoid: return sigmoid(x);
    case ActKind::leaky_relu: return leaky_relu(x, 0.01);
    case ActKind::swish: return swish(x);
  }
  return x;
}

Tensor Module::pool(PoolKind k, const Tensor& x) {
  switch (k) {
    case PoolKind::none: return x;
    case PoolKind::avg: return avg_pool2(x);
    case PoolKind::max: return max_pool2(x);
  }
  return x;
}

}  // namespace loco::models
