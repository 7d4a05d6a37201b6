"""Relevance files: loaders report bad files clearly; derived sets follow the documented rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.derive import derive_relevance, grade_text, phrasings, product_facets, write_derived
from eval.relevance import RelevanceError, load_qrels, load_queries, load_relevance
from indexer.catalog import Product, load_catalog

REPO = Path(__file__).resolve().parents[2]
FIXTURE_CATALOG = REPO / "fixtures" / "catalog.jsonl"
FIXTURE_REL = REPO / "fixtures" / "relevance"


def _write(path: Path, lines: list) -> Path:
    path.write_text("".join((x if isinstance(x, str) else json.dumps(x)) + "\n" for x in lines))
    return path


def test_bad_queries_are_all_reported_with_lines(tmp_path):
    path = _write(tmp_path / "q.jsonl", [
        {"id": "a", "text": "red dress"},
        {"id": "a", "text": "again"},
        {"id": "b", "text": "   "},
        "{not json",
        {"id": "c", "product_id": "nope"},
        {"id": "d", "image": "missing.png"},
        {"id": "e", "text": "x", "split": "dev"},
        {"id": "f", "text": "x", "filters": {"price_min": 5, "price_max": 1}},
    ])
    with pytest.raises(RelevanceError) as err:
        load_queries(path, known_ids={"p1"})
    text = str(err.value)
    assert str(path) in text
    for needle in ("line 2: duplicate query id 'a' (first on line 1)", "line 3: query b is empty",
                   "line 4: not valid JSON", "line 5: query c: unknown product_id 'nope'",
                   "line 6: query d: image 'missing.png' not found", "line 7: query e: split must be",
                   "line 8: query f: invalid filters"):
        assert needle in text, needle


def test_bad_qrels_are_all_reported_with_lines(tmp_path):
    path = _write(tmp_path / "qrels.txt", ["q1 0 p1 2", "q1 0 p1 1", "q1 0 p2", "q1 0 p3 high",
                                            "q9 0 p1 1", "q1 0 zz 1", "q1 0 p2 -1"])
    with pytest.raises(RelevanceError) as err:
        load_qrels(path, query_ids={"q1"}, known_ids={"p1", "p2", "p3"})
    text = str(err.value)
    for needle in ("line 2: duplicate judgement of p1 for query q1 (first on line 1)", "line 3: expected 4 columns",
                   "line 4: grade 'high' is not an integer", "line 5: query 'q9' is not in the queries file",
                   "line 6: unknown product id 'zz'", "line 7: grade -1 is negative"):
        assert needle in text, needle


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(RelevanceError, match="file not found"):
        load_queries(tmp_path / "none.jsonl")
    with pytest.raises(RelevanceError, match="no judgements"):
        load_qrels(_write(tmp_path / "empty.txt", []))


def test_queries_without_relevant_products_are_dropped(tmp_path):
    q = _write(tmp_path / "q.jsonl", [{"id": "a", "text": "x"}, {"id": "b", "text": "y"}])
    r = _write(tmp_path / "r.txt", ["a 0 p1 1", "b 0 p1 0"])
    rel = load_relevance(q, r)
    assert [x.id for x in rel.queries] == ["a"]
    assert not rel.derived


def test_fixture_relevance_set_loads_against_its_catalog():
    ids = [p.id for p in load_catalog(FIXTURE_CATALOG).products]
    rel = load_relevance(FIXTURE_REL / "queries.jsonl", FIXTURE_REL / "qrels.txt", known_ids=ids,
                         image_roots=[FIXTURE_CATALOG.parent])  # its photos are ../images: the catalog's folder
    kinds = {q.kind for q in rel.queries}
    assert kinds == {"text", "image", "product_id"}
    assert all(q.image.is_file() for q in rel.queries if q.image)
    assert rel.split("train").queries and rel.split("test").queries


def test_grade_rule():
    p = Product(id="1", title="x", brand="Acme", category=["Apparel", "Dresses"],
                attributes={"colour": "Red", "gender": "Unisex", "article_type": "Dresses"})
    f = product_facets(p)
    assert grade_text(f, {"type": "dresses", "colour": "red"}) == 2
    assert grade_text(f, {"type": "dresses", "colour": "red", "gender": "women"}) == 2  # unisex matches
    assert grade_text(f, {"type": "dresses", "colour": "blue"}) == 1
    assert grade_text(f, {"type": "dresses", "colour": "blue", "brand": "zed"}) == 0
    assert grade_text(f, {"type": "shirts", "colour": "red"}) == 0
    texts = phrasings({"type": "dresses", "colour": "red", "gender": "women"}, ("colour", "gender"), {})
    assert texts == ["women's red dresses", "red dresses for women"]


def test_derived_set_is_marked_seeded_and_consistent(tmp_path):
    catalog = load_catalog(FIXTURE_CATALOG)
    out = tmp_path / "rel"
    derived = derive_relevance(catalog, n_text=60, n_photo=10, seed=3, queries_dir=out)
    write_derived(derived, out)
    again = derive_relevance(catalog, n_text=60, n_photo=10, seed=3, queries_dir=out)
    assert [q["text"] if "text" in q else q["image"] for q in derived.queries] == \
           [q["text"] if "text" in q else q["image"] for q in again.queries]
    rel = load_relevance(out / "queries.jsonl", out / "qrels.txt", known_ids=[p.id for p in catalog.products],
                         image_roots=[FIXTURE_CATALOG.parent])
    assert rel.derived and rel.meta["derived"] and "grade 2" in rel.meta["rule"]
    assert 40 <= sum(q.kind == "text" for q in rel.queries) <= 60
    assert sum(q.kind == "image" for q in rel.queries) == 10
    assert {q.split for q in rel.queries} == {"train", "test"}
    by_id = {p.id: product_facets(p) for p in catalog.products}
    for q in derived.queries:
        grades = derived.qrels[q["id"]]
        assert 2 in grades.values()
        if q["kind"] == "text":
            for doc, g in grades.items():
                assert grade_text(by_id[doc], q["intent"]) == g
        else:
            assert grades[q["intent"]["product"]] == 2
    # both phrasings of one combination share a split
    split_of = {}
    for q in derived.queries:
        if q["kind"] == "text":
            key = json.dumps(q["intent"], sort_keys=True)
            assert split_of.setdefault(key, q["split"]) == q["split"]


@pytest.mark.parametrize("side", [20000, 8000])  # over PIL's own bomb limit; under it but over the 50 MP cap
def test_photo_query_bombs_are_refused_before_decoding(tmp_path, side):
    from bombs import bomb_png

    from eval.relevance import Query
    from eval.runner import load_query_images
    from indexer.errors import ProdsearchError

    (tmp_path / "bomb.png").write_bytes(bomb_png(side))
    path = _write(tmp_path / "q.jsonl", [{"id": "q1", "image": "bomb.png"}])
    with pytest.raises(RelevanceError, match=r"line 1: query q1: image 'bomb.png' refused: .*(too large|larger than)"):
        load_queries(path)
    # the decoder itself keeps the query path's caps (a set changed after loading, a caller skipping the loader)
    with pytest.raises(ProdsearchError, match="query q1: cannot use image"):
        load_query_images([Query("q1", image=tmp_path / "bomb.png", kind="image")])


def test_photo_paths_are_confined_to_the_set_and_catalog_folders(tmp_path):
    """A relevance set is data: its photo paths may not make eval read files outside the allowed folders."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "x.png").write_bytes((FIXTURE_CATALOG.parent / "images" / "p0002.png").read_bytes())
    rel = tmp_path / "rel"
    rel.mkdir()
    (rel / "link.png").symlink_to(outside / "x.png")  # a symlink inside is judged by where it leads
    inside = FIXTURE_CATALOG.parent / "images" / "p0002.png"
    path = _write(rel / "q.jsonl", [
        {"id": "a", "image": "../elsewhere/x.png"}, {"id": "b", "image": str(outside / "x.png")},
        {"id": "c", "image": "link.png"}, {"id": "d", "image": "/etc/hostname"}, {"id": "e", "image": str(inside)},
    ])
    with pytest.raises(RelevanceError) as err:
        load_queries(path, image_roots=[FIXTURE_CATALOG.parent])
    text = str(err.value)
    for qid in "abcd":
        assert f"query {qid}: image" in text and "outside the allowed image folders" in text, qid
    assert "query e" not in text  # the catalog's folder is allowed
    (ok,) = load_queries(_write(rel / "ok.jsonl", [{"id": "e", "image": str(inside)}]),
                         image_roots=[FIXTURE_CATALOG.parent])
    assert ok.image == inside.resolve()
    with pytest.raises(RelevanceError, match="query e: image .* outside the allowed image folders"):
        load_queries(rel / "ok.jsonl")  # without the catalog's folder only the set's own is allowed
    assert load_queries(rel / "ok.jsonl", check_images=False)[0].image is None  # texts-only callers read no photo


