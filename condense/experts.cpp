// train_expert (buffer.py's loop, through the evaluation protocol's trainer) and the reader of
// expert folders.
#include "condense/experts.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "condense/run_dir.h"
#include "dist/dist.h"
#include "engine/io/safetensors.h"
#include "engine/ops.h"
#include "models/networks.h"

namespace loco::condense {
namespace {

namespace fs = std::filesystem;

std::string epoch_key(int64_t e) {
  char b[16];
  std::snprintf(b, sizeof b, "epoch.%03lld", static_cast<long long>(e));
  return b;
}

Json parameter_layout(const models::Module& net) {
  Json layout = Json::array();
  for (size_t i = 0; i < net.parameters().size(); ++i)
    layout.push_back({net.parameter_names()[i], net.parameters()[i].shape().dims()});
  return layout;
}

}  // namespace

std::string expert_file_name(int64_t index) {
  char b[40];
  std::snprintf(b, sizeof b, "expert_%04lld.safetensors", static_cast<long long>(index));
  return b;
}

ExpertRecord train_expert(const DatasetPair& data, const ExpertOptions& o, int64_t index, const std::string& dir,
                          const ProgressFn& progress, const std::function<void(const ExpertRecord&)>& on_epoch) {
  std::vector<Tensor> snapshots;
  return train_expert(data, o, index, dir, progress, on_epoch, snapshots);
}

ExpertRecord train_expert(const DatasetPair& data, const ExpertOptions& o, int64_t index, const std::string& dir,
                          const ProgressFn& progress, const std::function<void(const ExpertRecord&)>& on_epoch,
                          std::vector<Tensor>& snapshots) {
  LOCO_CHECK(o.epochs >= 1, "experts: --epochs must be at least 1, got ", o.epochs);
  const auto t0 = std::chrono::steady_clock::now();
  Generator init(o.seed, kStreamExpertInit + static_cast<uint64_t>(index));
  Generator train(o.seed, kStreamExpertTrain + static_cast<uint64_t>(index));
  auto net = models::make_network(o.model, data.train.channels(), data.train.classes, data.train.height(), init,
                                  {.device = o.device});
  ExpertRecord rec{.index = index, .path = (fs::path(dir) / expert_file_name(index)).string()};
  snapshots = {net->flat_parameters().to(Device::cpu).clone()};
  // buffer.py: SGD(lr_teacher, momentum 0, weight decay 0), E epochs, no decay; the protocol's
  // trainer runs E'+1 epochs, so E' = E − 1.
  const TrainSchedule s{.epochs = o.epochs - 1, .lr = o.lr_teacher, .momentum = 0.0, .weight_decay = 0.0,
                        .batch = o.batch, .dsa = DsaStrategy::parse(o.dsa_strategy), .decay = false};
  const Dataset on_device = data.train.to(o.device);
  train_network(*net, on_device, s, train, progress, {}, [&](models::Module& m, const EpochEnd& e) {
    snapshots.push_back(m.flat_parameters().to(Device::cpu).clone());
    rec.train_loss.push_back(e.loss);
    rec.train_accuracy.push_back(e.accuracy);
    rec.test_accuracy.push_back(test_accuracy(m, data.test));  // logging only, as buffer.py
    if (on_epoch) on_epoch(rec);
  });
  rec.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!dir.empty()) save_expert(rec.path, *net, snapshots, data.train, o, index, rec.test_accuracy);
  return rec;
}

