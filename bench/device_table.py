#!/usr/bin/env python3
"""The table of bench/device_check.sh, from the files of one run (standard library only: it runs
under whatever python3 the device has).

Kernels: each benchmark in ops_bench's JSON (device_check.sh runs its CUDA twins,
--benchmark_filter=_cuda) with its time, its rate and the fraction of the ceiling measured in
the same run: BM_copy_ceiling_cuda for bytes/s, BM_gemm_ceiling_cuda (cuBLAS SGEMM 4096^3) for
FLOP/s. Units: each end-to-end unit, loco's median against PyTorch eager's (peer.py) on the
same GPU and the ratio loco/PyTorch (below 1: loco is faster). A missing or empty file gives
"no result" rows, never an exception, so the table is printed whatever the run reached.

  device_table.py --kernels ops_bench.json --loco loco_bench.jsonl --peer peer_bench.jsonl
"""
import argparse
import json

# loco bench's units, in its order (tools/cmd_bench.cpp); peer's extra units follow them.
UNITS = ["dm_iter", "dm_iter_nodsa", "lodm_iter", "lodm_iter_nodsa", "lodm_si_iter", "dc_step", "lodc_step",
         "dc_step_ipc1", "eval_train_step", "eval_train_step_dsa", "test_forward_1024", "lowrank_recon_fwd_bwd",
         "lowrank_recon_fwd", "net_init"]


def read_kernels(path):
    try:
        with open(path) as f:
            return json.load(f)["benchmarks"], None
    except (OSError, ValueError, KeyError, TypeError) as e:
        return [], f"{path}: {e.__class__.__name__}: {e}"


def read_units(path):
    """unit name -> its JSON line (the last one of that name), and why there are none."""
    units = {}
    try:
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    u = json.loads(line)
                except ValueError:
                    continue
                if "unit" in u and "median_ms" in u:
                    units[u["unit"]] = u
    except OSError as e:
        return {}, f"{path}: {e.strerror}"
    return units, None if units else f"{path}: no unit lines"


def ceiling(runs, prefix, key):
    r = next((r for r in runs if r.get("name", "").startswith(prefix) and key in r and not r.get("error_occurred")),
             None)
    return (r[key], r["name"].replace("/manual_time", "")) if r else (None, None)


def print_kernels(runs, why):
    copy, copy_name = ceiling(runs, "BM_copy_ceiling_cuda", "bytes")
    gemm, gemm_name = ceiling(runs, "BM_gemm_ceiling_cuda", "FLOPS")
    print("ceilings measured in this run: "
          + (f"device copy {copy / 1e9:.0f} GB/s ({copy_name})" if copy else "device copy: no result")
          + ", " + (f"cuBLAS SGEMM {gemm / 1e12:.1f} TFLOP/s ({gemm_name})" if gemm else "cuBLAS SGEMM: no result"))
    names = [r.get("name", "?").replace("/manual_time", "") for r in runs]
    w = max([len("kernel")] + [len(n) for n in names])
    print(f"{'kernel':{w}} {'time':>12} {'rate':>14} {'of ceiling':>10}")
    if not runs:
        print(f"{'(no kernel results)':{w}} {why or ''}")
    for name, r in zip(names, runs):
        if r.get("error_occurred"):
            print(f"{name:{w}} {'no result':>12}  {r.get('error_message', '')}")
            continue
        t = f"{r.get('real_time', float('nan')):.1f} {r.get('time_unit', '')}"
        rate, frac = "", None
        if "FLOPS" in r:
            rate, frac = f"{r['FLOPS'] / 1e12:.2f} TFLOP/s", r["FLOPS"] / gemm if gemm else None
        elif "bytes" in r:
            rate, frac = f"{r['bytes'] / 1e9:.0f} GB/s", r["bytes"] / copy if copy else None
        print(f"{name:{w}} {t:>12} {rate:>14} {'' if frac is None else f'{100 * frac:.0f} %':>10}")


def describe(units, who):
    if not units:
        return f"{who}: none"
    u = next(iter(units.values()))
    gen = {bool(v.get("generated")) for v in units.values()}
    inputs = "generated" if gen == {True} else "dataset" if gen == {False} else "mixed"
    extra = f", {u['gpu']}" if u.get("gpu") else ""
    extra += f", torch {u['torch']}" if u.get("torch") else ""
    return f"{who}: {len(units)} units on {u.get('device', '?')}{extra}, inputs {inputs}"


def print_units(loco, loco_why, peer, peer_why):
    print(describe(loco, "loco") + "; " + describe(peer, "PyTorch eager (peer.py)"))
    for why in (loco_why, peer_why):
        if why:
            print(f"  no results from {why}")
    names = UNITS + sorted((set(loco) | set(peer)) - set(UNITS))
    print(f"{'unit':26} {'loco median':>14} {'PyTorch median':>16} {'loco/PyTorch':>13}")
    for n in names:
        a, b = loco.get(n), peer.get(n)
        fa = f"{a['median_ms']:.3f} ms" if a else "no result"
        fb = f"{b['median_ms']:.3f} ms" if b else "no result"
        ratio = f"{a['median_ms'] / b['median_ms']:.2f}" if a and b and b["median_ms"] > 0 else "-"
        print(f"{n:26} {fa:>14} {fb:>16} {ratio:>13}")
    print("loco/PyTorch: the ratio of medians on the same GPU; below 1, loco is faster")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernels", default="ops_bench.json", help="ops_bench's --benchmark_out JSON")
    ap.add_argument("--loco", default="loco_bench.jsonl", help="loco bench's JSON lines")
    ap.add_argument("--peer", default="peer_bench.jsonl", help="peer.py bench's JSON lines")
    a = ap.parse_args()
    print_kernels(*read_kernels(a.kernels))
    print()
    print_units(*read_units(a.loco), *read_units(a.peer))


if __name__ == "__main__":
    main()