@pytest.mark.parametrize("image", [5, True, ["a"], {"a": 1}, "", "a\u0000b", "a" * 5000])
def test_malformed_photo_paths_are_listed_problems(tmp_path, image):
    path = _write(tmp_path / "q.jsonl", [{"id": "q1", "text": "red", "image": image}])
    with pytest.raises(RelevanceError, match="line 1: query q1: .*image"):
        load_queries(path)


def test_build_qrels_takes_photo_queries_only_from_the_allowed_folders(tmp_path):
    """A catalog naming photos outside its folder: `index build` refuses them, so build-qrels must not write them."""
    from test_model_eval import _catalog_with_photos_elsewhere

    path, elsewhere = _catalog_with_photos_elsewhere(tmp_path, n=60)
    catalog = load_catalog(path)
    derived = derive_relevance(catalog, n_text=10, n_photo=5, min_support=1, queries_dir=tmp_path / "rel")
    assert derived.meta["photo_queries"] == 0
    catalog.images_root = elsewhere  # --images-root
    derived = derive_relevance(catalog, n_text=10, n_photo=5, min_support=1, queries_dir=tmp_path / "rel")
    photos = [q["image"] for q in derived.queries if q["kind"] == "image"]
    assert len(photos) == 5 and all(p.startswith("../x/") for p in photos)


