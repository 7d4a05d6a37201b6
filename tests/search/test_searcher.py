"""The Searcher on the synthetic catalog with fake encoders: signals, filters inside retrieval, paging."""

import numpy as np
import pytest
from PIL import Image

from indexer.errors import InvalidQueryError, ManifestMismatchError
from search.filters import Filters
from search.searcher import ProductNotFoundError, Searcher
from search.types import SearchRequest


def ids(response):
    return [h.product.id for h in response.hits]


def test_text_query_uses_three_signals_and_reports_them(synthetic_searcher):
    response = synthetic_searcher.search(SearchRequest(text="red shoes", k=5))
    assert response.signals == ["lexical", "semantic", "visual", "attributes"]  # "red" and "shoes" are values
    top = response.hits[0]
    assert "red" in top.product.title and "shoes" in top.product.title
    assert set(top.signals) == {"lexical", "semantic", "visual", "attributes"}
    assert all(s.rank >= 1 for s in top.signals.values())
    for stage in ("lexical", "semantic", "visual", "fuse", "total"):
        assert stage in response.timings_ms


def test_visual_signal_finds_the_named_colour(synthetic_searcher):
    response = synthetic_searcher.search(SearchRequest(text="blue", k=5, weights={"lexical": 0, "semantic": 0,
                                                                                     "attributes": 0}))
    assert response.signals == ["visual"]
    assert all(h.product.attributes["colour"] == "Blue" for h in response.hits)


def test_image_query_finds_same_colour_photos(synthetic_searcher, synthetic_catalog):
    photo = Image.open(synthetic_catalog.parent / "img" / "s000.png")
    response = synthetic_searcher.search(SearchRequest(k=5), image=photo)
    assert response.signals == ["image", "cross_modal"]
    colour = synthetic_searcher.product("s000").attributes["colour"]
    assert all(h.product.attributes["colour"] == colour for h in response.hits)


def test_more_like_this_excludes_the_product_itself(synthetic_searcher):
    response = synthetic_searcher.search(SearchRequest(product_id="s000", k=10))
    assert "s000" not in ids(response)
    assert set(response.signals) == {"semantic", "image", "attributes"}


@pytest.mark.parametrize("filters,check", [
    (Filters(brand=["Birch"]), lambda p: p.brand == "Birch"),
    (Filters(category=["Footwear"]), lambda p: "Footwear" in p.category),
    (Filters(price_min=20, price_max=30), lambda p: 20 <= p.price <= 30),
    (Filters(attributes={"colour": ["pink", "GREEN"]}), lambda p: p.attributes["colour"] in ("Pink", "Green")),
    (Filters(brand=["acme"], attributes={"gender": ["Men"]}), lambda p: p.brand == "Acme" and p.attributes["gender"] == "Men"),
])
def test_filters_apply_to_every_hit(synthetic_searcher, filters, check):
    response = synthetic_searcher.search(SearchRequest(text="red shoes", k=50, filters=filters))
    assert response.hits and all(check(h.product) for h in response.hits)


def test_selective_filter_still_returns_k_hits(synthetic_searcher):
    # 4 products are yellow bags; a query about something else must still get all 4.
    filters = Filters(attributes={"colour": ["Yellow"]}, category=["Bags"])
    response = synthetic_searcher.search(SearchRequest(text="green shoes", k=4, filters=filters))
    assert len(response.hits) == 4
    assert {h.product.attributes["colour"] for h in response.hits} == {"Yellow"}


def test_filter_matching_nothing_returns_no_hits(synthetic_searcher):
    response = synthetic_searcher.search(SearchRequest(text="red", filters=Filters(brand=["Nobody"])))
    assert response.hits == [] and response.total == 0


def test_pages_continue_without_duplicates_or_gaps(synthetic_searcher):
    full = ids(synthetic_searcher.search(SearchRequest(text="red t-shirt", k=30)))
    pages = [ids(synthetic_searcher.search(SearchRequest(text="red t-shirt", k=10, offset=o))) for o in (0, 10, 20)]
    assert sum(pages, []) == full
    assert len(set(full)) == len(full) == 30


def test_request_without_input_is_rejected(synthetic_searcher):
    with pytest.raises(InvalidQueryError, match="text query, an image, or a product_id"):
        synthetic_searcher.search(SearchRequest(text="   "))


def test_all_weights_zero_is_rejected(synthetic_searcher):
    with pytest.raises(InvalidQueryError, match="weight 0"):
        synthetic_searcher.search(SearchRequest(text="red", weights={"lexical": 0, "semantic": 0, "visual": 0,
                                                                                  "attributes": 0}))


def test_page_beyond_candidates_is_rejected(synthetic_searcher):
    with pytest.raises(InvalidQueryError, match="beyond"):
        synthetic_searcher.search(SearchRequest(text="red", k=10, offset=70))


def test_unknown_product_id(synthetic_searcher):
    with pytest.raises(ProductNotFoundError):
        synthetic_searcher.search(SearchRequest(product_id="nope"))


def test_unknown_signal_weight_is_a_validation_error():
    with pytest.raises(ValueError, match="unknown signal"):
        SearchRequest(text="x", weights={"colour": 1.0})