void train_experts(const DatasetPair& data, const ExpertOptions& o, const std::vector<int64_t>& todo,
                   const std::string& dir, const ExpertCallbacks& cb) {
  const auto n = static_cast<int64_t>(todo.size());
  const int ranks = dist::size();
  // The file layout, for the experts rank 0 receives.
  Generator layout_init(o.seed, kStreamExpertInit);
  const auto layout = models::make_network(o.model, data.train.channels(), data.train.classes, data.train.height(),
                                           layout_init);
  const int64_t p = layout->num_parameters(), e = o.epochs;
  int64_t rounds = 0;
  for (int r = 0; r < ranks; ++r) rounds = std::max(rounds, dist::share(n, r, ranks).size());
  for (int64_t j = 0; j < rounds; ++j) {
    const dist::Range mine = dist::share(n);
    ExpertRecord rec;
    std::vector<Tensor> snapshots;
    if (j < mine.size()) {
      const size_t i = static_cast<size_t>(mine.begin + j);
      const bool root = dist::is_root();
      rec = train_expert(data, o, todo[i], root ? dir : "", root && cb.progress ? ProgressFn([&](const Progress& q) { cb.progress(i, q); }) : ProgressFn{},
                         root ? cb.on_epoch : std::function<void(const ExpertRecord&)>{}, snapshots);
      if (root && cb.done) cb.done(rec);
    }
    // Rank r's expert of this round goes to rank 0, which writes it: snapshots, then the record.
    for (int r = 1; r < ranks; ++r) {
      const dist::Range theirs = dist::share(n, r, ranks);
      if (j >= theirs.size() || (dist::rank() != r && !dist::is_root())) continue;
      const int64_t index = todo[static_cast<size_t>(theirs.begin + j)];
      Tensor flat = dist::rank() == r ? concat(snapshots) : empty(Shape{(e + 1) * p});
      std::vector<double> numbers(static_cast<size_t>(3 * e + 1));
      if (dist::rank() == r) {
        for (int64_t k = 0; k < e; ++k) {
          numbers[k] = rec.train_loss[k];
          numbers[e + k] = rec.train_accuracy[k];
          numbers[2 * e + k] = rec.test_accuracy[k];
        }
        numbers[3 * e] = rec.seconds;
      }
      dist::send_to_root(flat.raw(), static_cast<int64_t>(flat.nbytes()), r);
      dist::send_to_root(numbers.data(), static_cast<int64_t>(numbers.size() * sizeof(double)), r);
      if (!dist::is_root()) continue;
      ExpertRecord got{.index = index, .path = (fs::path(dir) / expert_file_name(index)).string(),
                       .seconds = numbers[3 * e]};
      std::vector<Tensor> snaps;
      for (int64_t k = 0; k <= e; ++k) snaps.push_back(slice(flat, k * p, (k + 1) * p).clone());
      for (int64_t k = 0; k < e; ++k) {
        got.train_loss.push_back(numbers[k]);
        got.train_accuracy.push_back(numbers[e + k]);
        got.test_accuracy.push_back(numbers[2 * e + k]);
        if (cb.on_epoch) cb.on_epoch(got);
      }
      save_expert(got.path, *layout, snaps, data.train, o, index, got.test_accuracy);
      if (cb.done) cb.done(got);
    }
  }
}

void save_expert(const std::string& path, const models::Module& net, const std::vector<Tensor>& snapshots,
                 const Dataset& train, const ExpertOptions& o, int64_t index, const std::vector<double>& test_accuracy) {
  LOCO_CHECK(snapshots.size() >= 2, path, ": an expert needs at least two snapshots");
  std::vector<std::pair<std::string, Tensor>> named;
  for (size_t e = 0; e < snapshots.size(); ++e) {
    LOCO_CHECK(snapshots[e].shape() == Shape{net.num_parameters()} && snapshots[e].dtype() == DType::f32, path,
               ": snapshot ", e, " is ", snapshots[e].dtype(), " ", snapshots[e].shape(), ", expected f32 [",
               net.num_parameters(), "]");
    named.emplace_back(epoch_key(static_cast<int64_t>(e)), snapshots[e]);
  }
  const std::map<std::string, std::string> meta = {
      {"format", "loco-expert-1"},
      {"model", o.model},
      {"dataset", train.name},
      {"mean", join_floats(train.mean)},
      {"std", join_floats(train.std)},
      {"parameters", parameter_layout(net).dump()},
      {"num_params", std::to_string(net.num_parameters())},
      {"epochs", std::to_string(snapshots.size() - 1)},
      {"expert", std::to_string(index)},
      {"seed", std::to_string(o.seed)},
      {"lr_teacher", Json(o.lr_teacher).dump()},
      {"batch", std::to_string(o.batch)},
      {"dsa_strategy", o.dsa_strategy.empty() ? "none" : o.dsa_strategy},
      {"generated_data", o.generated_data ? "true" : "false"},
      {"test_accuracy", Json(test_accuracy).dump()}};
  save_safetensors(path, named, meta);
}

