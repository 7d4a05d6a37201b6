"""A real server process over an index with the fake encoders, its writes embedded in the low-priority worker
process (the crash-after-ack test kills it with SIGKILL).

Usage: python live_server_main.py INDEX_DIR IMAGES_ROOT PORT
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import uvicorn
from live_writes_support import make_app

if __name__ == "__main__":
    index_dir, images_root, port = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    uvicorn.run(make_app(index_dir, images_root, live_embed_worker=True), host="127.0.0.1", port=port, log_level="warning")
