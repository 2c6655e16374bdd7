"""PyTorch timing of one MTT / LoMTT distillation iteration, the twin of `loco bench --units
mtt_iter,lomtt_iter`, for side-by-side ratios. A measuring stick only: loco never depends on Python.

The iteration is the reference's (mtt-distillation distill.py / PAPER main_MTT.py): a flat student
vector starting at an expert's parameters, --syn-steps SGD steps on all synthetic images with
non-Siamese DSA and create_graph, the loss ||theta_N - theta*||^2 / ||theta_0 - theta*||^2, one
backward into the images (MTT: 10 images; LoMTT: A, B of 80 rank-2 images, X = A @ B recomputed
once) and syn_lr, one SGD step (momentum 0.5) for each. CIFAR-10 shapes (3x32x32, 10 classes),
ConvNet-3 (width 128, instance norm as GroupNorm(C, C), ReLU, 2x2 average pooling). The expert
is synthetic (a fresh init and that plus 0.01 noise), as loco's unit: timing needs shapes, not values.
DSA comes from ../shared/peer/peer.py (--peer), the same augmentation the peer uses.

Run it fairly (jemalloc preloaded, OpenMP not spin-waiting), as /work/shared/peer/README.md says:
  LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
  MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 OMP_WAIT_POLICY=PASSIVE \
  /usr/bin/python3 bench/torch_mtt_ref.py [--threads 2] [--reps 5] [--units mtt_iter,lomtt_iter]
"""
import argparse
import importlib.util
import json
import statistics
import sys
import time

import torch
import torch.nn.functional as F

C, H, K, WIDTH, DEPTH = 3, 32, 10, 128, 3
STRATEGY = 'color_crop_cutout_flip_scale_rotate'


def shapes():
    s, c_in, h = [], C, H
    for _ in range(DEPTH):
        s += [(WIDTH, c_in, 3, 3), (WIDTH,), (WIDTH,), (WIDTH,)]  # conv w, b, norm gamma, beta
        c_in, h = WIDTH, h // 2
    return s + [(K, WIDTH * h * h), (K,)]


def init_flat(g):
    parts = []
    for s in shapes():
        if len(s) == 1:
            parts.append(torch.zeros(s))
        else:
            bound = 1.0 / (torch.tensor(s[1:]).prod().item() ** 0.5)
            parts.append((torch.rand(s, generator=g) * 2 - 1) * bound)
    return torch.cat([p.reshape(-1) for p in parts])


def forward(flat, x):
    ps, o = [], 0
    for s in shapes():
        n = int(torch.tensor(s).prod().item())
        ps.append(flat[o:o + n].view(s))
        o += n
    for d in range(DEPTH):
        w, b, gamma, beta = ps[4 * d:4 * d + 4]
        x = F.avg_pool2d(F.relu(F.group_norm(F.conv2d(x, w, b, padding=1), WIDTH, gamma, beta)), 2)
    return F.linear(x.flatten(1), ps[-2], ps[-1])


def iteration(state, syn_steps, dsa):
    images = state['a'] @ state['b'] if 'a' in state else state['x']
    y, theta0, target = state['y'], state['theta0'], state['target']
    params = [theta0.clone().requires_grad_(True)]
    for _ in range(syn_steps):
        perm = torch.randperm(images.shape[0])
        xb = dsa([images[perm]], STRATEGY, siamese=False)[0]
        ce = F.cross_entropy(forward(params[-1], xb), y[perm])
        g = torch.autograd.grad(ce, params[-1], create_graph=True)[0]
        params.append(params[-1] - state['lr'] * g)
    loss = ((params[-1] - target) ** 2).sum() / ((theta0 - target) ** 2).sum()
    state['opt_img'].zero_grad()
    state['opt_lr'].zero_grad()
    loss.backward()
    state['opt_img'].step()
    state['opt_lr'].step()
    return loss.item()


def make_state(unit, g):
    theta0 = init_flat(g)
    st = {'theta0': theta0, 'target': theta0 + 0.02 * torch.randn(theta0.shape, generator=g),
          'lr': torch.tensor(0.01, requires_grad=True)}
    if unit == 'mtt_iter':
        st['x'] = torch.randn(K, C, H, H, generator=g).requires_grad_(True)
        leaves, n = [st['x']], K
    else:
        n = K * 8  # same memory: 8 rank-2 images per class at 32x32
        st['a'] = torch.randn(n, C, H, 2, generator=g).requires_grad_(True)
        st['b'] = torch.randn(n, C, 2, H, generator=g).requires_grad_(True)
        leaves = [st['a'], st['b']]
    st['y'] = torch.arange(K).repeat_interleave(n // K)
    st['opt_img'] = torch.optim.SGD(leaves, lr=1000, momentum=0.5)
    st['opt_lr'] = torch.optim.SGD([st['lr']], lr=1e-5, momentum=0.5)
    return st


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--reps', type=int, default=5)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--syn-steps', type=int, default=20)
    ap.add_argument('--units', default='mtt_iter,lomtt_iter')
    ap.add_argument('--peer', default='../shared/peer/peer.py')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    spec = importlib.util.spec_from_file_location('peer', a.peer)
    peer = importlib.util.module_from_spec(spec)
    sys.argv = [a.peer]
    spec.loader.exec_module(peer)
    g = torch.Generator().manual_seed(0)
    for unit in a.units.split(','):
        st = make_state(unit, g)
        for _ in range(a.warmup):
            iteration(st, a.syn_steps, peer.dsa)
        ts = []
        for _ in range(a.reps):
            t0 = time.perf_counter()
            iteration(st, a.syn_steps, peer.dsa)
            ts.append((time.perf_counter() - t0) * 1e3)
        print(json.dumps({'unit': unit, 'median_ms': round(statistics.median(ts), 3), 'min_ms': round(min(ts), 3),
                          'max_ms': round(max(ts), 3), 'reps': a.reps, 'warmup': a.warmup, 'syn_steps': a.syn_steps,
                          'engine': 'pytorch', 'torch': torch.__version__, 'threads': a.threads}), flush=True)


if __name__ == '__main__':
    main()
