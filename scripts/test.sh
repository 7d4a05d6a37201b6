#!/usr/bin/env bash
# Install everything the tests need (Python packages, headless Chromium for the page test), then run them all.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
# Headless Chromium for tests/browser; outside CI the browser test skips (saying why) if this fails.
bash scripts/install-browser.sh || [ -z "${CI:-}" ]
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
.venv/bin/ruff check .
exec .venv/bin/python -m pytest -q "$@"
