"""/health: is the index loaded, with what."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel

from api.deps import get_searcher
from search.searcher import Searcher

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    index_dir: str
    products: int
    images: int
    text_model: str
    clip_model: str
    clip_trained: bool
    built_at: str
    search_config: str


@router.get("/health", response_model=Health)
def health(searcher: Searcher = Depends(get_searcher)) -> Health:
    manifest = searcher.index.manifest
    return Health(status="ok", index_dir=str(searcher.index.directory), products=searcher.index.n_products,
                  images=len(searcher.index.image_rows), text_model=manifest.text_model,
                  clip_model=manifest.clip_model, clip_trained=manifest.clip_trained,
                  built_at=manifest.built_at, search_config=searcher.config.source)
