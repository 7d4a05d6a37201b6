"""Relevance sets: a queries file (JSONL) and graded TREC qrels, loaded and validated.

Queries file rows: ``{"id", "text"?, "image"?, "product_id"?, "filters"?, "split"?}``; an
``image`` path is relative to the queries file and must resolve inside its folder or another allowed
one (the index's catalog folder). Qrels lines: ``QID ITER DOC_ID GRADE``.
Every problem is reported with the file, the line and the fix (`RelevanceError`).
"""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from indexer.errors import ImageDecodeError, ProdsearchError
from indexer.images import check_image_file
from indexer.json_input import parse_json
from indexer.sources import TRUSTED, ImageSourceError, ImageSources
from search.config import validation_problems
from search.filters import Filters

logger = logging.getLogger(__name__)

SPLITS = ("train", "test")
QUERY_FIELDS = {"id", "text", "image", "product_id", "filters", "split", "derived", "kind", "intent", "family",
                "perturb", "of"}
META_NAME = "relevance.json"
MAX_GRADE = 10  # derived sets use 0-2; a human scale such as 0-3 or 0-4 fits; far larger is a typo (and overflows ranx)
GRADE_RE = re.compile(r"-?[0-9]+")  # ASCII digits only: int() would also take "1_0", "+2" and "٢"


class RelevanceError(ProdsearchError):
    """A queries or qrels file is missing or invalid; the message lists every problem."""

    def __init__(self, path: Path, problems: list[str]):
        self.path = Path(path)
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:30])
        more = f"\n  ... and {len(problems) - 30} more" if len(problems) > 30 else ""
        super().__init__(f"{path}: {len(problems)} problem(s)\n{shown}{more}")


@dataclass(frozen=True)
class Query:
    """One evaluation query; ``image`` is an absolute path when given."""

    id: str
    text: str | None = None
    image: Path | None = None
    product_id: str | None = None
    filters: dict[str, Any] | None = None
    split: str | None = None
    kind: str = "text"
    family: str | None = None  # the kind of text query ("colour+gender+type"); the report judges each apart
    perturb: str | None = None  # a perturbed variant ("typos", "synonyms") of the query `of`
    of: str | None = None


Qrels = dict[str, dict[str, int]]


@dataclass
class RelevanceSet:
    """Queries + qrels (+ whether they were derived from catalog attributes rather than labelled)."""

    queries: list[Query]
    qrels: Qrels
    queries_path: Path
    qrels_path: Path
    derived: bool = False
    meta: dict[str, Any] = field(default_factory=dict)

    def split(self, name: str | None) -> RelevanceSet:
        """Only the queries of one split (``None`` or ``all`` keeps every query)."""
        if name in (None, "all"):
            return self
        if name not in SPLITS:
            raise RelevanceError(self.queries_path, [f"unknown split {name!r}; use one of {', '.join(SPLITS)} or all"])
        queries = [q for q in self.queries if q.split == name]
        if not queries:
            raise RelevanceError(self.queries_path, [f"no query has split {name!r}; add a \"split\" field to the rows"])
        return RelevanceSet(queries, {q.id: self.qrels.get(q.id, {}) for q in queries}, self.queries_path,
                            self.qrels_path, self.derived, self.meta)


def _kind(text: str | None, image: str | None, product_id: str | None) -> str:
    return "image" if image else "product_id" if product_id else "text"


def query_family(row: dict[str, Any], kind: str) -> str | None:
    """A text query's family: its ``family`` field, else the attribute names of its derived ``intent``."""
    family = row.get("family")
    if isinstance(family, str) and family.strip():
        return family.strip()
    intent = row.get("intent")
    if kind == "text" and isinstance(intent, dict) and intent:
        return "+".join(sorted(str(k) for k in intent))
    return None


