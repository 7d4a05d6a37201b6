"""A deterministic synthetic catalog of any size, grown from a real one, for the scale benchmark.

Embedding a million texts and photos would take ~1.5 hours here (~195 products/s), so the catalog
is grown from a *base* whose vectors are already known:

- **the real fashion index** (default ``.prodsearch/build-rate/index``, left by build_rate.py: any index built from the shared
  Fashion Product Images catalog; see README, "Fashion benchmark", to build one): its products and
  its ``text``/``image`` vectors;
- **else a small seeded base** (the fixture catalog, 312 products, with clustered synthetic
  vectors: one centre per article type, colour, brand and gender), so tests run anywhere.

Growing N products from a base of B: when N >= B the first B rows are the base products unchanged;
every further row takes a *parent* and a *donor* of the parent's article type, and gets

- a title recombined from real words (the parent's brand or, 30% of the time, the donor's; the
  parent's and donor's model words shuffled; the parent's colour and article-type words kept), the
  parent's description, category and attributes, and a price drawn around the parent's;
- a text vector ``normalize((1-l)*parent + l*donor + noise)`` with ``l ~ U(0, 0.35)`` and noise of norm
  ~``NOISE`` (so neighbourhoods stay the real ones, a little blurred), and, when the parent has a
  photo, one image vector ``normalize(parent photo + noise)``.

When N < B, a seeded sample of the base, unchanged. Everything derives from ``seed``: the same
(base, N, seed) gives the same products and the same vectors bit for bit. Products are made on
demand (`SyntheticProducts` holds a few arrays, not a million objects). Nothing here is written
to the repository.
"""

from __future__ import annotations

import hashlib
import json
import logging
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexer.catalog import Product

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BASE_INDEX = REPO / ".prodsearch" / "build-rate" / "index"  # what benchmarks/build_rate.py leaves
FIXTURE_CATALOG = REPO / "fixtures" / "catalog.jsonl"
CHUNK = 65536  # rows generated per random stream; fixed so results do not depend on memory settings
NOISE = 0.25  # norm of the noise added to a grown product's vectors (unit vectors)
MIX_MAX = 0.35  # at most this share of the donor's text vector
BRAND_FROM_DONOR = 0.3
FALLBACK_DIM = 64


