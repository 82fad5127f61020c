#!/usr/bin/env bash
# The paper-size models on one GPU, in one `device` run of under 10 minutes: width 32 (Johnson et al.'s),
# 256 px crops, every bundled painting and the paper network, written where the CPU models go.
#   scripts/train_models_gpu.sh                      # on the GPU machine, from the repository root
#   DEVICE=cpu STEPS=2 SIZE=32 WIDTH=8 OUT=/tmp/m scripts/train_models_gpu.sh   # tried on the CPU
# Johnson et al. trained 40,000 steps of 4 photos at 256 px (two epochs of COCO, 4 hours on a Titan X);
# STEPS x BATCH here (default 2,500 x 8) is an eighth of their photos, what fits the device time for
# seven models on an H200 (estimated from the bf16 throughput in the device notes; not yet measured).
set -euo pipefail
export NETWORK=${NETWORK:-improved} SUFFIX=${SUFFIX:--improved} STEPS=${STEPS:-2500} WIDTH=${WIDTH:-32} SIZE=${SIZE:-256} BATCH=${BATCH:-8} DEVICE=${DEVICE:-cuda}
exec "$(dirname "$0")/train_models.sh" "$@"
