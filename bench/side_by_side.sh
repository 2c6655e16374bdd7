#!/usr/bin/env bash
# loco bench and ../shared/peer's bench, unit by unit in the same sitting (loco, then each peer
# interpreter, for each unit), and a table of medians and the ratio of loco to the fastest peer.
# Timings on these shared 2-core machines move by tens of percent with other load: check
# `uptime` first.
#   bench/side_by_side.sh [units] [reps]     e.g. bench/side_by_side.sh dm_iter,lodm_iter 5
# PEER_PYTHONS: the interpreters to run peer.py with, space-separated (default Debian's
# /usr/bin/python3, PyTorch 1.13), e.g. "/usr/bin/python3 ~/torch-venv/bin/python" to set a
# current PyTorch beside it. Each one's torch version heads its column.
set -euo pipefail
cd "$(dirname "$0")/.."
UNITS=${1:-dm_iter,lodm_iter,lodm_si_iter,dc_step,eval_train_step,eval_train_step_dsa,test_forward_1024,lowrank_recon_fwd_bwd}
REPS=${2:-5}
LOCO=${LOCO:-build/loco}
PEER=${PEER:-../shared/peer/peer.py}
read -r -a PYTHONS <<< "${PEER_PYTHONS:-/usr/bin/python3}"
OUT=$(mktemp -d)
echo "# $(date -u '+%F %T') UTC, $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in "${!PYTHONS[@]}"; do
  echo "# peer $i: ${PYTHONS[$i]}: torch $("${PYTHONS[$i]}" -c 'import torch; print(torch.__version__)')"
done
for u in ${UNITS//,/ }; do
  OMP_WAIT_POLICY=PASSIVE "$LOCO" bench --units "$u" --reps "$REPS" | grep '^{' >> "$OUT/loco.jsonl"
  for i in "${!PYTHONS[@]}"; do
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 \
      OMP_WAIT_POLICY=PASSIVE "${PYTHONS[$i]}" "$PEER" bench --units "$u" --reps "$REPS" 2>/dev/null | grep '^{' >> "$OUT/peer$i.jsonl"
  done
done
/usr/bin/env python3 - "$OUT" "${#PYTHONS[@]}" <<'PY'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
rows = lambda f: {j['unit']: j for j in map(json.loads, open(f'{d}/{f}'))}
loco = rows('loco.jsonl')
peers = [rows(f'peer{i}.jsonl') for i in range(n)]
print('| unit | loco median ms | ' + ' | '.join(f'peer {i} median ms' for i in range(n)) + ' | loco / fastest peer |')
print('|---|---:|' + '---:|' * n + '---:|')
for u, l in loco.items():
    ms = [p[u]['median_ms'] if u in p else None for p in peers]
    got = [m for m in ms if m is not None]
    cells = ' | '.join(f'{m:.1f}' if m is not None else '–' for m in ms)
    ratio = f"{l['median_ms'] / min(got):.2f}" if got else '–'
    print(f"| {u} | {l['median_ms']:.1f} | {cells} | {ratio} |")
PY
echo "# raw lines: $OUT"