def test_weighted_fusion_orders_by_fused_score(synthetic_searcher):
    response = synthetic_searcher.search(SearchRequest(text="red shoes", k=10, fusion="weighted", norm="z-score"))
    scores = [h.score for h in response.hits]
    assert response.fusion == "weighted" and scores == sorted(scores, reverse=True)


def test_index_built_with_other_models_is_refused(synthetic_index, fake_encoders):
    from indexer.encoders import Encoders
    from indexer.loaded import load_index

    class OtherText:
        name, dim = "other-text", 64

        def encode_texts(self, texts):
            return np.zeros((len(texts), 64), np.float32)

    with pytest.raises(ManifestMismatchError, match="text model: index has fake-text"):
        Searcher(load_index(synthetic_index), Encoders(text=OtherText(), clip=fake_encoders.clip))


def test_shared_text_tower_embeds_a_text_query_once(tmp_path, synthetic_catalog):
    """When the CLIP text tower is the text encoder, one vector serves semantic and visual."""
    from support import FakeClipEncoder

    from indexer.build import build_index
    from indexer.catalog import load_catalog
    from indexer.encoders import Encoders

    class CountingClip(FakeClipEncoder):
        text_tower = "same-tower"
        text_calls = 0

        def encode_texts(self, texts):
            type(self).text_calls += 1
            return super().encode_texts(texts)

    class TowerAsText(FakeClipEncoder):
        name, text_tower = "tower-as-text", "same-tower"

    encoders = Encoders(text=TowerAsText(), clip=CountingClip())
    build_index(load_catalog(synthetic_catalog), tmp_path / "idx", encoders, progress=False)
    searcher = Searcher.open(tmp_path / "idx", encoders)
    CountingClip.text_calls = 0
    shared = searcher.search(SearchRequest(text="red bag", k=5))
    assert CountingClip.text_calls == 0 and "encode_clip_text" not in shared.timings_ms
    searcher._shared_text_tower = False
    separate = searcher.search(SearchRequest(text="red bag", k=5))
    assert CountingClip.text_calls == 1
    assert [h.product.id for h in shared.hits] == [h.product.id for h in separate.hits]
    assert shared.hits[0].signals["visual"] == separate.hits[0].signals["visual"]


def test_products_with_several_photos_appear_once(tmp_path, fake_encoders):
    import json

    from indexer.build import build_index
    from indexer.catalog import load_catalog

    (tmp_path / "img").mkdir()
    rows = []
    for i, colour in enumerate(["red", "red", "blue", "green"]):
        Image.new("RGB", (16, 16), colour).save(tmp_path / "img" / f"{i}.png")
    rows.append({"id": "two", "title": "red shirt", "images": ["img/0.png", "img/1.png"]})
    rows += [{"id": f"p{i}", "title": f"shirt {i}", "images": [f"img/{i}.png"]} for i in (2, 3)]
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    build_index(load_catalog(tmp_path / "c.jsonl"), tmp_path / "idx", fake_encoders, progress=False)
    searcher = Searcher.open(tmp_path / "idx", fake_encoders)
    assert searcher.index.image_rows.tolist() == [0, 0, 1, 2]
    response = searcher.search(SearchRequest(k=3), image=Image.new("RGB", (16, 16), "red"))
    assert ids(response)[0] == "two" and sorted(ids(response)) == ["p2", "p3", "two"]


@pytest.mark.parametrize("compiled", [False, True])
def test_total_is_the_relevant_masks_count(synthetic_searcher, compiled):
    """`total` is counted without a mask of every product (`relevant_count`, the compiled kernels at scale): the
    same number as the relevant set's mask, with and without filters, for understood and other queries."""
    import copy

    from search.fusion import fuse
    from search.relevant import relevant_mask

    searcher = copy.copy(synthetic_searcher)
    understanding = copy.copy(synthetic_searcher.understanding)
    understanding.compiled_from_rows = 0 if compiled else 10**9
    searcher.__dict__["understanding"] = understanding
    assert understanding._compiled() == compiled
    products = searcher.index.store.products
    colours = sorted({p.attributes.get("colour", "") for p in products} - {""})[:3]
    filters = [None, Filters(brand=[products[0].brand]), Filters(attributes={"colour": colours[:1]}),
               Filters(attributes={"colour": colours}, price_max=50.0), Filters(brand=["no such brand"])]
    checked = 0
    for text in ("red shoes", "shoes", "blue", "red", "women red", "men", "zzz nothing", "red blue shoes"):
        for flt in filters:
            for weights in (None, {"attributes": 0}):
                request = SearchRequest(text=text, k=5, filters=flt, weights=weights)
                try:
                    response = searcher.search(request)
                except InvalidQueryError:
                    continue
                runs = searcher.retrieve(request)
                cfg = searcher.config
                fused = fuse(runs, method=cfg.fusion, weights={**cfg.weights, **(weights or {})}, rrf_k=cfg.rrf_k,
                             norm=cfg.norm)
                assert response.total == int(relevant_mask(searcher, request, fused).sum()), (text, flt, weights)
                checked += response.total
    assert checked > 0
