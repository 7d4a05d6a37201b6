"""Adapter: the Kaggle/Myntra "Fashion Product Images" CSV -> a project-format JSONL catalog.

Text fields follow what a shopper would type: the title (``productDisplayName``) plus the
attributes ``gender``, ``colour``, ``article_type`` and ``usage`` (and ``season``/``year``/
``age_group``, which captions skip). Images are absolute paths to ``images_60x80/<id>.jpg``;
products without a photo are still written, with no image. The data itself stays where it is,
outside the catalog's folder, so an index build needs ``--images-root`` naming it.

    python -m indexer.adapters.fashion --out .prodsearch/fashion/catalog.jsonl
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
from pathlib import Path

from indexer.errors import ProdsearchError

logger = logging.getLogger(__name__)

DEFAULT_SRC = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "fashion-product-images"
DEFAULT_OUT = Path(__file__).resolve().parents[2] / ".prodsearch" / "fashion" / "catalog.jsonl"
MISSING = {"", "na", "n/a", "nan", "none", "null"}
# products.csv column -> project attribute key
ATTRIBUTE_COLUMNS = {
    "gender": "gender",
    "baseColour": "colour",
    "articleType": "article_type",
    "usage": "usage",
    "season": "season",
    "year": "year",
    "ageGroup": "age_group",
}


class FashionDatasetError(ProdsearchError):
    """The fashion dataset directory is missing or not in the expected layout."""


def _clean(value: str | None) -> str:
    value = (value or "").strip()
    return "" if value.lower() in MISSING else value


def _price(row: dict[str, str]) -> float | None:
    for column in ("discountedPrice", "price"):
        text = _clean(row.get(column))
        if text:
            try:
                value = float(text)
            except ValueError:
                continue
            if value >= 0:
                return value
    return None


def fashion_row_to_product(row: dict[str, str], image_dir: Path) -> dict | None:
    """One products.csv row -> a catalog row (dict), or None when it has no id or title."""
    pid = _clean(row.get("id"))
    title = _clean(row.get("productDisplayName"))
    if not pid or not title:
        return None
    attributes = {key: _clean(row.get(col)) for col, key in ATTRIBUTE_COLUMNS.items()}
    attributes = {k: v for k, v in attributes.items() if v}
    if attributes.get("year", "").endswith(".0"):
        attributes["year"] = attributes["year"][:-2]
    category = [c for c in (_clean(row.get(k)) for k in ("masterCategory", "subCategory", "articleType")) if c]
    image = image_dir / f"{pid}.jpg"
    out = {
        "id": pid,
        "title": title,
        "description": _clean(row.get("description")),
        "brand": _clean(row.get("brandName")),
        "category": category,
        "attributes": attributes,
        "price": _price(row),
        "currency": "INR",
        "images": [str(image)] if image.is_file() else [],
    }
    return out


def convert_fashion_catalog(src_dir: str | Path = DEFAULT_SRC, out_path: str | Path = DEFAULT_OUT,
                            image_subdir: str = "images_60x80") -> Path:
    """Write ``out_path`` (JSONL) from ``src_dir/products.csv``; returns the path written."""
    src_dir, out_path = Path(src_dir), Path(out_path)
    csv_path = src_dir / "products.csv"
    if not csv_path.is_file():
        raise FashionDatasetError(f"{csv_path} not found: point --src at the fashion-product-images directory")
    image_dir = (src_dir / image_subdir).resolve()
    out_path.parent.mkdir(parents=True, exist_ok=True)
    written = skipped = with_photo = 0
    tmp = out_path.with_suffix(out_path.suffix + ".tmp")
    with open(csv_path, encoding="utf-8", newline="") as fh, open(tmp, "w", encoding="utf-8") as out:
        for row in csv.DictReader(fh):
            product = fashion_row_to_product(row, image_dir)
            if product is None:
                skipped += 1
                continue
            out.write(json.dumps(product, ensure_ascii=False) + "\n")
            written += 1
            with_photo += bool(product["images"])
    tmp.replace(out_path)
    logger.info("wrote %s: %d products (%d with a photo), %d rows skipped (no id or title); its photos lie "
                "outside its folder: build with `prodsearch index build --images-root %s`",
                out_path, written, with_photo, skipped, image_dir)
    return out_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=str(DEFAULT_SRC), help="fashion-product-images directory")
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="JSONL catalog to write")
    parser.add_argument("--images", default="images_60x80", help="photo sub-directory (images_60x80 or images_224)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    convert_fashion_catalog(args.src, args.out, args.images)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