def _shown(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "...'"


def _query_image(image: Any, base: Path, sources: ImageSources) -> tuple[Path | None, str | None]:
    """A query photo's resolved path, or why it is refused: not a path, outside the allowed folders (the set's
    and the catalog's, symlinks resolved: a relevance set is data and may not name /etc/...), not found, or a
    decompression bomb by its header (named here, with its line, not after the models load)."""
    if not isinstance(image, str) or not image.strip():
        return None, f"\"image\" must be a photo path (a non-empty string), got {_shown(image)}"
    try:
        real = sources.check_path(base / image)  # an absolute `image` stays as it is
        found = real.is_file()
        size = real.stat().st_size if found else 0
    except (ImageSourceError, OSError, ValueError) as exc:  # outside the folders, a NUL byte, a name too long
        return None, f"image {_shown(image)} {exc if isinstance(exc, ImageSourceError) else f'refused: {exc}'}"
    if not found:
        return None, f"image {_shown(image)} not found (paths are relative to {base})"
    if size > TRUSTED.fetch.max_bytes:  # what `read_image` will refuse to read
        return None, f"image {_shown(image)} refused: file over the {TRUSTED.fetch.max_bytes}-byte limit per photo"
    try:
        check_image_file(real)
    except ImageDecodeError as exc:
        return None, f"image {_shown(image)} refused: {exc}"
    return real, None


def _read_lines(path: Path, problems: list[str]) -> Iterator[tuple[int, str]]:
    """(line number, text) of a UTF-8 file, a leading BOM dropped; a line that is not UTF-8 (Latin-1, UTF-16) is a
    listed problem instead of a UnicodeDecodeError halfway through."""
    with open(path, "rb") as fh:
        for line_no, raw in enumerate(fh, start=1):
            if line_no == 1:
                if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                    problems.append("the file is UTF-16 text; save it as UTF-8")
                    return
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                yield line_no, raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                problems.append(f"line {line_no}: not UTF-8 text ({exc.reason} at byte {exc.start + 1} of the line); "
                                "save the file as UTF-8")


def _parse_json(line: str, where: str, problems: list[str]) -> Any:
    """The line's JSON value, or None with the problem listed (bad JSON, nesting too deep, a huge integer)."""
    try:
        return parse_json(line)
    except ValueError as exc:
        problems.append(f"{where}: {exc}")
    return None


def load_queries(path: str | Path, known_ids: Iterable[str] | None = None, *,
                 image_roots: Iterable[Path | str | None] = (), check_images: bool = True) -> list[Query]:
    """Read and validate a queries file; raise `RelevanceError` listing every bad line.

    Photo paths must resolve inside the file's folder or one of ``image_roots`` (the index's catalog folder,
    ``--images-root``). ``check_images=False`` (a caller that sends only the texts) leaves photos unread."""
    path = Path(path)
    if not path.is_file():
        raise RelevanceError(path, ["file not found; give the queries JSONL written by `prodsearch eval build-qrels`"])
    sources = ImageSources.confined(path.parent, *image_roots)
    known = set(known_ids) if known_ids is not None else None
    problems: list[str] = []
    queries: list[Query] = []
    seen: dict[str, int] = {}
    for line_no, line in _read_lines(path, problems):
        if not line.strip():
            continue
        where = f"line {line_no}"
        row = _parse_json(line, where, problems)
        if row is None:
            continue
        if not isinstance(row, dict):
            problems.append(f"{where}: a query must be a JSON object with an \"id\"")
            continue
        extra = sorted(set(row) - QUERY_FIELDS)
        if extra:
            problems.append(f"{where}: unknown field(s) {extra}; allowed: {sorted(QUERY_FIELDS)}")
        qid = row.get("id")
        if isinstance(qid, int) and not isinstance(qid, bool):
            qid = str(qid)
        if not isinstance(qid, str) or not qid.strip() or any(c.isspace() for c in qid) or qid.startswith("#"):
            problems.append(f"{where}: \"id\" must be a non-empty string without spaces, not starting with "
                            f"'#' (a comment in qrels), got {_shown(qid)}")
            continue
        if qid in seen:
            problems.append(f"{where}: duplicate query id {qid!r} (first on line {seen[qid]}); ids must be unique")
            continue
        seen[qid] = line_no
        text = row.get("text")
        text = text.strip() or None if isinstance(text, str) else text
        image, product_id = row.get("image"), row.get("product_id")
        if text is not None and not isinstance(text, str):
            problems.append(f"{where}: query {qid}: \"text\" must be a string")
            continue
        if text is None and not image and not product_id:
            problems.append(f"{where}: query {qid} is empty; give a \"text\", an \"image\" path or a \"product_id\"")
            continue
        image_path = None
        if image is not None and check_images:
            image_path, problem = _query_image(image, path.parent, sources)
            if problem:
                problems.append(f"{where}: query {qid}: {problem}")
                continue
        if product_id is not None:
            if isinstance(product_id, bool) or not isinstance(product_id, (str, int)):
                problems.append(f"{where}: query {qid}: \"product_id\" must be a product id (a string), "
                                f"got {_shown(product_id)}")
                continue
            product_id = str(product_id)
            if known is not None and product_id not in known:
                problems.append(f"{where}: query {qid}: unknown product_id {product_id!r} (not in the index)")
        filters = row.get("filters")
        if filters is not None:
            try:  # strict: the file is JSON the user wrote, so "30" or true is not a price (an integer is)
                Filters.model_validate(filters, strict=True)
            except ValidationError as exc:
                problems.append(f"{where}: query {qid}: invalid filters ({validation_problems(exc, 'filters')})")
            except RecursionError:
                problems.append(f"{where}: query {qid}: invalid filters (nested too deeply)")
        split = row.get("split")
        if split is not None and split not in SPLITS:
            problems.append(f"{where}: query {qid}: split must be one of {SPLITS}, got {split!r}")
        kind = _kind(text, image, product_id)
        perturb, of = row.get("perturb"), row.get("of")
        if (perturb is None) != (of is None) or not all(isinstance(v, (str, type(None))) for v in (perturb, of)):
            problems.append(f"{where}: query {qid}: \"perturb\" and \"of\" go together (the kind of variant and "
                            "the original query's id), as strings")
            continue
        if of == qid:
            problems.append(f"{where}: query {qid}: a variant cannot be its own original (\"of\")")
            continue
        queries.append(Query(qid, text, image_path, product_id, filters, split, kind, query_family(row, kind),
                             perturb, of))
    missing = sorted({q.of for q in queries if q.of is not None} - set(seen))
    if missing:
        problems.append(f"variants name original queries that are not in the file: {missing[:5]}")
    if problems:
        raise RelevanceError(path, problems)
    if not queries:
        raise RelevanceError(path, ["no queries; the file is empty"])
    return queries


def load_qrels(path: str | Path, query_ids: Iterable[str] | None = None,
               known_ids: Iterable[str] | None = None) -> Qrels:
    """Read TREC qrels (``QID ITER DOC GRADE``); raise `RelevanceError` listing every bad line."""
    path = Path(path)
    if not path.is_file():
        raise RelevanceError(path, ["file not found; give TREC qrels lines `QID 0 DOC_ID GRADE`"])
    qids = set(query_ids) if query_ids is not None else None
    known = set(known_ids) if known_ids is not None else None
    problems: list[str] = []
    qrels: Qrels = {}
    seen: dict[tuple[str, str], int] = {}
    for line_no, line in _read_lines(path, problems):
        if not line.strip() or line.lstrip().startswith("#"):  # no query id starts with '#' (`load_queries`)
            continue
        where = f"line {line_no}"
        parts = line.split()
        if len(parts) != 4:
            problems.append(f"{where}: expected 4 columns `QID ITER DOC_ID GRADE`, got {len(parts)}: "
                            f"{_shown(line.strip())}")
            continue
        qid, _, doc, grade_text = parts
        if not GRADE_RE.fullmatch(grade_text):
            problems.append(f"{where}: grade {_shown(grade_text)} is not an integer")
            continue
        grade = int(grade_text)
        if grade < 0:
            problems.append(f"{where}: grade {grade} is negative; use 0 for not relevant")
            continue
        if grade > MAX_GRADE:
            problems.append(f"{where}: grade {_shown(grade_text, 40)} is over {MAX_GRADE}; grades are 0 (not "
                            f"relevant) to {MAX_GRADE} (derived sets: 1 partial, 2 exact)")
            continue
        if (qid, doc) in seen:
            problems.append(f"{where}: duplicate judgement of {doc} for query {qid} (first on line {seen[qid, doc]})")
            continue
        seen[qid, doc] = line_no
        if qids is not None and qid not in qids:
            problems.append(f"{where}: query {qid!r} is not in the queries file")
            continue
        if known is not None and doc not in known:
            problems.append(f"{where}: unknown product id {doc!r} (not in the index); rebuild the qrels for this catalog")
            continue
        qrels.setdefault(qid, {})[doc] = grade
    if problems:
        raise RelevanceError(path, problems)
    if not qrels:
        raise RelevanceError(path, ["no judgements; the file is empty"])
    return qrels


def load_relevance(queries_path: str | Path, qrels_path: str | Path, known_ids: Iterable[str] | None = None, *,
                   image_roots: Iterable[Path | str | None] = ()) -> RelevanceSet:
    """Both files, cross-checked: queries with no relevant product are reported (they score 0 everywhere).
    Photo paths must lie in the queries file's folder or in ``image_roots`` (see `load_queries`)."""
    known = set(known_ids) if known_ids is not None else None
    queries = load_queries(queries_path, known, image_roots=image_roots)
    qrels = load_qrels(qrels_path, [q.id for q in queries], known)
    unjudged = {q.id for q in queries if not any(g > 0 for g in qrels.get(q.id, {}).values())}
    if unjudged:
        logger.warning("%s: %d query(ies) have no relevant product and are left out (as trec_eval does): %s",
                       qrels_path, len(unjudged), ", ".join(sorted(unjudged)[:10]))
        queries = [q for q in queries if q.id not in unjudged]
        if not queries:
            raise RelevanceError(Path(qrels_path), ["no query has a relevant product (grade > 0)"])
    meta_path = Path(queries_path).parent / META_NAME
    meta: dict[str, Any] = {}
    if meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
            raise RelevanceError(meta_path, [f"not valid UTF-8 JSON ({getattr(exc, 'msg', type(exc).__name__)})"]) \
                from exc
        if not isinstance(meta, dict):
            raise RelevanceError(meta_path, ["expected a JSON object (as `eval build-qrels` writes), got "
                                             f"{type(meta).__name__}; fix or remove the file"])
    derived = bool(meta.get("derived")) or _any_derived(queries_path)
    return RelevanceSet(queries, qrels, Path(queries_path), Path(qrels_path), derived, meta)


def _any_derived(path: str | Path) -> bool:
    with open(path, encoding="utf-8", errors="replace") as fh:
        return any('"derived": true' in line for line in fh)


def write_queries(rows: list[dict[str, Any]], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def write_qrels(qrels: Qrels, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{qid} 0 {doc} {grade}\n" for qid, grades in qrels.items() for doc, grade in sorted(grades.items())]
    path.write_text("".join(lines), encoding="utf-8")
