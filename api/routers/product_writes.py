"""Live writes (admin token): PUT / PATCH / DELETE /products/{id}, POST /products/batch, POST /admin/compact.

A write is acknowledged (200) only once it is in the write-ahead log, fsync'd, and visible to every
read route (see `api.live`). A product is validated as the catalog loader validates a row: a bad one
is a 422 naming the field and the reason, and nothing changes. Photos: URLs (fetched under the
SSRF rules of `indexer.fetch`), paths under ``--images-root``, or files uploaded in a multipart form
(``product`` = the JSON, ``photo`` = one or more files).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ValidationError, field_validator
from starlette.concurrency import run_in_threadpool

from api.auth import AdminAuth
from api.errors import (
    ClientJSONError,
    ErrorItem,
    ErrorResponse,
    error_response,
    error_responses,
    json_safe_errors,
    parse_client_json,
    readable_errors,
    safe_text,
)
from api.live import MAX_BATCH_LINES, CompactionBusyError, LiveService, WriteResult
from indexer.catalog import Product
from indexer.index_dir import StaleVersionError
from indexer.live.embed import EmbeddedProduct, PhotoError
from indexer.live.embed_worker import EmbeddingWorkerError
from indexer.live.log import WriterLockedError

router = APIRouter(tags=["product writes"])
AUTH = {401: {"model": ErrorResponse, "description": "missing or wrong bearer token"},
        403: {"model": ErrorResponse, "description": "admin routes are disabled (no PRODSEARCH_ADMIN_TOKEN)"}}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Error responses of a write route: the API's shared ones, the auth ones, and what a write adds."""
    out = {**error_responses(*statuses), **AUTH}
    out[422] = {"model": ErrorResponse, "description": "an invalid product: `detail` names the field and the reason; "
                "nothing changed"}
    out[503] = {"model": ErrorResponse, "description": "the index is not loaded, another process holds the "
                "index directory's writer lock, or the embedding worker stopped (nothing was written: send it again)"}
    return out

PATCHABLE = ("price", "currency", "attributes")


class WriteAck(BaseModel):
    id: str
    op: str
    seq: int
    products: int


class BatchLine(BaseModel):
    line: int
    id: str | None = None
    status: str  # "upserted", "deleted" or "error"
    seq: int | None = None
    error: str | None = None

    @field_validator("id", "error", mode="before")
    @classmethod
    def _json_safe(cls, value: object) -> object:
        """Echoed client text: cut short and lone surrogates escaped, so the answer always serialises."""
        return safe_text(value, 2000) if isinstance(value, str) else value


class BatchResult(BaseModel):
    applied: int
    errors: int
    results: list[BatchLine]


class Invalid(Exception):
    """A write refused with 422 (``errors`` per field)."""

    def __init__(self, detail: str, errors: list[ErrorItem]):
        self.detail, self.errors = detail, errors


def _live(request: Request) -> LiveService:
    return request.app.state.live


def _invalid_id(msg: str) -> Invalid:
    return Invalid(f"id: {msg}", [ErrorItem(loc=["path", "product_id"], msg=msg, type="value_error")])


def _checked_path_id(product_id: str) -> str:
    """The path's id if a product can hold it exactly, else `Invalid`: ids are stored as the catalog loader
    normalises them (surrounding whitespace stripped), so ``PUT /products/%20p1%20`` would silently
    overwrite ``p1`` while ``GET`` of the same path answers 404; and an id must encode as UTF-8."""
    if not product_id.strip():
        raise _invalid_id("an id needs a character other than whitespace")
    if product_id != product_id.strip():
        raise _invalid_id(f"{safe_text(repr(product_id), 100)} has leading or trailing whitespace, which "
                          "product ids never hold (the catalog strips it); send the id exactly as stored")
    try:
        product_id.encode("utf-8")
    except UnicodeEncodeError:
        raise _invalid_id("not valid Unicode text (a lone surrogate)") from None
    return product_id


def _echoed_id(row: Any) -> str | None:
    """A bad line's id as its result names it (BatchLine makes it JSON-safe)."""
    value = row.get("id") if isinstance(row, dict) else None
    return str(value)[:200] if isinstance(value, (str, int)) and not isinstance(value, bool) else None


def _delete_id(row: dict[str, Any]) -> str:
    """The id of a batch's delete line, normalised as a product's id is (`Invalid` when it is no id)."""
    value = row.get("id")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise Invalid("id: a delete needs an \"id\" (a string or an integer)", [])
    return _checked_path_id(str(value).strip())


def _validate(body: Any, product_id: str | None) -> Product:
    if not isinstance(body, dict):
        raise Invalid("expected a JSON object (one product)", [ErrorItem(loc=["body"], msg="expected an object", type="type")])
    if product_id is not None:
        if "id" in body and str(body["id"]) != product_id:
            msg = f"the body's id {str(body['id'])[:100]!r} differs from the path's {product_id[:100]!r}"
            raise Invalid(f"id: {msg}", [ErrorItem(loc=["body", "id"], msg=msg, type="value_error")])
        body = {**body, "id": product_id}
    try:
        return Product.model_validate(body)
    except ValidationError as exc:
        raw = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise Invalid(readable_errors(raw), json_safe_errors(raw)) from None


