// A tiny condensation to restore checkpoints into (fuzz_checkpoint) and to write the seed
// checkpoint from (make_corpus): generated Fashion-MNIST-shaped data, 1 image per class.
#pragma once
#include <string>

#include "condense/driver.h"

namespace loco::fuzz {

struct TinyRun {
  condense::DatasetPair data;
  condense::Dataset train;
  condense::ClassIndex index;
  condense::CondenseConfig config;
  std::string fingerprint;
  condense::Condensation job;

  explicit TinyRun(const std::string& method)
      : data(condense::generated_dataset(condense::dataset_info("FashionMNIST"), 200, 20, 3)),
        train(data.train),
        index(train.labels, train.classes),
        config(make_config(method)),
        fingerprint(condense::data_fingerprint(data)),
        job(condense::prepare_condensation(config, train, index)) {}

  static condense::CondenseConfig make_config(const std::string& method) {
    condense::CondenseRequest r;
    r.method = method;
    r.ipc = 1;
    r.iterations = 1;
    r.num_eval = 0;
    r.model = "ConvNetW32";
    r.batch_real = 4;
    return condense::resolve_condense(r, condense::dataset_info("FashionMNIST"));
  }
};

}  // namespace loco::fuzz
