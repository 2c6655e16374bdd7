// dist.h over MPI (LOCO_HAS_MPI) or, without it, as one process.
#include "dist/dist.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <type_traits>

#ifdef LOCO_HAS_MPI
#include <mpi.h>
#endif
#ifdef LOCO_HAS_NCCL
#include "dist/dist_nccl.h"
#include "engine/ops.h"
#endif

#include "engine/autograd/tape.h"
#include "engine/check.h"

namespace loco::dist {
namespace {

int g_rank = 0, g_size = 1, g_local_rank = 0;
bool g_mpi = false;

#ifdef LOCO_HAS_MPI
#define LOCO_MPI_CHECK(call)                                                                 \
  do {                                                                                       \
    const int loco_mpi_err = (call);                                                         \
    if (loco_mpi_err != MPI_SUCCESS) {                                                       \
      char loco_mpi_msg[MPI_MAX_ERROR_STRING];                                               \
      int loco_mpi_len = 0;                                                                  \
      MPI_Error_string(loco_mpi_err, loco_mpi_msg, &loco_mpi_len);                           \
      LOCO_FAIL("rank ", g_rank, " of ", g_size, ": ", #call, " failed: ", loco_mpi_msg); \
    }                                                                                        \
  } while (0)
#endif

// A launcher's environment: OpenMPI's mpirun, PMIx (srun --mpi=pmix, prterun), MPICH's hydra.
bool launched_by_mpirun() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

#ifndef LOCO_HAS_MPI
int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}
#endif

#ifdef LOCO_HAS_MPI
// MPI counts are int: larger messages go in pieces of 1 GiB.
constexpr int64_t kPiece = int64_t{1} << 30;

void bcast_from(char* data, int64_t bytes, int root) {
  for (int64_t off = 0; off < bytes; off += kPiece) {
    const int n = static_cast<int>(std::min(kPiece, bytes - off));
    LOCO_MPI_CHECK(MPI_Bcast(data + off, n, MPI_BYTE, root, MPI_COMM_WORLD));
  }
}
#endif

}  // namespace

void init(int& argc, char**& argv) {
#ifdef LOCO_HAS_MPI
  if (launched_by_mpirun()) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    // Errors come back as codes, and every code is checked: a failed collective throws.
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_mpi = true;
    MPI_Comm local;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &local);
    MPI_Comm_rank(local, &g_local_rank);
    MPI_Comm_free(&local);
  }
#else
  (void)argc;
  (void)argv;
  // A loco without MPI under mpirun would run N copies of the whole job, each writing the same
  // files: refuse instead.
  if (launched_by_mpirun() && env_int("OMPI_COMM_WORLD_SIZE", env_int("PMI_SIZE", 1)) > 1) {
    std::fprintf(stderr,
                 "loco: error: started by mpirun, but this loco was built without MPI (install libopenmpi-dev and "
                 "rebuild with -DLOCO_MPI=ON)\n");
    std::exit(1);
  }
#endif
  if (g_size > 1) {
    if (g_rank != 0 && !std::freopen("/dev/null", "w", stdout)) std::fclose(stdout);
    select_cuda_device(g_local_rank);
  }
}

void finalize() {
#ifdef LOCO_HAS_MPI
  if (g_mpi) {
    std::fflush(stdout);
    MPI_Finalize();
    g_mpi = false;
  }
#endif
}

void abort_job(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
#ifdef LOCO_HAS_MPI
  if (g_mpi) MPI_Abort(MPI_COMM_WORLD, code);
#endif
  std::_Exit(code);
}

void let_root_speak_first() {
  if (g_size > 1 && g_rank != 0) std::this_thread::sleep_for(std::chrono::seconds(2));
}

bool built_with_mpi() {
#ifdef LOCO_HAS_MPI
  return true;
#else
  return false;
#endif
}

Solo::Solo() : rank_(g_rank), size_(g_size) {
  g_rank = 0;
  g_size = 1;
}
Solo::~Solo() {
  g_rank = rank_;
  g_size = size_;
}

bool built_with_nccl() {
#ifdef LOCO_HAS_NCCL
  return true;
#else
  return false;
#endif
}

