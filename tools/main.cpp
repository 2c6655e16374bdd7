// The `loco` command-line program: a table of subcommands, each in its own cmd_<name>.cpp as
// they arrive. The CLI parses and reports; algorithms live in the library layers.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "dist/dist.h"
#include "engine/tensor.h"
#include "tools/cli.h"

namespace {

// OpenMP threads that spin-wait steal the core the other thread needs on a shared 2-core
// machine. libgomp reads OMP_WAIT_POLICY only at start-up, so set it and re-exec once.
void ensure_passive_openmp(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY")) return;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  execv("/proc/self/exe", argv);  // on failure, carry on with the default policy
}

int cmd_info() {
  std::printf("loco\n");
  std::printf("  cuda backend : %s\n",
#ifdef LOCO_HAS_CUDA
              "built"
#else
              "not built (configure with -DLOCO_CUDA=ON)"
#endif
  );
  std::printf("  cuda device  : %s\n", loco::cuda_available() ? "present" : "none");
  std::printf("  default      : --device %s\n", loco::device_name(loco::default_device()));
#ifdef _OPENMP
  std::printf("  cpu threads  : %d (OMP_NUM_THREADS to change)\n", omp_get_max_threads());
#endif
  std::printf("  mpi          : %s%s\n", loco::dist::built_with_mpi() ? "built (launch with mpirun -np N loco ...)"
                                                                       : "not built (install libopenmpi-dev, configure with -DLOCO_MPI=ON)",
              loco::dist::built_with_nccl() ? ", NCCL between GPUs" : "");
  // Every rank says where it runs; rank 0 prints them all.
  const std::vector<std::string> hosts = loco::dist::hosts();
  const int gpu = loco::cuda_available() ? loco::select_cuda_device(loco::dist::local_rank()) : -1;
  std::vector<double> gpus = loco::dist::allgather_shares({static_cast<double>(gpu)}, loco::dist::size());
  std::printf("  ranks        : %d\n", loco::dist::size());
  for (int r = 0; r < loco::dist::size(); ++r)
    std::printf("    rank %-4d  %s, %s\n", r, hosts[r].c_str(),
                gpus[r] >= 0 ? ("GPU " + std::to_string(static_cast<int>(gpus[r]))).c_str() : "CPU");
  return 0;
}


// `loco demo` is `loco condense` with the demo's flags in front (later flags override them).
const std::vector<std::string> kDemoArgs = {"condense", "--method", "lodm", "--dataset", "FashionMNIST", "--ipc", "1",
                                           "--preset", "cpu-quick", "--out", "runs/demo-lodm", "--force"};

// Who an error message comes from: "loco", or "loco (rank 2 of 4, host)" in a distributed run.
std::string who() {
  if (loco::dist::size() == 1) return "loco";
  return "loco (rank " + std::to_string(loco::dist::rank()) + " of " + std::to_string(loco::dist::size()) + ", " +
         loco::dist::host() + ")";
}

}  // namespace

// Runs the subcommand and says why it failed; 0, 1 (an error) or 2 (a usage error).
int run_command(int argc, char** argv);

int main(int argc, char** argv) {
  ensure_passive_openmp(argv);
  loco::dist::init(argc, argv);
  const int rc = run_command(argc, argv);
  // A rank that fails ends every rank of the job, so none waits on it in a collective.
  if (rc != 0 && loco::dist::size() > 1) loco::dist::abort_job(rc);
  loco::dist::finalize();
  return rc;
}

int run_command(int argc, char** argv) {
  CLI::App app{"loco: dataset condensation with the low-rank plugin (DM, DC, DSA, MTT and LoDM, LoDC, LoDSA, LoMTT)"};
  app.require_subcommand(1);
  auto* info = app.add_subcommand("info", "Print how this loco was built and which devices it sees");
  // The demo: LoDM on Fashion-MNIST with the cpu-quick preset, same memory as 1 image per class.
  std::vector<std::string> args(argv, argv + argc);
  if (argc > 1 && args[1] == "demo") {
    args.erase(args.begin() + 1);
    args.insert(args.begin() + 1, kDemoArgs.begin(), kDemoArgs.end());
    std::printf("loco demo: loco");
    for (size_t i = 1; i < args.size(); ++i) std::printf(" %s", args[i].c_str());
    std::printf("\n");
  }
  std::vector<char*> av;
  for (auto& a : args) av.push_back(a.data());
  argc = static_cast<int>(av.size());
  argv = av.data();
  app.add_subcommand("demo", "LoDM on Fashion-MNIST, cpu-quick, same memory as 1 image/class (= loco condense --method lodm --ipc 1 --out runs/demo-lodm --force)");
  const std::vector<loco::cli::Command> commands = {loco::cli::add_condense(app), loco::cli::add_train(app), loco::cli::add_coreset(app),
                                                    loco::cli::add_eval(app), loco::cli::add_bench(app), loco::cli::add_cl(app),
                                                    loco::cli::add_experts(app), loco::cli::add_sweep(app),
                                                    loco::cli::add_tsne(app), loco::cli::add_spectrum(app),
                                                    loco::cli::add_plot(app)};
  // CLI11 only says "a subcommand is required" for a mistyped one: name it and the choices.
  std::string names;
  bool known = false;
  for (const auto* s : app.get_subcommands({})) {
    names += (names.empty() ? "" : ", ") + s->get_name();
    known = known || (argc > 1 && s->get_name() == argv[1]);
  }
  if (argc > 1 && argv[1][0] != '-' && !known) {
    std::fprintf(stderr, "loco: unknown subcommand '%s'; choose one of: %s (loco --help)\n", argv[1], names.c_str());
    return 2;
  }
  // Usage errors exit 2 with the parser's own message, as command-line tools do (CLI11's codes,
  // 104–109, say nothing to a script); --help still exits 0.
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --version and the like
    std::string where = "loco";
    for (const CLI::App* s = &app; !s->get_subcommands().empty(); ) {
      s = s->get_subcommands().front();
      where += " " + s->get_name();
    }
    loco::dist::let_root_speak_first();
    std::fprintf(stderr, "loco: usage: %s (%s --help)\n", e.what(), where.c_str());
    return 2;
  }
  const loco::cli::Command* running = nullptr;
  try {
    if (*info) return cmd_info();
    for (const auto& c : commands)
      if (*c.app) {
        running = &c;
        LOCO_CHECK(c.distributed || loco::dist::size() == 1, "loco ", c.app->get_name(), " runs in one process; ",
                   loco::dist::size(), " were launched (under mpirun: condense, eval, cl, experts)");
        return c.run();
      }
  } catch (const std::bad_alloc&) {
    std::fflush(stdout);
    loco::dist::let_root_speak_first();
    std::fprintf(stderr, "%s: error: out of host memory%s%s\n", who().c_str(), running && !running->memory_flags.empty() ? "; " : "",
                 running ? running->memory_flags.c_str() : "");
    return 1;
  } catch (const loco::OutOfMemory& e) {
    std::fflush(stdout);
    loco::dist::let_root_speak_first();
    std::fprintf(stderr, "%s: error: %s%s%s\n", who().c_str(), e.what(), running && !running->memory_flags.empty() ? "; " : "",
                 running ? running->memory_flags.c_str() : "");
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    loco::dist::let_root_speak_first();
    std::fprintf(stderr, "%s: error: %s\n", who().c_str(), e.what());
    return 1;
  }
  return 0;
}
