"""The ``milvus`` vector-store backend: every field of an index version in Milvus, through `pymilvus.MilvusClient`.

Where: by default a Milvus Lite database (``milvus.db``, a folder) inside the index version directory,
embedded in the process; ``uri=`` names another Lite file (``./DIR/milvus.db``) or a Milvus server
(``http://host:19530``, standalone or cluster; a token from ``PRODSEARCH_MILVUS_TOKEN``). The same code
serves both.

Layout: one collection per field, named ``<prefix>_<build id>_<field>``, so a new index version never
touches the collections the serving one reads. A collection per field rather than one collection with a
vector field per signal because the fields' rows differ (``image`` has a row per photo, ``text`` one per
product) and the protocol adds, upserts and deletes per field. Each collection carries the filter
columns of its rows' products (`indexer.milvus_filters`: lower-cased brand, category levels, price,
attribute pairs, the attributes as JSON), so our filters run as Milvus boolean expressions; an HNSW,
FLAT, IVF_FLAT or IVF_SQ8 index per field comes from the same `FieldSpec` the faiss backend reads.

This module makes and opens a version's collections and registers the backend; the store over them
(reading, filtered search, writing) is `indexer.milvus_collections.MilvusVectorStore`. Connecting, the
schema and the index parameters are in `indexer.milvus_setup`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.catalog import Product
from indexer.milvus_collections import (
    BACKEND,
    EXACT_FALLBACK_ROWS,
    EXACT_MAX_ROWS,
    INSERT_BATCH,
    MAX_ID_CHUNKS,
    MAX_IDS,
    MAX_TOPK,
    MilvusVectorStore,
)
from indexer.milvus_filters import VECTOR
from indexer.milvus_setup import (
    MilvusStoreError,
    build_id_of,
    check_milvus_specs,
    collection_name,
    collection_schema,
    connect,
    location_of,
    milvus_index,
    resolve_uri,
)
from indexer.vector_index import check_vectors
from indexer.vector_store import FieldSpec, register_backend

__all__ = ["BACKEND", "DEFAULT_PREFIX", "EXACT_FALLBACK_ROWS", "EXACT_MAX_ROWS", "INSERT_BATCH", "MAX_IDS",
           "MAX_ID_CHUNKS", "MAX_TOPK", "MilvusStoreError", "MilvusVectorStore", "check_milvus_specs",
           "create_milvus_store", "milvus_index", "open_milvus_store", "resolve_uri"]

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "prodsearch"


# -- create / open (the registry's entry points) ----------------------------------------------------------
def create_milvus_store(vectors: Mapping[str, np.ndarray], specs: Mapping[str, FieldSpec], directory: Path, *,
                        products: Sequence[Product] | None = None, image_rows: np.ndarray | None = None,
                        uri: str | None = None, build_id: str | None = None, collection_prefix: str = DEFAULT_PREFIX,
                        **other: Any) -> MilvusVectorStore:
    """New collections (one per field) holding ``vectors``; see `indexer.milvus_store` for the layout.

    ``products`` (the catalog's, in product-row order) fills the filter columns, ``image_rows`` (product
    row of each ``image`` row) maps photos to products; ``uri`` picks a Lite file or a server; ``build_id``
    (default: the version directory's name) keeps versions' collections apart. Options meant for other
    backends are ignored.
    """
    if other:
        logger.debug("milvus backend ignores options %s", sorted(other))
    kind, location = resolve_uri(uri, directory)
    if kind == "lite":
        Path(location).parent.mkdir(parents=True, exist_ok=True)
    build_id = build_id or build_id_of(directory)
    indexes = {f: milvus_index(specs.get(f, FieldSpec())) for f in vectors}
    checked = {f: check_vectors(v, what=f"{f} vectors") for f, v in vectors.items()}
    if products is not None and "image" in checked and image_rows is None and len(checked["image"]):
        raise MilvusStoreError("give image_rows (the product row of each photo) with products")
    client = connect(kind, location)
    names = {f: collection_name(collection_prefix, build_id, f) for f in checked}
    store = MilvusVectorStore(kind, location, names, {f: v.shape[1] for f, v in checked.items()}, indexes,
                              {f: 0 for f in checked}, {f: products is not None for f in checked}, client)
    try:
        for field_name, array in checked.items():
            if client.has_collection(names[field_name]):
                raise MilvusStoreError(f"Milvus at {location} already has a collection {names[field_name]}; "
                                       "give another build id or collection prefix")
            index_params = client.prepare_index_params()
            index = indexes[field_name]
            index_params.add_index(VECTOR, index_type=index["index_type"], metric_type="IP",
                                   params=index["build_params"])
            if kind == "lite" and index["build_params"]:
                # pymilvus sends build parameters as top-level keys (what a server reads); Milvus Lite 3.2 reads
                # only a JSON "params" key and would silently use its defaults (HNSW M=16, efConstruction=200).
                configs = getattr(index_params[-1], "_configs", None)
                if isinstance(configs, dict):
                    configs["params"] = dict(index["build_params"])
            client.create_collection(names[field_name], schema=collection_schema(array.shape[1]))
            # sync=False: waiting polls AllocTimestamp, which Milvus Lite lacks (an ERROR traceback in the log)
            client.create_index(names[field_name], index_params, sync=False)
            rows = np.arange(len(array), dtype=np.int64)
            product_rows = np.asarray(image_rows, dtype=np.int64) if field_name == "image" and image_rows is not None else rows
            row_products = None if products is None else [products[int(p)] for p in product_rows]
            store._write(field_name, store._entities(field_name, rows, array, product_rows, row_products), upsert=False)
            client.flush(names[field_name])  # sealed segments get their index; unflushed rows are scanned
            client.load_collection(names[field_name])
    except BaseException:
        store.close()
        raise
    logger.info("milvus: %s collections %s at %s", kind, ", ".join(names.values()), location)
    return store


def open_milvus_store(directory: Path, record: Mapping[str, Any], *, uri: str | None = None,
                      **other: Any) -> MilvusVectorStore:
    """The store `MilvusVectorStore.save` recorded; ``uri`` overrides where it lives (e.g. a moved server)."""
    try:
        kind, location = resolve_uri(uri, directory) if uri else location_of(record["uri"], directory)
        if kind == "lite" and not Path(location).is_dir():
            raise MilvusStoreError(f"the Milvus Lite database {location} is missing; rebuild the index")
        store = MilvusVectorStore(kind, location, record["collections"], record["dims"], record["indexes"],
                                  record["next_rows"], record["filter_columns"])
        store.recall = dict(record.get("recall_at_10", {}))
    except KeyError as exc:
        raise MilvusStoreError(f"the manifest's milvus record lacks {exc}; rebuild the index") from exc
    store.client  # noqa: B018 - connect and load now, so a missing database fails at load, not at the first query
    return store


register_backend(BACKEND, create_milvus_store, open_milvus_store, check_milvus_specs)