int rank() { return g_rank; }
int size() { return g_size; }
int local_rank() { return g_local_rank; }

std::string host() {
  char name[256] = {};
  gethostname(name, sizeof name - 1);
  return name;
}

Range share(int64_t n, int r, int ranks) {
  LOCO_CHECK(n >= 0 && ranks >= 1 && r >= 0 && r < ranks, "share: block ", r, " of ", ranks, " of ", n, " items");
  return {n * r / ranks, n * (r + 1) / ranks};
}


std::vector<std::string> hosts() {
  const std::string mine = host();
  if (g_size == 1) return {mine};
  std::vector<std::string> out;
#ifdef LOCO_HAS_MPI
  constexpr int kLen = 256;
  std::vector<char> all(static_cast<size_t>(kLen) * g_size, 0);
  char buf[kLen] = {};
  std::strncpy(buf, mine.c_str(), kLen - 1);
  LOCO_MPI_CHECK(MPI_Allgather(buf, kLen, MPI_CHAR, all.data(), kLen, MPI_CHAR, MPI_COMM_WORLD));
  for (int r = 0; r < g_size; ++r) out.emplace_back(all.data() + static_cast<size_t>(r) * kLen);
#endif
  return out;
}

void barrier() {
#ifdef LOCO_HAS_MPI
  if (g_size > 1) LOCO_MPI_CHECK(MPI_Barrier(MPI_COMM_WORLD));
#endif
}

void broadcast(void* data, int64_t bytes) {
  if (g_size == 1 || bytes == 0) return;
#ifdef LOCO_HAS_MPI
  bcast_from(static_cast<char*>(data), bytes, 0);
#endif
}

void broadcast(Tensor& t) {
  if (g_size == 1 || !t.defined()) return;
  if (t.device() == Device::cpu) return broadcast(t.raw(), static_cast<int64_t>(t.nbytes()));
  std::vector<char> host(t.nbytes());
  copy_bytes(host.data(), Device::cpu, t.raw(), t.device(), t.nbytes());
  broadcast(host.data(), static_cast<int64_t>(host.size()));
  copy_bytes(t.raw(), t.device(), host.data(), Device::cpu, t.nbytes());
}

void allgather_blocks(void* data, int64_t n, int64_t item_bytes) {
  if (g_size == 1) return;
#ifdef LOCO_HAS_MPI
  // One broadcast per rank of its block: no int displacements to overflow, and the blocks are
  // contiguous, so nothing is packed.
  for (int r = 0; r < g_size; ++r) {
    const Range b = share(n, r, g_size);
    bcast_from(static_cast<char*>(data) + b.begin * item_bytes, b.size() * item_bytes, r);
  }
#else
  (void)data;
  (void)n;
  (void)item_bytes;
#endif
}

void allgather_blocks(Tensor& t, int64_t n) {
  if (g_size == 1) return;
  LOCO_CHECK(t.defined() && t.ndim() >= 1 && n >= 1 && t.dim(0) % n == 0, "allgather_blocks: a tensor of shape ",
             t.defined() ? t.shape().str() : "(none)", " does not split into ", n, " blocks");
  const int64_t item = static_cast<int64_t>(t.nbytes()) / n;
  if (t.device() == Device::cpu) return allgather_blocks(t.raw(), n, item);
  std::vector<char> host(t.nbytes());
  copy_bytes(host.data(), Device::cpu, t.raw(), t.device(), t.nbytes());
  allgather_blocks(host.data(), n, item);
  copy_bytes(t.raw(), t.device(), host.data(), Device::cpu, t.nbytes());
}

