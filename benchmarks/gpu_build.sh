#!/bin/bash
# Cold build of the full shared fashion catalog with CUDA embedding (fp16) and, where faiss-gpu is
# installed, GPU FAISS; then an unchanged rebuild (cache only). For a lent GPU machine; fits in a few
# minutes. Prints wall times and the build summaries. Usage: benchmarks/gpu_build.sh [python]
set -euo pipefail
PY=${1:-.venv/bin/python}
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false PYTHONPATH=$PWD
OUT=${OUT:-/tmp}/gpu-build
DATASET=${DATASET:-../shared/datasets/fashion-product-images}  # the photos stay there (--images-root)
rm -rf "$OUT" && mkdir -p "$OUT"
[ -f .prodsearch/fashion/catalog.jsonl ] || $PY -m indexer.adapters.fashion --src "$DATASET" --out .prodsearch/fashion/catalog.jsonl
nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv || true
for run in cold rebuild; do
  start=$(date +%s.%N)
  $PY -m prodsearch index build --catalog .prodsearch/fashion/catalog.jsonl --skip-invalid --out "$OUT/index" --images-root "$DATASET" \
      --device cuda --quiet | tee "$OUT/$run.txt"
  echo "$run: $(echo "$(date +%s.%N) - $start" | bc) s wall (model loading included)"
done
