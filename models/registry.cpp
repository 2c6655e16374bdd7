// The registry: a network by the name the reference's get_network accepts (spec/networks.md §1).
// Every ConvNet* name is the default setting with one field changed.
#include <sstream>

#include "models/networks.h"

namespace loco::models {
namespace {

bool convnet_variant(const std::string& name, ConvNetConfig& c) {
  if (name.rfind("ConvNet", 0) != 0) return false;
  const std::string v = name.substr(7);
  c = ConvNetConfig{};
  if (v.empty()) return true;
  if (v.size() == 2 && v[0] == 'D' && v[1] >= '1' && v[1] <= '4') return c.depth = v[1] - '0', true;
  if (v == "W32" || v == "W64" || v == "W128" || v == "W256") return c.width = std::stoll(v.substr(1)), true;
  if (v == "AS") return c.act = ActKind::sigmoid, true;
  if (v == "AR") return c.act = ActKind::relu, true;
  if (v == "AL") return c.act = ActKind::leaky_relu, true;
  if (v == "ASwish") return c.act = ActKind::swish, true;
  if (v == "ASwishBN") return c.act = ActKind::swish, c.norm = NormKind::batch, true;
  if (v == "NN") return c.norm = NormKind::none, true;
  if (v == "BN") return c.norm = NormKind::batch, true;
  if (v == "LN") return c.norm = NormKind::layer, true;
  if (v == "IN") return c.norm = NormKind::instance, true;
  if (v == "GN") return c.norm = NormKind::group, true;
  if (v == "NP") return c.pool = PoolKind::none, true;
  if (v == "MP") return c.pool = PoolKind::max, true;
  if (v == "AP") return c.pool = PoolKind::avg, true;
  return false;
}

[[noreturn]] void unknown(const std::string& name) {
  std::ostringstream s;
  for (const auto& n : network_names()) s << (s.tellp() > 0 ? ", " : "") << n;
  LOCO_FAIL("unknown network '", name, "'; valid names: ", s.str());
}

}  // namespace

const std::vector<std::string>& network_names() {
  static const std::vector<std::string> names = {
      "ConvNet",    "ConvNetD1",  "ConvNetD2",  "ConvNetD3",     "ConvNetD4",       "ConvNetW32", "ConvNetW64",
      "ConvNetW128", "ConvNetW256", "ConvNetAS", "ConvNetAR",    "ConvNetAL",       "ConvNetASwish",
      "ConvNetASwishBN", "ConvNetNN", "ConvNetBN", "ConvNetLN",  "ConvNetIN",       "ConvNetGN",  "ConvNetNP",
      "ConvNetMP",  "ConvNetAP",  "MLP",        "LeNet",         "AlexNet",         "AlexNetBN",  "VGG11",
      "VGG11BN",    "ResNet18",   "ResNet18BN", "ResNet18BN_AP"};
  return names;
}

ConvNetConfig convnet_config(const std::string& name) {
  ConvNetConfig c;
  if (!convnet_variant(name, c)) LOCO_FAIL("'", name, "' is not a ConvNet variant");
  return c;
}

std::unique_ptr<Module> make_network(const std::string& name, int64_t channel, int64_t classes, int64_t im_size,
                                     Generator& g, ModuleOptions o) {
  std::unique_ptr<Module> m;
  ConvNetConfig c;
  if (convnet_variant(name, c)) m = make_convnet(channel, classes, im_size, c, g, o);
  else if (name == "MLP") m = make_mlp(channel, classes, im_size, g, o);
  else if (name == "LeNet") m = make_lenet(channel, classes, im_size, g, o);
  else if (name == "AlexNet" || name == "AlexNetBN") m = make_alexnet(channel, classes, im_size, name == "AlexNetBN", g, o);
  else if (name == "VGG11" || name == "VGG11BN") m = make_vgg11(channel, classes, im_size, name == "VGG11BN", g, o);
  else if (name == "ResNet18" || name == "ResNet18BN") m = make_resnet18(channel, classes, im_size, name == "ResNet18BN", false, g, o);
  else if (name == "ResNet18BN_AP") m = make_resnet18(channel, classes, im_size, true, true, g, o);
  else unknown(name);
  m->set_name(name);
  return m;
}

}  // namespace loco::models
