#!/bin/bash
# The scale benchmark's GPU half (#11 section 3): GPU Flat and IVF over N synthetic vectors made from a
# seed (no dataset, nothing downloaded), batched query QPS and recall@10 against exact; <= 8 minutes on
# one H200-class GPU at 1M x 384. Uses faiss-gpu when Python imports it with a GPU; the device image has
# PyTorch but no faiss, so wheels in .wheels/ (carried beside the repo: the device has no internet) are
# installed first when present, else the same two algorithms run in PyTorch (each row says which).
# Skips, saying so, without a CUDA device.
#   usage: scripts/gpu-bench.sh [extra args for benchmarks/gpu_scale.py]     env: PY, N, OUT
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python3}
N=${N:-1000000}
OUT=${OUT:-/tmp}
mkdir -p "$OUT"
if ! nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv 2>/dev/null; then
  echo "SKIP: no CUDA device (nvidia-smi finds none)"
  exit 0
fi
if compgen -G ".wheels/faiss*gpu*.whl" >/dev/null; then
  "$PY" -m pip install --no-index --find-links .wheels --quiet .wheels/faiss*gpu*.whl || echo "faiss-gpu wheel did not install; PyTorch fallback"
fi
export PYTHONUNBUFFERED=1
timeout 470 "$PY" benchmarks/gpu_scale.py --n "$N" --json-out "$OUT/gpu-scale.json" "$@" | tee "$OUT/gpu-scale.md"
