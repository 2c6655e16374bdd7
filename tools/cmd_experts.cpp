// loco experts: expert trajectories for MTT/LoMTT (condense/experts.h), one file per expert in
// one folder, made in shares (--first) on several machines if need be, resumable (--resume
// skips the experts whose file is complete). Test accuracy per epoch goes to log.jsonl.
#include <filesystem>
#include <memory>

#include "condense/experts.h"
#include "condense/presets.h"
#include "dist/dist.h"
#include "engine/io/safetensors.h"
#include "tools/cli.h"

namespace loco::cli {
namespace {

namespace fs = std::filesystem;

// An expert file that loads and holds its epochs is done; anything else is made again.
bool complete(const std::string& path, int64_t epochs) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  try {
    const SafetensorsFile f = load_safetensors(path, [](const std::string&) { return false; });
    const auto it = f.metadata.find("epochs");
    return it != f.metadata.end() && condense::parse_int(it->second, path) == epochs &&
           static_cast<int64_t>(f.index.size()) == epochs + 1;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

Command add_experts(CLI::App& parent) {
  struct Flags {
    condense::ExpertRequest req;
    DataFlags data;
    CommonFlags common;
    bool resume = false;
  };
  auto f = std::make_shared<Flags>();
  condense::ExpertRequest& q = f->req;
  CLI::App* app = parent.add_subcommand("experts", "Train expert trajectories for trajectory matching (MTT, LoMTT)");
  app->footer(
      "Examples:\n"
      "  loco experts --num-experts 3 --epochs 4                       # cpu-quick, Fashion-MNIST\n"
      "  loco experts --preset paper --dataset CIFAR10 --data-dir D --first 50 --num-experts 50 --out E --resume\n"
      "Presets: cpu-quick = 3 experts × 4 epochs; paper = 100 × 50 (buffer.py). SGD lr_teacher 0.01, no momentum,\n"
      "no weight decay, batch 256, non-Siamese DSA on every minibatch. File layout: README, 'Expert trajectories'.");
  add_data_flags(app, f->data, true);
  app->add_option("--preset", q.preset, "cpu-quick or paper")->capture_default_str();
  add_optional(app, "--num-experts", q.num_experts, "Experts to make (default: the preset's)");
  add_optional(app, "--epochs", q.epochs, "Epochs of each expert; it keeps E+1 snapshots (default: the preset's)");
  add_optional(app, "--model", q.model, "Network (default ConvNet; distillation must use the same)");
  add_optional(app, "--lr-teacher", q.lr_teacher, "SGD learning rate of the experts (default 0.01)");
  add_optional(app, "--batch", q.batch, "Minibatch size (default 256)");
  add_optional(app, "--dsa-strategy", q.dsa_strategy, "DSA families on every minibatch, or none (default: the dataset's)");
  app->add_option("--first", q.first, "Make experts FIRST … FIRST+N−1 (shares for several machines)")->capture_default_str();
  app->add_flag("--resume", f->resume, "Skip the experts whose file is already complete");
  add_common_flags(app, f->common, true);
  return {app, [f]() {
            condense::ExpertRequest req = f->req;
            req.device = resolve_device(f->common);
            req.seed = f->common.seed;
            const condense::DatasetInfo& info = condense::dataset_info(f->data.dataset);
            condense::ExpertPlan plan = condense::resolve_experts(req, info);
            plan.options.generated_data = f->data.generated;
            const std::string dir =
                f->common.out.empty() ? "runs/experts-" + info.name + "-" + plan.options.model : f->common.out;
            LOCO_CHECK(!f->common.force, "--force: loco experts never deletes experts; remove the files yourself, or "
                                         "--resume to keep the complete ones");
            std::vector<int64_t> todo;
            // Rank 0 alone looks into the folder (a distributed run's other ranks never touch it).
            for (int64_t k = plan.first; k < plan.first + plan.count && dist::is_root(); ++k) {
              const std::string path = (fs::path(dir) / condense::expert_file_name(k)).string();
              std::error_code ec;
              if (fs::exists(path, ec)) {
                LOCO_CHECK(f->resume, path, " already exists; --resume skips complete experts (and remakes a broken one)");
                if (complete(path, plan.options.epochs)) continue;
              }
              todo.push_back(k);
            }
            int64_t todo_count = static_cast<int64_t>(todo.size());
            dist::broadcast(&todo_count, sizeof todo_count);
            todo.resize(static_cast<size_t>(todo_count));
            dist::broadcast(todo.data(), todo_count * static_cast<int64_t>(sizeof(int64_t)));
            auto data = load_data(f->data);
            if (dist::is_root()) fs::create_directories(dir);
            std::printf("experts: %lld of %s on %s, %lld epochs each (lr %g, batch %lld, dsa %s), into %s\n",
                        static_cast<long long>(todo.size()), plan.options.model.c_str(), data.train.name.c_str(),
                        static_cast<long long>(plan.options.epochs), plan.options.lr_teacher,
                        static_cast<long long>(plan.options.batch),
                        plan.options.dsa_strategy.empty() ? "off" : plan.options.dsa_strategy.c_str(), dir.c_str());
            if (todo.size() < static_cast<size_t>(plan.count))
              std::printf("experts: %lld already complete, skipped (--resume)\n",
                          static_cast<long long>(plan.count - static_cast<int64_t>(todo.size())));
            const std::string log = (fs::path(dir) / "log.jsonl").string();
            ProgressPrinter bar;
            condense::ExpertCallbacks cb;
            cb.progress = [&](size_t i, const condense::Progress& p) {
              condense::Progress q = p;
              q.phase = "expert " + std::to_string(todo[i]) + " (" + std::to_string(i + 1) + "/" +
                        std::to_string(todo.size()) + ")";
              bar(q);
            };
            cb.on_epoch = [&](const condense::ExpertRecord& r) {
              const size_t e = r.test_accuracy.size();
              condense::append_json_line(log, {{"expert", r.index}, {"epoch", e}, {"train_loss", r.train_loss.back()},
                                               {"train_accuracy", r.train_accuracy.back()},
                                               {"test_accuracy", r.test_accuracy.back()}});
            };
            cb.done = [&](const condense::ExpertRecord& r) {
              bar.finish();
              std::printf("expert %lld: test accuracy %.2f %% after %lld epochs (%.0f s), %s\n",
                          static_cast<long long>(r.index), 100 * r.test_accuracy.back(),
                          static_cast<long long>(plan.options.epochs), r.seconds, r.path.c_str());
            };
            if (dist::size() > 1)
              std::printf("experts: %d ranks share them out; rank 0 writes every file\n", dist::size());
            condense::train_experts(data, plan.options, todo, dir, cb);
            std::printf("experts: %s holds experts %lld…%lld\n", dir.c_str(), static_cast<long long>(plan.first),
                        static_cast<long long>(plan.first + plan.count - 1));
            return 0;
          },
          "memory is bounded by --batch and the --model", true};
}

}  // namespace loco::cli
