"""How each vector field is indexed: ``--index-spec FIELD=FACTORY[,param=value...]``, ``--factory``, ``auto``.

A spec is a FAISS factory string plus search/build parameters (`FieldSpec`). Factories contain
commas themselves (``IVF1024,SQ8``), so parameters are recognised by name (`KNOWN_PARAMS`) and
split off the end: ``IVF1024,SQ8,nprobe=24`` is factory ``IVF1024,SQ8`` with ``nprobe=24``.

``auto`` (the default) picks per field by its row count: exact ``Flat`` below `AUTO_EXACT_BELOW`
rows, else `AUTO_APPROX` (HNSW; see README "Vector indexes" for the measurements behind it). A
build checks every approximate field's recall@10 (`indexer.recall`) whatever chose it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from indexer.errors import IndexError_
from indexer.vector_index import KNOWN_PARAMS
from indexer.vector_store import FieldSpec

AUTO = "auto"
VECTOR_FIELDS = ("text", "image", "clip_text")
# At and above this many rows `auto` builds AUTO_APPROX. Measured on the 44k fashion index's real vectors
# (benchmarks/vector_specs.py, 2 busy cores): an exact Flat scan costs ~12 ms p50 per field, far over a
# 10 ms text query that searches two dense fields; HNSW32 with efSearch=128 answers in ~0.3-0.4 ms at
# recall@10 0.999 (text) / 0.997 (image), for 10-30 s of build per field. Flat's cost is linear in
# rows, so below ~10k (~2-3 ms per field) exact search is cheap enough and needs no recall check.
AUTO_EXACT_BELOW = 10_000
AUTO_APPROX = FieldSpec("HNSW32", {"efConstruction": 80, "efSearch": 128})
DEFAULT_MIN_RECALL = 0.95


class IndexSpecError(IndexError_, ValueError):
    """An ``--index-spec`` / ``--factory`` that cannot be parsed or names an unknown field or parameter."""


@dataclass
class VectorBuild:
    """How a build writes its vector fields: backend, a spec per field, the recall floor, the device."""

    backend: str = "faiss"
    default: FieldSpec = field(default_factory=lambda: FieldSpec(AUTO))  # fields without their own spec
    specs: dict[str, FieldSpec] = field(default_factory=dict)
    min_recall: float = DEFAULT_MIN_RECALL
    device: str = "auto"
    options: dict[str, Any] = field(default_factory=dict)  # passed through to the backend (e.g. milvus `uri`)

    def spec_for(self, field_name: str, rows: int) -> FieldSpec:
        """The concrete spec of a field with ``rows`` vectors (`auto` resolved)."""
        return resolve_auto(self.specs.get(field_name, self.default), rows)


def _number(name: str, text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise IndexSpecError(f"{what}: parameter {name}={text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise IndexSpecError(f"{what}: parameter {name}={text!r} must be a finite number >= 0")
    return int(value) if value.is_integer() else value


def parse_factory(text: str, what: str = "--factory") -> FieldSpec:
    """``FACTORY[,param=value...]`` -> `FieldSpec`; unknown parameter names are an error."""
    pieces = [p.strip() for p in text.split(",")]
    params: dict[str, float] = {}
    while pieces and "=" in pieces[-1]:
        name, _, value = pieces.pop().partition("=")
        name = name.strip()
        if name not in KNOWN_PARAMS:
            raise IndexSpecError(f"{what}: unknown parameter {name!r} in {text!r}; known: {', '.join(KNOWN_PARAMS)}")
        if name in params:
            raise IndexSpecError(f"{what}: parameter {name!r} given twice in {text!r}")
        params[name] = _number(name, value.strip(), what)
    factory = ",".join(pieces)
    if not factory:
        raise IndexSpecError(f"{what}: no factory string in {text!r} (e.g. HNSW32,efSearch=96 or IVF1024,SQ8,nprobe=24)")
    if "=" in factory:
        raise IndexSpecError(f"{what}: parameters go after the factory string, in {text!r}")
    if factory == AUTO and params:
        raise IndexSpecError(f"{what}: 'auto' takes no parameters (it picks them); give a factory to set {', '.join(params)}")
    return FieldSpec(factory, dict(reversed(params.items())))


def parse_index_spec(text: str, fields: Iterable[str] = VECTOR_FIELDS) -> tuple[str, FieldSpec]:
    """``FIELD=FACTORY[,param=value...]`` -> (field, spec)."""
    fields = tuple(fields)
    name, sep, rest = text.partition("=")
    name = name.strip()
    if not sep or not name:
        raise IndexSpecError(f"--index-spec {text!r}: expected FIELD=FACTORY[,param=value...], "
                             f"e.g. text=HNSW32,efSearch=96 (fields: {', '.join(fields)})")
    if name not in fields:
        raise IndexSpecError(f"--index-spec {text!r}: unknown field {name!r}; fields: {', '.join(fields)}")
    return name, parse_factory(rest, f"--index-spec {text!r}")


def vector_build_from(factory: str = AUTO, index_specs: Iterable[str] = (), **kwargs: Any) -> VectorBuild:
    """A `VectorBuild` from ``--factory`` (every field) and ``--index-spec`` (one field each; later ones win)."""
    specs = dict(parse_index_spec(text) for text in index_specs)
    min_recall = kwargs.get("min_recall", DEFAULT_MIN_RECALL)
    if not 0 <= min_recall <= 1:
        raise IndexSpecError(f"--min-recall {min_recall}: expected a number between 0 and 1")
    return VectorBuild(default=parse_factory(factory), specs=specs, **kwargs)


def resolve_auto(spec: FieldSpec, rows: int) -> FieldSpec:
    if spec.factory != AUTO:
        return FieldSpec(spec.factory, dict(spec.params))
    chosen = AUTO_APPROX if rows >= AUTO_EXACT_BELOW else FieldSpec("Flat")
    return FieldSpec(chosen.factory, dict(chosen.params))


def is_exact(spec: FieldSpec) -> bool:
    """An exhaustive, uncompressed index: its results are exact, so it has no recall to measure."""
    return spec.factory.replace(" ", "") in ("Flat", "IDMap,Flat", "IDMap2,Flat")


def format_spec(spec: FieldSpec) -> str:
    return ",".join([spec.factory] + [f"{k}={v:g}" for k, v in spec.params.items()])


def recall_hint(spec: FieldSpec) -> str:
    """Which parameter to raise when ``spec``'s recall is too low."""
    factory = spec.factory
    if "IVF" in factory:
        nprobe = int(spec.params.get("nprobe", 1))
        hint = f"raise nprobe (now {nprobe}; e.g. nprobe={max(2 * nprobe, 8)})"
    elif "HNSW" in factory:
        ef = int(spec.params.get("efSearch", 16))
        hint = f"raise efSearch (now {ef}; e.g. efSearch={2 * ef})"
    else:
        hint = "use a less compressed factory"
    if "PQ" in factory or "SQ4" in factory or "LSH" in factory:
        hint += ("; compressed codes cap recall: use more bytes per vector (SQ8, a larger PQ m) "
                 "or add a refine stage (,RFlat with k_factor)")
    return hint


def specs_summary(specs: Mapping[str, FieldSpec]) -> str:
    return ", ".join(f"{name}={format_spec(spec)}" for name, spec in specs.items())
