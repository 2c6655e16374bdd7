#!/usr/bin/env bash
# loco bench and ../shared/peer's bench, unit by unit in the same sitting (loco, then peer, for
# each unit), and a table of medians and the ratio loco / peer. Timings on these shared 2-core
# machines move by tens of percent with other load: check `uptime` first.
#   bench/side_by_side.sh [units] [reps]     e.g. bench/side_by_side.sh dm_iter,lodm_iter 5
set -euo pipefail
cd "$(dirname "$0")/.."
UNITS=${1:-dm_iter,lodm_iter,lodm_si_iter,dc_step,eval_train_step,eval_train_step_dsa,test_forward_1024,lowrank_recon_fwd_bwd}
REPS=${2:-5}
LOCO=${LOCO:-build/loco}
PEER=${PEER:-../shared/peer/peer.py}
OUT=$(mktemp -d)
echo "# $(date -u '+%F %T') UTC, $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for u in ${UNITS//,/ }; do
  OMP_WAIT_POLICY=PASSIVE "$LOCO" bench --units "$u" --reps "$REPS" | grep '^{' >> "$OUT/loco.jsonl"
  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 \
    OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 "$PEER" bench --units "$u" --reps "$REPS" 2>/dev/null | grep '^{' >> "$OUT/peer.jsonl"
done
/usr/bin/python3 - "$OUT" <<'PY'
import json, sys
d = sys.argv[1]
rows = lambda f: {j['unit']: j for j in map(json.loads, open(f'{d}/{f}'))}
loco, peer = rows('loco.jsonl'), rows('peer.jsonl')
print('| unit | loco median ms | peer median ms | loco / peer |')
print('|---|---:|---:|---:|')
for u, l in loco.items():
    p = peer.get(u)
    print(f"| {u} | {l['median_ms']:.1f} | {p['median_ms']:.1f} | {l['median_ms'] / p['median_ms']:.2f} |" if p else f"| {u} | {l['median_ms']:.1f} | – | – |")
PY
echo "# raw lines: $OUT"
