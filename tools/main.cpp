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
  return 0;
}

int cmd_demo() {
  std::printf(
      "loco demo: the engine core is built and tested (./run test).\n"
      "Condensation (LoDM on Fashion-MNIST, `loco condense`) is not there yet: it arrives with the\n"
      "datasets and condensation issues, and then this command runs it.\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  ensure_passive_openmp(argv);
  CLI::App app{"loco: dataset condensation with the low-rank plugin (DM, DC, DSA and LoDM, LoDC, LoDSA)"};
  app.require_subcommand(1);
  auto* info = app.add_subcommand("info", "Print how this loco was built and which devices it sees");
  auto* demo = app.add_subcommand("demo", "Run the main job on the default dataset (see README)");
  const std::vector<loco::cli::Command> commands = {loco::cli::add_condense(app), loco::cli::add_train(app), loco::cli::add_coreset(app),
                                                    loco::cli::add_eval(app)};
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
  CLI11_PARSE(app, argc, argv);
  try {
    if (*info) return cmd_info();
    if (*demo) return cmd_demo();
    for (const auto& c : commands)
      if (*c.app) return c.run();
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "loco: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
