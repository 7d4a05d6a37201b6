"""Build an index with the fake encoders, for the kill -9 tests: `python crash_build.py CATALOG OUT [--no-cache]`.

tests/indexer/test_index_dir.py runs it with PRODSEARCH_TEST_KILL_AT=<stage> so that
`indexer.index_dir.checkpoint` kills this process with SIGKILL at that stage.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for support

from support import FakeClipEncoder, FakeTextEncoder

from indexer.build import build_index
from indexer.catalog import load_catalog
from indexer.encoders import Encoders

if __name__ == "__main__":
    encoders = Encoders(text=FakeTextEncoder(), clip=FakeClipEncoder())
    build_index(load_catalog(sys.argv[1]), Path(sys.argv[2]), encoders, progress=False, image_workers=1,
                use_cache="--no-cache" not in sys.argv[3:])
