// RunDir and the synthetic-set file.
#include "condense/run_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "condense/data/dataset.h"
#include "engine/io/atomic_file.h"
#include "engine/io/safetensors.h"
#include "engine/ops.h"

namespace fs = std::filesystem;

namespace loco::condense {

namespace {
std::string trimmed(std::string d) {
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  LOCO_CHECK(!d.empty(), "the run directory name is empty");
  return d;
}

// Removes everything in dir but the lock file, which this process holds open and locked:
// deleting it would let a third run lock a fresh file beside ours.
void clear_but_marker(const std::string& dir) {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().filename() != kRunMarker) fs::remove_all(e.path(), ec);
}
}  // namespace

bool written_by_loco(const std::string& dir) {
  std::error_code ec;
  return fs::exists(dir + "/" + kRunMarker, ec) || fs::exists(dir + "/report.json", ec);
}

void RunDir::lock() {
  const std::string file = partial_ + "/" + kRunMarker;
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  LOCO_CHECK(fd >= 0, dir_, ": cannot create ", file, " (", std::strerror(errno), ")");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {};
    const ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    std::string holder(pid, static_cast<size_t>(std::max<ssize_t>(n, 0)));
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    LOCO_FAIL("another loco (PID ", holder.empty() ? "unknown" : holder, ") is writing ", dir_, " (in ", partial_,
              "); wait for it to finish, or choose another --out");
  }
  const std::string pid = std::to_string(::getpid()) + "\n";
  const bool written = ::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) == static_cast<ssize_t>(pid.size());
  if (!written) {
    ::close(fd);
    LOCO_FAIL(dir_, ": cannot write ", file, " (", std::strerror(errno), ")");
  }
  lock_.fd = fd;
}

RunDir::Fd::~Fd() {
  if (fd >= 0) ::close(fd);
}

RunDir::RunDir(std::string dir, bool force, std::string resume_marker)
    : dir_(trimmed(std::move(dir))), marker_(std::move(resume_marker)), force_(force) {
  partial_ = dir_ + ".partial";
  std::error_code ec;
  // A run in progress is refused before anything else is looked at or touched.
  const bool had_partial = fs::is_directory(partial_, ec);
  if (had_partial) {
    LOCO_CHECK(fs::is_empty(partial_, ec) || written_by_loco(partial_) || resumable(), partial_,
               " exists but loco did not make it; move it away or choose another --out");
    lock();
  }
  LOCO_CHECK(force_ || !fs::exists(dir_, ec), dir_, " already exists; pass --force to replace it or choose another --out");
  LOCO_CHECK(!fs::exists(dir_, ec) || written_by_loco(dir_), dir_, " is not a loco run directory (it holds no ",
             kRunMarker, " or report.json), so --force does not replace it; move it away or choose another --out");
  LOCO_CHECK(force_ || !resumable(), partial_, " holds an interrupted run: continue it with --resume ", dir_,
             ", or pass --force to start afresh");
  if (had_partial) {
    clear_but_marker(partial_);  // a stale one, with nothing to resume, or a forced restart
  } else {
    fs::create_directories(partial_, ec);
    LOCO_CHECK(!ec, dir_, ": cannot create ", partial_, " (", ec.message(), ")");
    lock();
  }
}

RunDir::RunDir(std::string dir, const std::string& marker, Resume)
    : dir_(trimmed(std::move(dir))), marker_(marker), force_(true) {
  partial_ = dir_ + ".partial";
  std::error_code ec;
  if (fs::is_directory(partial_, ec)) lock();
  if (resumable()) return;
  LOCO_CHECK(fs::exists(dir_ + "/" + marker, ec), "--resume ", dir_, ": neither ", partial_, " (an interrupted run) nor ",
             dir_, " (a finished one) holds ", marker);
  if (lock_.fd >= 0) {
    clear_but_marker(partial_);
  } else {
    fs::create_directories(partial_, ec);
    LOCO_CHECK(!ec, "--resume ", dir_, ": cannot create ", partial_, " (", ec.message(), ")");
    lock();
  }
  for (const auto& e : fs::directory_iterator(dir_, ec)) {
    if (e.path().filename() == kRunMarker) continue;
    fs::copy(e.path(), partial_ + "/" + e.path().filename().string(), fs::copy_options::recursive, ec);
    LOCO_CHECK(!ec, "--resume ", dir_, ": cannot copy ", e.path().string(), " to ", partial_, " (", ec.message(), ")");
  }
}

