"""Connecting to Milvus for the `milvus` vector-store backend: where the data lives (a Milvus Lite folder or a
server uri, and how the manifest records it), one embedded Lite server per folder per process, the
collection schema, and the Milvus index of a FAISS-style `FieldSpec`."""

from __future__ import annotations

import os
import re
import secrets
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from indexer.errors import IndexError_
from indexer.milvus_filters import ATTRIBUTE_PAIRS, ATTRIBUTES, BRAND, CATEGORY, PRICE, PRODUCT, ROW, VECTOR
from indexer.vector_store import FieldSpec

LITE_FILE = "milvus.db"              # the default Milvus Lite database, inside the version directory
TOKEN_ENV = "PRODSEARCH_MILVUS_TOKEN"
INSTALL_HINT = "pip install 'pymilvus==3.0.2' 'milvus-lite==3.2.2' (both are dependencies of prodsearch)"
SERVER_SCHEMES = ("http://", "https://", "tcp://", "grpc://", "unix:")


class MilvusStoreError(IndexError_):
    """The milvus backend cannot do what was asked (not installed, unreachable, a bad option)."""


# -- where the data lives ------------------------------------------------------------------------
def resolve_uri(uri: str | None, directory: Path) -> tuple[str, str]:
    """``("lite", absolute path)`` or ``("server", uri)``; no ``uri`` means a Lite file in ``directory``."""
    if not uri:
        return "lite", str((Path(directory) / LITE_FILE).absolute())
    if uri.startswith(SERVER_SCHEMES):
        return "server", uri
    if "://" in uri:
        raise MilvusStoreError(f"--milvus-uri {uri!r}: expected a Milvus Lite path ending in .db or "
                               f"http(s)://host:port of a Milvus server")
    if not uri.endswith(".db"):
        raise MilvusStoreError(f"--milvus-uri {uri!r}: a Milvus Lite database path must end in .db "
                               f"(e.g. ./DIR/milvus.db), or give http://host:19530 for a Milvus server")
    return "lite", str(Path(uri).absolute())


def uri_record(kind: str, location: str, directory: Path) -> dict[str, str]:
    """What the manifest keeps: a Lite path relative to the version directory (so a moved index opens)."""
    if kind == "server":
        return {"kind": kind, "uri": location}
    return {"kind": kind, "path": os.path.relpath(location, Path(directory).absolute())}


def location_of(record: Mapping[str, Any], directory: Path) -> tuple[str, str]:
    kind = record.get("kind")
    if kind == "server":
        return kind, str(record["uri"])
    if kind == "lite":
        path = Path(record["path"])
        return kind, str(path if path.is_absolute() else (Path(directory).resolve() / path).resolve())
    raise MilvusStoreError(f"unknown milvus uri kind {kind!r} in the manifest; rebuild the index")


# pymilvus pings every 10 s even with no call in flight; the embedded Lite server (gRPC defaults) answers a
# client idle for about two minutes with GOAWAY "too_many_pings". Seen once in CI: a new client of that
# database connecting at that moment failed. Ping only during calls (no GOAWAY then, checked at 170 s idle).
LITE_GRPC_OPTIONS = {"grpc.keepalive_permit_without_calls": 0}

_lite_users: dict[str, int] = {}
_lite_lock = threading.Lock()


def connect(kind: str, location: str) -> Any:
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise MilvusStoreError(f"the milvus backend needs pymilvus: {INSTALL_HINT}") from exc
    if kind == "lite":
        try:
            import milvus_lite  # noqa: F401
        except ImportError as exc:
            raise MilvusStoreError(f"a Milvus Lite database ({location}) needs milvus-lite: {INSTALL_HINT}; "
                                   f"or give --milvus-uri http://host:19530 for a Milvus server") from exc
    options = {"token": os.environ.get(TOKEN_ENV, "")} if kind == "server" else {"grpc_options": LITE_GRPC_OPTIONS}
    try:
        try:
            client = MilvusClient(location, **options)
        except Exception:  # once more: a new channel can meet a shared connection being closed (GOAWAY)
            time.sleep(1.0)
            client = MilvusClient(location, **options)
    except Exception as exc:  # pymilvus raises MilvusException subclasses and grpc errors
        hint = ("Milvus Lite serves one process at a time: is another prodsearch process (serve, query, a build) "
                "using it? To share one database between processes use a Milvus server (--milvus-uri http://host:19530)"
                if kind == "lite" else "Is the server running and reachable?")
        raise MilvusStoreError(f"cannot open Milvus at {location}: {exc}. {hint}") from exc
    if kind == "lite":
        with _lite_lock:
            _lite_users[location] = _lite_users.get(location, 0) + 1
    return client


