"""Values a shopper rules out in the query: "casual shoes not black", "kurta for women no red", "tees except white or
grey", "running shoes not nike", "non-leather wallet".

Left to the signals, "not black" finds black shoes: the attribute signal, BM25 and the text model all see "black".
So a negation word ("not", "no", "non", "except", "excluding", "without", "but not", "other than", "anything but")
followed by words that name catalog values (the parser's own reading, `search.understanding`: an attribute value, a
brand or a category level) rules those values out: the words leave the searched text, and the request's filters
exclude them (`Filters.exclude`; a product without the attribute stays). Further values joined by "or" / "nor" are
ruled out too ("not black or brown"). Values that would rule out all the request's own filter or the rest of the
query asks for on a field ("top not crop top": Tops both ways) are not ruled out, and their words stay. Words that
name no value stay as typed ("non slip shoes"), and so does a phrase the parser knows that starts with a negation
word ("no show socks", "non padded bra": a synonym of a product type). `SearchConfig.exclusions_from_text` turns
this off.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence

from search.filters import Exclusions, Filters
from search.normalise import words as normal_words
from search.parsed import Group, ParsedQuery
from search.types import SearchRequest
from search.vocabulary import BRAND, CATEGORY

CUES = (("but", "not"), ("other", "than"), ("anything", "but"), ("not",), ("no",), ("non",), ("except",),
        ("excluding",), ("without",))
JOINERS = frozenset(["or", "nor"])
FILLERS = frozenset(["for", "in", "of", "a", "an", "the", "any"])  # "not for men", "not in black": skipped, then gone
MAX_SPAN_WORDS = 4  # the parser's longest span: the words after a negation word that can name one value
MAX_RULED = 8  # values ruled out per query at most (each costs a parse of a few words)
_PUNCTUATION = ",.;:!?\"'()"


def _cue_length(keys: Sequence[str], at: int) -> int:
    for cue in CUES:
        if tuple(keys[at:at + len(cue)]) == cue:
            return len(cue)
    return 0


def _leading_group(parse: Callable[[str], ParsedQuery], words: Sequence[str]) -> tuple[Group, int] | None:
    """The parser's first group and how many of ``words`` (what follows a negation word) it is made of, when it is
    made of the first of them ("t-shirts" is the parser's "t shirts": one typed word)."""
    parsed = parse(" ".join(words[:MAX_SPAN_WORDS]))
    if not parsed.groups:
        return None
    group = parsed.groups[0]
    span, typed = normal_words(group.words), []
    for n, word in enumerate(words[:MAX_SPAN_WORDS], start=1):
        typed += normal_words(word)
        if typed == span:
            return group, n
        if len(typed) >= len(span):
            return None
    return None


def find_exclusions(text: str, parse: Callable[[str], ParsedQuery], kept: Collection[tuple[str, str]] = ()
                    ) -> tuple[dict[str, list[str]], str]:
    """The values ``text`` rules out ({field: [values]}, fields as the parser names them: an attribute, "brand" or
    "category") and ``text`` without the words that rule them out. A group naming a value of ``kept`` (lower-cased
    (field, value) pairs) rules nothing out."""
    words = text.replace("non-", "non ").replace("Non-", "Non ").split()
    keys = [w.strip(_PUNCTUATION).lower() for w in words]
    keep = [True] * len(words)
    excluded: dict[str, list[str]] = {}
    at = 0
    tries = 0
    while at < len(words) and tries < MAX_RULED:
        cue = _cue_length(keys, at)
        if not cue or _leading_group(parse, words[at:]) is not None:
            at += 1  # no negation word, or one inside a phrase the catalog knows ("non padded bra", "no show socks")
            continue
        start, found = at + cue, False
        while start < len(words) and tries < MAX_RULED:
            tries += 1
            begin = start  # the value's first word, or the filler before it
            skip = 1 if keys[start] in FILLERS and start + 1 < len(words) else 0
            led = _leading_group(parse, words[start + skip:])
            if led is None and skip:
                break
            start += skip
            if led is None or any(m.via == "inferred" or (m.field.lower(), m.value.lower()) in kept
                                  for m in led[0].matches):
                break
            group, span = led
            for m in group.named:  # "not for men" rules out men's, not the unisex products "men" also matches
                if m.value not in excluded.setdefault(m.field, []):
                    excluded[m.field].append(m.value)
            end = start + span
            for k in range(at if not found else begin - 1, end):  # the cue, or the joiner, up to the value's end
                keep[k] = False
            found, start = True, end
            if start < len(words) - 1 and keys[start] in JOINERS:
                start += 1  # "not black or brown": the joiner goes too when a value follows it
                continue
            break
        at = start if found else at + 1
    if not excluded:
        return {}, text
    return excluded, " ".join(w for w, k in zip(words, keep, strict=True) if k)


def _asked(request: SearchRequest, rest: str, parse: Callable[[str], ParsedQuery],
           excluded: dict[str, list[str]]) -> set[tuple[str, str]]:
    """The (field, value) pairs, lower-cased, that the request's filters or the words ``rest`` ask for on a field where
    ruling ``excluded`` out would leave none of them ("top not crop top": Tops; not "bags not handbags", where bags
    also names backpacks)."""
    filters = request.filters or Filters()
    wanted: dict[str, set[str]] = {}
    for name, values in [*(filters.attributes or {}).items(), (BRAND, filters.brand or ()),
                         (CATEGORY, filters.category or ())]:
        wanted.setdefault(name.lower(), set()).update(v.lower() for v in values)
    for group in parse(rest).groups:
        for m in group.matches:
            wanted.setdefault(m.field.lower(), set()).add(m.value.lower())
    out = {name.lower(): {v.lower() for v in values} for name, values in excluded.items()}
    return {(name, v) for name, values in wanted.items() if values and values <= out.get(name, set()) for v in values}


def with_exclusions_from_text(request: SearchRequest, parse: Callable[[str], ParsedQuery]
                              ) -> tuple[SearchRequest, dict[str, list[str]]]:
    """``request`` with the values its text rules out added to its filters' ``exclude`` and those words out of its
    text (kept whole when nothing else is left)."""
    if not request.text:
        return request, {}
    excluded, rest = find_exclusions(request.text, parse)
    if not excluded:
        return request, {}
    asked = _asked(request, rest, parse, excluded)
    if asked:
        excluded, rest = find_exclusions(request.text, parse, asked)  # all a field asks for ruled out: not ruled out
        if not excluded:
            return request, {}
    filters = request.filters or Filters()
    own = filters.exclude or Exclusions()
    brand, category = list(own.brand or ()), list(own.category or ())
    attributes = {name: list(vs) for name, vs in (own.attributes or {}).items()}
    for name, values in excluded.items():
        listed = brand if name == BRAND else category if name == CATEGORY else attributes.setdefault(name, [])
        listed.extend(v for v in values if v not in listed)
    exclude = Exclusions(brand=brand or None, category=category or None, attributes=attributes or None)
    return request.model_copy(update={"text": rest or request.text,
                                      "filters": filters.model_copy(update={"exclude": exclude})}), excluded