RunDir RunDir::resume(std::string dir, const std::string& marker) { return RunDir(std::move(dir), marker, Resume{}); }

RunDir::RunDir(RunDir&& o) noexcept
    : dir_(std::move(o.dir_)), partial_(std::move(o.partial_)), marker_(std::move(o.marker_)), force_(o.force_),
      committed_(o.committed_), lock_(std::move(o.lock_)) {
  o.committed_ = true;  // the moved-from handle owns nothing
}

bool RunDir::resumable() const {
  std::error_code ec;
  return !marker_.empty() && fs::exists(partial_ + "/" + marker_, ec);
}

RunDir::~RunDir() {
  if (!committed_ && !resumable()) {
    std::error_code ec;
    fs::remove_all(partial_, ec);
  }
}

void RunDir::write_json(const std::string& file, const Json& j) const {
  const std::string text = j.dump(2) + "\n";
  write_file_atomic(path(file), [&](FileSink& s) { s.write(text); });
}

void append_json_line(const std::string& file, const Json& line) {
  std::ofstream f(file, std::ios::app);
  f << line.dump() << "\n";
  LOCO_CHECK(f.good(), file, ": write failed");
}

void RunDir::append_log(const Json& line) const { append_json_line(path("log.jsonl"), line); }

void RunDir::commit() {
  std::error_code ec;
  if (fs::exists(dir_, ec)) {
    LOCO_CHECK(force_ && written_by_loco(dir_), dir_, " appeared while the run was going; it is kept, and the run is in ",
               partial_);
    const std::string old = dir_ + ".old";
    fs::remove_all(old, ec);
    fs::rename(dir_, old, ec);
    LOCO_CHECK(!ec, dir_, ": cannot move the old run aside (", ec.message(), ")");
    fs::rename(partial_, dir_, ec);
    LOCO_CHECK(!ec, dir_, ": cannot move ", partial_, " into place (", ec.message(), ")");
    fs::remove_all(old, ec);
  } else {
    fs::rename(partial_, dir_, ec);
    LOCO_CHECK(!ec, dir_, ": cannot move ", partial_, " into place (", ec.message(), ")");
  }
  committed_ = true;
}

int64_t SavedSet::floats_stored() const { return a.defined() ? a.numel() + b.numel() : images.numel(); }

std::string join_floats(const std::vector<float>& v) {
  std::ostringstream s;
  s.precision(9);
  for (size_t i = 0; i < v.size(); ++i) s << (i ? "," : "") << v[i];
  return s.str();
}

std::vector<float> parse_floats(const std::string& s, const std::string& what) {
  std::vector<float> v;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    try {
      size_t used = 0;
      v.push_back(std::stof(item, &used));
      LOCO_CHECK(used == item.size(), "");
    } catch (...) {
      LOCO_FAIL(what, ": '", s, "' is not a comma-separated list of numbers");
    }
  }
  LOCO_CHECK(!v.empty(), what, ": empty list of numbers");
  return v;
}

int64_t parse_int(const std::string& s, const std::string& what) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  LOCO_CHECK(ec == std::errc() && end == s.data() + s.size() && !s.empty(), what, ": '", s, "' is not an integer");
  return v;
}

double parse_double(const std::string& s, const std::string& what) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  LOCO_CHECK(ec == std::errc() && end == s.data() + s.size() && !s.empty(), what, ": '", s, "' is not a number");
  return v;
}

void save_set(const RunDir& run, const Tensor& images, const Tensor& a, const Tensor& b, const Tensor& labels,
              const std::map<std::string, std::string>& metadata, const std::vector<float>& mean,
              const std::vector<float>& std) {
  NoGradGuard no_grad;
  std::vector<std::pair<std::string, Tensor>> tensors;
  if (a.defined()) tensors = {{"A", a.detach()}, {"B", b.detach()}};
  else tensors = {{"images", images.detach()}};
  tensors.emplace_back("labels", labels);
  std::map<std::string, std::string> meta = metadata;
  meta["mean"] = join_floats(mean);
  meta["std"] = join_floats(std);
  save_safetensors(run.path("synset.safetensors"), tensors, meta);
}

