"""Compaction keeps products in their rows, so the previous version's approximate indexes are reused."""

from __future__ import annotations

import numpy as np
from live_writes_support import encoders
from support import write_synthetic_catalog

from indexer.build import build_index
from indexer.catalog import load_catalog
from indexer.live.compact import fill_holes, write_snapshot
from indexer.live.embed import EmbeddedProduct
from indexer.live.log import LogEntry
from indexer.live.segment import LiveState
from indexer.loaded import load_index


def test_fill_holes_keeps_occupants_in_place():
    assert fill_holes([0, -1, 2, -1, 4], [1, 3], [10, 11, 12]).tolist() == [0, 10, 2, 11, 4, 12]
    assert fill_holes([0, -1, 2, -1, 4], [1, 3], [10]).tolist() == [0, 10, 2, 4]  # the last moves into a hole
    assert fill_holes([0, 1, -1, -1], [2, 3], []).tolist() == [0, 1]
    assert fill_holes([-1, -1, 2], [0, 1], []).tolist() == [2]
    assert fill_holes([0, 1], [], [5]).tolist() == [0, 1, 5]


def _copy_of(state: LiveState, row: int, new_id: str, title: str) -> EmbeddedProduct:
    snap = state.snapshot
    product = snap.products[row].model_copy(update={"id": new_id, "title": title})
    thumb = snap.thumbnail(row)
    return EmbeddedProduct(product, "", "", snap.row_vectors("text", row)[0], snap.row_vectors("clip_text", row)[0],
                           snap.row_vectors("image", row), (), thumb[1] if thumb else None)


def test_compaction_keeps_rows_and_reuses_the_hnsw_indexes(tmp_path):
    catalog = write_synthetic_catalog(tmp_path / "catalog", n_per_cell=3)  # 108 products
    index_dir = tmp_path / "index"
    build_index(load_catalog(catalog), index_dir, encoders(), factory="HNSW16", progress=False)
    main = load_index(index_dir)
    old_ids = [p.id for p in main.store.products]
    state = LiveState(main)
    replaced = _copy_of(state, 5, old_ids[5], "Replaced title")
    added = _copy_of(state, 9, "new-1", "A new product")
    state.apply([(LogEntry(seq=1, op="upsert", id=old_ids[5]), replaced), (LogEntry(seq=2, op="delete", id=old_ids[7]), None),
                 (LogEntry(seq=3, op="upsert", id="new-1"), added)])
    summary = write_snapshot(state.snapshot, index_dir, encoders())
    approximate = {name for name, factory in main.manifest.factories.items() if factory != "Flat"}
    assert approximate and set(summary.reused) == approximate
    compacted = load_index(index_dir)
    ids = [p.id for p in compacted.store.products]
    assert ids == old_ids[:7] + ["new-1"] + old_ids[8:]  # the new product took the deleted one's row
    assert compacted.store.products[5].title == "Replaced title"
    np.testing.assert_array_equal(compacted.stored_vectors("text", np.array([7])),
                                  main.stored_vectors("text", np.array([9])))
    assert sorted(np.flatnonzero(compacted.image_rows == 7).tolist()) == \
        sorted(np.flatnonzero(main.image_rows == 7).tolist())  # its photo took the deleted product's place too
