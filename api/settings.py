"""API settings from the environment (PRODSEARCH_*) or the `prodsearch serve` options.

Precedence: an option given on the command line > the environment variable > the default here.
`prodsearch serve` passes only the options actually given (see `api.cli.settings_from_args`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from indexer.errors import ModelLoadError
from indexer.images import MAX_IMAGE_MB
from indexer.live.policy import (
    DEFAULT_CHECK_S,
    DEFAULT_MAX_AGE_S,
    DEFAULT_MAX_ENTRIES,
    DEFAULT_MAX_LOG_MB,
    MAX_AGE_S,
    MAX_CHECK_S,
    MAX_ENTRIES,
    MAX_LOG_MB,
    MIN_CHECK_S,
)
from indexer.onnx_text import DEFAULT_QUERY_PRECISION, QUERY_PRECISIONS, query_precision


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRODSEARCH_", extra="ignore")

    index_dir: Path = Field(default=Path(".prodsearch/fixture-index"), description="index directory to serve")
    text_model: str | None = Field(default=None, description="override the index's text model")
    clip_model: str | None = Field(default=None, description="override the index's CLIP model")
    clip_pretrained: str | None = None
    device: str | None = None
    search_config: Path | None = Field(default=None, description="fusion settings file (from `prodsearch eval tune`)")
    synonyms: Path | None = Field(default=None, description="the shop's synonyms file (Solr format), added to the "
                                                         "shipped defaults (search/default_synonyms.txt)")
    facets: str | None = Field(default=None, description="facet order and labels, e.g. "
                               "'gender:Audience,colour:Colour,brand,price' (the others follow in catalog order)")
    max_upload_mb: float = Field(default=10.0, ge=0.01, le=MAX_IMAGE_MB, allow_inf_nan=False,
                                 description="largest accepted image upload (a photo over 64 MB is never decoded)")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    admin_token: SecretStr | None = Field(default=None, description="bearer token of the /admin routes; unset = disabled")
    metrics_public: bool = Field(default=False, description="serve /metrics without the admin token")
    images_root: Path | None = Field(default=None, description="folder local photo paths of live writes may name")
    allow_private_hosts: bool = Field(default=False, description="live writes may fetch photo URLs on private hosts")
    allowed_hosts: str = Field(default="", description="comma-separated hosts/networks live writes' photo URLs may use")
    # live writes: background compaction (indexer/live/policy.py); a threshold of 0 is off
    compact_auto: bool = Field(default=True, description="compact the write log into a new version on its own")
    # finite bounds: the check interval is a timed wait, which fails past ~1e9 s (OverflowError in the compactor)
    compact_max_entries: int = Field(default=DEFAULT_MAX_ENTRIES, ge=0, le=MAX_ENTRIES,
                                     description="compact at this many pending writes")
    compact_max_log_mb: float = Field(default=DEFAULT_MAX_LOG_MB, ge=0, le=MAX_LOG_MB, allow_inf_nan=False,
                                      description="compact at this write log size")
    compact_max_age_s: float = Field(default=DEFAULT_MAX_AGE_S, ge=0, le=MAX_AGE_S, allow_inf_nan=False,
                                     description="compact when a write waits this long")
    compact_check_s: float = Field(default=DEFAULT_CHECK_S, ge=MIN_CHECK_S, le=MAX_CHECK_S, allow_inf_nan=False,
                                   description="how often the compactor looks")
    live_embed_worker: bool = Field(default=True, description="embed live writes in a separate low-priority process "
                                    "(indexer/live/embed_worker.py), so searches preempt them")
    live_embed_nice: int = Field(default=19, ge=0, le=19, description="the embedding worker's niceness (19: lowest)")
    log_format: Literal["text", "json"] = Field(default="text", description="log lines as text or one JSON object each")
    access_log: bool = Field(default=True, description="one log line per request (prodsearch.access); off saves "
                             "a formatted line per request")
    workers: int = Field(default=1, ge=1, le=64, description="server processes, each with its own copy of the index "
                         "(read-only serving: live writes need one process)")
    search_threads: int = Field(default=4, ge=1, le=64, description="threads answering text searches (GET /search); "
                                "a few more than the cores: more only contend for the GIL and the cores")
    query_batch: int = Field(default=1, ge=1, le=64, description="embed up to this many concurrent text queries "
                             "together (1: each alone); vectors equal to ~3e-8, not bit for bit")
    query_encoder: str = Field(default=DEFAULT_QUERY_PRECISION, description="how query texts are embedded: "
                               f"{' or '.join(QUERY_PRECISIONS)} (int8: a quantized copy of the text model, ~2.5x less "
                               "CPU per query; products stay fp32)")
    http: Literal["auto", "h11", "httptools"] = Field(default="auto", description="uvicorn's HTTP parser (auto: "
                                                      "httptools when installed, else the pure-Python h11)")
    loop: Literal["auto", "asyncio", "uvloop"] = Field(default="auto", description="event loop (auto: uvloop when "
                                                       "installed)")

    @field_validator("admin_token")
    @classmethod
    def _blank_token_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        """PRODSEARCH_ADMIN_TOKEN= (empty) means disabled, never "the empty token"."""
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("query_encoder")
    @classmethod
    def _check_query_encoder(cls, value: str) -> str:
        try:
            return query_precision(value)
        except ModelLoadError as exc:  # a settings error, reported with the others
            raise ValueError(str(exc)) from None

    @field_validator("facets")
    @classmethod
    def _check_facets(cls, value: str | None) -> str | None:
        from search.facets import FacetLayout

        FacetLayout.parse(value)  # a FacetLayoutError (a ValueError) is a settings error
        return value

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1024 * 1024)

    @property
    def max_upload_base64_chars(self) -> int:
        """The length of the largest accepted photo, base64-encoded (as POST /search carries it)."""
        return self.max_upload_bytes * 4 // 3 + 4
