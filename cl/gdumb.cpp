// Memories, and the GDumb loop over seeds and tasks.
#include "cl/gdumb.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "dist/dist.h"
#include "engine/ops.h"

namespace loco::cl {

condense::Dataset class_subset(const condense::Dataset& d, const std::vector<int64_t>& classes, bool relabel) {
  std::vector<int64_t> new_id(static_cast<size_t>(d.classes), -1);
  for (size_t i = 0; i < classes.size(); ++i) {
    LOCO_CHECK(classes[i] >= 0 && classes[i] < d.classes, "class ", classes[i], " outside 0..", d.classes - 1);
    new_id[static_cast<size_t>(classes[i])] = relabel ? static_cast<int64_t>(i) : classes[i];
  }
  const auto labels = d.labels.to_vector<int64_t>();
  std::vector<int64_t> rows, y;
  for (size_t i = 0; i < labels.size(); ++i)
    if (new_id[static_cast<size_t>(labels[i])] >= 0) rows.push_back(static_cast<int64_t>(i)), y.push_back(new_id[labels[i]]);
  condense::Dataset s = d.subset(rows);
  s.labels = from_vector(y, Shape({static_cast<int64_t>(y.size())}));
  if (relabel) s.classes = static_cast<int64_t>(classes.size());
  return s;
}

bool is_coreset_method(const std::string& m) {
  const auto& c = condense::coreset_methods();
  return std::find(c.begin(), c.end(), m) != c.end();
}

Memory fill_memory(const condense::Dataset& train, const std::vector<int64_t>& classes, const MemoryOptions& o,
                   uint64_t seed, const std::string& work_dir, const condense::ProgressFn& progress) {
  const condense::Dataset task = class_subset(train, classes, /*relabel=*/true);
  Memory m;
  Tensor local;  // labels 0..k−1
  if (is_coreset_method(o.method)) {
    condense::CoresetOptions c = o.coreset;
    c.method = o.method;
    c.ipc = o.memory_per_class;
    c.seed = seed;
    const condense::Coreset cs = condense::select_coreset(task, c, progress);
    m.images = cs.images;
    local = cs.labels;
    m.floats_stored = cs.images.numel();
  } else {
    condense::CondenseConfig c = o.condense;  // resolved by the caller for the whole dataset's shape
    LOCO_CHECK(c.method == o.method, "fill_memory: a configuration of ", c.method, " for method ", o.method);
    c.seed = seed;
    c.eval.num_eval = 0;  // GDumb evaluates the memory; a per-task evaluation would be wasted
    const condense::DatasetPair pair{task, condense::Dataset{}};
    std::optional<condense::RunDir> run;
    if (!work_dir.empty()) {
      std::filesystem::create_directories(work_dir);
      run.emplace(work_dir + "/" + o.method + "-seed" + std::to_string(seed), /*force=*/true);
    }
    condense::CondenseOutcome out = condense::condense(c, pair, run ? &*run : nullptr, false, {.progress = progress});
    if (run) {
      out.set->save(*run, {{"method", o.method}, {"dataset", train.name}}, train.mean, train.std);
      run->commit();
    }
    NoGradGuard no_grad;
    m.images = out.set->images().detach();
    local = out.set->labels();
    m.floats_stored = out.set->floats_stored();
  }
  std::vector<int64_t> y = local.to_vector<int64_t>();
  for (int64_t& l : y) l = classes[static_cast<size_t>(l)];
  m.labels = from_vector(y, Shape({static_cast<int64_t>(y.size())}));
  return m;
}

std::vector<StepRecord> run_gdumb_seed(const condense::DatasetPair& data, const MemoryOptions& memory,
                                       const GdumbOptions& o, int64_t s, const std::string& work_dir,
                                       const condense::ProgressFn& progress,
                                       const std::function<void(const std::string&)>& note) {
  const int64_t k = data.train.classes;
  std::vector<StepRecord> steps;
  const TaskSplit split = split_classes(k, o.tasks, static_cast<uint32_t>(s));
  std::vector<Tensor> images, labels;
  int64_t floats = 0;
  for (int64_t t = 0; t < o.tasks; ++t) {
    // Each (seed, task) block has its own streams of the run seed.
    const uint64_t block_seed = o.seed * 1000003u + static_cast<uint64_t>(s * o.tasks + t);
    const std::string block_dir =
        work_dir.empty() ? "" : work_dir + "/seed" + std::to_string(s) + "-task" + std::to_string(t);
    const Memory m = fill_memory(data.train, split.tasks[t], memory, block_seed, block_dir, progress);
    images.push_back(m.images);
    labels.push_back(m.labels);
    floats += m.floats_stored;
    Tensor all_x, all_y;
    {
      NoGradGuard no_grad;
      all_x = concat(images);
      std::vector<int64_t> y;
      for (const Tensor& l : labels) {
        const auto v = l.to_vector<int64_t>();
        y.insert(y.end(), v.begin(), v.end());
      }
      all_y = from_vector(y, Shape({static_cast<int64_t>(y.size())}));
    }
    const std::vector<int64_t> seen = split.seen_after(t);
    const condense::Dataset test = class_subset(data.test, seen, /*relabel=*/false);
    condense::EvalOptions e = o.eval;
    e.seed = o.seed * 1000003u + static_cast<uint64_t>(s * o.tasks + t);
    const condense::EvalResult r =
        condense::evaluate_set(condense::Dataset::of_images(all_x, all_y, k), test, e, progress);
    steps.push_back({.seed_index = s, .task = t, .classes_seen = static_cast<int64_t>(seen.size()),
                     .memory_images = all_x.dim(0), .memory_floats = floats, .accuracies = r.accuracies});
    if (note) {
      std::ostringstream line;
      line.precision(4);
      line << memory.method << " seed " << s << " task " << t + 1 << "/" << o.tasks << ": " << seen.size()
           << " classes, memory " << all_x.dim(0) << " images, accuracy " << 100 * r.mean << " %";
      note(line.str());
    }
  }
  return steps;
}

GdumbCurve gdumb_curve(const std::string& method, const std::vector<StepRecord>& steps, int64_t tasks) {
  GdumbCurve curve{.method = method, .steps = steps};
  std::vector<std::vector<double>> per_task(static_cast<size_t>(tasks));
  for (const StepRecord& r : steps)
    per_task[static_cast<size_t>(r.task)].insert(per_task[r.task].end(), r.accuracies.begin(), r.accuracies.end());
  for (const auto& v : per_task) {
    double m, sd;
    condense::mean_std(v, m, sd);
    curve.mean.push_back(m);
    curve.std.push_back(sd);
  }
  return curve;
}

std::vector<GdumbCurve> run_gdumb(const condense::DatasetPair& data, const std::vector<MemoryOptions>& memories,
                                  const GdumbOptions& o, const std::string& work_dir,
                                  const condense::ProgressFn& progress,
                                  const std::function<void(const std::string&)>& note) {
  LOCO_CHECK(o.seeds >= 1, "--seeds must be at least 1, got ", o.seeds);
  for (const MemoryOptions& m : memories)
    LOCO_CHECK(m.memory_per_class >= 1, "--memory-per-class must be at least 1, got ", m.memory_per_class);
  const int64_t runs = static_cast<int64_t>(memories.size()) * o.seeds;  // method-major
  const dist::Range mine = dist::share(runs);
  const std::string my_dir = dist::is_root() ? work_dir : "";
  std::vector<std::vector<StepRecord>> done;
  {
    dist::Solo alone;  // a run is one process's: its condensations and evaluations call no collective
    for (int64_t i = mine.begin; i < mine.end; ++i)
      done.push_back(run_gdumb_seed(data, memories[static_cast<size_t>(i / o.seeds)], o, i % o.seeds, my_dir,
                                    progress, note));
  }
  // Every step as (classes seen, memory images, memory floats, accuracies…), gathered in run order.
  const int64_t width = o.tasks * (3 + o.eval.num_eval);
  std::vector<double> flat;
  for (const auto& steps : done) {
    LOCO_CHECK(static_cast<int64_t>(steps.size()) == o.tasks, "cl: a run of ", steps.size(), " steps for ", o.tasks, " tasks");
    for (const StepRecord& r : steps) {
      flat.insert(flat.end(), {static_cast<double>(r.classes_seen), static_cast<double>(r.memory_images),
                               static_cast<double>(r.memory_floats)});
      flat.insert(flat.end(), r.accuracies.begin(), r.accuracies.end());
    }
  }
  const std::vector<double> all = dist::allgather_shares(flat, runs, width);
  std::vector<GdumbCurve> curves;
  for (size_t m = 0; m < memories.size(); ++m) {
    std::vector<StepRecord> steps;
    for (int64_t s = 0; s < o.seeds; ++s)
      for (int64_t t = 0; t < o.tasks; ++t) {
        const double* v = all.data() + (static_cast<int64_t>(m) * o.seeds + s) * width + t * (3 + o.eval.num_eval);
        steps.push_back({.seed_index = s, .task = t, .classes_seen = static_cast<int64_t>(v[0]),
                         .memory_images = static_cast<int64_t>(v[1]), .memory_floats = static_cast<int64_t>(v[2]),
                         .accuracies = std::vector<double>(v + 3, v + 3 + o.eval.num_eval)});
      }
    curves.push_back(gdumb_curve(memories[m].method, steps, o.tasks));
  }
  return curves;
}

}  // namespace loco::cl
