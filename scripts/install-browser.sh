#!/usr/bin/env bash
# Install what the browser test (tests/browser) needs: Debian's headless Chromium at /usr/bin/chromium.
# Idempotent: does nothing when /usr/bin/chromium is already there. Installs only as root; otherwise
# prints the command to run. Playwright's own browser download is not used (it cannot work offline);
# the Python playwright package comes from `pip install -e '.[dev]'`.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
    echo "install-browser: $CHROMIUM is present ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-browser: $CHROMIUM is missing and this is not root; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium" >&2
    exit 1
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-browser: $CHROMIUM is missing and apt-get is not available; install Chromium so that $CHROMIUM exists" >&2
    exit 1
fi

echo "install-browser: installing chromium from the Debian archive"
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends chromium
"$CHROMIUM" --version
