// The networks of spec/networks.md and the registry that builds them by name (the reference's
// get_network). Each factory checks the input size it is given and throws a loco::Error naming
// the network and the size when the reference model could not run on it.
//
// Shape letters: C input channels, H×W image (square, side im_size), K classes.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/module.h"

namespace loco::models {

// The reference's default ConvNet setting: width 128, depth 3, relu, instancenorm, avgpooling.
struct ConvNetConfig {
  int64_t width = 128;
  int64_t depth = 3;
  ActKind act = ActKind::relu;
  NormKind norm = NormKind::instance;
  PoolKind pool = PoolKind::avg;
};

std::unique_ptr<Module> make_convnet(int64_t channel, int64_t classes, int64_t im_size, const ConvNetConfig& cfg,
                                     Generator& g, ModuleOptions o = {});
std::unique_ptr<Module> make_lenet(int64_t channel, int64_t classes, int64_t im_size, Generator& g,
                                   ModuleOptions o = {});
std::unique_ptr<Module> make_alexnet(int64_t channel, int64_t classes, int64_t im_size, bool batchnorm, Generator& g,
                                     ModuleOptions o = {});
std::unique_ptr<Module> make_vgg11(int64_t channel, int64_t classes, int64_t im_size, bool batchnorm, Generator& g,
                                   ModuleOptions o = {});
// avgpool: the ResNet18BN_AP form (stride-2 convs become stride 1 + 2×2 average pooling).
std::unique_ptr<Module> make_resnet18(int64_t channel, int64_t classes, int64_t im_size, bool batchnorm, bool avgpool,
                                      Generator& g, ModuleOptions o = {});
std::unique_ptr<Module> make_mlp(int64_t channel, int64_t classes, int64_t im_size, Generator& g,
                                 ModuleOptions o = {});

// The names get_network accepts: ConvNet, ConvNetD1..D4, ConvNetW32..W256, ConvNetAS/AR/AL/ASwish,
// ConvNetASwishBN, ConvNetNN/BN/LN/IN/GN, ConvNetNP/MP/AP, MLP, LeNet, AlexNet, AlexNetBN, VGG11,
// VGG11BN, ResNet18, ResNet18BN, ResNet18BN_AP.
const std::vector<std::string>& network_names();
// Builds a fresh network; an unknown name throws a loco::Error listing the valid ones.
std::unique_ptr<Module> make_network(const std::string& name, int64_t channel, int64_t classes, int64_t im_size,
                                     Generator& g, ModuleOptions o = {});
// The ConvNet setting a ConvNet* name stands for (throws for other names).
ConvNetConfig convnet_config(const std::string& name);

}  // namespace loco::models
