"""A small run of the scale benchmark (benchmarks/scale.py): the synthetic catalog is deterministic and
realistic, and every configuration's recall and filtered results are right. No timings are checked.

It grows from the fixture catalog with seeded vectors, so it runs wherever the repository does; one
test also grows from the real fashion index when .prodsearch/build-rate/index is there.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from support import load_benchmark


@pytest.fixture(scope="module")
def synthetic():
    return load_benchmark("synthetic_catalog")


def test_grown_catalog_is_deterministic_from_the_seed(synthetic):
    base = synthetic.fixture_base(seed=3)
    a, b = synthetic.grow(base, 3000, seed=5), synthetic.grow(synthetic.fixture_base(seed=3), 3000, seed=5)
    other = synthetic.grow(base, 3000, seed=6)
    assert np.array_equal(a.text_vectors, b.text_vectors) and np.array_equal(a.image_vectors, b.image_vectors)
    assert np.array_equal(a.image_rows, b.image_rows)
    assert [p.model_dump() for p in a.products] == [p.model_dump() for p in b.products]
    assert not np.array_equal(a.text_vectors, other.text_vectors)
    assert [p.title for p in a.products] != [p.title for p in other.products]
    assert synthetic.make_queries(a, 20, 1) == synthetic.make_queries(b, 20, 1)


def test_grown_products_are_recombined_from_real_ones(synthetic):
    base = synthetic.fixture_base()
    grown = synthetic.grow(base, 5000, seed=1)
    products = list(grown.products)
    assert len(products) == 5000 and len({p.id for p in products}) == 5000
    assert products[:len(base.products)] == base.products  # the base first, unchanged
    words = {w for p in base.products for w in p.title.split()}
    attributes = {tuple(sorted(p.attributes.items())) for p in base.products}
    brands = {p.brand for p in base.products}
    for p in products[len(base.products):]:
        assert set(p.title.split()) <= words
        assert tuple(sorted(p.attributes.items())) in attributes and p.brand in brands
        assert p.price is not None and p.price > 0
    np.testing.assert_allclose(np.linalg.norm(grown.text_vectors, axis=1), 1, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(grown.image_vectors, axis=1), 1, atol=1e-5)
    assert grown.image_rows.min() >= 0 and grown.image_rows.max() < 5000
    # neighbourhoods stay the real ones: a grown product is nearer its parent than a random product
    rows = np.arange(len(base.products), 5000)
    parent = grown.text_vectors[grown.products.parent[rows]]
    near = (grown.text_vectors[rows] * parent).sum(1)
    far = (grown.text_vectors[rows] * np.roll(parent, 7, axis=0)).sum(1)
    assert near.mean() > 0.8 and near.mean() > far.mean() + 0.2
    small = synthetic.grow(base, 100, seed=1)  # fewer than the base: a sample, unchanged
    assert {p.id for p in small.products} <= {p.id for p in base.products}


def test_small_scale_run_recall_and_filtered_results(tmp_path):
    scale = load_benchmark("scale")
    args = scale.parse_args(["--n", "20000", "--base-index", str(tmp_path / "absent"), "--configs", "flat,hnsw,ivf-sq8",
                             "--queries", "120", "--timed", "40", "--work", str(tmp_path), "--out", str(tmp_path / "out"),
                             "--seed", "2"])
    result = scale.run(args)
    assert result["base"].startswith("fixture catalog") and result["query_vectors"].startswith("stand-in")
    assert abs(result["filter_share"] - 0.01) < 0.01 and abs(result["filter_share"] - result["filter_share_estimate"]) < 1e-3
    configs = result["configs"]
    for name, floor in (("flat", 1.0), ("hnsw", 0.9), ("ivf-sq8", 0.9)):
        c = configs[name]
        for field in ("text", "image"):
            assert c["fields"][field]["recall"]["plain"]["recall"] >= floor - 1e-9, (name, field)
            assert c["fields"][field]["recall"]["filtered"]["recall"] >= 0.95, (name, field)
            assert c["fields"][field]["disk_bytes"] > 0
        for kind in ("plain", "filtered"):
            assert c["query"][kind]["empty_pages"] == 0
        assert c["query"]["filtered"]["hits_violating_filter"] == 0
        assert set(c["query"]["plain"]["stages"]) >= {"semantic", "visual", "lexical", "fuse"}
    assert configs["ivf-sq8"]["fields"]["text"]["disk_bytes"] < configs["flat"]["fields"]["text"]["disk_bytes"] / 2
    assert [p["efSearch"] for p in configs["hnsw"]["fields"]["text"]["sweep"]][:2] == [16, 32]
    paths = scale.write_outputs(result, tmp_path / "out")
    assert json.loads(paths["json"].read_text())["n"] == 20000
    assert "| hnsw |" in paths["md"].read_text() and paths["png"].stat().st_size > 1000
    assert not list(tmp_path.glob("prodsearch-scale-*"))  # the scratch index is removed


def test_grows_from_the_real_fashion_index_when_present(synthetic):
    if not (synthetic.DEFAULT_BASE_INDEX / "current").exists():
        pytest.skip(f"no fashion index at {synthetic.DEFAULT_BASE_INDEX} (README, 'Fashion benchmark', builds one)")
    base = synthetic.load_base(synthetic.DEFAULT_BASE_INDEX, fallback=False)
    grown = synthetic.grow(base, len(base.products) + 2000, seed=0)
    filters, share = synthetic.pick_filter(grown)
    assert 0.002 < share < 0.05 and filters
    assert grown.text_vectors.shape == (len(base.products) + 2000, base.text_vectors.shape[1])


def test_ivf_configuration_has_an_nprobe_per_field():
    harness = load_benchmark("scale_harness")
    ivf = harness.default_configs(1_000_000)["ivf-sq8"]
    assert ivf.factory == "IVF1024,SQ8"
    assert ivf.params_of("text") == {"nprobe": 32} and ivf.params_of("image") == {"nprobe": 96}
    assert "text:nprobe=32" in ivf.spec and "image:nprobe=96" in ivf.spec
    one = harness.default_configs(1_000_000, "64", 2048)["ivf-sq8"]
    assert one.factory == "IVF2048,SQ8" and one.params_of("text") == one.params_of("image") == {"nprobe": 64}
    small = harness.default_configs(20_000, "image=500")["ivf-sq8"]  # never more lists probed than there are
    assert small.factory == "IVF128,SQ8" and small.params_of("image") == {"nprobe": 128}
    for bad in ("photo=3", "text=0", "text=x", "fast"):
        with pytest.raises(ValueError, match="--ivf-nprobe"):
            harness.parse_nprobe(bad)
