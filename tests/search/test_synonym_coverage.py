"""The shipped synonyms understand a sample of everyday shopper words (`benchmarks/synonym_coverage.py`'s table), on
the fixtures and on the real 44k fashion catalog (skipped where ../shared is absent)."""

from __future__ import annotations

import pytest

from indexer.catalog import load_catalog
from search.synonyms import load_synonyms
from search.understanding import QueryUnderstanding
from tests.support import REPO, SHARED_FASHION, load_benchmark

coverage = load_benchmark("synonym_coverage")


def _misses(qu: QueryUnderstanding) -> tuple[int, list]:
    total, _, misses = coverage.run(qu)
    return sum(total.values()), misses


def test_fixtures_understand_the_shopper_words_that_apply():
    qu = QueryUnderstanding.build(load_catalog(REPO / "fixtures" / "catalog.jsonl").products, load_synonyms())
    applicable, misses = _misses(qu)
    assert applicable >= 12 and misses == []
    # the check can fail: without the shipped synonyms most cases name the wrong values or leave words unexplained
    bare = QueryUnderstanding(qu.vocabulary, load_synonyms(defaults=False))
    assert len(_misses(bare)[1]) >= applicable // 2


@pytest.mark.shared
def test_the_real_fashion_catalog_understands_the_shopper_words(tmp_path):
    if not (SHARED_FASHION / "products.csv").is_file():
        pytest.skip(f"fashion dataset absent at {SHARED_FASHION}")
    from indexer.adapters.fashion import convert_fashion_catalog

    products = load_catalog(convert_fashion_catalog(SHARED_FASHION, tmp_path / "fashion.jsonl")).products
    qu = QueryUnderstanding.build(products, load_synonyms())
    applicable, misses = _misses(qu)
    assert applicable >= 70, "the table's labels are the fashion catalog's: nearly every case applies"
    assert misses == [], "\n".join(f"{m.family}: {m.query!r}: {m.why}" for m in misses)
