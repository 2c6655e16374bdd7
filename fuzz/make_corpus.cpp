// Writes the seed corpus of every fuzz target (fuzz/corpus/<target>/), so the committed seeds can
// be remade after a format change: `build-fuzz/fuzz/make_corpus fuzz/corpus`. Each target gets
// valid inputs (so mutations start deep in the parser) and the crafted files of the past bugs.
#include <zlib.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "condense/driver.h"
#include "condense/run_dir.h"
#include "engine/io/safetensors.h"
#include "engine/ops.h"
#include "engine/rng.h"
#include "fuzz/fuzz_runs.h"
#include "fuzz/fuzz_support.h"
#include "fuzz/tiny_jpeg.h"

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;
using namespace loco;

namespace {

std::string out_dir;

Bytes read_bytes(const std::string& p) {
  std::FILE* f = std::fopen(p.c_str(), "rb");
  if (!f) std::abort();
  Bytes b;
  uint8_t buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) b.insert(b.end(), buf, buf + n);
  std::fclose(f);
  return b;
}

void seed(const std::string& target, const std::string& name, const Bytes& b, int prefix = -1) {
  fs::create_directories(out_dir + "/" + target);
  Bytes all;
  if (prefix >= 0) all.push_back(static_cast<uint8_t>(prefix));
  all.insert(all.end(), b.begin(), b.end());
  fuzz::write_file(out_dir + "/" + target + "/" + name, all.data(), all.size());
}
void seed(const std::string& target, const std::string& name, const std::string& s, int prefix = -1) {
  seed(target, name, Bytes(s.begin(), s.end()), prefix);
}

// A safetensors file of a bare JSON header (no data), as crafted files are.
Bytes header_only(const std::string& json) {
  Bytes b(8);
  const uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) b[static_cast<size_t>(i)] = static_cast<uint8_t>(n >> (8 * i));
  b.insert(b.end(), json.begin(), json.end());
  return b;
}

Bytes saved(const std::vector<std::pair<std::string, Tensor>>& t, const std::map<std::string, std::string>& meta) {
  const std::string p = fuzz::scratch_dir() + "/seed.safetensors";
  save_safetensors(p, t, meta);
  return read_bytes(p);
}

Bytes be32(Bytes b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(v >> s));
  return b;
}

