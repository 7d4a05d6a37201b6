"""What the load-time integrity check costs: a synthetic index of N products (default 44,072, the size of
the shared fashion catalog) with random 384-d vectors and thumbnail-sized blobs, loaded with and without
the sha256 check, side by side (alternating, best of --repeat).

    .venv/bin/python benchmarks/index_integrity.py [--n 44072] [--thumb-bytes 9000] [--out DIR]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from indexer.build import EmbeddedCatalog, write_index  # noqa: E402
from indexer.catalog import Catalog, Product  # noqa: E402
from indexer.encoders import Encoders  # noqa: E402
from indexer.index_dir import resolve_current  # noqa: E402
from indexer.integrity import verify_files  # noqa: E402
from indexer.loaded import load_index  # noqa: E402
from indexer.manifest import read_manifest  # noqa: E402


class _Stub:
    def __init__(self, name: str, dim: int):
        self.name, self.dim, self.trained = name, dim, True


def synthetic_index(n: int, dim: int, thumb_bytes: int, out: Path) -> Path:
    rng = np.random.default_rng(0)
    words = ["red", "blue", "shirt", "shoes", "bag", "watch", "women", "men", "cotton", "casual", "sports"]
    products = [Product(id=str(i), title=" ".join(rng.choice(words, 5)), brand=f"b{i % 300}",
                        category=["Apparel", f"c{i % 40}"], attributes={"colour": words[i % 5]}, price=float(i % 500))
                for i in range(n)]
    out.parent.mkdir(parents=True, exist_ok=True)
    catalog_path = out.parent / "catalog.jsonl"
    catalog_path.write_text("")

    def unit(m: int) -> np.ndarray:
        x = rng.standard_normal((m, dim)).astype(np.float32)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    embedded = EmbeddedCatalog(
        catalog=Catalog(path=catalog_path, products=products, sha256="0" * 64),
        text_vectors=unit(n), clip_text_vectors=unit(n), image_vectors=unit(n),
        image_rows=np.arange(n, dtype=np.int64),
        thumbnails={i: rng.bytes(thumb_bytes) for i in range(n)}, image_failures=[])
    write_index(embedded, out, Encoders(text=_Stub("synthetic-text", dim), clip=_Stub("synthetic-clip", dim)))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=44_072)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--thumb-bytes", type=int, default=9_000, help="bytes per thumbnail (real 256-px JPEGs: ~6-12 KB)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp()) / "idx"
    t0 = time.perf_counter()
    synthetic_index(args.n, args.dim, args.thumb_bytes, out)
    build_s = time.perf_counter() - t0
    manifest = read_manifest(out)
    total = sum(f.size for f in manifest.files.values())
    print(f"synthetic index: {args.n} products, {len(manifest.files)} files, {total / 2**20:.0f} MiB, "
          f"written in {build_s:.1f} s (incl. recording checksums: {manifest.build_seconds})")
    timings: dict[str, list[float]] = {"load, sizes only": [], "load, sizes + sha256": [], "sha256 check alone": []}
    version = resolve_current(out)
    for _ in range(args.repeat):
        for label, checksums in (("load, sizes only", False), ("load, sizes + sha256", True)):
            t = time.perf_counter()
            load_index(out, verify_checksums=checksums).close()
            timings[label].append(time.perf_counter() - t)
        t = time.perf_counter()
        verify_files(version, manifest, checksums=True)
        timings["sha256 check alone"].append(time.perf_counter() - t)
    for label, values in timings.items():
        print(f"  {label:22s} best {min(values):.2f} s   median {sorted(values)[len(values) // 2]:.2f} s")
    print(f"  sha256 throughput: {total / 2**20 / min(timings['sha256 check alone']):.0f} MiB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
