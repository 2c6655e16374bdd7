"""PyTorch timings of the conv2d shapes in bench/ops/conv2d_bench.cpp, for side-by-side ratios.

A measuring stick only: loco never depends on Python. Prints one JSON line per (shape, mode)
with the median seconds per call and GFLOP/s (2·N·K·C·R·S·P·Q per convolution; fwd_bwd
counts three convolutions: forward, input gradient, weight gradient).

Run it fairly (jemalloc preloaded, OpenMP not spin-waiting), as /work/shared/peer/README.md says:
  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
  MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 OMP_WAIT_POLICY=PASSIVE \
  /usr/bin/python3 bench/torch_conv_ref.py [--threads 2] [--reps 7] [--only conv3_32,...] [--modes fwd_bwd,...]
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

# name: (N, C, H, K, R, pad); square images and kernels, stride 1.
SHAPES = {
    "conv3_32": (256, 128, 32, 128, 3, 1),
    "conv3_16": (256, 128, 16, 128, 3, 1),
    "conv3_8": (256, 128, 8, 128, 3, 1),
    "first_28": (256, 1, 28, 128, 3, 3),
}


def median_time(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts), min(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=7)
    ap.add_argument("--only", default="", help="comma-separated shape names (default: all)")
    ap.add_argument("--modes", default="fwd,bwd_data,bwd_weight,fwd_bwd")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    names = args.only.split(",") if args.only else list(SHAPES)
    for name in names:
        n, c, h, k, r, pad = SHAPES[name]
        p = h + 2 * pad - r + 1
        flop = 2.0 * n * k * c * r * r * p * p
        x = torch.randn(n, c, h, h)
        w = torch.randn(k, c, r, r) * 0.05
        b = torch.randn(k)
        dy = torch.randn(n, k, p, p)

        def fwd():
            with torch.no_grad():
                F.conv2d(x, w, b, padding=pad)

        xg, wg, bg = x.clone().requires_grad_(), w.clone().requires_grad_(), b.clone().requires_grad_()

        def fwd_bwd():
            xg.grad = wg.grad = bg.grad = None
            F.conv2d(xg, wg, bg, padding=pad).backward(dy)

        def bwd(mask):
            def run():
                torch.ops.aten.convolution_backward(dy, x, w, [k], [1, 1], [pad, pad], [1, 1], False, [0, 0], 1, mask)
            return run

        modes = [("fwd", fwd, flop), ("bwd_data", bwd([True, False, False]), flop),
                 ("bwd_weight", bwd([False, True, False]), flop), ("fwd_bwd", fwd_bwd, 3 * flop)]
        for mode, fn, fl in modes:
            if mode not in args.modes.split(","):
                continue
            med, best = median_time(fn, args.reps)
            print(json.dumps({"shape": name, "mode": mode, "N": n, "C": c, "H": h, "K": k, "R": r, "pad": pad,
                              "threads": args.threads, "median_s": round(med, 5), "min_s": round(best, 5),
                              "gflops": round(fl / med / 1e9, 1)}), flush=True)


if __name__ == "__main__":
    main()
