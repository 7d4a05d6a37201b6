"""The fashion-product-images adapter writes a catalog the project's loader accepts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from PIL import Image

from indexer.adapters.fashion import FashionDatasetError, convert_fashion_catalog
from indexer.catalog import load_catalog, product_caption

SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "fashion-product-images"
COLUMNS = ["id", "gender", "masterCategory", "subCategory", "articleType", "baseColour", "season", "year", "usage",
           "productDisplayName", "brandName", "ageGroup", "colour1", "colour2", "price", "discountedPrice",
           "articleAttributes", "description"]


def _write_dataset(root: Path) -> None:
    (root / "images_60x80").mkdir(parents=True)
    Image.new("RGB", (60, 80), (200, 0, 0)).save(root / "images_60x80" / "1.jpg")
    rows = [
        ["1", "Men", "Apparel", "Topwear", "Tshirts", "Red", "Summer", "2012.0", "Casual",
         "Nike Men Red Tshirts", "Nike", "Adults-Men", "NA", "NA", "999", "499", "{}", "A red tee"],
        ["2", "Women", "Footwear", "Shoes", "Heels", "NA", "", "", "NA",
         "Catwalk Women Heels", "Catwalk", "", "", "", "1500", "", "", ""],
        ["3", "Men", "Apparel", "Topwear", "Shirts", "Blue", "", "", "", "", "X", "", "", "", "", "", "", ""],
    ]
    with open(root / "products.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        writer.writerows(rows)


def test_convert_small_dataset(tmp_path):
    _write_dataset(tmp_path / "src")
    out = convert_fashion_catalog(tmp_path / "src", tmp_path / "out" / "catalog.jsonl")
    catalog = load_catalog(out)
    assert [p.id for p in catalog.products] == ["1", "2"]  # row 3 has no title
    tee, heels = catalog.products
    assert tee.attributes == {"gender": "Men", "colour": "Red", "article_type": "Tshirts", "usage": "Casual",
                              "season": "Summer", "year": "2012", "age_group": "Adults-Men"}
    assert tee.category == ["Apparel", "Topwear", "Tshirts"]
    assert tee.price == 499 and tee.currency == "INR"
    assert Path(tee.images[0]).is_absolute() and Path(tee.images[0]).is_file()
    assert heels.images == [] and "colour" not in heels.attributes and heels.price == 1500
    assert product_caption(tee) == "Nike Men Red Tshirts Casual"  # season/year/age group are left out


def test_convert_refuses_a_wrong_directory(tmp_path):
    with pytest.raises(FashionDatasetError):
        convert_fashion_catalog(tmp_path, tmp_path / "c.jsonl")


@pytest.mark.shared
def test_convert_real_dataset(tmp_path):
    if not (SHARED / "products.csv").is_file():
        pytest.skip(f"fashion dataset absent at {SHARED}")
    catalog = load_catalog(convert_fashion_catalog(SHARED, tmp_path / "fashion.jsonl"))
    assert len(catalog.products) > 44_000
    assert sum(bool(p.images) for p in catalog.products) > 44_000