def _photo_invalid(exc: PhotoError) -> Invalid:
    parts = exc.field.split(".")
    loc: list[str | int] = ["body", parts[0], *(int(p) for p in parts[1:])]
    return Invalid(str(exc), [ErrorItem(loc=loc, msg=exc.reason, type="photo")])


def _ack(live: LiveService, result: WriteResult) -> WriteAck:
    return WriteAck(id=result.id, op=result.op, seq=result.seq, products=live.snapshot_count())


async def _write(live: LiveService, items: list[tuple[str, EmbeddedProduct | None]]) -> list[WriteResult]:
    try:
        return await run_in_threadpool(live.write, items)
    except WriterLockedError as exc:
        raise HTTPException(503, detail=str(exc)) from None


async def _product_from_request(request: Request, product_id: str, live: LiveService) -> tuple[Product, dict[str, bytes]]:
    """The product of a PUT (a JSON body, or a multipart form: ``product`` JSON + ``photo`` files) and its uploaded
    photos' bytes by the path they will be stored at (only once the write is accepted)."""
    settings = request.app.state.settings
    content_type = request.headers.get("content-type", "").lower()
    uploads: list[bytes] = []
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=20)
        raw = form.get("product")
        if not isinstance(raw, str):
            raise Invalid("product: a multipart write needs a 'product' field holding the product's JSON",
                          [ErrorItem(loc=["body", "product"], msg="missing", type="missing")])
        for upload in form.getlist("photo"):
            if isinstance(upload, str) or not (upload.content_type or "").lower().startswith("image/"):
                raise HTTPException(415, detail="photo: expected image files (image/*)")
            data = await upload.read(settings.max_upload_bytes + 1)
            if len(data) > settings.max_upload_bytes:
                raise HTTPException(413, detail=f"photo is larger than {settings.max_upload_mb:g} MB")
            uploads.append(data)
    else:
        raw = (await request.body()).decode("utf-8", "replace")
    try:
        body = parse_client_json(raw)
    except ClientJSONError as exc:
        raise HTTPException(400, detail=f"product: {exc}") from None
    product = _validate(body, product_id)
    embedder = live.embedder
    paths = [embedder.upload_path(data) for data in uploads]  # a sha256 of each upload, once
    refs = [embedder.resolve(ref) for ref in product.images] + paths
    return product.model_copy(update={"images": refs}), dict(zip(paths, uploads, strict=True))


@router.put("/products/{product_id:path}", response_model=WriteAck, responses=responses(400, 404, 413, 415))
async def put_product(product_id: str, request: Request, _: AdminAuth) -> Any:
    """Insert or replace one product (catalog format; JSON body, or multipart with photo files)."""
    live = _live(request)
    try:
        product_id = _checked_path_id(product_id)
        product, uploads = await _product_from_request(request, product_id, live)
        embedded = (await run_in_threadpool(partial(live.embedder.embed, [product], uploads=uploads)))[0]
    except Invalid as exc:
        return error_response(422, exc.detail, exc.errors)
    except PhotoError as exc:
        bad = _photo_invalid(exc)
        return error_response(422, bad.detail, bad.errors)
    except EmbeddingWorkerError as exc:
        raise HTTPException(503, detail=str(exc)) from None
    assert isinstance(embedded, EmbeddedProduct)
    for data in uploads.values():  # accepted: stored before the log names them (a compaction reads them again)
        await run_in_threadpool(live.embedder.save_upload, data)
    return _ack(live, (await _write(live, [(product.id, embedded)]))[0])


@router.patch("/products/{product_id:path}", response_model=WriteAck, responses=responses(400, 404))
async def patch_product(product_id: str, request: Request, _: AdminAuth) -> Any:
    """Change fields no embedded text depends on, without running an encoder: price, currency, attributes
    (merged; null removes one). An attribute that the embedded texts use is re-embedded (text only)."""
    try:
        product_id = _checked_path_id(product_id)
    except Invalid as exc:
        return error_response(422, exc.detail, exc.errors)
    try:
        body = parse_client_json(await request.body())
    except ClientJSONError as exc:
        raise HTTPException(400, detail=f"body: {exc}") from None
    if not isinstance(body, dict) or not body:
        return error_response(422, "expected a JSON object of fields to change: " + ", ".join(PATCHABLE))
    other = [k for k in body if k not in PATCHABLE]
    if other:
        msg = f"only {', '.join(PATCHABLE)} can be patched; use PUT to change {', '.join(map(str, other))[:200]}"
        return error_response(422, f"{other[0]}: {msg}", [ErrorItem(loc=["body", str(k)[:100]], msg=msg, type="extra")
                                                        for k in other[:20]])
    live = _live(request)
    try:
        result = await run_in_threadpool(live.patch, product_id, body, _validate)
    except Invalid as exc:
        return error_response(422, exc.detail, exc.errors)
    except (WriterLockedError, EmbeddingWorkerError) as exc:
        raise HTTPException(503, detail=str(exc)) from None
    return _ack(live, result)


