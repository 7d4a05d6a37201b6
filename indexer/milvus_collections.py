"""One index version's vectors in Milvus: `MilvusVectorStore`, the ``milvus`` backend's store over its collections
(one per field; made and opened by `indexer.milvus_store`): reading, filtered search, writing, saving.

Filters stay correct whatever Milvus does: a `RowFilter.mask` is authoritative (hits outside it are
dropped), a mask allowing few rows (`EXACT_MAX_ROWS`) is scored exactly over those rows' vectors, and a
search that comes back short of what the mask allows is redone with the mask as row ids. A mask without
filters becomes ``row not in [...]`` when it excludes few rows, up to `MAX_ID_CHUNKS` ``row in [...]``
searches, or a deeper unfiltered search whose allowed hits are kept. Our filters themselves run as Milvus
boolean expressions over each collection's filter columns (`indexer.milvus_filters`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexer.catalog import Product
from indexer.errors import InvalidArrayError
from indexer.milvus_filters import PRODUCT, ROW, SCALAR_COLUMNS, VECTOR, filter_expression, mask_expressions, scalar_columns
from indexer.milvus_setup import MilvusStoreError, connect, disconnect, uri_record
from indexer.vector_index import check_vectors, exact_over_rows
from indexer.vector_store import RowFilter

logger = logging.getLogger(__name__)

BACKEND = "milvus"
MAX_IDS = 8192                       # ids in one `row in [...]` expression or one get()
MAX_TOPK = 16384                     # Milvus's largest limit per search
EXACT_MAX_ROWS = 256                 # at most this many allowed rows: fetch their vectors and score them exactly
EXACT_FALLBACK_ROWS = 50_000         # an approximate search short of a mask allowing at most this many: score exactly
MAX_ID_CHUNKS = 4                    # a mask as at most this many `row in [...]` searches, else a deeper search
INSERT_BATCH = 2048


# -- the store ---------------------------------------------------------------------------------------
class MilvusVectorStore:
    """Every vector field of one index version, one Milvus collection each (see the module docstring)."""

    backend = BACKEND

    def __init__(self, kind: str, location: str, collections: Mapping[str, str], dims: Mapping[str, int],
                 indexes: Mapping[str, dict[str, Any]], next_rows: Mapping[str, int],
                 filter_columns: Mapping[str, bool], client: Any | None = None):
        self.kind, self.location = kind, location
        self.collections = dict(collections)
        self._dims = dict(dims)
        self._indexes = {f: dict(i) for f, i in indexes.items()}
        self._next_rows = dict(next_rows)
        self._filter_columns = dict(filter_columns)  # False once a row was written without its product
        self._client = client
        self.recall: dict[str, float] = {}  # recall@10 per approximate field, measured by the build
        self._writing = threading.Lock()  # row numbers are handed out here; Milvus orders the writes themselves

    # -- connection --
    @property
    def client(self) -> Any:
        if self._client is None:
            client = connect(self.kind, self.location)
            try:
                for name in self.collections.values():
                    if not client.has_collection(name):
                        raise MilvusStoreError(f"collection {name} is missing from Milvus at {self.location}; "
                                               "rebuild the index")
                    client.load_collection(name)
            except BaseException:
                disconnect(client, self.kind, self.location)
                raise
            self._client = client
        return self._client

    def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            disconnect(client, self.kind, self.location)

    def _collection(self, field_name: str) -> str:
        try:
            return self.collections[field_name]
        except KeyError:
            raise MilvusStoreError(f"no vector field {field_name!r}; fields: {', '.join(self.collections)}") from None

    # -- reading --
    def fields(self) -> tuple[str, ...]:
        return tuple(self.collections)

    def dim(self, field_name: str) -> int:
        self._collection(field_name)
        return self._dims[field_name]

    def count(self, field_name: str) -> int:
        """Rows numbered so far (``0..count-1``, deleted ones included: the length of a mask), as faiss counts."""
        self._collection(field_name)
        return self._next_rows[field_name]

    def live_count(self, field_name: str) -> int:
        """Rows not deleted."""
        result = self.client.query(self._collection(field_name), filter="", output_fields=["count(*)"])
        return int(result[0]["count(*)"])

    def _fetch(self, field_name: str, rows: np.ndarray) -> dict[int, list[float]]:
        found: dict[int, list[float]] = {}
        for start in range(0, len(rows), MAX_IDS):
            chunk = [int(r) for r in rows[start:start + MAX_IDS]]
            for entity in self.client.get(self._collection(field_name), ids=chunk, output_fields=[VECTOR]):
                found[int(entity[ROW])] = entity[VECTOR]
        return found

    def vectors(self, field_name: str, rows: np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        found = self._fetch(field_name, rows)
        missing = [int(r) for r in rows if int(r) not in found]
        if missing:
            raise InvalidArrayError(f"field {field_name!r} has no row(s) {missing[:10]} (deleted or never added)")
        out = np.asarray([found[int(r)] for r in rows], dtype=np.float32)
        return out.reshape(len(rows), self._dims[field_name])

    def search(self, field_name: str, queries: np.ndarray, k: int,
               allowed: RowFilter | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows by inner product, only rows ``allowed`` lets through (see the module docstring)."""
        collection = self._collection(field_name)
        queries = check_vectors(queries, self._dims[field_name], "queries")
        n = self.count(field_name)
        k = min(int(k), n, MAX_TOPK)
        if k <= 0 or len(queries) == 0:
            return _empty(len(queries))
        mask = None if allowed is None else allowed.mask
        n_allowed = n
        if mask is not None:
            if mask.dtype != np.bool_ or mask.shape != (n,):
                raise InvalidArrayError(f"allowed.mask: expected bool array of shape ({n},), got {mask.dtype} {mask.shape}")
            n_allowed = int(mask.sum())
            if n_allowed == 0:
                return _empty(len(queries))
            if n_allowed <= EXACT_MAX_ROWS:
                return self._exact(field_name, queries, k, np.flatnonzero(mask))
        if allowed is not None and (allowed.filters or allowed.exclude_rows) and self._filter_columns[field_name]:
            expression = filter_expression(allowed.filters, allowed.exclude_rows)  # our filters, natively
        elif mask is not None:
            return self._search_mask(collection, field_name, queries, k, mask, n_allowed)
        elif allowed is not None and allowed.filters:
            raise MilvusStoreError(f"field {field_name!r} has rows written without their products, so its filter "
                                   "columns are incomplete; pass a mask")
        else:
            expression = filter_expression(None, allowed.exclude_rows if allowed is not None else ())
        D, I = self._search_expressions(collection, field_name, queries, k, [expression])
        if mask is None:
            return D, I
        D, I = _keep_allowed(D, I, mask)  # the mask is authoritative
        short = np.flatnonzero((I >= 0).sum(axis=1) < min(k, n_allowed))
        if len(short):
            logger.info("milvus %s: the filter expression left %d of %d queries short of the mask; searching by mask",
                        field_name, len(short), len(queries))
            D[short], I[short] = self._search_mask(collection, field_name, queries[short], k, mask, n_allowed)
        return D, I

    def _search_mask(self, collection: str, field_name: str, queries: np.ndarray, k: int, mask: np.ndarray,
                     n_allowed: int) -> tuple[np.ndarray, np.ndarray]:
        """Search only the rows of ``mask``: as ids (``row not in`` few excluded, or at most MAX_ID_CHUNKS
        ``row in`` chunks), else deeper without a filter keeping the allowed hits, the id chunks when short.

        An approximate index may still come back short under a selective mask (Milvus Lite's HNSW skips
        disallowed rows while walking its graph); those queries are scored exactly when at most
        `EXACT_FALLBACK_ROWS` rows are allowed, as the faiss backend does for selective filters."""
        n = len(mask)
        ids = mask_expressions(mask, MAX_IDS)
        if n - n_allowed <= MAX_IDS or n_allowed <= MAX_IDS * MAX_ID_CHUNKS:
            D, I = self._search_expressions(collection, field_name, queries, k, ids)
        else:
            depth = min(n, MAX_TOPK, int(np.ceil(2 * k * n / n_allowed)))
            D, I = _keep_allowed(*self._search_expressions(collection, field_name, queries, depth, [""]), mask)
            D, I = D[:, :k], I[:, :k]
            short = np.flatnonzero((I >= 0).sum(axis=1) < min(k, n_allowed))
            if len(short):
                D[short], I[short] = self._search_expressions(collection, field_name, queries[short], k, ids)
        short = np.flatnonzero((I >= 0).sum(axis=1) < min(k, n_allowed))
        if len(short) and self._indexes[field_name].get("index_type") != "FLAT":
            if n_allowed <= EXACT_FALLBACK_ROWS:
                D[short], I[short] = self._exact(field_name, queries[short], k, np.flatnonzero(mask))
            else:
                logger.warning("milvus %s: %d queries got fewer hits than the filter allows; raise efSearch/nprobe",
                               field_name, len(short))
        return D, I

    def _search_expressions(self, collection: str, field_name: str, queries: np.ndarray, k: int,
                            expressions: list[str]) -> tuple[np.ndarray, np.ndarray]:
        index = self._indexes[field_name]
        params = dict(index.get("search_params", {}))
        if "ef" in params:
            params["ef"] = max(int(params["ef"]), k)  # Milvus requires ef >= limit
        runs = []
        for expression in expressions:
            result = self.client.search(collection, data=queries.tolist(), limit=k, filter=expression,
                                        output_fields=[], search_params={"metric_type": "IP", "params": params})
            runs.append(_as_arrays(result, k))
        if len(runs) == 1:
            return runs[0]
        D = np.concatenate([d for d, _ in runs], axis=1)
        I = np.concatenate([i for _, i in runs], axis=1)
        top = np.argsort(-D, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(D, top, axis=1), np.take_along_axis(I, top, axis=1)

    def _exact(self, field_name: str, queries: np.ndarray, k: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Score ``rows`` (those not deleted) exactly; for selective filters, as the faiss backend does."""
        found = self._fetch(field_name, rows)
        rows = np.asarray([r for r in rows.tolist() if r in found], dtype=np.int64)
        vectors = np.asarray([found[r] for r in rows.tolist()], dtype=np.float32).reshape(len(rows), -1)
        return exact_over_rows(queries, vectors, rows, k)

    # -- writing --
    def _entities(self, field_name: str, rows: np.ndarray, vectors: np.ndarray, product_rows: np.ndarray | None,
                  products: Sequence[Product] | None) -> list[dict[str, Any]]:
        vectors = check_vectors(vectors, self._dims[field_name])
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if len(rows) != len(vectors):
            raise InvalidArrayError(f"{len(rows)} rows for {len(vectors)} vectors")
        product_rows = rows if product_rows is None else np.asarray(product_rows, dtype=np.int64).reshape(-1)
        if len(product_rows) != len(rows) or (products is not None and len(products) != len(rows)):
            raise InvalidArrayError(f"give one product row and one product per row ({len(rows)})")
        return [{ROW: int(r), PRODUCT: int(p), **scalar_columns(None if products is None else products[i]),
                 VECTOR: vectors[i].tolist()} for i, (r, p) in enumerate(zip(rows, product_rows, strict=True))]

    def _write(self, field_name: str, entities: list[dict[str, Any]], upsert: bool) -> None:
        collection = self._collection(field_name)
        write = self.client.upsert if upsert else self.client.insert
        for start in range(0, len(entities), INSERT_BATCH):
            write(collection, entities[start:start + INSERT_BATCH])
        if entities:
            self._next_rows[field_name] = max(self._next_rows[field_name], max(e[ROW] for e in entities) + 1)

    def add(self, field_name: str, vectors: np.ndarray, *, product_rows: np.ndarray | None = None,
            products: Sequence[Product] | None = None) -> np.ndarray:
        """Append rows; ``products`` (one per new row) fills their filter columns, without it native filters
        are turned off for the field (masks keep working)."""
        self._collection(field_name)
        with self._writing:
            start = self._next_rows[field_name]
            rows = np.arange(start, start + len(vectors), dtype=np.int64)
            if products is None and len(rows):
                self._filter_columns[field_name] = False  # before the rows can be seen by a search
            self._write(field_name, self._entities(field_name, rows, vectors, product_rows, products), upsert=False)
        return rows

    def upsert(self, field_name: str, rows: np.ndarray, vectors: np.ndarray, *,
               product_rows: np.ndarray | None = None, products: Sequence[Product] | None = None) -> None:
        """Replace (or add) rows' vectors. Without ``products`` the rows keep the filter columns they had, which may
        be stale (the product may have changed), so native filters are turned off for the field (masks still work)."""
        entities = self._entities(field_name, rows, vectors, product_rows, products)
        if np.any(np.asarray(rows) < 0):
            raise InvalidArrayError("rows must be >= 0")
        if products is None and entities:
            self._filter_columns[field_name] = False
            old = {int(e[ROW]): e for chunk in range(0, len(entities), MAX_IDS)
                   for e in self.client.get(self._collection(field_name),
                                            ids=[x[ROW] for x in entities[chunk:chunk + MAX_IDS]],
                                            output_fields=list(SCALAR_COLUMNS))}
            for entity in entities:
                previous = old.get(entity[ROW])
                if previous is None:
                    continue
                entity.update({c: previous[c] for c in SCALAR_COLUMNS if c != PRODUCT or product_rows is None})
        with self._writing:
            self._write(field_name, entities, upsert=True)

    def delete(self, field_name: str, rows: np.ndarray) -> None:
        ids = [int(r) for r in np.asarray(rows, dtype=np.int64).reshape(-1)]
        for start in range(0, len(ids), MAX_IDS):
            self.client.delete(self._collection(field_name), ids=ids[start:start + MAX_IDS])

    # -- lifecycle --
    def save(self, directory: Path) -> dict[str, Any]:
        """Flush every collection and build its index now (Milvus Lite builds on load); returns the manifest record.

        A Lite database is closed afterwards (its folder can then be renamed with the version directory and
        hashed); the store reconnects on its next call.
        """
        for name in self.collections.values():
            self.client.flush(name)
            self.client.load_collection(name)
        record = {
            "uri": uri_record(self.kind, self.location, Path(directory)),
            "collections": dict(self.collections), "dims": dict(self._dims),
            "indexes": {f: dict(i) for f, i in self._indexes.items()},
            "next_rows": dict(self._next_rows), "filter_columns": dict(self._filter_columns),
            "live_rows": {f: self.live_count(f) for f in self.collections},
            **({"recall_at_10": dict(self.recall)} if self.recall else {}),
        }
        if self.kind == "lite":
            self.close()
        return record

    def stats(self) -> dict[str, Any]:
        """Per field: rows (numbered), deleted, the collection, index type and parameters, recall when measured;
        ``bytes`` is the whole Lite database's size on disk (None on a server)."""
        size = _folder_bytes(Path(self.location)) if self.kind == "lite" else None
        out = {}
        for f, collection in self.collections.items():
            live = self.live_count(f)
            out[f] = {"rows": self.count(f), "deleted": self.count(f) - live, "collection": collection,
                      "dim": self._dims[f], **self._indexes[f], "native_filters": self._filter_columns[f],
                      "uri_kind": self.kind, "bytes": size,
                      **({"recall_at_10": self.recall[f]} if f in self.recall else {})}
        return out

    def drop(self) -> None:
        """Remove this version's collections (e.g. from a cluster when the version is removed)."""
        for name in self.collections.values():
            if self.client.has_collection(name):
                self.client.drop_collection(name)
        self.close()


def _empty(nq: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((nq, 0), np.float32), np.zeros((nq, 0), np.int64)


def _as_arrays(result: Any, k: int) -> tuple[np.ndarray, np.ndarray]:
    D = np.full((len(result), k), -np.inf, dtype=np.float32)
    I = np.full((len(result), k), -1, dtype=np.int64)
    for q, hits in enumerate(result):  # ids: the primary key, our row
        ids, distances = list(hits.ids)[:k], list(hits.distances)[:k]
        D[q, :len(ids)], I[q, :len(ids)] = distances, ids
    return D, I


def _keep_allowed(D: np.ndarray, I: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop hits outside ``mask`` (the authoritative filter), keeping each query's order, -1 padded."""
    ok = (I >= 0) & mask[np.clip(I, 0, len(mask) - 1)]
    out_D = np.full_like(D, -np.inf)
    out_I = np.full_like(I, -1)
    for q in range(len(I)):
        kept = np.flatnonzero(ok[q])
        out_D[q, :len(kept)], out_I[q, :len(kept)] = D[q, kept], I[q, kept]
    return out_D, out_I


def _folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0