SavedSet load_set(const std::string& path_in) {
  std::string path = path_in;
  std::error_code ec;
  if (fs::is_directory(path, ec)) path += "/synset.safetensors";
  LOCO_CHECK(fs::exists(path, ec), path, ": no such file (expected a run directory or a synset.safetensors)");
  SafetensorsFile f = load_safetensors(path);
  SavedSet s;
  s.metadata = f.metadata;
  auto take = [&](const char* name) {
    auto it = f.tensors.find(name);
    return it == f.tensors.end() ? Tensor() : it->second;
  };
  s.labels = take("labels");
  LOCO_CHECK(s.labels.defined() && s.labels.dtype() == DType::i64 && s.labels.ndim() == 1, path,
             ": needs an i64 [N] tensor 'labels'");
  // The dataset the set names: what its images and labels must fit.
  auto named = s.metadata.find("dataset");
  LOCO_CHECK(named != s.metadata.end(), path, ": the set names no dataset in its metadata");
  const DatasetInfo* data = nullptr;
  try {
    data = &dataset_info(named->second);
  } catch (const Error& e) {
    LOCO_FAIL(path, ": metadata 'dataset': ", e.what());
  }
  const DatasetInfo& d = *data;
  s.a = take("A");
  s.b = take("B");
  if (s.a.defined() || s.b.defined()) {
    LOCO_CHECK(s.a.defined() && s.b.defined() && s.a.dtype() == DType::f32 && s.b.dtype() == DType::f32 &&
                   s.a.ndim() == 4 && s.b.ndim() == 4 && s.a.dim(0) == s.b.dim(0) && s.a.dim(1) == s.b.dim(1) &&
                   s.a.dim(3) == s.b.dim(2),
               path, ": low-rank factors A ", s.a.defined() ? s.a.shape() : Shape{}, " and B ",
               s.b.defined() ? s.b.shape() : Shape{}, " must be f32 [N,C,H,r] and [N,C,r,W]");
    // Everything about the reconstruction is checked before it is allocated: a crafted header
    // can ask for a product of exabytes, or one whose element count wraps around.
    const int64_t n = s.a.dim(0), c = s.a.dim(1), h = s.a.dim(2), r = s.a.dim(3), w = s.b.dim(3);
    LOCO_CHECK(r >= 1 && r < std::min(h, w), path, ": rank ", r, " of A ", s.a.shape(), " and B ", s.b.shape(),
               " is not in 1 ≤ r < min(H, W)");
    LOCO_CHECK(c == d.channels && h == d.height && w == d.width, path, ": A ", s.a.shape(), " and B ", s.b.shape(),
               " reconstruct ", c, "×", h, "×", w, " images, not ", d.name, "'s ", d.channels, "×", d.height, "×",
               d.width);
    const int64_t floats = Shape{n, c, h, w}.numel();
    LOCO_CHECK(floats <= kMaxSetFloats, path, ": A ", s.a.shape(), " and B ", s.b.shape(), " would reconstruct ",
               floats, " floats, more than any set loco makes (", kMaxSetFloats, ")");
    NoGradGuard no_grad;
    s.images = lowrank_reconstruct(s.a, s.b);
  } else {
    s.images = take("images");
    LOCO_CHECK(s.images.defined() && s.images.dtype() == DType::f32 && s.images.ndim() == 4, path,
               ": needs an f32 [N,C,H,W] tensor 'images' (or low-rank factors 'A' and 'B')");
  }
  // A set holding NaN or Inf (a run that diverged, a damaged file) would train networks to chance
  // and report it as an accuracy.
  for (const auto& [name, t] : {std::pair<const char*, const Tensor*>{"A", &s.a}, {"B", &s.b}, {"images", &s.images}}) {
    if (!t->defined() || (name[0] == 'i' && s.a.defined())) continue;  // the factors were checked
    const float* v = t->data<float>();
    for (int64_t i = 0; i < t->numel(); ++i)
      LOCO_CHECK(std::isfinite(v[i]), path, ": ", name, " ", t->shape(), " holds ", v[i], " at element ", i,
                 " (a diverged run or a damaged file)");
  }
  LOCO_CHECK(s.images.dim(0) == s.labels.dim(0), path, ": ", s.images.dim(0), " images but ", s.labels.dim(0),
             " labels");
  LOCO_CHECK(s.images.dim(1) == d.channels && s.images.dim(2) == d.height && s.images.dim(3) == d.width, path,
             ": images ", s.images.shape(), " are not ", d.name, "'s ", d.channels, "×", d.height, "×", d.width);
  const int64_t* l = s.labels.data<int64_t>();
  for (int64_t i = 0; i < s.labels.numel(); ++i)
    LOCO_CHECK(l[i] >= 0 && l[i] < d.classes, path, ": label ", l[i], " of image ", i, " is not a class of ", d.name,
               " (0…", d.classes - 1, ")");
  return s;
}

}  // namespace loco::condense
