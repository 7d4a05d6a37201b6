"""Benchmark: compaction alone, in-process, at a given churn (no server, no encoders: vectors are copied).

Copies the index, replaces ``--changed`` of its products with edited copies (their stored vectors
re-used, a new title word) and adds as many new ones, deletes a few, then times each step of what
`POST /admin/compact` does: write the new version, load it, make its Searcher.

    .venv/bin/python benchmarks/live_compaction.py --index .prodsearch/build-rate/index --changed 0.05
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from live_updates import copy_index  # noqa: E402

from indexer.live.compact import compacted_total_len, write_snapshot  # noqa: E402
from indexer.live.embed import EmbeddedProduct  # noqa: E402
from indexer.live.log import LogEntry  # noqa: E402
from indexer.live.segment import LiveState  # noqa: E402
from indexer.loaded import load_index  # noqa: E402


class Named:
    """What `write_index` reads of an encoder: its name, dimension and spec (no model is loaded)."""

    def __init__(self, name: str, dim: int, spec: dict):  # type: ignore[type-arg]
        self.name, self.dim, self.spec, self.trained = name, dim, spec, True


class Stub:
    def __init__(self, manifest):  # type: ignore[no-untyped-def]
        self.text = Named(manifest.text_model, manifest.text_dim, {"text_model": manifest.model_specs.get("text_model")})
        self.clip = Named(manifest.clip_model, manifest.clip_dim, {k: v for k, v in manifest.model_specs.items()
                                                                   if k != "text_model"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--changed", type=float, default=0.05, help="fraction of products replaced (and as many added)")
    parser.add_argument("--side-by-side", action="store_true",
                        help="then write the same snapshot again with the previous version's indexes not reused "
                             "(every field built afresh, as before rows were kept in place): the ratio of the two")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="live-compact-"))
    try:
        index_dir = copy_index(args.index, scratch / "index")
        t = time.perf_counter()
        main_index = load_index(index_dir, verify_checksums=False)
        state = LiveState(main_index)
        n = len(main_index.store)
        k = int(n * args.changed)
        rng = np.random.default_rng(0)
        rows = rng.choice(n, size=k, replace=False)
        batch = []
        for seq, row in enumerate(rows.tolist(), start=1):
            snap = state.snapshot
            old = main_index.store.products[row]
            new_id = old.id if seq % 2 else f"{old.id}-copy"  # half replace, half add
            product = old.model_copy(update={"id": new_id, "title": f"{old.title} compactbench"})
            thumb = snap.thumbnail(row)
            batch.append((LogEntry(seq=seq, op="upsert", id=new_id),
                          EmbeddedProduct(product, "", "", snap.row_vectors("text", row)[0],
                                          snap.row_vectors("clip_text", row)[0], snap.row_vectors("image", row),
                                          (), thumb[1] if thumb else None)))
        state.apply(batch)
        print(f"prepared {k} writes on {n} products in {time.perf_counter() - t:.1f} s", flush=True)
        t0 = time.perf_counter()
        # The stub encoders cannot encode (no encode_* methods): a compaction that embedded anything would fail.
        summary = write_snapshot(state.snapshot, index_dir, Stub(main_index.manifest))
        t1 = time.perf_counter()
        loaded = load_index(index_dir)
        t2 = time.perf_counter()
        fresh = LiveState(loaded, total_len=compacted_total_len(state.snapshot))
        fresh.warm()  # what `LiveService.compact` prepares before taking the write lock
        t3 = time.perf_counter()
        from search.filters import FilterIndex  # what a new Searcher builds over the products
        from search.understanding import QueryUnderstanding

        FilterIndex(loaded.store.products)
        QueryUnderstanding.build(loaded.store.products, None)
        t4 = time.perf_counter()
        print(f"compaction of {n} products with {k} writes ({args.changed:.0%}): write version {t1 - t0:.1f} s "
              f"(stages {', '.join(f'{a} {b:.1f}' for a, b in summary.seconds.items())}; vector indexes reused: "
              f"{', '.join(summary.reused) or 'none'}), load it {t2 - t1:.1f} s, live statistics {t3 - t2:.1f} s, "
              f"filter index + query understanding {t4 - t3:.1f} s; total {t4 - t0:.1f} s (target <= 60 s); "
              f"{summary.products} products, nothing embedded")
        if args.side_by_side:
            import indexer.build

            link = index_dir / "current.bench"
            os.symlink(os.path.relpath(main_index.directory, index_dir), link)
            os.replace(link, index_dir / "current")  # the same previous version as the first write had
            reusable = indexer.build.reusable_fields
            indexer.build.reusable_fields = lambda *a, **k: {}  # type: ignore[assignment]
            try:
                t5 = time.perf_counter()
                again = write_snapshot(state.snapshot, index_dir, Stub(main_index.manifest))
                t6 = time.perf_counter()
            finally:
                indexer.build.reusable_fields = reusable
            print(f"side by side: write version reusing the HNSW indexes {t1 - t0:.1f} s, building them afresh "
                  f"{t6 - t5:.1f} s (stages {', '.join(f'{a} {b:.1f}' for a, b in again.seconds.items())}): "
                  f"ratio {(t1 - t0) / (t6 - t5):.2f}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
