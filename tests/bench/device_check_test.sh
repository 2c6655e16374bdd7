#!/usr/bin/env bash
# bench/device_check.sh's library lookup against fake device layouts, on the CPU (ctest:
# DeviceCheck.LibraryLookup). A fake pack holds one program that needs a fake cuDNN, cuBLAS
# (which needs cuBLASLt) and a library packed in lib/; a fake python answers for a fake venv.
# The sonames end in .99 so that no real library on this machine can stand in for a fake one.
#   tests/bench/device_check_test.sh [C compiler]
# Cases: the CUDA 13 wheel layout of the H200 (nvidia/cu13/lib + nvidia/cudnn/lib, no
# nvidia.cublas), the older one (nvidia/cublas/lib), no python at all (found by the search),
# and two that must stop with exit 3 naming what is missing: no cuDNN anywhere, and a cuDNN
# without the parts it loads at run time.
set -euo pipefail
for t in python3 ldd; do
  command -v "$t" > /dev/null || { echo "skipped: no $t on this machine"; exit 77; }
done
root=$(cd "$(dirname "$0")/../.." && pwd)
cc=${1:-cc}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

lib() {   # lib DIR SONAME [NEEDED...]: a shared library that ldd can resolve
  local dir=$1 so=$2 needed=() n
  shift 2
  for n in "$@"; do needed+=("-l:$n"); done
  mkdir -p "$dir"
  echo "int f_${so//[^a-zA-Z0-9]/_}(void) { return 0; }" > "$tmp/src.c"
  "$cc" -shared -fPIC -Wl,-soname,"$so" -Wl,--no-as-needed -o "$dir/$so" "$tmp/src.c" -L"$tmp/build" "${needed[@]}"
}
lib "$tmp/build" libcublasLt.so.99
lib "$tmp/build" libcublas.so.99 libcublasLt.so.99
lib "$tmp/build" libcudnn.so.99
lib "$tmp/build" libpacked.so.99
echo 'int main(void) { return 0; }' > "$tmp/main.c"
"$cc" -o "$tmp/prog" "$tmp/main.c" -Wl,--no-as-needed -Wl,-rpath-link,"$tmp/build" -L"$tmp/build" -l:libcudnn.so.99 -l:libcublas.so.99 -l:libpacked.so.99

# make_case NAME: a pack (every program is the fake one) and an empty venv; echoes its folder.
make_case() {
  local c=$tmp/$1 p
  mkdir -p "$c/pack/bin" "$c/pack/lib/fallback" "$c/pack/peer" "$c/venv/bin" "$c/site/nvidia"
  for p in loco ops_bench ops_test engine_test; do cp "$tmp/prog" "$c/pack/bin/$p"; done
  touch "$c/pack/peer/peer.py"
  cp "$tmp/build/libpacked.so.99" "$c/pack/lib/"
  # The device's python, and only its packages: -S drops this machine's site-packages.
  printf '#!/bin/sh\nPYTHONPATH=%s exec %s -S "$@"\n' "$c/site" "$(command -v python3)" > "$c/venv/bin/python3"
  chmod +x "$c/venv/bin/python3"
  echo "$c"
}
cudnn_parts() { for s in ops cnn graph heuristic engines_precompiled; do touch "$1/libcudnn_$s.so.99"; done; }
# check NAME WANT_RC CASE_DIR PATTERN...: runs device_check.sh --libs-only on the case (with the
# VAR=value words of CASE_ENV) and wants that exit status and a line matching each pattern.
CASE_ENV=()
check() {
  local name=$1 want=$2 c=$3 rc=0 p bad=""
  shift 3
  env PACK="$c/pack" OUT="$c/out" PYTHON="$c/venv/bin/python3" LIB_SEARCH_ROOTS="$c/nowhere" "${CASE_ENV[@]}" \
    bash "$root/bench/device_check.sh" --libs-only > "$c/log" 2>&1 || rc=$?
  [ "$rc" -eq "$want" ] || bad="exit $rc, not $want; "
  for p in "$@"; do grep -qE -- "$p" "$c/log" || bad+="no line matches /$p/; "; done
  if [ -n "$bad" ]; then
    echo "FAIL $name: $bad"
    sed 's/^/  | /' "$c/log"
    fails=$((fails + 1))
  else
    echo "ok   $name"
  fi
  CASE_ENV=()
}

