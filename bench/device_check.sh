#!/usr/bin/env bash
# The GPU run, in one call of the device tool, from a pack made here by bench/device_pack.sh
# (the H200 has no Eigen, CLI11, json, stb, gtest or benchmark, so nothing is built there):
#   run(command="bash bench/device_check.sh", carry=["device-pack"], timeout_s=480)
#   bash bench/device_check.sh --dry-run    here, on a CPU machine: every path, the library lookup
#                                           and the table, each CUDA stage reporting no device
#   bash bench/device_check.sh --libs-only  the library lookup and ldd alone
# Env: PACK (device-pack), OUT (the tool's; else build-device-check), PYTHON (python3),
# DEADLINE_S (420), REPS (5), UNITS (all), LIB_SEARCH_ROOTS.
#
# Stages, each bounded by `timeout` and all of them by DEADLINE_S, so that the run with the
# machine's start stays under 8 minutes of device time:
#   libs    find the device's cuBLAS and cuDNN, ldd every program; stop at once on a missing one
#   tests   the gtest binaries run directly with --gtest_filter='*Cuda*' (every CudaVsCpu test and
#           IoTest.SafetensorsSavesCudaTensorsThroughTheHost), both at once, one log each. Not
#           ctest: the CTest files hold the absolute paths of the build made here, and
#           gtest_discover_tests would run every binary again at ctest time.
#   kernels ops_bench --benchmark_filter=_cuda: every CUDA kernel, and the copy and SGEMM
#           ceilings in the same run
#   loco    loco bench --device cuda --generated (images of Fashion-MNIST's shape from Philox)
#   peer    the same units through peer.py --device cuda --generated on the device's PyTorch
# then bench/device_table.py: kernels against the ceilings, each unit loco against PyTorch eager.
#
# The library lookup. The device's python3 (/opt/torch/.venv) is asked where its nvidia packages
# are: with CUDA 13 wheels cuBLAS and cudart sit in nvidia/cu13/lib and cuDNN in
# nvidia/cudnn/lib (there is no nvidia.cublas), so every nvidia/*/lib is a candidate, best first.
# A soname that ldd cannot find is taken from the first candidate that holds it, then from the
# pack's lib/fallback, then from a bounded search of LIB_SEARCH_ROOTS. These directories are put
# on LD_LIBRARY_PATH for loco's programs only; peer.py keeps the environment it was given, so
# torch loads its own libraries.
#
# $OUT gets 7 files, no folders (the tool returns at most 8): summary.txt (this output),
# table.txt, tests.log, ops_bench.json, loco_bench.jsonl, peer_bench.jsonl and logs.tar.gz
# (each binary's log and XML, each stage's stderr, ldd's output, nvidia-smi).
# Exit: 0 when every stage passed; 1 when one failed; 3 when a library or pack file is missing.
# With --dry-run: 0 when the pack is complete, its libraries resolve and the table was printed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
DRY_RUN=${DRY_RUN:-0}
LIBS_ONLY=0
for a in "$@"; do
  case "$a" in
    --dry-run) DRY_RUN=1 ;;
    --libs-only) LIBS_ONLY=1 ;;
    *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
PACK=${PACK:-device-pack}
[ -d "$PACK" ] && PACK=$(cd "$PACK" && pwd)   # absolute: it goes on LD_LIBRARY_PATH
OUT=${OUT:-build-device-check}
PYTHON=${PYTHON:-python3}
DEADLINE_S=${DEADLINE_S:-420}
REPS=${REPS:-5}
UNITS=${UNITS:-}
LIB_SEARCH_ROOTS=${LIB_SEARCH_ROOTS:-/opt /usr/local /usr/lib /usr/lib64 /root}
PROGRAMS=(loco ops_bench ops_test engine_test)
KERNELS_FILTER=_cuda   # ops_bench's CUDA twins and ceilings (BM_<kernel>_cuda)
TESTS=(ops_test engine_test)
export OMP_WAIT_POLICY=PASSIVE PYTHONUNBUFFERED=1
T0=$(date +%s)
mkdir -p "$OUT"
# Here OUT outlives a run: drop the last run's files, so that a table never shows stale results.
rm -f "$OUT"/{summary.txt,table.txt,tests.log,ops_bench.json,loco_bench.jsonl,peer_bench.jsonl,logs.tar.gz}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/device-check.XXXXXX")
exec > >(tee "$OUT/summary.txt") 2>&1
TEE=$!

