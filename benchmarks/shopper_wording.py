"""Shopper wording probe (issue #13): text queries phrased with everyday words, graded by catalog attributes.

The derived relevance sets (`eval build-qrels`) phrase queries with the catalog's own labels ("navy blue
tshirts for women"), which flatters query understanding. This probe asks for the same attribute combinations
in the words shoppers use ("navy tees for ladies", "office shoes", "joggers for guys"), drawn from
`benchmarks/shopper_words.py`, a word list kept apart from the shipped synonyms, and grades the results by the
products' attributes, like `eval.derive`: grade 2 = the article type and every other named value match,
1 = the type matches and one other value fails (a Unisex product suits a query for men or women, and a
kids' Unisex product one for boys or girls). Families: colour+audience+type, occasion+type (usage),
shade+type, audience+type, everyday type names (+ a plain colour or gender).

Each query's everyday phrases are looked up in the synonyms the engine ships (`search/default_synonyms.txt`):
the table splits every family into queries whose phrases are all in that file and queries with a phrase the
file does not hold. With ``--words core`` the synonyms were extended after that list was written, by the same
hand, so its "in file" part flatters them; ``--words fresh`` (below) is the held-out measure.

Side by side in one process: the query understanding of before (``--before-synonyms``, a synonyms file, e.g.
main's, loaded without the defaults, and the parser's older rules: no phrase composed from a synonym and common
English words corrected too, see `QueryUnderstanding(compose=..., english=...)`) and of now. Prints per family
nDCG@10 of the default mode, then the queries that lose most. Asserts nothing. Needs the fashion catalog and an
index built from it (~2 GB RAM at 44k).

    git show 50d0d85:search/default_synonyms.txt > /tmp/before_synonyms.txt
    .venv/bin/python benchmarks/shopper_wording.py --catalog /tmp/br3/catalog.jsonl --index /tmp/m/br/index \\
        --before-synonyms /tmp/before_synonyms.txt [--words core|fresh] [--per-family 60] [--seed 13] [--write DIR]

``--words fresh`` draws the everyday phrases from the second list of `benchmarks/shopper_words.py`, written after
the shipped synonyms were extended and never used to change them: the measure that no one fitted. ``--words fresh2``
draws them from `benchmarks/shopper_words_fresh2.py`, written on 2026-12-01 before that day's synonyms extension by a
writer who had not seen the synonyms (and unseen by the extension's author): held out from both sides.
``--words fresh3`` draws them from `benchmarks/shopper_words_fresh3.py`, written later on 2026-12-01 by a writer blind
to the engine (its synonyms, loader and query understanding unopened, the probe never run against it).

``--frames`` also wraps every query in a shopper's frame that asks for nothing ("i am looking for {q}", "{q} pls"; one
of `benchmarks/shopper_frames.py`, seeded per query id), searched with the rules of now, and prints framed vs plain
nDCG@10 per family.

``--check`` (no index, no search) validates the ``--words`` list against ``--catalog`` with
`benchmarks/shopper_words_check.py` (values the catalog lacks, phrases an older list holds, probe queries without
a grade-2 product, frames naming a catalog value), prints the probe it builds per family, and exits 1 on a problem:

    .venv/bin/python benchmarks/shopper_wording.py --catalog /tmp/br3/catalog.jsonl --check --words fresh2
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from shopper_frames import FRAMES, frame_for, frame_problems, frame_report, framed  # noqa: E402
from shopper_words import AUDIENCE, AUDIENCE_AFTER_ONLY, COLOUR, FRESH, OCCASION, TYPE  # noqa: E402
from shopper_words_check import catalog_values, list_problems, overlap_problems  # noqa: E402
from shopper_words_fresh2 import FRESH2  # noqa: E402
from shopper_words_fresh3 import FRESH3  # noqa: E402

from search.synonyms import Synonyms  # noqa: E402

GRADED = ("article_type", "colour", "gender", "usage")
SLOT_WORDS = {"colour": COLOUR, "gender": AUDIENCE, "usage": OCCASION, "article_type": TYPE}
WORD_LISTS = {"core": SLOT_WORDS, "fresh": FRESH, "fresh2": FRESH2, "fresh3": FRESH3}
LITERAL_GENDER = {"Men": ("men's", "for men"), "Women": ("women's", "for women"), "Boys": ("boys'", "for boys"),
                  "Girls": ("girls'", "for girls")}


@dataclass
class Probe:
    id: str
    family: str
    text: str
    intent: dict[str, frozenset[str]]  # field -> the values a shopper would accept
    phrases: list[str] = field(default_factory=list)  # the everyday phrases the text uses


def product_values(products: Sequence) -> list[dict[str, str]]:
    """Per product: the graded fields, its age group (for kids' Unisex) and its brand (`shopper_queries.py`)."""
    return [{**{k: p.attributes.get(k, "") for k in (*GRADED, "age_group")}, "brand": p.brand or ""} for p in products]


def holds(values: dict[str, str], name: str, wanted: frozenset[str]) -> bool:
    actual = values[name]
    if actual in wanted:
        return True
    if name == "gender" and actual == "Unisex":
        kids = values["age_group"].startswith("Kids")
        return bool(wanted & ({"Boys", "Girls"} if kids else {"Men", "Women"}))
    return False


def grade(values: dict[str, str], intent: dict[str, frozenset[str]]) -> int:
    if values["article_type"] not in intent["article_type"]:
        return 0
    misses = sum(not holds(values, k, v) for k, v in intent.items() if k != "article_type")
    return 2 if misses == 0 else 1 if misses == 1 else 0


def _everyday(words: dict[str, tuple[str, ...]], value: str, rng: random.Random) -> str | None:
    options = sorted(p for p, vals in words.items() if value in vals)
    return rng.choice(options) if options else None


def _slot(name: str, value: str, everyday: bool, rng: random.Random,
          lists: dict[str, dict[str, tuple[str, ...]]]) -> tuple[str, frozenset[str], str | None] | None:
    """(text, accepted values, the everyday phrase or None) for one slot of a query naming ``value``."""
    words = lists[name]
    if everyday:
        phrase = _everyday(words, value, rng)
        if phrase is None:
            return None
        return phrase, frozenset(words[phrase]), phrase
    if name == "gender":
        return (LITERAL_GENDER[value][0] if value in LITERAL_GENDER else None) or "", frozenset({value}), None
    return value.lower(), frozenset({value}), None


# family -> (slots naming values: (field, everyday?) with "?" = either), templates
FAMILIES: dict[str, tuple[tuple[tuple[str, str], ...], tuple[str, ...]]] = {
    "colour+audience+type": ((("colour", "yes"), ("gender", "yes"), ("article_type", "either")),
                             ("{colour} {article_type} for {gender}", "{gender} {colour} {article_type}")),
    "occasion+type": ((("usage", "yes"), ("article_type", "either")),
                      ("{usage} {article_type}", "{article_type} for {usage}")),
    "shade+type": ((("colour", "yes"), ("article_type", "no")), ("{colour} {article_type}", "{article_type} in {colour}")),
    "audience+type": ((("gender", "yes"), ("article_type", "no")),
                      ("{gender} {article_type}", "{article_type} for {gender}")),
    "everyday type": ((("article_type", "yes"), ("gender", "no")), ("{gender} {article_type}",)),
    "everyday type+colour": ((("article_type", "yes"), ("colour", "no")), ("{colour} {article_type}",)),
}


def build_probe(products: Sequence, per_family: int, seed: int, min_support: int = 3, max_judged: int = 1500,
                lists: dict[str, dict[str, tuple[str, ...]]] = SLOT_WORDS) -> tuple[list[Probe], dict[str, dict[str, int]]]:
    """Queries per family from random products' values, each phrased with everyday words, and their grades."""
    rng = random.Random(seed)
    values = product_values(products)
    by_value: dict[tuple[str, str], list[int]] = defaultdict(list)
    for row, v in enumerate(values):
        for name in GRADED:
            if v[name]:
                by_value[(name, v[name])].append(row)
    probes: list[Probe] = []
    qrels: dict[str, dict[str, int]] = {}
    seen: set[str] = set()
    for family, (slots, templates) in FAMILIES.items():
        # the family's first everyday slot is its focus: a phrase drawn uniformly, then a product it describes, so
        # every phrase is asked about alike (not 78% "Casual" as the catalog's products would have it)
        focus = next(name for name, mode in slots if mode == "yes")
        words = lists[focus]
        made, tries = 0, 0
        while made < per_family and tries < per_family * 200:
            tries += 1
            chosen = rng.choice(sorted(words))
            rows = [r for value in words[chosen] for r in by_value[(focus, value)]]
            if not rows:
                continue
            v = values[rng.choice(rows)]
            parts: dict[str, str] = {}
            intent: dict[str, frozenset[str]] = {}
            phrases: list[str] = []
            for name, mode in slots:
                everyday = mode == "yes" or (mode == "either" and rng.random() < 0.5)
                if name == focus:
                    slot: tuple[str, frozenset[str], str | None] | None = (chosen, frozenset(words[chosen]), chosen)
                else:
                    slot = _slot(name, v[name], everyday, rng, lists) if v[name] else None
                if slot is None or not slot[0]:
                    break
                parts[name], intent[name], phrase = slot
                phrases += [phrase] if phrase else []
            else:
                template = rng.choice(templates)
                after_only = AUDIENCE_AFTER_ONLY if lists is SLOT_WORDS else lists["gender"]  # fresh: "for mum"
                if "gender" in parts and parts["gender"] in after_only and template.startswith("{gender}"):
                    template = next((t for t in templates if not t.startswith("{gender}")), template)
                    if template.startswith("{gender}"):
                        continue
                if template.endswith("for {gender}") and "gender" in parts and parts["gender"] in (
                        g for g, _ in LITERAL_GENDER.values()):
                    continue
                text = " ".join(template.format(**parts).split())
                if text in seen:
                    continue
                grades = {products[r].id: g for t in intent["article_type"] for r in by_value[("article_type", t)]
                          if (g := grade(values[r], intent))}
                if sum(g == 2 for g in grades.values()) < min_support or len(grades) > max_judged:
                    continue
                seen.add(text)
                qid = f"s{len(probes):04d}"
                probes.append(Probe(qid, family, text, intent, phrases))
                qrels[qid] = grades
                made += 1
    return probes, qrels


def in_file(phrase: str, synonyms: Synonyms) -> bool:
    """Whether the shipped synonyms name ``phrase`` as a source (by key: case and plurals do not matter); an
    audience word also as "for <word>" ("for him"), as the probe's templates put it after the type."""
    audience = {w for words in WORD_LISTS.values() for w in words["gender"]}
    return phrase in synonyms or (phrase in audience and f"for {phrase}" in synonyms)


def write_probe(probes: list[Probe], qrels: dict[str, dict[str, int]], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for p in probes:
            fh.write(json.dumps({"id": p.id, "text": p.text, "kind": "text", "family": p.family, "split": "test",
                                 "intent": {k: sorted(v) for k, v in p.intent.items()}}) + "\n")
    with (out / "qrels.txt").open("w", encoding="utf-8") as fh:
        for qid, grades in qrels.items():
            fh.writelines(f"{qid} 0 {doc} {g}\n" for doc, g in grades.items())


def check(catalog: Path, name: str, per_family: int, seed: int) -> int:
    """``--check``: the word list's values against the catalog, its phrases against the lists before it, and the
    probe it builds (queries and phrases per family); searches nothing. 1 when a problem is found."""
    from indexer.catalog import load_catalog

    products = load_catalog(catalog, skip_invalid=True).products
    words = WORD_LISTS[name]
    older = {n: lst for n, lst in WORD_LISTS.items() if n != name and list(WORD_LISTS).index(n) < list(WORD_LISTS).index(name)}
    counts = catalog_values(p.attributes for p in products)
    problems = list_problems(words, counts) + overlap_problems(words, older)
    problems += frame_problems(FRAMES, [v for name in GRADED for v in counts[name]])
    probes, qrels = build_probe(products, per_family, seed, lists=words)
    print(f"word list {name!r}: " + ", ".join(f"{f} {len(words[f])}" for f in GRADED if f in words)
          + f" phrases ({sum(len(v) for v in words.values())} in all), checked against {len(products)} products "
          f"and the lists {sorted(older) or 'none'}")
    print("| family | queries | phrases used | median judged | min grade-2 |\n|---|---|---|---|---|")
    for family in FAMILIES:
        ids = [p.id for p in probes if p.family == family]
        used = {w for p in probes if p.family == family for w in p.phrases}
        judged = sorted(len(qrels[i]) for i in ids)
        best = min((sum(g == 2 for g in qrels[i].values()) for i in ids), default=0)
        print(f"| {family} | {len(ids)} | {len(used)} | {judged[len(judged) // 2] if judged else 0} | {best} |")
    unused = sorted(p for phrases in words.values() for p in phrases if all(p not in q.phrases for q in probes))
    print(f"phrases in no probe query at --per-family {per_family} ({len(unused)}): {', '.join(unused) or '-'}")
    empty = [q.id for q in probes if not any(g == 2 for g in qrels[q.id].values())]
    problems += [f"probe query {q} has no grade-2 product" for q in empty]
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print(f"check {'FAILED' if problems else 'passed'}: {len(problems)} problem(s), {len(probes)} probe queries")
    return 1 if problems else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--index", type=Path, default=None, help="an index built from --catalog (not with --check)")
    parser.add_argument("--before-synonyms", type=Path, default=None,
                        help="also the rules of before: this synonyms file (no defaults), no composed phrases")
    parser.add_argument("--per-family", type=int, default=60)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--words", choices=sorted(WORD_LISTS), default="core",
                        help="core: the first word list; fresh: the one written after the synonyms (held out); "
                             "fresh2: written before the synonyms extension of 2026-12-01, unseen by its writer; "
                             "fresh3: written later that day by a writer blind to the engine")
    parser.add_argument("--check", action="store_true",
                        help="only check --words against --catalog (values it lacks, phrases an older list holds) "
                             "and build its probe queries; no index, no search; exits 1 on a problem")
    parser.add_argument("--modes", default="default", help="comma-separated eval modes")
    parser.add_argument("--write", type=Path, default=None, help="also write queries.jsonl + qrels.txt here")
    parser.add_argument("--show", type=int, default=12, help="queries listed that lose most / gain most")
    parser.add_argument("--infer", action="store_true",
                        help="also now + inferred values (`search.value_inference`), side by side")
    parser.add_argument("--frames", action="store_true",
                        help="also every query wrapped in a shopper's frame ('i am looking for ...', '... pls'; "
                             "benchmarks/shopper_frames.py), searched with the rules of now: framed vs plain")
    parser.add_argument("--guard-before", type=int, default=0, metavar="COUNT",
                        help="also now with the English-word guard of before: this many occurrences, any slip")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if not args.catalog.is_file():
        print(f"skipped: no catalog at {args.catalog}")
        return 0
    if args.check:
        return check(args.catalog, args.words, args.per_family, args.seed)
    if args.index is None:
        parser.error("--index is required (unless --check)")
    from eval.metrics import query_metric
    from eval.modes import resolve_modes
    from eval.relevance import Query
    from eval.runner import open_searcher, run_modes
    from indexer.catalog import load_catalog
    from search.synonyms import load_synonyms
    from search.understanding import QueryUnderstanding

    products = load_catalog(args.catalog, skip_invalid=True).products
    probes, qrels = build_probe(products, args.per_family, args.seed, lists=WORD_LISTS[args.words])
    if args.write:
        write_probe(probes, qrels, args.write)
    searcher = open_searcher(args.index)
    if searcher.index.n_products != len(products):
        raise SystemExit(f"the index holds {searcher.index.n_products} products, the catalog {len(products)}")
    now = searcher.understanding
    shipped = now.synonyms
    rules = {"now": now}
    if args.before_synonyms:
        rules = {"before": QueryUnderstanding(now.vocabulary, load_synonyms(args.before_synonyms, defaults=False),
                                              compose=False, english=False, english_added=True), **rules}
    if args.infer:  # the same rules, plus values inferred from the text model for words no rule covers
        inferred = QueryUnderstanding(now.vocabulary, shipped)
        inferred.infer_with(searcher.encoders.text.encode_texts)
        rules["inferred"] = inferred
    if args.guard_before:  # now's rules with the English-word guard of before (1M occurrences, any slip)
        rules = {"guard before": QueryUnderstanding(now.vocabulary, shipped, english_count=args.guard_before,
                                                    english_added=True), **rules}
    queries = [Query(id=p.id, text=p.text, split="test", family=p.family) for p in probes]
    modes = resolve_modes(args.modes.split(","))
    ndcg: dict[tuple[str, str], dict[str, float]] = {}
    searched: dict[str, dict[str, str]] = {}
    for name, qu in rules.items():
        searcher.__dict__["understanding"] = qu
        run = run_modes(searcher, modes, queries, k=10, progress=False)
        searched[name] = {p.id: qu.parse(p.text).text or "(as typed)" for p in probes}
        for mode in modes:
            ranked = run.runs[mode.name].ranked
            ndcg[(name, mode.name)] = {p.id: query_metric("ndcg@10", ranked[p.id], qrels[p.id]) for p in probes}
    searcher.__dict__["understanding"] = now
    framed_lines = frames_run(searcher, modes[0], probes, qrels, args.seed, ndcg[("now", modes[0].name)], args.show) \
        if args.frames else []
    held = {p.id: not all(in_file(w, shipped) for w in p.phrases) for p in probes}
    print(f"{len(probes)} probe queries on {len(products)} products; everyday phrases: "
          f"{sum(len(p.phrases) for p in probes)} uses of {len({w for p in probes for w in p.phrases})} phrases, "
          f"queries with a phrase the shipped synonyms lack: {sum(held.values())}\n")
    cols = [f"{r} {m.name}" for m in modes for r in rules]
    print("| family | part | n | " + " | ".join(cols) + " |\n|---|---|---|" + "---|" * len(cols))
    families = [*FAMILIES, "all"]
    for family in families:
        for part, keep in (("all", lambda q: True), ("in file", lambda q: not held[q]),
                           ("NOT in file (held out)", lambda q: held[q])):
            ids = [p.id for p in probes if (family == "all" or p.family == family) and keep(p.id)]
            if not ids:
                continue
            row = [f"{np.mean([ndcg[(r, m.name)][i] for i in ids]):.3f}" for m in modes for r in rules]
            print(f"| {family} | {part} | {len(ids)} | " + " | ".join(row) + " |")
    words = sorted({w for p in probes for w in p.phrases})
    print(f"\nphrases in the shipped synonyms ({sum(in_file(w, shipped) for w in words)}): "
          + ", ".join(w for w in words if in_file(w, shipped)))
    print(f"\nphrases NOT in the shipped synonyms ({sum(not in_file(w, shipped) for w in words)}): "
          + ", ".join(w for w in words if not in_file(w, shipped)))
    mode = modes[0].name
    last = next(reversed(rules))
    first = "now" if "inferred" in rules else next(iter(rules))
    per = {p.id: p for p in probes}
    for title, order in (("worst now", lambda i: ndcg[(last, mode)][i]),
                         ("lost most against before", lambda i: ndcg[(last, mode)][i] - ndcg[(first, mode)][i]),
                         ("gained most against before", lambda i: ndcg[(first, mode)][i] - ndcg[(last, mode)][i])):
        if title != "worst now" and first == last:
            continue
        print(f"\n{title} ({mode}; before -> now nDCG@10, typed | searched now):")
        for i in sorted(per, key=order)[:args.show]:
            print(f"  {ndcg[(first, mode)][i]:.3f} -> {ndcg[(last, mode)][i]:.3f}  [{per[i].family}] "
                  f"{per[i].text!r} | {searched[last][i]!r}")
    if framed_lines:
        print(f"\nframed ({modes[0].name}, the rules of now; one frame of {len(FRAMES)} per query, seed {args.seed}):")
        print("\n".join(framed_lines))
    return 0


def frames_run(searcher, mode, probes: list[Probe], qrels: dict[str, dict[str, int]], seed: int,
               plain: dict[str, float], show: int) -> list[str]:
    """``--frames``: each probe query wrapped in its seeded frame, searched and graded as the plain query."""
    from eval.metrics import query_metric
    from eval.relevance import Query
    from eval.runner import run_modes

    texts = {p.id: framed(p.text, frame_for(p.id, seed)) for p in probes}
    queries = [Query(id=p.id, text=texts[p.id], split="test", family=p.family) for p in probes]
    ranked = run_modes(searcher, [mode], queries, k=10, progress=False).runs[mode.name].ranked
    scores = {p.id: query_metric("ndcg@10", ranked[p.id], qrels[p.id]) for p in probes}
    families: dict[str, list[str]] = defaultdict(list)
    for p in probes:
        families[p.family].append(p.id)
    lines = {i: f"{t!r} | {searcher.understanding.parse(t).text or '(as typed)'!r}" for i, t in texts.items()}
    return frame_report(dict(families), plain, scores, lines, show)


if __name__ == "__main__":
    raise SystemExit(main())
