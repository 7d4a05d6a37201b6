"""Catalog reading and validation: JSONL or CSV rows -> validated `Product`s.

Every bad row is reported with its line number and reason. By default a catalog
with any bad row is refused as a whole (`CatalogValidationError` lists them all);
with ``skip_invalid=True`` the good rows are kept and the bad ones returned as
rejects.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from indexer.catalog_rows import iter_csv, iter_jsonl
from indexer.errors import CatalogError
from indexer.fetch import FetchPolicy
from indexer.json_input import parse_json
from indexer.sources import ImageSources

logger = logging.getLogger(__name__)

CATALOG_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
CATEGORY_SEPARATORS = (">", "/", "|")
# Per product, far above any real catalog's: bounds what one row (or one live write) costs every search, facet
# count and photo fetch. A row over one is rejected with its reason.
MAX_CATEGORY_LEVELS = 16
MAX_ATTRIBUTES = 256
MAX_IMAGES = 64


@dataclass(frozen=True)
class RowError:
    """One rejected catalog row."""

    line: int
    reason: str
    raw: str = ""

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class CatalogValidationError(CatalogError):
    """The catalog has bad rows; nothing was written. ``errors`` lists every one."""

    def __init__(self, path: Path, errors: list[RowError]):
        self.path = path
        self.errors = errors
        shown = "\n".join(f"  {e}" for e in errors[:50])
        more = f"\n  ... and {len(errors) - 50} more" if len(errors) > 50 else ""
        super().__init__(
            f"{path}: {len(errors)} invalid row(s); nothing was written. "
            f"Fix them, or pass --skip-invalid to index the valid rows and write a rejects file.\n{shown}{more}"
        )


class Product(BaseModel):
    """One catalog product, as indexed and as returned in search hits."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = ""
    brand: str = ""
    category: list[str] = Field(default_factory=list, max_length=MAX_CATEGORY_LEVELS)
    attributes: dict[str, str] = Field(default_factory=dict, max_length=MAX_ATTRIBUTES)
    price: float | None = Field(default=None, ge=0)
    currency: str = ""
    images: list[str] = Field(default_factory=list, max_length=MAX_IMAGES)

    @field_validator("id", mode="before")
    @classmethod
    def _id_to_str(cls, value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError("id must be a string or an integer")
        return str(value) if isinstance(value, int) else value

    @field_validator("category", mode="before")
    @classmethod
    def _split_category(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            for sep in CATEGORY_SEPARATORS:
                if sep in value:
                    return [part.strip() for part in value.split(sep) if part.strip()]
            return [value.strip()] if value.strip() else []
        return value

    @field_validator("attributes", mode="before")
    @classmethod
    def _stringify_attributes(cls, value: Any) -> Any:
        if value is None:
            return {}
        if isinstance(value, str):
            value = parse_json(value) if value.strip() else {}  # a ValueError (deep nesting too): the row's error
        if not isinstance(value, dict):
            raise ValueError("attributes must be an object of name -> value")
        out: dict[str, str] = {}
        for key, val in value.items():
            if val is None or (isinstance(val, str) and not val.strip()):
                continue
            if isinstance(val, (dict, list)):
                raise ValueError(f"attribute {key!r} must be a scalar, got {type(val).__name__}")
            out[str(key).strip()] = str(val).strip()
        return out

    @field_validator("price", mode="before")
    @classmethod
    def _parse_price(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        # Strict: float() would take true as 1.0; a list, an object or a 400-digit integer would raise past pydantic.
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            kind = {bool: "a boolean", list: "an array", dict: "an object"}.get(type(value), type(value).__name__)
            raise ValueError(f"price must be a number, not {kind}")
        try:
            price = float(value)
        except (ValueError, OverflowError):
            raise ValueError(f"price must be a number, got {str(value)[:40]!r}") from None
        if not math.isfinite(price):
            raise ValueError("price must be a finite number")
        return price

    @field_validator("images", mode="before")
    @classmethod
    def _split_images(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.split("|") if part.strip()]
        return value


def product_text(product: Product) -> str:
    """The text that the lexical and semantic signals index for a product."""
    parts = [product.title]
    if product.brand:
        parts.append(product.brand)
    if product.category:
        parts.append(" ".join(product.category))
    parts.extend(product.attributes.values())
    if product.description:
        parts.append(product.description)
    return ". ".join(parts)


# Attributes a shopper would not type; left out of CLIP captions.
NON_CAPTION_ATTRIBUTES = frozenset({"season", "year", "age_group", "sku", "gtin", "ean", "upc", "mpn"})


def product_caption(product: Product) -> str:
    """A short caption for CLIP's text tower: title, brand, then shopper-facing attribute values.

    Values already in the title (case-insensitive) and `NON_CAPTION_ATTRIBUTES` are skipped.
    """
    words = [product.title]
    seen = product.title.lower()
    candidates = [product.brand] + [v for k, v in product.attributes.items() if k not in NON_CAPTION_ATTRIBUTES]
    for value in candidates:
        if value and value.lower() not in seen:
            words.append(value)
            seen += " " + value.lower()
    return " ".join(words)


@dataclass
class Catalog:
    """A validated catalog: products in file order, plus what was rejected."""

    path: Path
    products: list[Product]
    rejects: list[RowError] = field(default_factory=list)
    sha256: str = ""
    images_root: Path | None = None  # another folder local photos may come from (--images-root)
    fetch_policy: FetchPolicy | None = None  # which hosts photo URLs may use (default: public ones)

    @property
    def base_dir(self) -> Path:
        return self.path.parent

    def resolve_image(self, ref: str) -> str:
        """An image reference as a URL or an absolute path (relative ones are relative to the catalog)."""
        if ref.startswith(("http://", "https://")):
            return ref
        path = Path(ref)
        return str(path if path.is_absolute() else (self.base_dir / path))

    @property
    def image_sources(self) -> ImageSources:
        """The build's photo-reading policy: local photos only inside the catalog's folder (or images_root)."""
        return ImageSources.confined(self.base_dir, self.images_root, fetch=self.fetch_policy)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "row"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def load_catalog(path: str | Path, *, skip_invalid: bool = False) -> Catalog:
    """Read and validate a catalog (JSONL or CSV).

    Raises `CatalogError` when the file cannot be read, `CatalogValidationError`
    listing every bad row unless ``skip_invalid`` is set.
    """
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"catalog not found: {path}")
    fmt = CATALOG_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise CatalogError(f"{path}: unknown catalog format {path.suffix!r}; use one of {sorted(CATALOG_SUFFIXES)}")
    rows = iter_jsonl(path) if fmt == "jsonl" else iter_csv(path, Product.model_fields)

    products: list[Product] = []
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for line_no, raw, row, problem in rows:
        if problem is None:
            try:
                product = Product.model_validate(row)
            except (ValidationError, ValueError) as exc:
                problem = _reason(exc) if isinstance(exc, ValidationError) else str(exc)
            else:
                if product.id in seen:
                    problem = f"duplicate id {product.id!r} (first on line {seen[product.id]})"
                else:
                    seen[product.id] = line_no
                    products.append(product)
                    continue
        errors.append(RowError(line=line_no, reason=problem, raw=raw))

    if errors and not skip_invalid:
        raise CatalogValidationError(path, errors)
    if not products:
        raise CatalogError(f"{path}: no valid products")
    if errors:
        logger.warning("%s: skipped %d invalid row(s)", path, len(errors))
    return Catalog(path=path, products=products, rejects=errors, sha256=file_sha256(path))


def write_rejects(rejects: list[RowError], out: Path) -> None:
    """Write rejected rows as JSONL: line, reason, raw row."""
    with open(out, "w", encoding="utf-8") as fh:
        for rej in rejects:
            fh.write(json.dumps({"line": rej.line, "reason": rej.reason, "raw": rej.raw}) + "\n")