# 1. The H200's layout: torch 2.11 cu130 wheels.
c=$(make_case cu13)
mkdir -p "$c/site/nvidia/cu13/lib" "$c/site/nvidia/cudnn/lib"
cp "$tmp/build/libcublas.so.99" "$tmp/build/libcublasLt.so.99" "$c/site/nvidia/cu13/lib/"
cp "$tmp/build/libcudnn.so.99" "$c/site/nvidia/cudnn/lib/"
cudnn_parts "$c/site/nvidia/cudnn/lib"
check "CUDA 13 wheels (nvidia/cu13/lib, nvidia/cudnn/lib)" 0 "$c" "^-- libs: ok" \
  "libcublasLt.so.99 => $c/site/nvidia/cu13/lib/" "libcudnn.so.99 => $c/site/nvidia/cudnn/lib/" \
  "libpacked.so.99 => $c/pack/lib/"

# 2. CUDA 12 wheels: regular packages nvidia.cublas and nvidia.cudnn.
c=$(make_case cu12)
mkdir -p "$c/site/nvidia/cublas/lib" "$c/site/nvidia/cudnn/lib"
touch "$c/site/nvidia/__init__.py" "$c/site/nvidia/cublas/__init__.py" "$c/site/nvidia/cudnn/__init__.py"
cp "$tmp/build/libcublas.so.99" "$tmp/build/libcublasLt.so.99" "$c/site/nvidia/cublas/lib/"
cp "$tmp/build/libcudnn.so.99" "$c/site/nvidia/cudnn/lib/"
cudnn_parts "$c/site/nvidia/cudnn/lib"
check "CUDA 12 wheels (nvidia/cublas/lib)" 0 "$c" "^-- libs: ok" \
  "libcublas.so.99 => $c/site/nvidia/cublas/lib/" "libcudnn.so.99 => $c/site/nvidia/cudnn/lib/"

# 3. No python that knows: found by the search of LIB_SEARCH_ROOTS.
c=$(make_case search)
mkdir -p "$c/roots/a/b/lib"
cp "$tmp/build/libcublas.so.99" "$tmp/build/libcublasLt.so.99" "$tmp/build/libcudnn.so.99" "$c/roots/a/b/lib/"
cudnn_parts "$c/roots/a/b/lib"
CASE_ENV=(PYTHON="$c/no-python" LIB_SEARCH_ROOTS="$c/roots")
check "no python: the search" 0 "$c" "^-- libs: ok" "search: libcudnn.so.99 in $c/roots/a/b/lib" \
  "libcublasLt.so.99 => $c/roots/a/b/lib/"

# 4. No cuDNN anywhere: stop at once, naming it, before any CUDA stage.
c=$(make_case missing)
mkdir -p "$c/site/nvidia/cu13/lib"
cp "$tmp/build/libcublas.so.99" "$tmp/build/libcublasLt.so.99" "$c/site/nvidia/cu13/lib/"
check "no cuDNN: stops naming libcudnn.so.99" 3 "$c" "^MISSING" "^  libcudnn.so.99 \(not found\)" \
  "^-- libs: missing: .*libcudnn.so.99"
[ ! -e "$c/out/tests.log" ] || { echo "FAIL no cuDNN: a CUDA stage ran"; fails=$((fails + 1)); }

# 5. A cuDNN without its run-time parts.
c=$(make_case parts)
mkdir -p "$c/site/nvidia/cu13/lib" "$c/site/nvidia/cudnn/lib"
cp "$tmp/build/libcublas.so.99" "$tmp/build/libcublasLt.so.99" "$c/site/nvidia/cu13/lib/"
cp "$tmp/build/libcudnn.so.99" "$c/site/nvidia/cudnn/lib/"
check "cuDNN without libcudnn_cnn: stops naming it" 3 "$c" "^  libcudnn_cnn.so.99 \(not beside"

[ "$fails" -eq 0 ] || { echo "$fails case(s) failed"; exit 1; }
echo "all cases passed"
