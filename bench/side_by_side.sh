#!/usr/bin/env bash
# loco bench and ../shared/peer's bench, unit by unit in the same sitting (each loco variant, then
# each peer, for each unit), and a table of medians and the ratio of loco (its last variant) to
# the fastest peer. Timings on these shared 2-core machines move by tens of percent with other
# load: check `uptime` first.
#   bench/side_by_side.sh [units] [reps]     e.g. bench/side_by_side.sh dm_iter,lodm_iter 5
# PEER_PYTHONS: the peers, space-separated (default Debian's /usr/bin/python3, PyTorch 1.13): an
#   interpreter runs peer.py eagerly; INTERPRETER+compile runs it through bench/peer_compiled.py
#   (the ConvNet under torch.compile), e.g. "/usr/bin/python3 ~/torch-venv/bin/python
#   ~/torch-venv/bin/python+compile". Each one's torch version heads its column.
# LOCO_VARIANTS: the loco runs, separated by ';', each a binary and flags for `bench` (default
#   "build/loco"), e.g. "build-before/loco;build/loco --conv-algo im2col;build/loco".
set -euo pipefail
cd "$(dirname "$0")/.."
UNITS=${1:-dm_iter,lodm_iter,lodm_si_iter,dc_step,eval_train_step,eval_train_step_dsa,test_forward_1024,lowrank_recon_fwd_bwd}
REPS=${2:-5}
PEER=${PEER:-../shared/peer/peer.py}
read -r -a PEERS <<< "${PEER_PYTHONS:-/usr/bin/python3}"
IFS=';' read -r -a VARIANTS <<< "${LOCO_VARIANTS:-build/loco}"
OUT=$(mktemp -d)
echo "# $(date -u '+%F %T') UTC, $(nproc) cores, load: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in "${!VARIANTS[@]}"; do
  read -r -a v <<< "${VARIANTS[$i]}"
  echo "# loco $i: ${v[0]} bench ${v[*]:1} ($(git -C "$(dirname "${v[0]}")/.." log -1 --format=%h 2>/dev/null || echo '?') tree; binary $(date -r "${v[0]}" '+%F %T'))"
done
peer_cmd() {  # the command line of peer $1
  local p=${PEERS[$1]}
  if [[ $p == *+compile ]]; then echo "${p%+compile} bench/peer_compiled.py"; else echo "$p $PEER"; fi
}
for i in "${!PEERS[@]}"; do
  py=${PEERS[$i]%+compile}
  echo "# peer $i: $(peer_cmd "$i"): torch $("$py" -c 'import torch; print(torch.__version__)')"
done
for u in ${UNITS//,/ }; do
  for i in "${!VARIANTS[@]}"; do
    read -r -a v <<< "${VARIANTS[$i]}"
    OMP_WAIT_POLICY=PASSIVE "${v[0]}" bench --units "$u" --reps "$REPS" "${v[@]:1}" | grep '^{' >> "$OUT/loco$i.jsonl"
  done
  for i in "${!PEERS[@]}"; do
    # shellcheck disable=SC2046
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 \
      OMP_WAIT_POLICY=PASSIVE PEER="$PEER" $(peer_cmd "$i") bench --units "$u" --reps "$REPS" 2>/dev/null | grep '^{' >> "$OUT/peer$i.jsonl" || true
  done
done
/usr/bin/env python3 - "$OUT" "${#VARIANTS[@]}" "${#PEERS[@]}" <<'PY'
import json, os, sys
d, nv, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def rows(f):
    p = f'{d}/{f}'
    return {j['unit']: j for j in map(json.loads, open(p))} if os.path.exists(p) else {}
locos = [rows(f'loco{i}.jsonl') for i in range(nv)]
peers = [rows(f'peer{i}.jsonl') for i in range(n)]
cell = lambda r, u: f"{r[u]['median_ms']:.1f}" if u in r else '–'
print('| unit | ' + ' | '.join(f'loco {i} ms' for i in range(nv)) + ' | ' +
      ' | '.join(f'peer {i} ms' for i in range(n)) + ' | loco / fastest peer |')
print('|---|' + '---:|' * (nv + n + 1))
for u in locos[-1]:
    got = [p[u]['median_ms'] for p in peers if u in p]
    ratio = f"{locos[-1][u]['median_ms'] / min(got):.2f}" if got else '–'
    print(f"| {u} | " + ' | '.join(cell(l, u) for l in locos) + ' | ' + ' | '.join(cell(p, u) for p in peers) + f' | {ratio} |')
PY
echo "# raw lines: $OUT"
