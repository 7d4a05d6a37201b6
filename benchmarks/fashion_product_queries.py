""""More like this" queries for a derived relevance set (issue #13: product queries had only the fixtures' 6).

Each photo query of a derived set (`eval build-qrels`: a product's own photo; that product grade 2, the others of its
category and colour grade 1) becomes a product query on the same product, in the same split, judged by the same
qrels without the product itself (a "more like this" search never returns it). Writes queries.jsonl and qrels.txt;
measure them with benchmarks/per_query_modes.py --kind product_id. Asserts nothing.

    .venv/bin/python benchmarks/fashion_product_queries.py --queries /tmp/m/robust/rel/queries.jsonl \\
        --qrels /tmp/m/robust/rel/qrels.txt --out /tmp/sig13/rel-mlt
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=Path, required=True, help="a derived set's queries.jsonl")
    parser.add_argument("--qrels", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    qrels: dict[str, dict[str, int]] = {}
    for line in args.qrels.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4:
            qrels.setdefault(parts[0], {})[parts[2]] = int(parts[3])
    rows, lines = [], []
    for line in args.queries.read_text().splitlines():
        q = json.loads(line)
        product = (q.get("intent") or {}).get("product")
        if q.get("kind") != "image" or q.get("perturb") or not product:
            continue
        judged = {doc: g for doc, g in qrels.get(q["id"], {}).items() if doc != product and g > 0}
        if not judged:
            continue
        qid = "m" + q["id"]
        rows.append({"id": qid, "product_id": product, "kind": "product_id", "intent": q["intent"], "derived": True,
                     "split": q.get("split", "test")})
        lines += [f"{qid} 0 {doc} {g}" for doc, g in sorted(judged.items())]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (args.out / "qrels.txt").write_text("\n".join(lines) + "\n")
    splits = {s: sum(r["split"] == s for r in rows) for s in ("train", "test")}
    print(f"{len(rows)} product queries ({splits}) written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
