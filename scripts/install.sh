#!/usr/bin/env bash
# Create .venv and install prodsearch with the CPU FAISS build and the test tools.
# torch and torchvision are pinned together in pyproject.toml (pip would swap torch otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[cpu,dev]"
echo "prodsearch installed in .venv ($(.venv/bin/python -c 'import torch, faiss; print("torch", torch.__version__, "faiss", faiss.__version__)'))"
