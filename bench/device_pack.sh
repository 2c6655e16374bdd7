#!/usr/bin/env bash
# Prepares the GPU run here, on the CPU machine, so that the lent H200 spends its minutes running,
# not building: that machine has nvcc and cmake but none of Eigen, CLI11, nlohmann-json, stb,
# GoogleTest or Google Benchmark, and nothing can be installed there.
#   bench/device_pack.sh            build for sm_90 (Release) in build-device-pack, fill device-pack/
#   CUDA_ARCH=90 JOBS=2 PACK=device-pack BUILD_DIR=build-device-pack bench/device_pack.sh
# device-pack/ (git-ignored, carried to the device with the run tool's `carry`) holds only what
# bench/device_check.sh needs there:
#   bin/      loco, ops_bench, ops_test, engine_test (stripped; the two gtest binaries hold every
#             CUDA test: CudaVsCpu.* and IoTest.SafetensorsSavesCudaTensorsThroughTheHost;
#             device_check.sh runs ops_bench's CUDA benchmarks, --benchmark_filter=_cuda)
#   lib/      libbenchmark.so.1debian: Debian ships Google Benchmark only as a shared library
#   lib/fallback/  libgomp.so.1 and libz.so.1 from here, used there only if the device lacks them
#   peer/peer.py   ../shared/peer/peer.py (../shared does not travel), its --generated images
#             drawn on the CPU (see below)
#   MANIFEST  commit, flags, the cuDNN/cuBLAS versions built against, each program's NEEDED list
# No CTest files and no data: device_check.sh runs the gtest binaries directly (CTest files hold
# this build's absolute paths), the CUDA tests draw their inputs from Philox, and the timing runs
# use `--generated` images. Build choices that only the pack makes (the default build is
# untouched): cudart linked statically (the CUDA::cudart library pointed at libcudart_static.a,
# one shared library fewer to find there), host code for x86-64-v3 instead of -march=native, and
# no MPI (one GPU there, and no OpenMPI libraries to load).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-device-pack}
PACK=${PACK:-device-pack}
ARCH=${CUDA_ARCH:-90}
JOBS=${JOBS:-2}
PEER=${PEER:-../shared/peer/peer.py}
LIMIT_MIB=${LIMIT_MIB:-60}   # the device tool takes 64 MiB in all: checkout + carried paths
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
export OMP_WAIT_POLICY=PASSIVE

die() { echo "device_pack: $*" >&2; exit 1; }
mkdir -p "$PACK"
git check-ignore -q "$PACK" || die "$PACK/ is not git-ignored: it would travel twice (add it to .gitignore)"
[ -f "$PEER" ] || die "no peer at $PEER (set PEER=path/to/peer.py)"
cudart_static=$(ls "$CUDA_HOME"/lib/libcudart_static.a "$CUDA_HOME"/lib64/libcudart_static.a \
                   "$CUDA_HOME"/targets/x86_64-linux/lib/libcudart_static.a 2>/dev/null | head -1) ||
  true
[ -n "$cudart_static" ] || die "no libcudart_static.a under $CUDA_HOME"

launcher=()
if command -v ccache > /dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_CUDA_COMPILER_LAUNCHER=ccache)
fi
echo "== configure $BUILD_DIR (sm_$ARCH, Release, static cudart, x86-64-v3)"
mkdir -p "$BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DLOCO_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES="$ARCH" \
      -DLOCO_MPI=OFF -DLOCO_NATIVE=OFF -DCMAKE_CXX_FLAGS=-march=x86-64-v3 -DCUDA_cudart_LIBRARY="$cudart_static" \
      "${launcher[@]}" > "$BUILD_DIR/pack-configure.log" 2>&1 || { tail -30 "$BUILD_DIR/pack-configure.log"; exit 1; }

echo "== build loco ops_bench ops_test engine_test (-j $JOBS)"
t0=$(date +%s)
cmake --build "$BUILD_DIR" -j "$JOBS" --target loco ops_bench ops_test engine_test > "$BUILD_DIR/pack-build.log" 2>&1 ||
  { tail -40 "$BUILD_DIR/pack-build.log"; exit 1; }
echo "built in $(( $(date +%s) - t0 )) s"

rm -rf "$PACK"
mkdir -p "$PACK/bin" "$PACK/lib/fallback" "$PACK/peer"
for p in loco bench/ops_bench tests/ops_test tests/engine_test; do
  cp "$BUILD_DIR/$p" "$PACK/bin/"
  strip --strip-unneeded "$PACK/bin/$(basename "$p")"
