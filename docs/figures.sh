#!/usr/bin/env bash
# The runs behind the figures and tables of the README's "Figures" section, on Fashion-MNIST
# (Debian's dataset-fashion-mnist) and MNIST (../shared/data/mnist), at the cpu-quick preset,
# one OpenMP thread per process. Several hours of one core; every step is resumable (a finished
# run is skipped). Then the figures are copied into docs/.
#   docs/figures.sh [RUNS]   (default runs/figures)
set -euo pipefail
cd "$(dirname "$0")/.."
R=${1:-runs/figures}
L=${LOCO:-build/loco}
MNIST=${MNIST:-../shared/data/mnist}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
mkdir -p "$R"
once() { local dir=$1; shift; [ -f "$dir/report.json" ] || "$L" "$@" --out "$dir"; }

# Fig. 2b: the rank sweep at ten images per class, both budgets (one evaluation network a cell).
"$L" sweep --out "$R/sweep-fm-ipc10" --vary rank=2,4,8 --vary budget=same-memory,same-images \
  -- --method lodm --ipc 10 --num-eval 1
# The measured best rank at one image per class, Fashion-MNIST and MNIST, for --rank auto.
"$L" sweep --out "$R/sweep-fm-ipc1" --vary rank=1,2,4,8 -- --method lodm --ipc 1 --num-eval 1
"$L" sweep --out "$R/sweep-mn-ipc1" --vary rank=1,2,4,8 \
  -- --method lodm --ipc 1 --num-eval 1 --dataset MNIST --data-dir "$MNIST"
# DM at ten images per class (spectra, t-SNE), with its grids as the set forms.
once "$R/dm-fm-ipc10" condense --method dm --ipc 10 --grid-every 50
# Fig. 6: LoDM's set as it forms (rank 2, seven images per class), drawn every 50 iterations.
once "$R/lodm-fm-ipc1-grids" condense --method lodm --ipc 1 --grid-every 50 --num-eval 0
# Fig. 2a: DM against LoDM SI and SM at one image per class, evaluated every 50 iterations.
once "$R/curve-dm" condense --method dm --ipc 1 --eval-every 50 --num-eval 1
once "$R/curve-lodm-si" condense --method lodm --budget same-images --ipc 1 --eval-every 50 --num-eval 1
once "$R/curve-lodm-sm" condense --method lodm --ipc 1 --eval-every 50 --num-eval 1
"$L" plot "$R/curve-dm" "$R/curve-lodm-si" "$R/curve-lodm-sm" \
  --labels "DM (1 image/class),LoDM SI (r 2; 1 image/class),LoDM SM (r 2; 7 images/class)" --out "$R/fig2a"
# Table 3 at one image per class: DM and LoDM condensed on ConvNet, evaluated on all five.
"$L" eval "$R/curve-dm" "$R/curve-lodm-sm" --model ConvNet,LeNet,AlexNet,VGG11,ResNet18 --num-eval 1 \
  --table "$R/cross-arch-ipc1"
# Fig. 5: spectra of real images, the DM set and LoDM sets at ranks 2 and 8 (ten images per class).
"$L" spectrum --n 100 "$R/dm-fm-ipc10" "$R/sweep-fm-ipc10/rank=2_budget=same-memory" \
  "$R/sweep-fm-ipc10/rank=8_budget=same-memory" --out "$R/spectrum"
# Fig. 1: t-SNE of real and synthetic features of a trained ConvNet (two epochs, 88.4 %).
once "$R/train-fm" train --epochs 1 --aug none
"$L" tsne --weights "$R/train-fm" --n 100 "$R/dm-fm-ipc10" "$R/sweep-fm-ipc10/rank=2_budget=same-memory" \
  "$R/sweep-fm-ipc10/rank=8_budget=same-memory" --out "$R/tsne"

cp "$R/fig2a/plot.png" docs/fig2a-curves.png
cp "$R/sweep-fm-ipc10/sweep.png" docs/fig2b-rank-sweep.png
cp "$R/sweep-fm-ipc1/sweep.png" docs/rank-sweep-ipc1.png
cp "$R/sweep-mn-ipc1/sweep.png" docs/rank-sweep-mnist-ipc1.png
cp "$R/spectrum/spectrum.png" docs/fig5-spectra.png
cp "$R/tsne/tsne.png" docs/fig1-tsne.png
cp "$R/lodm-fm-ipc1-grids/strip.png" docs/fig6-lodm-strip.png
