// Several processes on one job (DESIGN.md "Beyond one machine"): MPI launches them (mpirun)
// and carries the host collectives; loco writes no transport of its own. Without MPI, or when
// a loco built with it is not started by mpirun, there is one process and every collective
// below is the identity, so the single-process code path is the distributed one at size 1.
//
// Sharing out: classes, evaluation networks, experts and cl runs are dealt to ranks in even,
// contiguous blocks (share()), so rank r's classes are one run of rows in a class-major set and
// a gather is one block per rank. Every collective is called by every rank in the same order.
// Failure: an exception on any rank ends the whole job (abort_job, from main) within seconds,
// and mpirun ends it when a rank is killed, so no rank waits forever on a dead peer.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace loco::dist {

// Starts MPI when this loco was built with it and mpirun (or srun with PMIx) launched it;
// otherwise one process. Sends a rank's stdout to /dev/null unless it is rank 0, and points a
// CUDA build at GPU (local rank mod GPUs), one rank per GPU.
void init(int& argc, char**& argv);
void finalize();  // before a normal exit (a no-op for one process)
// Ends every rank of the job with exit code `code` (mpirun then exits with it).
[[noreturn]] void abort_job(int code);
// Before a rank other than 0 reports an error: waits two seconds, so that an error every rank
// meets (a bad flag, a missing file) is reported once, by rank 0, whose abort ends the others.
void let_root_speak_first();

bool built_with_mpi();
bool built_with_nccl();  // device tensors summed across ranks GPU to GPU
int rank();
int size();
inline bool is_root() { return rank() == 0; }
int local_rank();              // among the ranks on this host
std::string host();            // this rank's host name
std::vector<std::string> hosts();  // every rank's host name, in rank order (collective)

// Within its scope this process is a job of its own (rank 0 of 1), for work shared out whole
// (a cl run of one method and seed), whose inner loops must then call no collective.
class Solo {
 public:
  Solo();
  ~Solo();
  Solo(const Solo&) = delete;
  Solo& operator=(const Solo&) = delete;

 private:
  int rank_, size_;
};

struct Range {
  int64_t begin = 0, end = 0;
  int64_t size() const { return end - begin; }
  bool contains(int64_t i) const { return begin <= i && i < end; }
};
// Rank r's block of [0, n): [⌊n·r/size⌋, ⌊n·(r+1)/size⌋). Ranks beyond n get empty blocks.
Range share(int64_t n, int r, int ranks);
inline Range share(int64_t n) { return share(n, rank(), size()); }

// Collectives (all ranks call them, in the same order).
void barrier();
// bytes at data, from rank 0 to all.
void broadcast(void* data, int64_t bytes);
void broadcast(Tensor& t);  // its bytes, in place, on any device
// data holds n items of item_bytes each; rank r's block share(n, r, size()) is correct on
// rank r only. Afterwards every rank holds every block.
void allgather_blocks(void* data, int64_t n, int64_t item_bytes);
// The same for a tensor whose dim 0 is n blocks of equal size (classes, rows), on any device:
// device memory goes through the host.
void allgather_blocks(Tensor& t, int64_t n);
// Each rank's values for its block of [0, n) (share(n)), width values per item, concatenated
// in rank order (n·width values).
std::vector<double> allgather_shares(const std::vector<double>& mine, int64_t n, int64_t width = 1);
// Point to point: rank `from` sends bytes at data to rank 0, which receives them into data
// (from 0: nothing moves). Only those two ranks call it.
void send_to_root(void* data, int64_t bytes, int from);
// The logical OR of flag over ranks.
bool any(bool flag);

// Data parallelism inside one autograd graph (MTT's student batch split across ranks), as
// differentiable ops; in one process both return x itself and record nothing.
//   sum_over_ranks(x): every rank's x added in rank order (the same bits on every rank, and the
//     same for a given number of ranks); its backward hands dy to each rank's x unchanged.
//   replicated(x): x, which every rank holds alike, entering a rank's share of the work; its
//     backward sums the ranks' gradients (sum_over_ranks), so each rank gets the whole gradient.
Tensor sum_over_ranks(const Tensor& x);
Tensor replicated(const Tensor& x);

}  // namespace loco::dist
