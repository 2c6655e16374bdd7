// A run directory (DESIGN.md "Data and files"): synset.safetensors, grid.png (drawn by the
// tools layer), report.json, log.jsonl. Everything is written into "<dir>.partial" and the
// directory is renamed into place by commit(), so an interrupted or failed run never leaves a
// half-written run directory under the final name, and an existing one is never replaced
// unless asked (--force). A RunDir destroyed without commit() removes its partial folder, unless that holds
// the run's resume marker (condensation: checkpoint.safetensors lets an interrupted run go on).
//
// The synthetic-set file: "images" f32 [N,C,H,W] (full pixels) or the low-rank factors
// "A" [N,C,H,r] and "B" [N,C,r,W] (the saving itself: images are A·B per channel), "labels"
// i64 [N], and string metadata (method, dataset, mean, std, ...).
#pragma once
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/tensor.h"

namespace loco::condense {

using Json = nlohmann::ordered_json;

// One JSON line appended to a log file (log.jsonl), created when missing.
void append_json_line(const std::string& file, const Json& line);

// The file that marks a directory as one loco wrote (so --force may replace it) and that a
// writing loco holds an flock on (so a second run on the same --out is refused, not interleaved).
// It holds the writer's PID, for that refusal's message.
inline constexpr const char* kRunMarker = ".loco-run";

class RunDir {
 public:
  // Throws naming the directory when another loco is writing it (naming that process), when it
  // exists and !force, when it exists but loco did not write it (no kRunMarker or report.json:
  // --force never deletes a folder of someone else's), when "<dir>.partial" holds an interrupted
  // run (its resume_marker) and !force, or when it cannot be created. A partial folder without
  // the resume marker holds nothing to resume and is replaced.
  // resume_marker: a file that, once written, makes a failed run leave "<dir>.partial" in place.
  RunDir(std::string dir, bool force, std::string resume_marker = "");
  // Continues a run: in "<dir>.partial" when an interrupted one is there, else from a finished
  // <dir> (copied to "<dir>.partial"; commit() then replaces <dir>). Throws when neither holds
  // `marker` (e.g. checkpoint.safetensors), or when another loco is writing it.
  static RunDir resume(std::string dir, const std::string& marker);
  ~RunDir();
  RunDir(const RunDir&) = delete;
  RunDir(RunDir&& o) noexcept;
  RunDir& operator=(const RunDir&) = delete;

  const std::string& dir() const { return dir_; }
  // Whether "<dir>.partial" holds the resume marker: a failure now leaves a run to --resume.
  bool resumable() const;
  // Where files go until commit().
  std::string path(const std::string& file) const { return partial_ + "/" + file; }
  void write_json(const std::string& file, const Json& j) const;  // atomic, pretty-printed
  void append_log(const Json& line) const;                         // one line of log.jsonl
  // Moves the finished run into place (replacing an old one when forced).
  void commit();

 private:
  struct Resume {};
  RunDir(std::string dir, const std::string& marker, Resume);
  void lock();  // takes the flock on partial_'s kRunMarker, creating it; throws when it is held
  // The locked file's descriptor, closed (so unlocked) with the RunDir, or when a constructor throws.
  struct Fd {
    int fd = -1;
    Fd() = default;
    Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
    Fd& operator=(Fd&&) = delete;
    ~Fd();
  };
  std::string dir_, partial_, marker_;
  bool force_, committed_ = false;
  Fd lock_;
};

// Whether loco wrote the directory: it holds kRunMarker, or the report.json of a run made
// before the marker existed.
bool written_by_loco(const std::string& dir);

struct SavedSet {
  Tensor images;  // [N,C,H,W]: reconstructed from A·B for a low-rank file
  Tensor labels;  // i64 [N]
  Tensor a, b;    // the factors, when the file holds them
  std::map<std::string, std::string> metadata;
  int64_t floats_stored() const;  // what the file spends on the set itself (labels aside)
};

// synset.safetensors. Pass either images or the factors a, b (then images may be undefined).
// The pictures of a set (grid.png) are drawn by the tools layer (tools/set_grid.h).
void save_set(const RunDir& run, const Tensor& images, const Tensor& a, const Tensor& b, const Tensor& labels,
              const std::map<std::string, std::string>& metadata, const std::vector<float>& mean,
              const std::vector<float>& std);
// At most this many floats in a synthetic set (64 GiB): a larger --ipc is a typo, not a plan, and a
// larger file is not one loco wrote.
inline constexpr int64_t kMaxSetFloats = int64_t{1} << 34;
// Reads a synset.safetensors (or a run directory holding one); throws naming the file at fault.
// The set must name its dataset (metadata 'dataset'), and is checked against it (image shape,
// labels in range) before any reconstruction is allocated.
SavedSet load_set(const std::string& path);

// Comma-separated floats of a metadata value ("0.2861" or ".4914,.4822,.4465").
std::string join_floats(const std::vector<float>& v);
std::vector<float> parse_floats(const std::string& s, const std::string& what);
// A whole metadata value as one number (no sign tricks, no trailing text); throws naming `what`.
int64_t parse_int(const std::string& s, const std::string& what);
double parse_double(const std::string& s, const std::string& what);

}  // namespace loco::condense
