// The `loco` command-line program (subcommands arrive with their issues).
#include <cstdio>
#include <cstring>

#include "engine/tensor.h"

int main(int argc, char** argv) {
  std::printf("loco: device %s\n", loco::device_name(loco::default_device()));
  return 0;
}