ExpertSet ExpertSet::open(const std::string& dir, const models::Module& net, const std::string& model,
                          const DatasetInfo& data, int64_t epochs_needed) {
  std::error_code ec;
  LOCO_CHECK(fs::is_directory(dir, ec), "--experts ", dir, ": no such folder (make one with loco experts)");
  ExpertSet set;
  set.dir_ = dir;
  set.params_ = net.num_parameters();
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("expert_", 0) == 0 && e.path().extension() == ".safetensors") set.files_.push_back(e.path().string());
  }
  std::sort(set.files_.begin(), set.files_.end());
  LOCO_CHECK(!set.files_.empty(), "--experts ", dir, ": holds no expert_*.safetensors files (make them with loco experts)");
  const std::string layout = parameter_layout(net).dump();
  const std::string mean = join_floats(data.mean), std = join_floats(data.std);
  for (const std::string& path : set.files_) {
    const SafetensorsFile f = load_safetensors(path, [](const std::string&) { return false; });  // the header only
    auto meta = [&](const char* k) {
      const auto it = f.metadata.find(k);
      LOCO_CHECK(it != f.metadata.end(), path, ": not a loco expert file (no '", k, "' in its metadata)");
      return it->second;
    };
    LOCO_CHECK(meta("format") == "loco-expert-1", path, ": format '", meta("format"), "', expected loco-expert-1");
    LOCO_CHECK(meta("model") == model, path, ": an expert of ", meta("model"), ", but the distillation uses ", model);
    LOCO_CHECK(meta("dataset") == data.name, path, ": an expert of ", meta("dataset"), ", not ", data.name);
    LOCO_CHECK(meta("mean") == mean && meta("std") == std, path, ": trained on data normalised with mean ",
               meta("mean"), " and std ", meta("std"), "; ", data.name, " here uses ", mean, " and ", std);
    LOCO_CHECK(meta("parameters") == layout, path, ": its parameters ", meta("parameters"), " are not those of ", model,
               " for ", data.name, ": ", layout);
    const int64_t epochs = parse_int(meta("epochs"), path + ": epochs");
    LOCO_CHECK(epochs >= epochs_needed, path, ": holds ", epochs, " epochs; the distillation needs snapshots up to epoch ",
               epochs_needed, " (max_start_epoch − 1 + expert_epochs)");
    for (int64_t e = 0; e <= epochs; ++e) {
      const auto it = f.index.find(epoch_key(e));
      LOCO_CHECK(it != f.index.end(), path, ": no snapshot '", epoch_key(e), "' of its ", epochs, " epochs");
      LOCO_CHECK(it->second.dtype == DType::f32 && it->second.shape == Shape{set.params_}, path, ": '",
                 epoch_key(e), "' is ", it->second.dtype, " ", it->second.shape, ", expected f32 [", set.params_, "]");
    }
  }
  return set;
}

Tensor ExpertSet::snapshot(size_t i, int64_t e) const {
  LOCO_CHECK(i < files_.size(), "experts: expert ", i, " of ", files_.size());
  const std::string key = epoch_key(e);
  SafetensorsFile f = load_safetensors(files_[i], [&](const std::string& name) { return name == key; });
  const auto it = f.tensors.find(key);
  LOCO_CHECK(it != f.tensors.end() && it->second.dtype() == DType::f32 && it->second.shape() == Shape{params_},
             files_[i], ": no f32 [", params_, "] snapshot '", key, "'");
  return it->second;
}

}  // namespace loco::condense