std::vector<double> allgather_shares(const std::vector<double>& mine, int64_t n, int64_t width) {
  LOCO_CHECK(width >= 1 && static_cast<int64_t>(mine.size()) == share(n).size() * width, "allgather_shares: rank ",
             g_rank, " has ", mine.size(), " values for a block of ", share(n).size(), " items of ", width);
  if (g_size == 1) return mine;
  std::vector<double> all(static_cast<size_t>(n * width));
#ifdef LOCO_HAS_MPI
  std::vector<int> counts(g_size), displs(g_size);
  for (int r = 0; r < g_size; ++r) {
    const Range b = share(n, r, g_size);
    counts[r] = static_cast<int>(b.size() * width);
    displs[r] = static_cast<int>(b.begin * width);
  }
  LOCO_MPI_CHECK(MPI_Allgatherv(mine.data(), counts[g_rank], MPI_DOUBLE, all.data(), counts.data(), displs.data(),
                                MPI_DOUBLE, MPI_COMM_WORLD));
#endif
  return all;
}

void send_to_root(void* data, int64_t bytes, int from) {
  if (g_size == 1 || from == 0) return;
#ifdef LOCO_HAS_MPI
  char* p = static_cast<char*>(data);
  for (int64_t off = 0; off < bytes; off += kPiece) {
    const int n = static_cast<int>(std::min(kPiece, bytes - off));
    if (g_rank == from) LOCO_MPI_CHECK(MPI_Send(p + off, n, MPI_BYTE, 0, 0, MPI_COMM_WORLD));
    if (g_rank == 0) LOCO_MPI_CHECK(MPI_Recv(p + off, n, MPI_BYTE, from, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
  }
#else
  (void)data;
  (void)bytes;
#endif
}

bool any(bool flag) {
  if (g_size == 1) return flag;
  int in = flag ? 1 : 0, out = 0;
#ifdef LOCO_HAS_MPI
  LOCO_MPI_CHECK(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_LOR, MPI_COMM_WORLD));
#endif
  return out != 0;
}

namespace {

// x's bytes from every rank, added in rank order: on the device with NCCL where x lives there
// and NCCL was built in, else on the host.
Tensor add_in_rank_order(const Tensor& x) {
  LOCO_CHECK(x.dtype() == DType::f32 || x.dtype() == DType::f64, "sum_over_ranks: ", x.dtype(), " is not a float type");
#ifdef LOCO_HAS_NCCL
  if (x.device() != Device::cpu) {
    NoGradGuard no_grad;
    const Tensor flat = reshape(x.detach().clone(), Shape{x.numel()});
    const Tensor all = empty(Shape{g_size * x.numel()}, x.dtype(), x.device());
    device_allgather(flat.raw(), all.raw(), flat.nbytes());
    Tensor out = slice(all, 0, x.numel());
    for (int r = 1; r < g_size; ++r) out = out + slice(all, r * x.numel(), (r + 1) * x.numel());
    return reshape(out, x.shape());
  }
#endif
  const Tensor host = x.detach().to(Device::cpu).clone();
  const int64_t bytes = static_cast<int64_t>(host.nbytes());
  std::vector<char> all(static_cast<size_t>(bytes) * g_size);
  std::memcpy(all.data() + static_cast<size_t>(bytes) * g_rank, host.raw(), static_cast<size_t>(bytes));
  allgather_blocks(all.data(), g_size, bytes);
  auto add = [&](auto* out) {
    using T = std::remove_pointer_t<decltype(out)>;
    const int64_t n = host.numel();
    for (int r = 0; r < g_size; ++r) {
      const T* v = reinterpret_cast<const T*>(all.data() + static_cast<size_t>(bytes) * r);
      for (int64_t i = 0; i < n; ++i) out[i] = r == 0 ? v[i] : out[i] + v[i];
    }
  };
  if (host.dtype() == DType::f32) add(host.data<float>());
  else add(host.data<double>());
  return host.to(x.device());
}

}  // namespace

Tensor sum_over_ranks(const Tensor& x) {
  if (g_size == 1) return x;
  return record("sum_over_ranks", add_in_rank_order(x), {x},
                [](const Tensor& dy, const NeedsGrad&) { return std::vector<Tensor>{dy}; });
}

Tensor replicated(const Tensor& x) {
  if (g_size == 1) return x;
  return record("replicated", x.detach(), {x},
                [](const Tensor& dy, const NeedsGrad&) { return std::vector<Tensor>{sum_over_ranks(dy)}; });
}

}  // namespace loco::dist
