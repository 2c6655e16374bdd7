#!/usr/bin/env bash
# The GPU check, in one call (≤ 8 min on an H200): build with CUDA (or reuse a build made on the
# CPU machine and carried along), run every CUDA test, run the CUDA kernel benchmarks and the
# end-to-end units on CUDA, and print one table. Logs and JSON go to $OUT (default
# $BUILD_DIR/device-check).
#   bench/device_check.sh                 build in build-device unless it holds a CUDA build
#   BUILD_DIR=build-cuda bench/device_check.sh
# cuDNN and cuBLAS are taken from the toolkit, or from a Python venv's site-packages/nvidia/*/lib
# when the machine has them there. To carry a build made on a CPU machine (the device tool takes
# 64 MiB): `find build-cuda -name '*.o' -delete` first; ctest needs only the binaries and the
# CTest files.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-device}
OUT=${OUT:-$BUILD_DIR/device-check}
JOBS=${JOBS:-$(nproc)}
export OMP_WAIT_POLICY=PASSIVE

for d in $(ls -d /usr/local/lib/python3*/site-packages/nvidia/*/lib /opt/*/lib/python3*/site-packages/nvidia/*/lib \
             "${VIRTUAL_ENV:-/nonexistent}"/lib/python3*/site-packages/nvidia/*/lib 2>/dev/null); do
  LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}

echo "== device"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || echo "nvidia-smi: not found"
date -u +"%Y-%m-%d %H:%M UTC"

if [ ! -x "$BUILD_DIR/bench/cuda_bench" ]; then
  echo "== build ($BUILD_DIR, sm_${CUDA_ARCH:-90})"
  t0=$(date +%s)
  cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DLOCO_CUDA=ON \
        -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCH:-90}" > /dev/null
  cmake --build "$BUILD_DIR" -j "$JOBS" > "$BUILD_DIR/build.log" 2>&1 || { tail -40 "$BUILD_DIR/build.log"; exit 1; }
  echo "built in $(( $(date +%s) - t0 )) s"
fi
mkdir -p "$OUT"

echo "== CUDA tests"
# Every test that touches CUDA: the CudaVsCpu suites and the CUDA cases of the engine tests.
set +e
ctest --test-dir "$BUILD_DIR" -R "Cuda" -j 4 --timeout 300 --output-on-failure > "$OUT/tests.log" 2>&1
tests_rc=$?
set -e
grep -E "tests passed|tests failed|\(Failed\)|Not Run|Timeout|Exception" "$OUT/tests.log" | tail -25

echo "== CUDA kernel benchmarks"
"$BUILD_DIR/bench/cuda_bench" --benchmark_min_time=0.2 --benchmark_format=json \
    --benchmark_out="$OUT/cuda_bench.json" --benchmark_out_format=json > "$OUT/cuda_bench.txt" 2>&1 ||
  tail -3 "$OUT/cuda_bench.txt"

echo "== end-to-end units on CUDA (loco bench)"
"$BUILD_DIR/loco" bench --device cuda --reps 5 > "$OUT/loco_bench_cuda.jsonl" 2> "$OUT/loco_bench_cuda.log" ||
  tail -3 "$OUT/loco_bench_cuda.log"

python3 bench/device_table.py "$OUT/cuda_bench.json" "$OUT/loco_bench_cuda.jsonl"
exit $tests_rc