done
cp "$PEER" "$PACK/peer/peer.py"
chmod u+w "$PACK/peer/peer.py"
# peer.py's --generated draws its images with a CPU torch.Generator, but its --device cuda sets
# torch.set_default_device('cuda'), so torch.randn would ask that CPU generator for CUDA numbers,
# which PyTorch refuses ("Expected a 'cuda' device type for generator"). The pack's copy draws
# them on the CPU, the numbers of --device cpu, and peer moves them to the GPU as before.
sed -i 's/torch\.randn(\([^)]*\), generator=g)/torch.randn(\1, generator=g, device="cpu")/g' "$PACK/peer/peer.py"
peer_note="copied from $PEER"
if ! cmp -s "$PEER" "$PACK/peer/peer.py"; then
  peer_note+=", --generated images drawn on the CPU ($(grep -o 'generator=g, device="cpu"' "$PACK/peer/peer.py" | wc -l) randn calls)"
  echo "peer.py: the pack's copy draws --generated images on the CPU (see device_pack.sh)"
fi

# The shared libraries the programs need that are neither system, CUDA nor the device's venv.
lib_of() { ldd "$PACK/bin/$1" | awk -v so="$2" '$1 == so && $3 ~ /^\// { print $3 }'; }
bm=$(lib_of ops_bench libbenchmark.so.1debian)
[ -n "$bm" ] && cp -L "$bm" "$PACK/lib/"
for so in libgomp.so.1 libz.so.1; do
  f=$(lib_of engine_test "$so")
  [ -n "$f" ] && cp -L "$f" "$PACK/lib/fallback/"
done

# What the device needs to provide, for device_check.sh to check against (it uses ldd itself).
version_of() {   # header, macro prefix, suffixes: "9.19.0"
  local h=$1 pre=$2
  shift 2
  [ -f "$h" ] || { echo "?"; return; }
  local v="" x
  for x in "$@"; do v+="${v:+.}$(awk -v m="$pre$x" '$1 == "#define" && $2 == m { print $3 }' "$h")"; done
  echo "$v"
}
cudnn_h=$(ls "$CUDA_HOME"/include/cudnn_version.h /usr/include/cudnn_version.h 2> /dev/null | head -1 || true)
cudnn_v=$(version_of "${cudnn_h:-none}" CUDNN_ MAJOR MINOR PATCHLEVEL)
cublas_v=$(version_of "$CUDA_HOME/include/cublas_api.h" CUBLAS_VER_ MAJOR MINOR PATCH)
{
  echo "commit      $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . ':!device-pack' || echo ' (uncommitted changes)')"
  echo "made        $(date -u +'%Y-%m-%d %H:%M UTC') on $(hostname)"
  echo "build       Release, CMAKE_CUDA_ARCHITECTURES=$ARCH, static cudart, -march=x86-64-v3"
  echo "nvcc        $("$CUDA_HOME"/bin/nvcc --version | sed -n 's/.*release \([0-9.]*\).*/\1/p')"
  echo "cudnn_built $cudnn_v"
  echo "cublas_built $cublas_v"
  echo "peer        $peer_note"
  echo "glibc_max   $(objdump -T "$PACK"/bin/* | grep -oE 'GLIBC_[0-9.]+' | sort -uV | tail -1)"
  for b in "$PACK"/bin/*; do
    echo "needed      $(basename "$b"): $(readelf -d "$b" | sed -n 's/.*NEEDED.*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
  done
} > "$PACK/MANIFEST"
# Each program carries sm_$ARCH code (the fatbin's ptxas options name it; the code itself is
# compressed): a wrong arch would only show there, as "no kernel image is available".
for b in "$PACK"/bin/*; do
  grep -aq -- "-arch sm_$ARCH " "$b" || die "$(basename "$b") holds no sm_$ARCH code"
done
cat "$PACK/MANIFEST"

# Size: the checkout that travels (tracked + untracked-not-ignored files) plus the pack.
pack_b=$(du -sb "$PACK" | cut -f1)
tree_b=$(git ls-files -z --cached --others --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null |
         awk '{ s += $1 } END { print s + 0 }')
mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
echo "== size: pack $(mib "$pack_b") MiB + checkout $(mib "$tree_b") MiB = $(mib $((pack_b + tree_b))) MiB (limit $LIMIT_MIB of 64)"
du -b "$PACK"/bin/* "$PACK"/lib/*.so* "$PACK"/lib/fallback/* | awk '{ printf "  %6.1f MiB  %s\n", $1 / 1048576, $2 }'
[ $((pack_b + tree_b)) -le $((LIMIT_MIB * 1048576)) ] ||
  die "pack + checkout is over $LIMIT_MIB MiB: the device tool refuses more than 64"

cat << EOF

== the device call: one run of the device tool, from this checkout (the tool sends the session's
   own checkout: make the pack there). device_check.sh ends within 420 s; timeout_s leaves 60 s
   more. The table comes back in \$OUT/table.txt, the whole output in \$OUT/summary.txt.
   command:   bash bench/device_check.sh
   carry:     ["$PACK"]
   timeout_s: 480
== first, here (no GPU: each CUDA stage reports so, and the table is still printed):
   bash bench/device_check.sh --dry-run
EOF
