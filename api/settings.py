"""API settings from the environment (PRODSEARCH_*) or the `prodsearch serve` options."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRODSEARCH_", extra="ignore")

    index_dir: Path = Field(default=Path(".prodsearch/fixture-index"), description="index directory to serve")
    text_model: str | None = Field(default=None, description="override the index's text model")
    clip_model: str | None = Field(default=None, description="override the index's CLIP model")
    clip_pretrained: str | None = None
    device: str | None = None
    search_config: Path | None = Field(default=None, description="fusion settings file (from `prodsearch eval tune`)")
    max_upload_mb: float = Field(default=10.0, gt=0, description="largest accepted image upload")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)