# ---- bookkeeping ----------------------------------------------------------------------------
elapsed() { echo $(( $(date +%s) - T0 )); }
declare -A STATUS=()
ORDER=()
note() { ORDER+=("$1"); STATUS[$1]=$2; }   # ok | no device: … | failed: … | missing: …
NO_DEVICE='no CUDA device|no usable GPU|CUDA driver|no NVIDIA|cudaErrorNoDevice|cudaErrorInsufficientDriver|Found no NVIDIA driver|CUDA is not available|Torch not compiled with CUDA'
# Why a stage failed, in one line: no device, or the last line of its log that looks like an error.
reason() {
  if grep -qE "$NO_DEVICE" "$1" 2> /dev/null; then
    echo "no device: $(grep -m1 -oE ".{0,40}($NO_DEVICE).{0,60}" "$1")"
  else
    echo "failed: $(grep -iE 'error|not found|no module|unknown|expected|exception|fatal' "$1" | tail -1 | cut -c1-160)"
  fi
}
timed_out() { [ "$1" -eq 124 ] || [ "$1" -eq 137 ]; }

# stage NAME SECONDS FUNCTION: runs FUNCTION with $B seconds (cut to what DEADLINE_S leaves,
# 10 s kept for the table) and prints its status and wall time.
stage() {
  local name=$1 want=$2 fn=$3 t left
  t=$(date +%s)
  left=$(( DEADLINE_S - $(elapsed) - 10 ))
  B=$(( want < left ? want : left ))
  if [ "$B" -lt 5 ]; then
    note "$name" "failed: not started, the deadline ($DEADLINE_S s) is near"
  else
    "$fn"
  fi
  echo "-- $name: ${STATUS[$name]} ($(( $(date +%s) - t )) s; $(elapsed) s in all)"
}

finish() {   # the stage list, the logs tarball, the file count; then the exit status
  echo "== stages"
  local worst=0 s n rc=0
  for s in "${ORDER[@]}"; do
    printf '  %-8s %s\n' "$s" "${STATUS[$s]}"
    case "${STATUS[$s]}" in
      ok*) ;;
      missing*) worst=3 ;;
      *) [ "$worst" -eq 0 ] && worst=1 ;;
    esac
  done
  tar -C "$WORK" -czf "$OUT/logs.tar.gz" . 2> /dev/null
  rm -rf "$WORK"
  n=$(find "$OUT" -type f | wc -l)
  [ "$n" -le 8 ] || echo "WARNING: $n files in $OUT; the device tool returns 8"
  find "$OUT" -type f -size +15M -exec echo "WARNING: over 16 MiB, will not come back:" {} \;
  echo "== done in $(elapsed) s (deadline $DEADLINE_S s); in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
  if [ "$DRY_RUN" = 1 ]; then
    if [ "$worst" -eq 3 ]; then echo "dry run: FAILED (a pack file or a library is missing)"; rc=1
    else echo "dry run: OK (pack complete, libraries resolve, table reached; the CUDA stages need a GPU)"; fi
  elif [ "$worst" -eq 0 ]; then echo "device check: every stage passed$([ "$LIBS_ONLY" = 1 ] && echo ' (--libs-only)')"
  else echo "device check: FAILED (see the stages above)"; rc=$worst; fi
  exec > /dev/null 2>&1   # closes the pipe, so that tee writes the end of summary.txt
  wait "$TEE" 2> /dev/null
  exit "$rc"
}