@dataclass
class Base:
    """The products a synthetic catalog grows from, with their vectors (rows as in the base index)."""

    products: list[Product]
    text_vectors: np.ndarray   # (B, d) float32, unit rows
    image_vectors: np.ndarray  # (M, d') float32, unit rows
    image_rows: np.ndarray     # (M,) product row of each image vector
    text_model: str
    clip_model: str
    source: str                # what it is, for the report

    @property
    def fingerprint(self) -> str:
        h = hashlib.sha256(self.source.encode())
        h.update(np.ascontiguousarray(self.text_vectors[:: max(1, len(self.text_vectors) // 64)]).tobytes())
        return h.hexdigest()[:16]


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.float32)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x


def load_index_base(index_dir: Path) -> Base:
    """The products and vectors of a built index directory (its current version)."""
    import faiss

    from indexer.index_dir import resolve_current
    from indexer.manifest import read_manifest
    from indexer.store import ProductStore

    version = resolve_current(index_dir)
    manifest = read_manifest(version)
    store = ProductStore(version / "products.sqlite")
    try:
        products = store.products
    finally:
        store.close()
    text = faiss.read_index(str(version / "text.faiss"))
    image = faiss.read_index(str(version / "image.faiss"))
    return Base(products=products, text_vectors=text.reconstruct_n(0, text.ntotal),
                image_vectors=image.reconstruct_n(0, image.ntotal),
                image_rows=np.load(version / "image_rows.npy").astype(np.int64),
                text_model=manifest.text_model, clip_model=manifest.clip_model,
                source=f"index {version} ({len(products)} products)")


def fixture_base(seed: int = 0, dim: int = FALLBACK_DIM) -> Base:
    """The fixture catalog with seeded clustered vectors: a base that exists wherever the repo does.

    A product's text vector sums centres for its article type, colour, brand and gender plus noise;
    its photo vector shares the type and colour centres (so a text query finds matching photos,
    as with the shared-tower CLIP), with noise of its own.
    """
    products = [Product.model_validate(json.loads(line)) for line in FIXTURE_CATALOG.read_text().splitlines()
                if line.strip()]
    rng = np.random.default_rng([seed, 7])
    centres: dict[tuple[str, str], np.ndarray] = {}

    def centre(kind: str, value: str) -> np.ndarray:
        if (kind, value) not in centres:
            centres[(kind, value)] = rng.standard_normal(dim).astype(np.float32) / np.sqrt(dim)
        return centres[(kind, value)]

    text, image = [], []
    for p in products:
        a = p.attributes
        core = centre("type", a.get("article_type", "")) + 0.7 * centre("colour", a.get("colour", ""))
        text.append(core + 0.4 * centre("brand", p.brand) + 0.3 * centre("gender", a.get("gender", "")))
        image.append(core)
    text_vectors = _unit(np.stack(text) + 0.35 * rng.standard_normal((len(products), dim)) / np.sqrt(dim))
    image_vectors = _unit(np.stack(image) + 0.35 * rng.standard_normal((len(products), dim)) / np.sqrt(dim))
    return Base(products=products, text_vectors=text_vectors, image_vectors=image_vectors,
                image_rows=np.arange(len(products), dtype=np.int64), text_model="synthetic-text",
                clip_model="synthetic-clip", source=f"fixture catalog + seeded vectors ({len(products)} products)")


def load_base(index_dir: Path | None = DEFAULT_BASE_INDEX, *, fallback: bool = True, seed: int = 0) -> Base:
    """The real index at ``index_dir`` when it is there, else (``fallback``) the fixture base."""
    if index_dir is not None and any((Path(index_dir) / name).exists() for name in ("current", "manifest.json")):
        return load_index_base(Path(index_dir))
    if not fallback:
        raise FileNotFoundError(
            f"no index at {index_dir}: build one from the shared fashion catalog (README, 'Fashion benchmark'), "
            "e.g. `python benchmarks/fashion_eval.py --limit 0` or `prodsearch index` on its catalog.jsonl")
    logger.info("no base index at %s; growing from the fixture catalog with seeded vectors", index_dir)
    return fixture_base(seed)


class SyntheticProducts(Sequence[Product]):
    """N products made on demand from the base and a few per-row arrays (a million `Product`s would take GBs)."""

    def __init__(self, base: Base, parent: np.ndarray, donor: np.ndarray, donor_brand: np.ndarray,
                 price_factor: np.ndarray, originals: int, seed: int):
        self.base, self.parent, self.donor = base, parent, donor
        self.donor_brand, self.price_factor = donor_brand, price_factor
        self.originals, self.seed = originals, seed

    def __len__(self) -> int:
        return len(self.parent)

    def __getitem__(self, row):  # type: ignore[override]
        if isinstance(row, slice):
            return [self[i] for i in range(*row.indices(len(self)))]
        row = int(row)
        if row < 0:
            row += len(self)
        p = self.base.products[self.parent[row]]
        if row < self.originals:
            return p
        q = self.base.products[self.donor[row]]
        brand = q.brand if self.donor_brand[row] else p.brand
        rnd = random.Random(self.seed * 1_000_003 + row)
        price = None if p.price is None else float(round(p.price * float(self.price_factor[row])))
        return Product(id=f"syn{row:07d}", title=recombine_title(p, q, brand, rnd), description=p.description,
                       brand=brand, category=list(p.category), attributes=dict(p.attributes), price=price,
                       currency=p.currency)

    def __iter__(self) -> Iterator[Product]:
        for row in range(len(self)):
            yield self[row]

    def brand_of(self, row: int) -> str:
        """The brand of ``row`` without building the product."""
        if row < self.originals:
            return self.base.products[self.parent[row]].brand
        return self.base.products[(self.donor if self.donor_brand[row] else self.parent)[row]].brand


def _model_words(p: Product) -> tuple[list[str], list[str], list[str]]:
    """A title as (brand words, model words, tail words: colour and article type, kept in place)."""
    words = p.title.split()
    head = len(p.brand.split()) if p.brand and p.title.lower().startswith(p.brand.lower()) else 0
    tail_len = min(2, max(0, len(words) - head))
    return words[:head], words[head:len(words) - tail_len], words[len(words) - tail_len:]


def recombine_title(p: Product, q: Product, brand: str, rnd: random.Random) -> str:
    """A new title of real words: ``brand``, model words drawn from both parents, the parent's tail."""
    _, mid_p, tail = _model_words(p)
    _, mid_q, _ = _model_words(q)
    pool = mid_p + mid_q
    size = max(1, len(mid_p)) if pool else 0
    middle = rnd.sample(pool, min(size, len(pool))) if pool else []
    return " ".join([*brand.split(), *middle, *tail]) or p.title


@dataclass
class SyntheticCatalog:
    products: SyntheticProducts
    text_vectors: np.ndarray   # (N, d) float32
    image_vectors: np.ndarray  # (M, d') float32
    image_rows: np.ndarray     # (M,) int64 product rows
    base: Base
    seed: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(f"{self.base.fingerprint}:{len(self.products)}:{self.seed}".encode()).hexdigest()


def _type_groups(products: list[Product]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group of each product, members sorted by group, start of each group in that order)."""
    names: dict[str, int] = {}
    group = np.array([names.setdefault(p.attributes.get("article_type") or (p.category[-1] if p.category else ""),
                                       len(names)) for p in products], dtype=np.int64)
    order = np.argsort(group, kind="stable")
    starts = np.concatenate([[0], np.cumsum(np.bincount(group, minlength=len(names)))])
    return group, order, starts


def grow(base: Base, n: int, seed: int = 0, *, vectors: bool = True) -> SyntheticCatalog:
    """N products (see the module docstring); deterministic in (base, n, seed).

    ``vectors=False``: the same products, without their text and image vectors (empty arrays), for
    benchmarks of the text alone (the lexical one): no ~1.5 KB per product of vectors to draw and hold.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    b = len(base.products)
    first_image = np.full(b, -1, np.int64)
    first_image[base.image_rows[::-1]] = np.arange(len(base.image_rows))[::-1]
    if n <= b:
        parent = np.sort(np.random.default_rng([seed, 1]).choice(b, n, replace=False)).astype(np.int64)
        keep = np.isin(base.image_rows, parent)
        new_row = np.full(b, -1, np.int64)
        new_row[parent] = np.arange(n)
        products = SyntheticProducts(base, parent, parent, np.zeros(n, bool), np.ones(n, np.float32), n, seed)
        return SyntheticCatalog(products, np.ascontiguousarray(base.text_vectors[parent]),
                                np.ascontiguousarray(base.image_vectors[keep]), new_row[base.image_rows[keep]],
                                base, seed)
    group, order, starts = _type_groups(base.products)
    d, d_img = base.text_vectors.shape[1], base.image_vectors.shape[1]
    parent = np.empty(n, np.int64)
    donor = np.empty(n, np.int64)
    donor_brand = np.zeros(n, bool)
    price_factor = np.ones(n, np.float32)
    text = np.empty((n if vectors else 0, d), np.float32)
    if vectors:
        text[:b] = base.text_vectors
    parent[:b] = donor[:b] = np.arange(b)
    grown_images: list[np.ndarray] = []
    grown_image_rows: list[np.ndarray] = []
    for c, start in enumerate(range(b, n, CHUNK)):
        stop = min(n, start + CHUNK)
        m = stop - start
        rng = np.random.default_rng([seed, 2, c])
        par = rng.integers(0, b, m)
        g = group[par]
        don = order[starts[g] + (rng.random(m) * (starts[g + 1] - starts[g])).astype(np.int64)]
        parent[start:stop], donor[start:stop] = par, don
        donor_brand[start:stop] = rng.random(m) < BRAND_FROM_DONOR
        price_factor[start:stop] = np.exp(rng.normal(0.0, 0.2, m)).astype(np.float32)
        if not vectors:  # the draws above fix the products; the ones below only the vectors
            continue
        mix = (rng.random(m) * MIX_MAX).astype(np.float32)[:, None]
        block = (1 - mix) * base.text_vectors[par] + mix * base.text_vectors[don]
        block += rng.standard_normal((m, d), dtype=np.float32) * np.float32(NOISE / np.sqrt(d))
        text[start:stop] = _unit(block)
        has_photo = first_image[par] >= 0
        photo = base.image_vectors[first_image[par[has_photo]]]
        photo = photo + rng.standard_normal(photo.shape, dtype=np.float32) * np.float32(NOISE / np.sqrt(d_img))
        grown_images.append(_unit(photo))
        grown_image_rows.append(np.arange(start, stop, dtype=np.int64)[has_photo])
    if vectors:
        image_vectors = np.concatenate([base.image_vectors, *grown_images]).astype(np.float32, copy=False)
        image_rows = np.concatenate([base.image_rows, *grown_image_rows])
    else:
        image_vectors, image_rows = base.image_vectors[:0], base.image_rows[:0]
    del grown_images
    products = SyntheticProducts(base, parent, donor, donor_brand, price_factor, b, seed)
    return SyntheticCatalog(products, text, np.ascontiguousarray(image_vectors), image_rows, base, seed)


# -- queries and filters ---------------------------------------------------------------------------
QUERY_SHAPES = ("{gender} {colour} {type}", "{brand} {type}", "{colour} {type}", "{usage} {type} for {gender}",
                "{brand} {colour} {type}", "{title}")


def make_queries(catalog: SyntheticCatalog, count: int, seed: int = 0) -> list[tuple[str, int]]:
    """``count`` shopper-like text queries built from seeded products' words, with the row each came from."""
    rnd = random.Random(seed * 7919 + 17)
    out = []
    for _ in range(count):
        row = rnd.randrange(len(catalog.products))
        p = catalog.products[row]
        a = {k: v.lower() for k, v in p.attributes.items()}
        fields = {"gender": a.get("gender", ""), "colour": a.get("colour", ""), "usage": a.get("usage", ""),
                  "type": a.get("article_type", p.category[-1] if p.category else "").lower(),
                  "brand": p.brand.lower(), "title": " ".join(p.title.lower().split()[:4])}
        text = " ".join(rnd.choice(QUERY_SHAPES).format(**fields).split())
        out.append((text or p.title.lower(), row))
    return out


def perturbed_query_vectors(catalog: SyntheticCatalog, rows: Sequence[int], seed: int = 0,
                            noise: float = 0.5) -> np.ndarray:
    """Stand-in query vectors when no text encoder is at hand: each query's source product's text vector plus noise."""
    rng = np.random.default_rng([seed, 3])
    v = catalog.text_vectors[np.asarray(rows, np.int64)]
    return _unit(v + rng.standard_normal(v.shape, dtype=np.float32) * np.float32(noise / np.sqrt(v.shape[1])))


def pick_filter(catalog: SyntheticCatalog, target: float = 0.01) -> tuple[dict, float]:
    """The single brand or attribute value whose share of the catalog is nearest ``target``: (filters, share).

    Shares are counted from the parents without building the products.
    """
    products = catalog.products
    base = catalog.base.products
    n = len(products)
    counts: dict[tuple[str, str, str], int] = {}
    parent_weight = np.bincount(products.parent, minlength=len(base))
    for row, weight in enumerate(parent_weight.tolist()):
        if weight:
            for name, value in base[row].attributes.items():
                key = ("attributes", name, value)
                counts[key] = counts.get(key, 0) + weight
    brand_rows = np.where(products.donor_brand, products.donor, products.parent)
    for row, weight in enumerate(np.bincount(brand_rows, minlength=len(base)).tolist()):
        if weight and base[row].brand:
            key = ("brand", "", base[row].brand)
            counts[key] = counts.get(key, 0) + weight
    (kind, name, value), count = min(counts.items(), key=lambda kv: (abs(kv[1] / n - target), kv[0]))
    filters = {"brand": [value]} if kind == "brand" else {"attributes": {name: [value]}}
    return filters, count / n


def filter_mask(catalog: SyntheticCatalog, filters: dict) -> np.ndarray:
    """The rows passing a `pick_filter` filter (one brand, or one attribute value), from the parents and
    donors, without building the products; a grown product has its parent's attributes."""
    products, base = catalog.products, catalog.base.products
    if set(filters) == {"brand"}:
        (brand,) = filters["brand"]
        holds = np.array([p.brand == brand for p in base], bool)
        return holds[np.where(products.donor_brand, products.donor, products.parent)]
    if set(filters) == {"attributes"} and len(filters["attributes"]) == 1:
        ((name, (value,)),) = filters["attributes"].items()
        holds = np.array([p.attributes.get(name) == value for p in base], bool)
        return holds[products.parent]
    raise ValueError(f"filter_mask takes what pick_filter gives (one brand or one attribute value), got {filters}")


def write_jsonl(products: Sequence[Product], path: Path) -> Path:
    """The products as a catalog file (to index them with the real encoders; not needed by the benchmark)."""
    with open(path, "w", encoding="utf-8") as fh:
        for p in products:
            fh.write(p.model_dump_json(exclude_defaults=True) + "\n")
    return path
