"""/health: is the index loaded, with what. Public: no paths or other operator-only details
(those are at `GET /admin/status`, behind the admin token)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from api.deps import get_searcher
from api.errors import error_responses
from search.searcher import Searcher

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    products: int
    images: int
    text_model: str
    clip_model: str
    clip_trained: bool
    built_at: str
    format_version: int
    version: str | None
    loaded_at: str
    pending_log_entries: int = 0  # live writes not yet folded into a version by a compaction
    last_compaction: str | None = None
    compacting: bool = False  # a compaction (background or POST /admin/compact) is running
    last_compaction_error: str | None = None  # the last compaction failed (the served index is untouched)
    query_encoder: str | None = None  # what embeds query texts: "onnx int8", "onnx fp32" or "torch fp32" (serve --query-encoder)
    embedding_worker: str = "off"  # live writes' model process: off, starting, ready or failed (api/live.py)


@router.get("/health", response_model=Health, responses=error_responses(503))
def health(request: Request, searcher: Searcher = Depends(get_searcher)) -> Health:
    manifest = searcher.index.manifest
    info = request.app.state.reloader.info
    live = request.app.state.live.status()
    snapshot = getattr(searcher.index, "live", None)  # a live snapshot counts its live rows' photos only
    images = int(snapshot.alive[snapshot.image_rows].sum()) if snapshot is not None else len(searcher.index.image_rows)
    return Health(status="ok", products=len(searcher.index.store.row_of),
                  images=images, text_model=manifest.text_model,
                  clip_model=manifest.clip_model, clip_trained=manifest.clip_trained,
                  built_at=manifest.built_at, format_version=manifest.format_version,
                  version=info.version if info else None, loaded_at=info.loaded_at if info else "",
                  pending_log_entries=live["pending_log_entries"], last_compaction=live["last_compaction"],
                  compacting=live["compacting"], last_compaction_error=live["last_compaction_error"],
                  query_encoder=getattr(searcher.encoders.text, "query_encoder", None),
                  embedding_worker=live["embedding_worker"])