# ---- libs -----------------------------------------------------------------------------------
# Candidate library directories from the python that holds torch, best first. find_spec imports
# nothing but the `nvidia` namespace, so this takes a fraction of a second.
python_lib_dirs() {
  timeout 20 "$PYTHON" - 2> /dev/null << 'EOF'
import glob, importlib.util, os
seen = []
def add(d):
    if os.path.isdir(d) and d not in seen:
        seen.append(d)
def spec_dirs(name):
    try:
        s = importlib.util.find_spec(name)
    except Exception:
        return []
    return list(s.submodule_search_locations or []) if s else []
for sub in ('cudnn', 'cublas', 'cu13', 'cuda_runtime', 'cuda_nvrtc', 'nvjitlink'):
    for d in spec_dirs('nvidia.' + sub):
        add(os.path.join(d, 'lib'))
for d in spec_dirs('nvidia'):
    for lib in sorted(glob.glob(os.path.join(d, '*', 'lib'))):
        add(lib)
for d in spec_dirs('torch'):
    add(os.path.join(d, 'lib'))
print('\n'.join(seen))
EOF
}
# The versions of the device's wheels (metadata only: nothing is imported).
python_versions() {
  timeout 20 "$PYTHON" - 2> /dev/null << 'EOF'
from importlib import metadata
out = []
for d in ('torch', 'nvidia-cudnn-cu13', 'nvidia-cudnn-cu12', 'nvidia-cublas', 'nvidia-cublas-cu12', 'nvidia-cuda-runtime'):
    try:
        out.append('%s %s' % (d, metadata.version(d)))
    except Exception:
        pass
print(', '.join(out))
EOF
}
prepend() { case ":$LIBPATH:" in *":$1:"*) ;; *) LIBPATH="$1:$LIBPATH" ;; esac; }
run_ldd() {   # every program into $WORK/ldd.txt, its "not found" lines and version errors too
  : > "$WORK/ldd.txt"
  local p
  for p in "${PROGRAMS[@]}"; do
    echo "## $p" >> "$WORK/ldd.txt"
    LD_LIBRARY_PATH=$LIBPATH ldd "$PACK/bin/$p" >> "$WORK/ldd.txt" 2>&1 || echo "ldd failed on $p" >> "$WORK/ldd.txt"
  done
}
missing_sonames() { awk '/=> not found/ { print $1 }' "$WORK/ldd.txt" | sort -u; }
findable() {   # a library loaded with dlopen: on LIBPATH or in ld.so's cache
  local d
  for d in ${LIBPATH//:/ }; do [ -e "$d/$1" ] && return 0; done
  ldconfig -p 2> /dev/null | grep -q "^[[:space:]]*$1 "
}

libs() {
  local p so d f problems="" cudnn cudnn_so major
  for p in "${PROGRAMS[@]}"; do
    [ -f "$PACK/bin/$p" ] && [ ! -x "$PACK/bin/$p" ] && chmod +x "$PACK/bin/$p"   # a copy may drop the bit
    [ -x "$PACK/bin/$p" ] || problems+="$PACK/bin/$p "
  done
  [ -f "$PACK/peer/peer.py" ] || problems+="$PACK/peer/peer.py "
  if [ -n "$problems" ]; then
    note libs "missing: ${problems}(make the pack with bench/device_pack.sh and carry $PACK)"
    return
  fi
  if ! command -v "$PYTHON" > /dev/null; then
    for p in /opt/torch/.venv/bin/python3 /opt/*/.venv/bin/python3 /opt/*/bin/python3; do
      [ -x "$p" ] && { PYTHON=$p; break; }
    done
  fi
  mapfile -t CANDIDATES < <(python_lib_dirs | sed '/^$/d')
  CANDIDATES+=("$PACK/lib/fallback")
  echo "python: $(command -v "$PYTHON" || echo "$PYTHON (not found)"); candidate library dirs:"
  printf '  %s\n' "${CANDIDATES[@]}"
  run_ldd
  for so in $(missing_sonames); do
    for d in "${CANDIDATES[@]}"; do [ -e "$d/$so" ] && { prepend "$d"; break; }; done
  done
  run_ldd
  for so in $(missing_sonames); do
    # shellcheck disable=SC2086  # LIB_SEARCH_ROOTS is a list
    f=$(timeout 20 find $LIB_SEARCH_ROOTS -maxdepth 9 -name "$so" \( -type f -o -type l \) -print -quit 2> /dev/null)
    [ -n "$f" ] && { echo "  search: $so in $(dirname "$f")"; prepend "$(dirname "$f")"; }
  done
  run_ldd
  # Loaded with dlopen, so ldd cannot see them: the driver, nvrtc (for cuDNN's runtime-compiled
  # engines) and cuDNN's parts, which libcudnn.so.N loads from its own directory.
  for so in libcuda.so.1 libnvrtc.so.13; do
    findable "$so" && continue
    for d in "${CANDIDATES[@]}" /usr/local/nvidia/lib64 /usr/lib/x86_64-linux-gnu /usr/lib64; do
      [ -e "$d/$so" ] && { prepend "$d"; break; }
    done
  done
  problems=$(missing_sonames | sed 's/$/ (not found)/')
  problems+=$'\n'$(grep -oE "version \`[^']+' not found \(required by [^)]+\)" "$WORK/ldd.txt" | sort -u)
  grep -q "ldd failed\|not a dynamic executable" "$WORK/ldd.txt" && problems+=$'\n'"ldd failed (see ldd.txt)"
  read -r cudnn_so cudnn < <(awk '$1 ~ /^libcudnn\.so\.[0-9]+$/ && $3 ~ /^\// { print $1, $3; exit }' "$WORK/ldd.txt")
  if [ -n "${cudnn:-}" ]; then
    major=${cudnn_so##*.so.}
    for so in ops cnn graph heuristic engines_precompiled; do
      [ -e "$(dirname "$cudnn")/libcudnn_$so.so.$major" ] ||
        problems+=$'\n'"libcudnn_$so.so.$major (not beside $cudnn; cuDNN loads it at run time)"
    done
  fi
  problems=$(sed '/^$/d' <<< "$problems")
  findable libnvrtc.so.13 || echo "warning: no libnvrtc.so.13 (only cuDNN's runtime-compiled engines need it)"
  findable libcuda.so.1 || echo "warning: no driver library (libcuda.so.1): the CUDA stages will report no device"
  echo "LD_LIBRARY_PATH for loco's programs: $LIBPATH"
  grep -E "=> " "$WORK/ldd.txt" | grep -vE "^\s*(lib(c|m|dl|rt|pthread|gcc_s|stdc\+\+)\.so|linux-vdso|/lib)" |
    sed 's/ (0x.*//; s/^[[:space:]]*/  /' | sort -u
  if [ -n "$problems" ]; then
    echo "MISSING (nothing else was run):"
    sed 's/^/  /' <<< "$problems"
    note libs "missing: $(awk '{ print $1 }' <<< "$problems" | sort -u | paste -sd ' ')"
    return
  fi
  # cuDNN promises to run a program built against 9.x only on 9.x or newer: warn, don't stop.
  local built have
  built=$(awk '$1 == "cudnn_built" { print $2 }' "$PACK/MANIFEST" 2> /dev/null)
  have=$(python_versions)
  echo "built against cuDNN ${built:-?}; the device's python has: ${have:-no nvidia wheels}"
  f=$(grep -oE 'nvidia-cudnn-cu[0-9]+ [0-9]+\.[0-9]+' <<< "$have" | head -1 | awk '{ print $2 }')
  if [ -n "$f" ] && [ -n "$built" ] && [[ ${cudnn:-} == *nvidia/cudnn* ]] &&
     [ "${f%%.*}" = "${built%%.*}" ] && [ "${f#*.}" -lt "$(cut -d. -f2 <<< "$built")" ]; then
    echo "warning: the device's cuDNN $f is older than the $built built against (cuDNN runs programs built against the same or an older 9.x)"
  fi
  note libs ok
}

# ---- tests, kernels, loco, peer ---------------------------------------------------------------
on_loco_path() { env LD_LIBRARY_PATH="$LIBPATH" "$@"; }

tests() {
  local p pid i=0 rcs=() pids=() summary="" ran passed skipped failed
  for p in "${TESTS[@]}"; do
    on_loco_path timeout -k 5 "$B" "$PACK/bin/$p" --gtest_filter='*Cuda*' --gtest_output="xml:$WORK/$p.xml" \
      > "$WORK/$p.log" 2>&1 &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; rcs+=($?); done
  : > "$OUT/tests.log"
  for p in "${TESTS[@]}"; do
    { echo "######## $p (exit ${rcs[$i]})"; cat "$WORK/$p.log"; } >> "$OUT/tests.log"
    ran=$(grep -oE '^\[==========\] [0-9]+ tests? from .* ran' "$WORK/$p.log" | grep -oE '[0-9]+' | head -1)
    passed=$(grep -oE '^\[  PASSED  \] [0-9]+' "$WORK/$p.log" | grep -oE '[0-9]+$')
    skipped=$(grep -oE '^\[  SKIPPED \] [0-9]+ tests?,' "$WORK/$p.log" | grep -oE '[0-9]+')
    failed=$(grep -oE '^ ?[0-9]+ FAILED TESTS?' "$WORK/$p.log" | grep -oE '[0-9]+')
    echo "$p: ${ran:-0} run, ${passed:-0} passed, ${skipped:-0} skipped, ${failed:-0} failed (exit ${rcs[$i]})"
    grep -E '^\[  FAILED  \] [A-Za-z]' "$WORK/$p.log" | sort -u | head -20 | sed 's/^/  /'
    if timed_out "${rcs[$i]}"; then summary+="$p timed out after $B s; "
    elif [ "${ran:-0}" -eq 0 ]; then summary+="$p ran no test (exit ${rcs[$i]}); "
    elif [ "${failed:-0}" -gt 0 ] || [ "${rcs[$i]}" -ne 0 ]; then summary+="$p: ${failed:-?} failed; "
    elif [ "${skipped:-0}" -gt 0 ]; then
      summary+="$p: $skipped skipped ($(grep -m1 -A1 ': Skipped$' "$WORK/$p.log" | tail -1)); "
    fi
    i=$((i + 1))
  done
  summary=${summary%; }
  if [ -z "$summary" ]; then note tests ok
  elif ! grep -qE 'failed|timed out|ran no' <<< "$summary" && grep -qE "$NO_DEVICE" <<< "$summary"; then
    note tests "no device: $summary"
  else note tests "failed: $summary"; fi
}

kernels() {
  local rc n nerr
  on_loco_path timeout -k 5 "$B" "$PACK/bin/ops_bench" --benchmark_filter="$KERNELS_FILTER" --benchmark_min_time=0.05 \
    --benchmark_out="$OUT/ops_bench.json" --benchmark_out_format=json > "$WORK/ops_bench.txt" 2>&1
  rc=$?
  n=$(grep -c '"name"' "$OUT/ops_bench.json" 2> /dev/null)
  nerr=$(grep -c '"error_occurred": true' "$OUT/ops_bench.json" 2> /dev/null)
  echo "ops_bench --benchmark_filter=$KERNELS_FILTER: exit $rc, ${n:-0} benchmarks, ${nerr:-0} with an error"
  if timed_out "$rc"; then note kernels "failed: timed out after $B s"
  elif [ "$rc" -ne 0 ] || [ "${n:-0}" -eq 0 ]; then note kernels "$(reason "$WORK/ops_bench.txt")"
  elif [ "$nerr" -eq "$n" ] && grep -qE "$NO_DEVICE" "$OUT/ops_bench.json"; then
    note kernels "no device: every benchmark skipped ($(grep -m1 -oE "(${NO_DEVICE})[^\"]*" "$OUT/ops_bench.json"))"
  elif [ "$nerr" -gt 0 ]; then note kernels "failed: $nerr benchmarks gave an error (see the table)"
  else note kernels ok; fi
}

UNITS_FLAG=()
[ -n "$UNITS" ] && UNITS_FLAG=(--units "$UNITS")
# unit_stage NAME OUTFILE ERRFILE COMMAND...: one JSON line per unit.
unit_stage() {
  local name=$1 out=$2 err=$3 rc n
  shift 3
  timeout -k 5 "$B" "$@" > "$out" 2> "$err"
  rc=$?
  n=$(grep -c '"unit"' "$out")
  echo "$name: exit $rc, $n units"
  tail -2 "$err" | sed 's/^/  /'
  if timed_out "$rc"; then note "$name" "failed: timed out after $B s ($n units done)"
  elif [ "$rc" -ne 0 ]; then note "$name" "$(reason "$err")"
  elif [ "$n" -eq 0 ]; then note "$name" "failed: no unit lines"
  else note "$name" ok; fi
}
loco() {
  on_loco_path "$PACK/bin/loco" bench --help 2>&1 | grep -q -- --generated ||
    echo "WARNING: this loco has no 'bench --generated'; without a dataset there it gives no units"
  unit_stage loco "$OUT/loco_bench.jsonl" "$WORK/loco_bench.err" env LD_LIBRARY_PATH="$LIBPATH" \
    "$PACK/bin/loco" bench --generated --dataset FashionMNIST --device cuda --reps "$REPS" "${UNITS_FLAG[@]}"
}
peer() {
  echo "python: $("$PYTHON" --version 2>&1)"
  unit_stage peer "$OUT/peer_bench.jsonl" "$WORK/peer_bench.err" env LD_LIBRARY_PATH="$ORIG_LD_LIBRARY_PATH" \
    "$PYTHON" "$PACK/peer/peer.py" --device cuda --generated --threads "$(nproc)" bench --reps "$REPS" "${UNITS_FLAG[@]}"
}

# ---- the run --------------------------------------------------------------------------------
echo "== device ($(date -u +'%Y-%m-%d %H:%M UTC')$([ "$DRY_RUN" = 1 ] && echo ', dry run'))"
if command -v nvidia-smi > /dev/null; then
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -2
  nvidia-smi > "$WORK/nvidia-smi.txt" 2>&1
else
  echo "nvidia-smi: not found"
fi
[ -f "$PACK/MANIFEST" ] && grep -v '^needed' "$PACK/MANIFEST" | sed 's/^/  pack: /'
ORIG_LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}
LIBPATH="$PACK/lib${ORIG_LD_LIBRARY_PATH:+:$ORIG_LD_LIBRARY_PATH}"
echo "== libraries"
stage libs 60 libs
[ "${STATUS[libs]}" = ok ] || finish
[ "$LIBS_ONLY" = 1 ] && finish
echo "== CUDA tests (--gtest_filter='*Cuda*')"
stage tests 120 tests
echo "== CUDA kernels and ceilings (ops_bench --benchmark_filter=$KERNELS_FILTER)"
stage kernels 90 kernels
echo "== end-to-end units: loco bench --generated --device cuda --reps $REPS"
stage loco 75 loco
echo "== the same units on PyTorch eager: peer.py --device cuda --generated bench --reps $REPS"
stage peer 100 peer
echo "== table"
py=python3
command -v python3 > /dev/null || py=$PYTHON
"$py" bench/device_table.py --kernels "$OUT/ops_bench.json" --loco "$OUT/loco_bench.jsonl" \
  --peer "$OUT/peer_bench.jsonl" > "$OUT/table.txt" 2>&1 || note table "failed: device_table.py"
cat "$OUT/table.txt"
finish
