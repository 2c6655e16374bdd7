#!/usr/bin/env python3
"""The table of bench/device_check.sh: each CUDA kernel benchmark with its time, its rate and
the fraction of the ceiling measured in the same run (BM_copy_cuda for bytes, the 4096³
BM_gemm_cuda for FLOPS), then the end-to-end units of `loco bench --device cuda`."""
import json
import sys


def main(bench_json, units_jsonl):
    try:
        runs = json.load(open(bench_json))["benchmarks"]
    except (OSError, ValueError, KeyError) as e:
        print(f"no kernel benchmark results ({bench_json}: {e})")
        runs = []
    copy = next((r.get("bytes") for r in runs if r["name"].startswith("BM_copy_cuda") and "bytes" in r), None)
    gemm = next((r.get("FLOPS") for r in runs if r["name"].startswith("BM_gemm_cuda/M:4096") and "FLOPS" in r), None)
    print(f"ceilings: device copy {copy / 1e9:.0f} GB/s" if copy else "ceilings: device copy ?", end="")
    print(f", cuBLAS SGEMM {gemm / 1e12:.1f} TFLOP/s" if gemm else ", cuBLAS SGEMM ?")
    print(f"{'kernel':58} {'time':>10} {'rate':>14} {'of ceiling':>10}")
    for r in runs:
        if r.get("error_occurred"):
            print(f"{r['name']:58} {'ERROR':>10}  {r.get('error_message', '')}")
            continue
        t = f"{r['real_time']:.1f} {r['time_unit']}"
        if "FLOPS" in r:
            rate, frac = f"{r['FLOPS'] / 1e12:.2f} TFLOP/s", (r["FLOPS"] / gemm if gemm else None)
        elif "bytes" in r:
            rate, frac = f"{r['bytes'] / 1e9:.0f} GB/s", (r["bytes"] / copy if copy else None)
        else:
            rate, frac = "", None
        print(f"{r['name']:58} {t:>10} {rate:>14} {'' if frac is None else f'{100 * frac:.0f} %':>10}")
    print()
    print(f"{'unit (loco bench --device cuda)':58} {'median':>10} {'min':>10}")
    try:
        for line in open(units_jsonl):
            if line.strip():
                u = json.loads(line)
                print(f"{u['unit']:58} {u['median_ms']:>7.2f} ms {u['min_ms']:>7.2f} ms")
    except (OSError, ValueError) as e:
        print(f"no unit results ({units_jsonl}: {e})")


if __name__ == "__main__":
    main(*sys.argv[1:3])
