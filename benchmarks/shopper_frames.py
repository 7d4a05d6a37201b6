"""Conversational frames around a shopper's request (issue #13): the wording probe's ``--frames`` robustness check.

Shoppers wrap what they want in words that ask for nothing: "i am looking for {q}", "{q} pls", "do you have any
{q} in stock?". `shopper_wording.py --frames` wraps each probe query in one of these frames (chosen per query id,
seeded) and reports framed nDCG@10 beside the plain query's, per family, as `eval build-qrels --perturb` reports typo
and synonym variants. A frame must not change what is asked for, so it names no product type, colour, audience or
occasion; `frame_problems` checks that against the catalog's values.

FRAMES was written on 2026-12-01 by a writer who saw neither the engine nor its synonyms or stop words, and was
never used to change them: a held-out list.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence

from shopper_words_check import phrase_key

FRAMES = (
    # very short: one word added
    "{q} please",
    "{q} pls",
    "need {q}",
    "want {q}",
    "nice {q}",
    "cheap {q}",
    "stylish {q}",
    "trendy {q}",
    "affordable {q}",
    "comfortable {q}",
    "latest {q}",
    "best {q}",
    "buy {q}",
    "{q} online",
    "hi {q}",
    "{q} thanks",
    "{q} asap",
    "{q} urgently",
    "any {q}?",
    "some {q}",
    "show {q}",
    "new {q}",
    "quality {q}",
    "budget {q}",
    "premium {q}",
    "{q} pls!",
    "Need {q}",
    "hey {q}",
    "discounted {q}",
    "{q} available?",
    # medium: two to four words added
    "i need {q}",
    "I want {q}",
    "looking for {q}",
    "searching for {q}",
    "show me {q}",
    "show me some {q}",
    "do you have {q}?",
    "any {q} available",
    "{q} in stock",
    "buy {q} online",
    "shop {q} online",
    "{q} online shopping",
    "a pair of {q}",
    "a few {q}",
    "good quality {q}",
    "best price {q}",
    "{q} at best price",
    "{q} low price",
    "new arrivals {q}",
    "latest {q} collection",
    "kindly show {q}",
    "pls send {q}",
    "please show {q}",
    "can you show {q}",
    "i want to buy {q}",
    "want to buy {q}",
    "hi, need {q}",
    "hey, any {q}?",
    "{q} please thanks",
    "need {q} urgently",
    "need {q} asap",
    "where to buy {q}",
    "where can i find {q}",
    "{q} for sale",
    "{q} on sale",
    "{q} with discount",
    "cheap and best {q}",
    "nice and comfortable {q}",
    "some nice {q}",
    "very stylish {q}",
    "top rated {q}",
    "most popular {q}",
    "best selling {q}",
    "trending {q} now",
    "{q} free delivery",
    "{q} cash on delivery",
    "good {q} please",
    "Looking for {q}!",
    "I need {q} pls",
    "get me {q}",
    "find me {q}",
    "suggest some {q}",
    "recommend good {q}",
    "show latest {q}",
    "budget friendly {q}",
    "value for money {q}",
    "{q} under budget",
    "hi i want {q}",
    "i am searching {q}",
    "is {q} in stock?",
    # long: five to ten words added
    "hi, i am looking for {q}",
    "can you please show me {q}",
    "i would like to buy {q}",
    "do you have any {q} in stock?",
    "please show me some nice {q}",
    "kindly show me some good quality {q}",
    "hello, i want to buy {q} online",
    "I am searching for good {q} online",
    "show me the latest {q} please",
    "what are the best {q} you have",
    "can i get some affordable {q} here",
    "i need {q} urgently, please help",
    "pls send me pics of {q}",
    "looking for {q} at a reasonable price",
    "hey there, do you sell {q}?",
    "any new arrivals in {q} this week?",
    "i want to see all available {q}",
    "please suggest some stylish and comfortable {q}",
    "Hi! Can you show me {q}?",
    "where can i buy {q} online cheap",
    "i am looking for some trendy {q}",
    "need {q} with fast delivery please",
    "show me {q} that are in stock",
    "could you recommend some good {q}",
    "want to order {q} online, pls help",
    "best deals on {q} right now",
    "hi team, kindly share {q} options",
    "i would love some comfortable {q} thanks",
    "are there any discounts on {q} today?",
    "just browsing for {q}, show me options...",)

_WORD = re.compile(r"[a-z0-9]+")
# phrases in which a value's word names no value ("top rated" asks for no top): left out of the check, kept in frames
IDIOMS = ("top rated",)


def frame_for(query_id: str, seed: int, frames: Sequence[str] = FRAMES) -> str:
    """The frame a probe query is wrapped in: one per query id, the same on every run with one seed."""
    return random.Random(f"{seed}:frame:{query_id}").choice(frames)


def framed(text: str, frame: str) -> str:
    return " ".join(frame.replace("{q}", text).split())


def _key(text: str) -> str:
    """`shopper_words_check.phrase_key` of the text's words (punctuation dropped), space-padded, so a value is found
    as a whole run of words."""
    return " " + phrase_key(" ".join(_WORD.findall(text.lower()))) + " "


def frame_problems(frames: Sequence[str], values: Iterable[str]) -> list[str]:
    """Frames that are malformed (not one ``{q}``, a repeat) or name a graded catalog value (``values``: the
    colours, audiences, occasions and product types, as whole words, plurals alike), which would change what the
    framed query asks for; `IDIOMS` are left out."""
    keys = {_key(v): v for v in values if _key(v).strip()}
    problems = [f"frame {f!r} repeats" for f in sorted({f for f in frames if frames.count(f) > 1})]
    for frame in frames:
        if frame.count("{q}") != 1 or "{" in frame.replace("{q}", "") or "}" in frame.replace("{q}", ""):
            problems.append(f"frame {frame!r} must hold {{q}} exactly once and no other braces")
        words = _key(frame.replace("{q}", " "))
        for idiom in IDIOMS:
            words = words.replace(_key(idiom), " ")
        named = sorted(v for k, v in keys.items() if k in words)
        if named:
            problems.append(f"frame {frame!r} names the catalog values {named}")
    return problems


def frame_report(families: dict[str, list[str]], plain: dict[str, float], framed_ndcg: dict[str, float],
                 lines: dict[str, str], show: int) -> list[str]:
    """Per family (``{family: [query id]}``) the plain and framed mean nDCG@10 and their ratio, then the ``show``
    queries that the frame costs most (``lines``: query id -> what to print for it)."""
    out = ["| family | n | plain nDCG@10 | framed | framed / plain |", "|---|---|---|---|---|"]
    everyone = [i for members in families.values() for i in members]
    for family, ids in [*families.items(), ("all", everyone)]:
        a, b = sum(plain[i] for i in ids) / len(ids), sum(framed_ndcg[i] for i in ids) / len(ids)
        out.append(f"| {family} | {len(ids)} | {a:.3f} | {b:.3f} | {b / a if a else float('nan'):.3f} |")
    out.append("\nframed queries that lose most (plain -> framed nDCG@10, framed text | searched):")
    for i in sorted(plain, key=lambda i: framed_ndcg[i] - plain[i])[:show]:
        out.append(f"  {plain[i]:.3f} -> {framed_ndcg[i]:.3f}  {lines[i]}")
    return out
