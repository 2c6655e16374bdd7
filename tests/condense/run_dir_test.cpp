// Run directories: nothing half-written under the final name, nothing replaced without
// --force, and the synthetic-set file reloads to the same images (pixels or low-rank factors).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "condense/run_dir.h"
#include "tests/harness/scratch_dir.h"
#include "engine/io/safetensors.h"
#include "engine/ops.h"
#include "engine/rng.h"

namespace loco::condense {
namespace {

namespace fs = std::filesystem;

using RunDirTest = testing::ScratchDirTest;

std::string slurp(const std::string& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

TEST_F(RunDirTest, CommitMovesTheFinishedRunIntoPlace) {
  {
    RunDir run(path("a"), false);
    run.write_json("report.json", {{"x", 1}});
    run.append_log({{"it", 0}});
    run.append_log({{"it", 1}});
    EXPECT_FALSE(fs::exists(path("a"))) << "visible under the final name before commit";
    run.commit();
  }
  EXPECT_TRUE(fs::exists(path("a") + "/report.json"));
  EXPECT_FALSE(fs::exists(path("a.partial")));
  EXPECT_EQ(slurp(path("a") + "/log.jsonl"), "{\"it\":0}\n{\"it\":1}\n");
}

TEST_F(RunDirTest, AnUncommittedRunLeavesNothing) {
  {
    RunDir run(path("b"), false);
    run.write_json("report.json", {{"x", 1}});
  }
  EXPECT_FALSE(fs::exists(path("b")));
  EXPECT_FALSE(fs::exists(path("b.partial")));
}

TEST_F(RunDirTest, AnExistingRunIsKeptUnlessForced) {
  fs::create_directories(path("c"));
  std::ofstream(path("c") + "/report.json") << "old";
  try {
    RunDir run(path("c"), false);
    ADD_FAILURE() << "an existing run directory was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("--force"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(path("c")), std::string::npos) << e.what();
  }
  EXPECT_EQ(slurp(path("c") + "/report.json"), "old");
  {
    RunDir run(path("c"), true);
    EXPECT_EQ(slurp(path("c") + "/report.json"), "old") << "replaced before the new run finished";
    run.write_json("report.json", {{"new", true}});
    run.commit();
  }
  EXPECT_NE(slurp(path("c") + "/report.json").find("new"), std::string::npos);
  EXPECT_FALSE(fs::exists(path("c.old")));
}

// flock: a second writer of one run directory is refused, naming the holder's PID, whatever its
// flags; once the first is gone the directory is free again. (flock locks belong to an open file,
// so two RunDirs in one process contend as two processes do.)
TEST_F(RunDirTest, ASecondWriterIsRefusedNamingTheFirst) {
  const std::string pid = "PID " + std::to_string(::getpid()) + ")";
  {
    RunDir first(path("d"), false, "checkpoint.safetensors");
    std::ofstream(first.path("checkpoint.safetensors")) << "x";
    for (bool force : {false, true}) {
      try {
        RunDir second(path("d"), force, "checkpoint.safetensors");
        ADD_FAILURE() << "a second writer was let in (force " << force << ")";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("another loco (" + pid), std::string::npos) << e.what();
      }
    }
    try {
      RunDir::resume(path("d"), "checkpoint.safetensors");
      ADD_FAILURE() << "--resume was let in while the run goes on";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("another loco"), std::string::npos) << e.what();
    }
    EXPECT_TRUE(fs::exists(first.path("checkpoint.safetensors"))) << "the refused writer touched the running one";
  }
  RunDir again = RunDir::resume(path("d"), "checkpoint.safetensors");
  again.commit();
  EXPECT_TRUE(fs::exists(path("d") + "/" + kRunMarker));
}

// --force replaces only what loco wrote: a folder of someone else's (no marker, no report) is kept,
// under the run's name or under its .partial name.
TEST_F(RunDirTest, ForceReplacesOnlyDirectoriesLocoWrote) {
  for (const std::string name : {"thesis", "notes.partial"}) {
    fs::create_directories(path(name));
    std::ofstream(path(name) + "/chapter1.tex") << "years of work";
  }
  for (const std::string out : {"thesis", "notes"}) {
    try {
      RunDir run(path(out), true);
      ADD_FAILURE() << "--force took " << out;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("loco"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(slurp(path("thesis") + "/chapter1.tex"), "years of work");
  EXPECT_EQ(slurp(path("notes.partial") + "/chapter1.tex"), "years of work");
  {
    RunDir run(path("mine"), false);
    run.commit();
  }
  std::ofstream(path("mine") + "/extra") << "old";
  {
    RunDir run(path("mine"), true);
    run.commit();
  }
  EXPECT_FALSE(fs::exists(path("mine") + "/extra")) << "a loco run directory was not replaced under --force";
}

TEST_F(RunDirTest, PixelAndLowRankSetsReloadToTheSameImages) {
  Generator g(3, 0);
  const Tensor labels = from_vector<int64_t>({0, 0, 1, 1, 2, 2}, {6});
  const std::vector<float> mean = {0.2861f}, stdev = {0.353f};
  const Tensor images = rand_normal({6, 1, 28, 28}, g);
  const Tensor a = rand_normal({6, 1, 28, 2}, g), b = rand_normal({6, 1, 2, 28}, g);
  {
    RunDir run(path("pix"), false);
    save_set(run, images, Tensor(), Tensor(), labels, {{"method", "random"}, {"dataset", "FashionMNIST"}}, mean,
             stdev);
    run.commit();
    RunDir low(path("low"), false);
    save_set(low, Tensor(), a, b, labels, {{"method", "lodm"}, {"dataset", "FashionMNIST"}}, mean, stdev);
    low.commit();
  }
  const SavedSet p = load_set(path("pix"));
  EXPECT_EQ(p.images.to_vector<float>(), images.to_vector<float>());
  EXPECT_EQ(p.labels.to_vector<int64_t>(), labels.to_vector<int64_t>());
  EXPECT_EQ(p.metadata.at("dataset"), "FashionMNIST");
  EXPECT_EQ(parse_floats(p.metadata.at("std"), "std"), stdev);
  EXPECT_EQ(p.floats_stored(), 6 * 784);

  const SavedSet l = load_set(path("low") + "/synset.safetensors");
  ASSERT_TRUE(l.a.defined());
  EXPECT_EQ(l.floats_stored(), 6 * 2 * 56);
  EXPECT_EQ(l.images.to_vector<float>(), lowrank_reconstruct(a, b).to_vector<float>());
}

TEST_F(RunDirTest, LoadingAMissingOrForeignFileNamesIt) {
  try {
    load_set(path("nothing"));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nothing"), std::string::npos) << e.what();
  }
  RunDir run(path("foreign"), false);
  save_safetensors(run.path("synset.safetensors"), {{"weights", zeros({3})}});
  try {
    load_set(run.path("synset.safetensors"));
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("labels"), std::string::npos) << e.what();
  }
  EXPECT_THROW(parse_floats("0.1,x", "mean"), Error);
}

// A header-only file written byte by byte: 8-byte little-endian length, then the JSON.
void write_header_only(const std::string& path, const std::string& json) {
  std::ofstream f(path, std::ios::binary);
  const uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) f.put(static_cast<char>((n >> (8 * i)) & 0xff));
  f << json;
}

void expect_refused(const std::string& path, const std::string& says) {
  try {
    load_set(path);
    ADD_FAILURE() << path << " was accepted; expected an error saying " << says;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
  }
}

// Crafted sets must be refused before anything is reconstructed: zero-sized factors whose product's
// element count wraps around int64 (this once wrote past a 0-byte buffer), factors that would
// reconstruct 20 GB from 600 KB, rank 0, images of another dataset's shape, labels out of range.
// loco eval refuses a set holding NaN or Inf, naming the tensor and the element.
TEST_F(RunDirTest, SetsHoldingNanOrInfAreRefused) {
  const Tensor labels = full({1}, 0, DType::i64, Device::cpu);
  const std::map<std::string, std::string> meta = {{"dataset", "FashionMNIST"}};
  std::vector<float> px(784, 0.5f), a(28 * 2, 0.1f), b(2 * 28, 0.1f);
  px[17] = std::nanf("");
  b[3] = INFINITY;
  save_safetensors(path("nan.safetensors"), {{"images", from_vector(px, {1, 1, 28, 28})}, {"labels", labels}},
                   meta);
  save_safetensors(path("inf.safetensors"),
                   {{"A", from_vector(a, {1, 1, 28, 2})}, {"B", from_vector(b, {1, 1, 2, 28})},
                    {"labels", labels}},
                   meta);
  for (const auto& [file, says] : {std::pair<std::string, std::string>{"nan.safetensors", "images [1,1,28,28] holds nan at element 17"},
                                   {"inf.safetensors", "B [1,1,2,28] holds inf at element 3"}}) {
    try {
      load_set(path(file));
      ADD_FAILURE() << file << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(says), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find(path(file)), std::string::npos) << e.what();
    }
  }
}

TEST_F(RunDirTest, CraftedSetsAreRefusedBeforeAnyAllocation) {
  const std::string wrap = path("wrap.safetensors");
  write_header_only(wrap,
                    R"({"__metadata__":{"dataset":"FashionMNIST"},)"
                    R"("A":{"dtype":"F32","shape":[4294967296,1,4294967296,0],"data_offsets":[0,0]},)"
                    R"("B":{"dtype":"F32","shape":[4294967296,1,0,1],"data_offsets":[0,0]},)"
                    R"("labels":{"dtype":"I64","shape":[0],"data_offsets":[0,0]}})");
  expect_refused(wrap, "rank 0");
  EXPECT_THROW((Shape{int64_t{1} << 32, 1, int64_t{1} << 32, 1}.numel()), Error);

  const Tensor labels = from_vector<int64_t>({0}, {1});
  auto save = [&](const std::string& name, std::vector<std::pair<std::string, Tensor>> t,
                  const std::string& dataset = "FashionMNIST") {
    t.emplace_back("labels", labels);
    save_safetensors(path(name), t, {{"dataset", dataset}});
    return path(name);
  };
  expect_refused(save("huge.safetensors", {{"A", zeros({1, 1, 100000, 1})}, {"B", zeros({1, 1, 1, 50000})}}),
                 "not FashionMNIST's 1×28×28");
  expect_refused(save("cifar.safetensors", {{"images", zeros({1, 3, 32, 32})}}), "not FashionMNIST's");
  expect_refused(save("nodata.safetensors", {{"images", zeros({1, 1, 28, 28})}}, "Imaginary"), "metadata 'dataset'");
  save_safetensors(path("label.safetensors"),
                   {{"images", zeros({1, 1, 28, 28})}, {"labels", from_vector<int64_t>({10}, {1})}},
                   {{"dataset", "FashionMNIST"}});
  expect_refused(path("label.safetensors"), "label 10 of image 0");
  save_safetensors(path("anon.safetensors"), {{"images", zeros({1, 1, 28, 28})}, {"labels", labels}});
  expect_refused(path("anon.safetensors"), "names no dataset");
}

}  // namespace
}  // namespace loco::condense
