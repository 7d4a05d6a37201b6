"""The product store opens by a SQLite URI: a path holding URI characters must still name the same file."""

from __future__ import annotations

import pytest

from indexer.build import build_index
from indexer.catalog import load_catalog
from indexer.loaded import load_index
from indexer.store import ProductStore, read_only_uri


@pytest.mark.parametrize("name", ["idx#1", "idx?mode=rwc", "idx%41", "idx 100%"])
def test_an_index_whose_path_has_uri_characters_loads(tmp_path, synthetic_catalog, fake_encoders, name):
    out = tmp_path / name
    build_index(load_catalog(synthetic_catalog), out, fake_encoders, progress=False)
    index = load_index(out)  # checks every file and reads products.sqlite
    try:
        assert index.n_products == len(load_catalog(synthetic_catalog).products)
    finally:
        index.close()


def test_the_store_is_read_only(tmp_path, synthetic_index):
    import sqlite3

    from indexer.index_dir import resolve_current

    store = ProductStore(resolve_current(synthetic_index) / "products.sqlite")
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            store._con.execute("DELETE FROM products")
    finally:
        store.close()
    assert read_only_uri(tmp_path / "a#b?c%d").endswith("/a%23b%3Fc%25d?mode=ro")