def disconnect(client: Any, kind: str, location: str) -> None:
    """Close; the last user of a Lite database in this process stops its embedded server (releasing the folder)."""
    client.close()
    if kind != "lite":
        return
    with _lite_lock:
        _lite_users[location] -= 1
        last = _lite_users[location] == 0
        if last:
            del _lite_users[location]
    if last:
        from milvus_lite.server_manager import server_manager_instance
        server_manager_instance.release_server(location)


# -- index parameters from a FieldSpec ---------------------------------------------------------------
# FieldSpec parameters each Milvus index type takes (the FAISS names, as --index-spec spells them).
_INDEX_PARAMS = {"FLAT": (), "HNSW": ("efSearch", "efConstruction"), "IVF_FLAT": ("nprobe",), "IVF_SQ8": ("nprobe",)}


def milvus_index(spec: FieldSpec) -> dict[str, Any]:
    """The Milvus index of a FAISS-style `FieldSpec`: Flat -> FLAT, HNSW<M> -> HNSW, IVF<n>,Flat|SQ8 -> IVF_*."""
    factory = spec.factory.replace(" ", "")
    params = dict(spec.params)
    hnsw = re.fullmatch(r"HNSW(\d*)(,Flat)?", factory)
    ivf = re.fullmatch(r"IVF(\d+),(Flat|SQ8)", factory)
    if factory in ("Flat", "IDMap,Flat", "IDMap2,Flat"):
        index = {"index_type": "FLAT", "build_params": {}, "search_params": {}}
    elif hnsw:
        index = {"index_type": "HNSW",
                 "build_params": {"M": int(hnsw.group(1) or 32), "efConstruction": int(params.get("efConstruction", 200))},
                 "search_params": {"ef": int(params.get("efSearch", 64))}}
    elif ivf:
        index = {"index_type": "IVF_FLAT" if ivf.group(2) == "Flat" else "IVF_SQ8",
                 "build_params": {"nlist": int(ivf.group(1))}, "search_params": {"nprobe": int(params.get("nprobe", 1))}}
    else:
        raise MilvusStoreError(f"the milvus backend has no index for factory {spec.factory!r}; "
                               "use Flat, HNSW<M> (efSearch=, efConstruction=), IVF<n>,Flat or IVF<n>,SQ8 (nprobe=)")
    index_type = str(index["index_type"])
    extra = sorted(set(params) - set(_INDEX_PARAMS[index_type]))
    if extra:
        raise MilvusStoreError(f"parameter(s) {', '.join(extra)} do not apply to a Milvus {index['index_type']} index "
                               f"(factory {spec.factory!r})")
    return index


def check_milvus_specs(specs: Mapping[str, FieldSpec], dims: Mapping[str, int]) -> None:
    """Before any embedding: pymilvus is there, every spec maps to a Milvus index, every dimension fits."""
    try:
        import pymilvus  # noqa: F401
    except ImportError as exc:
        raise MilvusStoreError(f"the milvus backend needs pymilvus: {INSTALL_HINT}") from exc
    for name, spec in specs.items():
        milvus_index(spec)
        if not 2 <= dims.get(name, 2) <= 32768:
            raise MilvusStoreError(f"field {name!r}: Milvus vectors have 2 to 32768 dimensions, not {dims[name]}")


def collection_name(prefix: str, build_id: str, field_name: str) -> str:
    """A valid Milvus collection name (letters, digits, underscores) unique to the version and field."""
    name = re.sub(r"[^0-9A-Za-z_]", "_", f"{prefix}_{build_id}_{field_name}")
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


def build_id_of(directory: Path) -> str:
    name = Path(directory).name
    name = name.split("-", 1)[1] if name.startswith(".building-") else name
    return name or secrets.token_hex(6)


def collection_schema(dim: int) -> Any:
    """One collection's fields: the row, its product, the filter columns (`indexer.milvus_filters`), the vector."""
    from pymilvus import DataType, MilvusClient

    out = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
    out.add_field(ROW, DataType.INT64, is_primary=True)
    out.add_field(PRODUCT, DataType.INT64)
    out.add_field(BRAND, DataType.VARCHAR, max_length=65535)
    out.add_field(CATEGORY, DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=4096, max_length=65535)
    out.add_field(PRICE, DataType.DOUBLE, nullable=True)
    out.add_field(ATTRIBUTE_PAIRS, DataType.ARRAY, element_type=DataType.VARCHAR, max_capacity=4096,
                     max_length=65535)
    out.add_field(ATTRIBUTES, DataType.JSON)
    out.add_field(VECTOR, DataType.FLOAT_VECTOR, dim=dim)
    return out
