"""The real text encoder's fast paths: the direct query call, the query LRU, the ONNX Runtime bulk backend."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from indexer.catalog import Product
from indexer.text_recipe import TextRecipeError, text_recipe


def test_text_recipes():
    product = Product(id="1", title="Navy Shirt", brand="Acme", description="one two three four five six",
                      attributes={"colour": "Navy", "gender": "Men"})
    assert text_recipe("caption")(product) == "Navy Shirt Acme Men"
    assert text_recipe("caption+description:3")(product) == "Navy Shirt Acme Men. one two three"
    assert text_recipe("full")(product).endswith("one two three four five six")
    for bad in ("title", "caption+description:0", "caption+description:x"):
        with pytest.raises(TextRecipeError, match="unknown text recipe"):
            text_recipe(bad)


@pytest.mark.slow
def test_direct_query_call_onnx_and_lru_match_sentence_transformers(tmp_path):
    from indexer.encoders import SentenceTransformerEncoder

    encoder = SentenceTransformerEncoder(device="cpu")
    texts = ["navy blue men tshirts", "red dress",
             "Turtle Check Men Navy Blue Shirt. " + "a long description of the shirt and its fabric " * 30]
    reference = encoder.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True)
    assert np.abs(encoder.encode_texts(texts) - reference).max() < 1e-5

    one = encoder.encode_texts([texts[0]])
    assert one.shape == (1, encoder.dim) and np.abs(one[0] - reference[0]).max() < 1e-5
    one[0, :] = 0  # a caller changing its copy does not change the cached query vector
    assert texts[0] in encoder._query_cache and np.abs(encoder.encode_texts([texts[0]])[0] - reference[0]).max() < 1e-5
    assert encoder.enable_onnx(tmp_path, threads=1)
    assert not list((tmp_path / "onnx").glob("*.onnx"))  # exported at the first batch, not before
    assert np.abs(encoder.encode_texts(texts) - reference).max() < 1e-5
    assert list((tmp_path / "onnx").glob("*.onnx")) and encoder._bulk is not None
    encoder.release_bulk()  # a build frees the session's memory before writing the index ...
    assert encoder._bulk is None
    assert np.abs(encoder.encode_texts(texts) - reference).max() < 1e-5  # ... and a later batch opens it again
    assert encoder._bulk is not None

    served = SentenceTransformerEncoder(device="cpu", query_precision="fp32")
    assert not served.use_onnx_for_queries(tmp_path / "elsewhere")  # never exports at serve time
    assert served.use_onnx_for_queries(tmp_path) and served.query_encoder == "onnx fp32"
    assert np.abs(served.encode_texts([texts[1]])[0] - reference[1]).max() < 1e-5

    # int8 queries (`serve --query-encoder int8`): the quantized copy, made beside the export; products stay fp32
    quantized = SentenceTransformerEncoder(device="cpu", query_precision="int8")
    assert quantized.use_onnx_for_queries(tmp_path) and quantized.query_encoder == "onnx int8"
    int8_files = list((tmp_path / "onnx").glob("*.int8f.onnx"))  # MiniLM is BERT: made from the fused graph
    assert int8_files and "QAttention" in int8_files[0].read_bytes().decode("latin-1")
    assert np.abs(quantized.encode_texts([texts[1]])[0] - reference[1]).max() < 1e-5
    queries = quantized.encode_queries(texts[:2])
    cosines = (queries * reference[:2]).sum(1)
    assert cosines.min() > 0.97 and np.abs(queries - reference[:2]).max() > 1e-4  # close, and really the int8 model

    # A query embedded alone runs on every core; one embedded while another is under way, on one thread.
    if served._query_onnx_alone is not None:
        used, inside, release = [], threading.Event(), threading.Event()
        wide, narrow = served._query_onnx_alone.encode, served._query_onnx.encode

        def blocking_wide(batch):
            used.append("all cores")
            inside.set()
            release.wait(10)
            return wide(batch)

        served._query_onnx_alone.encode = blocking_wide
        served._query_onnx.encode = lambda batch: (used.append("one thread"), narrow(batch))[1]
        first = threading.Thread(target=lambda: served.embed_query_uncached(texts[2]))
        first.start()
        assert inside.wait(10)
        second = served.embed_query_uncached(texts[0])  # while the first is still embedding
        release.set()
        first.join()
        assert used == ["all cores", "one thread"]
        assert np.abs(second - reference[0]).max() < 1e-5
        assert np.abs(served.embed_query_uncached(texts[2]) - reference[2]).max() < 1e-5 and used[-1] == "all cores"
