"""The lexical index: built from token ids, it ranks and scores exactly as bm25s does from token strings."""

from __future__ import annotations

import bm25s
import numpy as np

from indexer.lexical import LexicalIndex, tokenize

TEXTS = ["Red cotton T-shirt for men", "Blue denim jeans", "red red dress", "", "Navy blue t-shirt, women",
         "Leather shoes in black", "the and of"]


def _from_strings(texts: list[str]) -> LexicalIndex:
    retriever = bm25s.BM25()
    retriever.index([tokenize(t) or ["<empty>"] for t in texts], show_progress=False)
    return LexicalIndex(retriever, len(texts))


def test_ids_build_scores_like_a_string_build():
    ours, reference = LexicalIndex.build(TEXTS), _from_strings(TEXTS)
    mask = np.array([True, False, True, True, True, False, True])
    for query in ["red t-shirt", "tshirt", "blue", "shoes black", "unknownword", "the", ""]:
        for allowed in (None, mask):
            s1, d1 = ours.search(query, 5, allowed)
            s2, d2 = reference.search(query, 5, allowed)
            assert d1.tolist() == d2.tolist(), query
            np.testing.assert_allclose(s1, s2, rtol=1e-6)
    scores, docs = ours.search("red", 5)
    assert docs[0] == 2 and set(docs.tolist()) == {0, 2} and (scores > 0).all()


def test_ids_build_survives_save_and_load(tmp_path):
    LexicalIndex.build(TEXTS).save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    assert loaded.n_docs == len(TEXTS)
    assert loaded.search("denim", 3)[1].tolist() == [1]