QOK, ROK = b'{"id": "q1", "text": "red shirt"}\n', b"q1 0 p1 2\n"


@pytest.mark.parametrize("queries, qrels, needle", [
    (b'{"id": "q1", "text": "caf\xe9"}\n', ROK, "line 1: not UTF-8 text"),  # Latin-1
    (QOK, b"q1 0 p1 2 \xe9\n", "line 1: not UTF-8 text"),
    ('{"id": "q1", "text": "a"}\n'.encode("utf-16"), ROK, "the file is UTF-16 text; save it as UTF-8"),
    (b'{"id": "q1", "text": "a", "filters": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", ROK, "nested too deeply"),
    (b'{"id": 1' + b"0" * 5000 + b', "text": "a"}\n', ROK, "a number of more than 4300 digits"),
    (b'{"id": "#q1", "text": "a"}\n', b"#q1 0 p1 2\n", "not starting with '#'"),
    (b'{"id": "q1", "product_id": {"a": 1}}\n', ROK, "\"product_id\" must be a product id"),
    (b'{"id": "q1", "text": "a", "perturb": "typos", "of": "q1"}\n', ROK, "cannot be its own original"),
    (QOK, b"q1 0 p1 1_0\n", "grade '1_0' is not an integer"),
    (QOK, b"q1 0 p1 +2\n", "grade '+2' is not an integer"),
    (QOK, "q1 0 p1 \u0662\n".encode(), "is not an integer"),
    (QOK, b"q1 0 p1 99999999999999999999999\n", "is over 10"),
    (QOK, b"q1 0 p1 11\n", "grade '11' is over 10"),
])
def test_hostile_relevance_files_are_listed_problems(tmp_path, queries, qrels, needle):
    (tmp_path / "q.jsonl").write_bytes(queries)
    (tmp_path / "r.txt").write_bytes(qrels)
    with pytest.raises(RelevanceError, match=needle.replace("+", r"\+")):
        load_relevance(tmp_path / "q.jsonl", tmp_path / "r.txt", known_ids={"p1"})


def test_byte_order_marks_are_dropped_and_grades_up_to_ten_kept(tmp_path):
    (tmp_path / "q.jsonl").write_bytes(b"\xef\xbb\xbf" + QOK)
    (tmp_path / "r.txt").write_bytes(b"\xef\xbb\xbfq1 0 p1 2\nq1 0 p2 10\n")  # used to read as query '\ufeffq1'
    rel = load_relevance(tmp_path / "q.jsonl", tmp_path / "r.txt", known_ids={"p1", "p2"})
    assert rel.qrels == {"q1": {"p1": 2, "p2": 10}}


@pytest.mark.parametrize("meta", [b"[]", b"\xff\xfe", b"{nope"])
def test_a_malformed_relevance_json_is_an_error_naming_it(tmp_path, meta):
    (tmp_path / "q.jsonl").write_bytes(QOK)
    (tmp_path / "r.txt").write_bytes(ROK)
    (tmp_path / "relevance.json").write_bytes(meta)
    with pytest.raises(RelevanceError, match="relevance.json"):
        load_relevance(tmp_path / "q.jsonl", tmp_path / "r.txt")


def test_query_filters_need_json_numbers(tmp_path):
    """A queries file is JSON the user wrote: a price given as a string or a boolean is a listed problem naming the
    field (it was converted silently), while a JSON integer price and the shipped set's filters still load."""
    path = _write(tmp_path / "q.jsonl", [
        {"id": "a", "text": "x", "filters": {"price_max": "30"}},
        {"id": "b", "text": "x", "filters": {"price_min": True}},
        {"id": "c", "text": "x", "filters": {"exclude": {"brand": ["Acme"]}, "price_min": "1e1"}},
        {"id": "d", "text": "x", "filters": {"price_min": 5, "price_max": 30.5, "attributes": {"size": 42}}},
    ])
    with pytest.raises(RelevanceError) as err:
        load_queries(path)
    assert err.value.problems == [
        "line 1: query a: invalid filters (price_max: Input should be a valid number)",
        "line 2: query b: invalid filters (price_min: Input should be a valid number)",
        "line 3: query c: invalid filters (price_min: Input should be a valid number)"]
    good = _write(tmp_path / "good.jsonl", [{"id": "d", "text": "x", "filters": {"price_min": 5, "price_max": 30.5}}])
    assert load_queries(good)[0].filters == {"price_min": 5, "price_max": 30.5}
    shipped = load_queries(FIXTURE_REL / "queries.jsonl", check_images=False)
    assert sum(q.filters is not None for q in shipped) == 7