@router.delete("/products/{product_id:path}", response_model=WriteAck, responses=responses(404))
async def delete_product(product_id: str, request: Request, _: AdminAuth) -> Any:
    """Remove a product from every route (its page and photo answer 404 from the ack on)."""
    live = _live(request)
    try:
        product_id = _checked_path_id(product_id)
    except Invalid as exc:
        return error_response(422, exc.detail, exc.errors)
    if live.snapshot_product(product_id) is None:
        return error_response(404, f"no product with id {product_id!r}")
    return _ack(live, (await _write(live, [(product_id, None)]))[0])


@router.post("/products/batch", response_model=BatchResult, responses=responses(413))
async def batch(request: Request, _: AdminAuth) -> Any:
    """Upserts (a product per line) and deletes (``{"id": ..., "delete": true}``) as a JSONL body, at most
    2000 lines (`api.live.MAX_BATCH_LINES`) within the body limit. Each line succeeds or fails alone; the good
    lines are logged and applied in order, as one write."""
    live = _live(request)
    # JSONL lines end at "\n" only (str.splitlines would also split inside a title at U+2028, U+0085, ...)
    lines = [line.removesuffix("\r") for line in (await request.body()).decode("utf-8", "replace").split("\n")]
    numbered = [(n, line) for n, line in enumerate(lines, start=1) if line.strip()]
    if len(numbered) > MAX_BATCH_LINES:
        return error_response(413, f"a batch holds at most {MAX_BATCH_LINES} lines, got {len(numbered)}; split it")
    results: dict[int, BatchLine] = {}
    products: list[tuple[int, Product]] = []
    deletes: dict[int, str] = {}
    for n, line in numbered:
        try:
            row = parse_client_json(line)
        except ClientJSONError as exc:
            results[n] = BatchLine(line=n, status="error", error=str(exc))
            continue
        if isinstance(row, dict) and row.get("delete") is True:
            try:
                deletes[n] = _delete_id(row)
            except Invalid as exc:
                results[n] = BatchLine(line=n, id=_echoed_id(row), status="error", error=exc.detail)
            continue
        try:
            product = _validate(row, None)
            products.append((n, product.model_copy(update={"images": [live.embedder.resolve(r) for r in product.images]})))
        except Invalid as exc:
            results[n] = BatchLine(line=n, id=_echoed_id(row), status="error", error=exc.detail)
    try:
        embedded = await run_in_threadpool(live.embedder.embed, [p for _, p in products], None, None, None, "return")
    except EmbeddingWorkerError as exc:
        raise HTTPException(503, detail=str(exc)) from None
    items: list[tuple[int, str, EmbeddedProduct | None]] = []
    for (n, product), emb in zip(products, embedded, strict=True):
        if isinstance(emb, PhotoError):
            results[n] = BatchLine(line=n, id=product.id, status="error", error=str(emb))
        else:
            items.append((n, product.id, emb))
    items += [(n, pid, None) for n, pid in deletes.items()]
    items.sort(key=lambda item: item[0])
    try:
        written = await run_in_threadpool(live.write_lines, items)
    except WriterLockedError as exc:
        raise HTTPException(503, detail=str(exc)) from None
    for n, result in written.items():
        if isinstance(result, str):
            results[n] = BatchLine(line=n, id=next(pid for m, pid, _ in items if m == n), status="error", error=result)
        else:
            results[n] = BatchLine(line=n, id=result.id, seq=result.seq,
                                   status="deleted" if result.op == "delete" else "upserted")
    ordered = [results[n] for n, _ in numbered]
    errors = sum(1 for r in ordered if r.status == "error")
    return BatchResult(applied=len(ordered) - errors, errors=errors, results=ordered)


COMPACT_RESPONSES = {**responses(), 409: {"model": ErrorResponse, "description": "a compaction is already running "
                                          "(the background one or another request's), or a build made another "
                                          "version current since this server loaded its own (reload first)"}}
COMPACT_RESPONSES[503] = {"model": ErrorResponse, "description": "the compaction failed (the served index and the "
                          "write log are untouched; /health shows the error), or another process holds the writer lock"}


@router.post("/admin/compact", responses=COMPACT_RESPONSES)
async def compact(request: Request, _: AdminAuth) -> dict[str, Any]:
    """Fold the live writes into a new index version now (written beside the served one, switched atomically).
    The server also does this on its own past the `--compact-*` thresholds; reads and writes go on meanwhile."""
    live = _live(request)
    try:
        return await run_in_threadpool(live.compact, request.app.state.reloader)
    except (CompactionBusyError, StaleVersionError) as exc:
        raise HTTPException(409, detail=str(exc)) from None
    except WriterLockedError as exc:
        raise HTTPException(503, detail=str(exc)) from None
    except Exception as exc:  # logged by `compact`; the previous version is still served, every write still logged
        raise HTTPException(503, detail=f"compaction failed, still serving the previous version: "
                                        f"{type(exc).__name__}: {str(exc)[:300]}") from None
