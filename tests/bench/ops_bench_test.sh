#!/usr/bin/env bash
# bench/ops_bench kept honest where nobody reads its numbers (ctest: OpsBench.*):
#   tests/bench/ops_bench_test.sh names PATH/TO/ops_bench
#       every benchmark is BM_<kernel>_<cpu|cuda>/<shape>, and every CUDA one has a CPU twin
#   tests/bench/ops_bench_test.sh checks PATH/TO/ops_bench
#       every benchmark but conv2d's runs once, tiny min_time, and passes its reference check:
#       no error but "no CUDA device visible" (a CUDA build without a GPU). conv2d's are left out
#       because they ask for 1 s each (MinTime); ops_test checks those ops, and their benchmarks
#       check against the same naive loop at N = 1.
# Nothing is timed: a loaded machine makes it slower, not wrong.
set -euo pipefail
mode=${1:?names|checks}
bin=${2:?path to ops_bench}
export OMP_WAIT_POLICY=PASSIVE
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

case "$mode" in
  names)
    "$bin" --benchmark_list_tests > "$tmp/names"
    n=$(wc -l < "$tmp/names")
    [ "$n" -gt 0 ] || { echo "FAIL: no benchmarks listed"; exit 1; }
    bad=$(grep -vE '^BM_[a-z0-9_]+_(cpu|cuda)/' "$tmp/names" || true)
    [ -z "$bad" ] || { echo "FAIL: not BM_<kernel>_<cpu|cuda>/<shape>:"; echo "$bad" | sed 's/^/  /'; exit 1; }
    sed -nE 's#^BM_([a-z0-9_]+)_cuda/.*#\1#p' "$tmp/names" | sort -u > "$tmp/cuda"
    sed -nE 's#^BM_([a-z0-9_]+)_cpu/.*#\1#p' "$tmp/names" | sort -u > "$tmp/cpu"
    lonely=$(comm -23 "$tmp/cuda" "$tmp/cpu")
    [ -z "$lonely" ] || { echo "FAIL: CUDA benchmarks without a CPU twin: $lonely"; exit 1; }
    echo "ok: $n benchmarks, $(wc -l < "$tmp/cpu") CPU kernels, $(wc -l < "$tmp/cuda") CUDA twins"
    ;;
  checks)
    "$bin" --benchmark_filter=-conv2d --benchmark_min_time=0.001 --benchmark_format=json > "$tmp/out.json" \
      2> "$tmp/err" || { echo "FAIL: exit $?"; cat "$tmp/err"; exit 1; }
    n=$(grep -c '"name"' "$tmp/out.json" || true)
    [ "$n" -gt 0 ] || { echo "FAIL: no benchmark ran"; exit 1; }
    # "name" comes before "error_message" in each benchmark's record.
    awk -F'"' '$2 == "name" { name = $4 } $2 == "error_message" { print name ": " $4 }' "$tmp/out.json" \
      > "$tmp/errors"
    if grep -v ': no CUDA device visible$' "$tmp/errors" > "$tmp/wrong"; then
      echo "FAIL: benchmarks whose result failed its check:"
      sed 's/^/  /' "$tmp/wrong"
      exit 1
    fi
    echo "ok: $n benchmarks checked out ($(wc -l < "$tmp/errors") skipped: no CUDA device visible)"
    ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac
