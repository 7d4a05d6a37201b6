"""Benchmark: index build rate on the shared fashion catalog: cold build, unchanged rebuild, 1%-changed rebuild.

Each build is `prodsearch index build` in its own process (as a user runs it, model loading
included), timed wall-clock with its peak RSS (from wait4). The catalog is the fashion adapter's
(`python -m indexer.adapters.fashion`, written here when missing); the dataset is only read.
Targets (issue #10): cold >= 150 products/s (44k in <= 5 min on 2 cores), unchanged rebuild
<= 30 s, 1% changed <= 45 s, peak RSS <= 2 GB. Skips, saying so, when the dataset is absent.
Per build it prints the build's summary lines: what was embedded, which models were loaded (none on
a fully cached rebuild), the writing parts (BM25 files and store: "reused" when copied from the previous
version) and the seconds per stage.

    .venv/bin/python benchmarks/build_rate.py                 # all products
    .venv/bin/python benchmarks/build_rate.py --limit 5000    # a seeded subset
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATASET = REPO.parent / "shared" / "datasets" / "fashion-product-images"
WORK = REPO / ".prodsearch" / "build-rate"
TARGETS = {"cold_products_per_s": 150.0, "rebuild_s": 30.0, "changed_1pct_s": 45.0, "peak_rss_gb": 2.0}


def run_build(catalog: Path, out: Path, extra: list[str]) -> dict:
    """One build in a child process: wall seconds, peak RSS (GB), its manifest."""
    command = [sys.executable, "-m", "prodsearch", "index", "build", "--catalog", str(catalog), "--out", str(out),
               "--skip-invalid", "--no-progress", "--images-root", str(DATASET), *extra]  # photos lie outside the catalog
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    start = time.perf_counter()
    proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = proc.stdout.read() if proc.stdout else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        print(output[-4000:], file=sys.stderr)
        raise SystemExit(f"build failed: {' '.join(command)}")
    manifest = json.loads((out / "current" / "manifest.json").read_text())  # the version just published
    summary = [line.strip() for line in output.splitlines()
               if line.strip().startswith(("texts:", "models loaded:", "writing:", "seconds per", "rate:"))]
    return {"wall_s": round(wall, 1), "peak_rss_gb": round(usage.ru_maxrss / 1024 / 1024, 2),
            "products": manifest["counts"]["products"], "embedding_counts": manifest.get("embedding_counts", {}),
            "stage_s": manifest["build_seconds"], "summary": summary}


def change_titles(catalog: Path, out: Path, fraction: float, seed: int) -> int:
    lines = catalog.read_text(encoding="utf-8").splitlines()
    chosen = random.Random(seed).sample(range(len(lines)), max(1, int(len(lines) * fraction)))
    for i in chosen:
        row = json.loads(lines[i])
        row["title"] = row["title"] + " (new season)"
        lines[i] = json.dumps(row)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(chosen)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=REPO / ".prodsearch" / "fashion" / "catalog.jsonl")
    parser.add_argument("--work", type=Path, default=WORK)
    parser.add_argument("--limit", type=int, default=0, help="seeded subset of products (0 = all)")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--extra", default="", help="more `index build` options, e.g. '--text-backend torch'")
    args = parser.parse_args()
    if not args.catalog.is_file():
        if not (DATASET / "products.csv").is_file():
            print(f"SKIPPED: no catalog at {args.catalog} and no fashion dataset at {DATASET}")
            return 0
        subprocess.run([sys.executable, "-m", "indexer.adapters.fashion", "--out", str(args.catalog)], cwd=REPO,
                       env={**os.environ, "PYTHONPATH": str(REPO)}, check=True)
    shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True)
    catalog = args.work / "catalog.jsonl"
    lines = args.catalog.read_text(encoding="utf-8").splitlines(keepends=True)
    if args.limit and args.limit < len(lines):
        lines = [lines[i] for i in sorted(random.Random(args.seed).sample(range(len(lines)), args.limit))]
    catalog.write_text("".join(lines), encoding="utf-8")
    changed = args.work / "catalog-1pct.jsonl"
    n_changed = change_titles(catalog, changed, 0.01, args.seed)
    out, extra = args.work / "index", args.extra.split()
    load = os.getloadavg()
    print(f"{len(lines)} catalog rows; {os.cpu_count()} cores; load average before: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    results = {}
    for name, cat in (("cold", catalog), ("rebuild", catalog), ("changed_1pct", changed)):
        results[name] = run_build(cat, out, extra)
        r = results[name]
        print(f"{name:>13}: {r['wall_s']:7.1f} s wall, {r['products'] / r['wall_s']:6.1f} products/s, "
              f"peak RSS {r['peak_rss_gb']:.2f} GB, load {os.getloadavg()[0]:.1f}")
        for line in r["summary"]:
            print(f"{'':>15}{line}")
    cold = results["cold"]
    checks = {
        "cold_products_per_s": round(cold["products"] / cold["wall_s"], 1),
        "rebuild_s": results["rebuild"]["wall_s"],
        "changed_1pct_s": results["changed_1pct"]["wall_s"],
        "peak_rss_gb": max(r["peak_rss_gb"] for r in results.values()),
    }
    print(f"1% changed = {n_changed} titles")
    for key, value in checks.items():
        target = TARGETS[key]
        ok = value >= target if key == "cold_products_per_s" else value <= target
        print(f"  {key}: {value} (target {'>=' if key == 'cold_products_per_s' else '<='} {target}) {'OK' if ok else 'MISSED'}")
    (args.work / "build_rate.json").write_text(json.dumps({"results": results, "checks": checks,
                                                            "load_before": load}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