Bytes gzip(const Bytes& in) {
  uLongf n = compressBound(static_cast<uLong>(in.size())) + 64;
  Bytes out(n);
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
  z.next_in = const_cast<Bytef*>(in.data());
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// The 241-byte file of issue 12 (a zero dimension and 2^32 sizes: the element count wrapped to
// 0 and A·B wrote past a 0-byte buffer), with and without a dataset in its metadata.
const std::string kWrappingShapes =
    R"({"A":{"dtype":"F32","shape":[4294967296,1,4294967296,0],"data_offsets":[0,0]},)"
    R"("B":{"dtype":"F32","shape":[4294967296,1,0,1],"data_offsets":[0,0]},)"
    R"("labels":{"dtype":"I64","shape":[0],"data_offsets":[0,0]})";

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus DIR (writes DIR/<target>/ seeds)\n");
    return 2;
  }
  out_dir = argv[1];
  Generator g(1, 0);

  // safetensors: every dtype, metadata, and the crafted headers.
  seed("safetensors", "valid",
       saved({{"w", rand_normal({2, 3}, g)},
              {"d", full({2}, 1.5, DType::f64, Device::cpu)},
              {"i", full({3}, 4, DType::i64, Device::cpu)},
              {"u", full({4}, 7, DType::u8, Device::cpu)}},
             {{"note", "seed"}}));
  seed("safetensors", "wrapping-shapes", header_only(kWrappingShapes + "}"));

  // Sets: pixels and factors of a FashionMNIST-shaped set, and the crafted ones.
  const Tensor labels = full({2}, 3, DType::i64, Device::cpu);
  const std::map<std::string, std::string> meta = {{"dataset", "FashionMNIST"}, {"method", "lodm"}};
  seed("set", "pixels", saved({{"images", rand_normal({2, 1, 28, 28}, g)}, {"labels", labels}}, meta));
  seed("set", "factors", saved({{"A", rand_normal({2, 1, 28, 2}, g)}, {"B", rand_normal({2, 1, 2, 28}, g)}, {"labels", labels}}, meta));
  seed("set", "wrapping-shapes", header_only(kWrappingShapes + "}"));
  seed("set", "wrapping-shapes-named",
       header_only(kWrappingShapes + R"(,"__metadata__":{"dataset":"FashionMNIST"}})"));
  seed("set", "rank-0", header_only(R"({"A":{"dtype":"F32","shape":[1,1,28,0],"data_offsets":[0,0]},)"
                                    R"("B":{"dtype":"F32","shape":[1,1,0,28],"data_offsets":[0,0]},)"
                                    R"("labels":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},)"
                                    R"("__metadata__":{"dataset":"FashionMNIST"}})"));

  // Checkpoint: a real one from one LoDM iteration, and its param.0 as U8 (read 4× its size
  // from the heap before the dtype was checked).
  {
    fuzz::TinyRun tiny("lodm");
    const std::string dir = fuzz::scratch_dir() + "/run";
    Bytes good;
    {
      condense::RunDir run(dir, true, "checkpoint.safetensors");
      condense::condense(tiny.config, tiny.data, &run, false);
      good = read_bytes(run.path("checkpoint.safetensors"));
      seed("checkpoint", "valid", good);
      SafetensorsFile f = load_safetensors(run.path("checkpoint.safetensors"));
      std::vector<std::pair<std::string, Tensor>> t;
      for (auto& [name, tensor] : f.tensors)
        t.emplace_back(name, name == "param.0" ? zeros(tensor.shape(), DType::u8, Device::cpu) : tensor);
      seed("checkpoint", "param-u8", saved(t, f.metadata));
      auto m = f.metadata;
      m["iterations_done"] = "-100";
      seed("checkpoint", "negative-iterations", saved({t.begin(), t.end()}, m));
    }
    fs::remove_all(dir + ".partial");
  }

  // IDX: one 28×28 image and one label; gzipped by the target (mode 2) or here (mode 4).
  Bytes images = be32(be32(be32(be32({}, 2051), 1), 28), 28);
  images.resize(images.size() + 784, 7);
  Bytes labels_idx = be32(be32({}, 2049), 1);
  labels_idx.push_back(3);
  seed("idx", "images", images, 0);
  seed("idx", "labels", labels_idx, 1);
  seed("idx", "images-gzipped-by-target", images, 2);
  seed("idx", "labels-gzipped-by-target", labels_idx, 3);
  const Bytes gz = gzip(images);
  seed("idx", "images-gz", gz, 4);
  seed("idx", "images-gz-no-length", Bytes(gz.begin(), gz.end() - 4), 4);
  Bytes trailing = gzip(labels_idx);
  trailing.push_back('x');
  seed("idx", "labels-gz-trailing", trailing, 5);

  // CIFAR: one record of each format.
  Bytes r10(1 + 3072, 9), r100(2 + 3072, 9);
  r10[0] = 4;
  r100[0] = 3, r100[1] = 17;
  seed("cifar", "cifar10-batch1", r10, 0);
  seed("cifar", "cifar10-test", r10, 5 << 1);
  seed("cifar", "cifar100-train", r100, 1);
  seed("cifar", "cifar100-test", r100, 1 | (1 << 1));

  // TinyImageNet: a JPEG for each image slot, the two text files.
  seed("tiny_imagenet", "train-jpeg", fuzz::tiny_jpeg(1), 0);
  seed("tiny_imagenet", "val-jpeg", fuzz::tiny_jpeg(2), 1);
  seed("tiny_imagenet", "annotations", std::string("val_0.JPEG\tn01\t0\t0\t63\t63\n"), 2);
  seed("tiny_imagenet", "wnids", std::string("n02\nn01\n"), 3);
  std::printf("make_corpus: seeds written under %s\n", out_dir.c_str());
  return 0;
}
