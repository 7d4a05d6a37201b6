"""Query understanding: which catalog values a query names, with a confidence, and the query the signals search.

The parser finds every span (up to `MAX_PHRASE_WORDS` words) whose normal form is a value of the catalog
(`search.vocabulary`: attributes, brands, category levels), or a synonym (`search.synonyms`) of one, and reads the
query as the non-overlapping spans that explain the most words (`search.segmentation`). A word the catalog
never uses is first corrected towards the catalog's words (values, synonyms, and title words seen in
at least `MIN_TITLE_COUNT` titles; symspellpy, edit distance 1 from 4 letters, 2 from 9, a dropped letter
only for 3-letter words, the first letter kept, a neighbouring key preferred among equally close words), so
"snekaers" still finds "sneakers", "dres" finds "dress" and "gey" finds "grey". Stop words never match
alone. The result feeds the `attributes` signal (`search.attribute_scoring`: products scored by the
values they hold, never a hard filter), the response's `understood` block, the relevant set that
`total` and the facets count (`matching_mask`), and `ParsedQuery.text`: the query rewritten with its
corrections and with each synonym span replaced by the catalog values it names ("midnight frock" ->
"Navy Blue Dresses"), which the lexical, semantic and visual signals search instead of the typed text.
"""

from __future__ import annotations

import functools
import logging
import time
from typing import TYPE_CHECKING

import numpy as np
from symspellpy import SymSpell, Verbosity  # type: ignore[import-untyped]

from indexer.catalog import Product
from search.attribute_scoring import TIE_BREAK, AttributeScoring
from search.normalise import MAX_PHRASE_WORDS, key_of_words, possessive_s, singular, word_key, words
from search.parsed import Group, Match, ParsedQuery, head_of, pointing_back, rewritten
from search.segmentation import Span, best_segmentation
from search.slips import lost_one, plausible
from search.suits import with_suited
from search.synonyms import Synonyms, load_synonyms
from search.value_inference import INFERRED_CONFIDENCE, MAX_SPAN_WORDS, Encode, ValueInference
from search.vocabulary import CATEGORY, COMMON_ENGLISH_COUNT, Vocabulary, english_word_counts

if TYPE_CHECKING:
    from search.signals import QueryContext

logger = logging.getLogger(__name__)

ATTRIBUTES_SIGNAL = "attributes"  # the signal's name in `search.signals` (its weight 0 turns understanding off)
MAX_QUERY_WORDS = 32  # words past this are not parsed (a query is at most 1000 characters anyway)
MIN_CORRECTED = 3  # shorter words are never spell-corrected
SHORT_WORD = 4  # shorter words are corrected only by adding the letter a shopper dropped ("bat" is never "bag")
MIN_TITLE_COUNT = 3  # a title word seen this often is a known word and a spelling target (rarer ones may be typos)
MAX_CORRECTIONS = 6  # spelling lookups per query (each ~1 ms at worst)
MAX_WORD_LENGTH = 30  # longer "words" are not spell-corrected
CONFIDENCE = {"value": 1.0, "synonym": 0.9}
CORRECTED_FACTOR = 0.8  # per spell-corrected word in a span
PARSE_CACHE = 4096
# A common English word this many times as frequent as the word it is one slip from was typed on purpose: "most" is
# not "mist", "toys" not the brand "tous", "top" not "topi", "max" not "maxi", while "shows" (as common as "shoes"),
# "causal" and "pin" (rarer than "pink") are still slips. A word rarer than the common threshold counts as at it.
INTENDED_RATIO = 10
_STOP = """
a an the and or for with without in on of to by from at as is are be it its this that these those
me my our your i we you some any all new best cheap buy shop sale online look looking want need like
size pair pairs set one two very nice good quality under over below above than less more
colour color colours colors coloured colored wear outfit outfits latest trendy stylish
please pls plz thanks thx shade
ke ka ki ko se liye mein wala wali wale waala waali aur hai hain bhi ya koi kuch sa si jaisa jaise layak
chahiye dikhao mujhe mera mere meri accha acha pehenne pehnne pehne
"""
# never a value alone ("top" is not one: it names Tops), never spell-corrected: fillers, "shade" (as typed: "shades"
# still names sunglasses, "maroon shade" is a colour), and Hindi's little words and fillers ("papa ke liye kurta":
# "liye" was corrected to "lite", "thand mein" named Men, "koi" the "koti" jacket)
STOP_WORDS = frozenset(_STOP.split())


class QueryUnderstanding(AttributeScoring):
    """The parser over one catalog's vocabulary and a set of synonyms (thread-safe; parses are cached)."""

    def __init__(self, vocabulary: Vocabulary, synonyms: Synonyms, *, min_corrected: int = MIN_CORRECTED,
                 title_words: bool = True, rewrite: bool = True, type_first: bool = True, compose: bool = True,
                 english: bool = True, english_count: int = COMMON_ENGLISH_COUNT, english_added: bool = False):
        """``min_corrected``: the shortest word spell-corrected; ``title_words``: the catalog's title words are
        spelling targets too (not only value and synonym words); ``rewrite``: `ParsedQuery.text` is set (the
        signals search the corrected, synonym-resolved query); ``type_first``: see `match_scores`; ``compose``: see
        `_composed`; ``english``: a common English word (`english_word_counts`, ``english_count`` times in its list at
        least) of 3 letters or more that the catalog does not use is corrected only to a catalog value's word one slip
        away (`_corrections`); such a word, or a word of the descriptions, never by dropping a letter the shopper would
        have added ("pewter" stays, never the brand word "peter"), unless ``english_added``; and no common English
        word to one `INTENDED_RATIO` times rarer. The last eight exist to compare with the old rules."""
        self.vocabulary = vocabulary
        self.synonyms = synonyms
        self.min_corrected = min_corrected
        self.rewrite = rewrite
        self.type_first = type_first
        self.compose = compose
        self._rows: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # field -> (rows sorted by code, offsets)
        for name, f in vocabulary.fields.items():
            order = np.argsort(f.codes, kind="stable")
            offsets = np.concatenate([[0], np.cumsum(np.bincount(f.codes, minlength=len(f.values)))])
            self._rows[name] = (f.rows[order], offsets)
        self._synonym_targets: dict[str, list[tuple[str, int]]] = {}
        spell_words = dict(vocabulary.value_words)
        for w, count in vocabulary.value_words.items():  # "dres" is one edit from "dress", two from "dresses"
            spell_words[singular(w)] = max(spell_words.get(singular(w), 0), count)
        catalog_words = set(spell_words) | {key for key in vocabulary.by_key if key.isalpha()}  # not synonyms'
        self._synonym_keys: dict[str, list[str]] = {}  # source key -> its targets' keys (`_composed`)
        for key, targets in synonyms.sources():
            found = [pair for t in targets for pair in vocabulary.lookup(key_of_words(words(t)))]
            if found:
                self._synonym_targets[key] = list(dict.fromkeys(found))
            self._synonym_keys[key] = list(dict.fromkeys(key_of_words(words(t)) for t in targets))
        inner: set[str] = set()  # words met only inside a synonym of several words ("pin" of "tie pin"): `_inner_words`
        for key in self._synonym_targets:
            phrase_words = words(synonyms.phrase(key))
            for w in phrase_words:
                if len(phrase_words) == 1 or w in spell_words:
                    spell_words[w] = spell_words.get(w, 0) + 1
                else:
                    inner.add(w)
        # a value of several words is typed as one too ("tshirt" for T-Shirts): its key is a spelling target
        for key, pairs in vocabulary.by_key.items():
            if key.isalpha() and key not in spell_words:
                spell_words[key] = sum(int(vocabulary.fields[name].counts[code]) for name, code in pairs)
        self._value_words = set(spell_words)  # what a word of the descriptions may still be corrected to
        if title_words:
            self._known = {w for w, c in vocabulary.title_counts.items() if c >= MIN_TITLE_COUNT}
            for w in self._known:
                spell_words[w] = spell_words.get(w, 0) + vocabulary.title_counts[w]
        else:
            self._known = set(vocabulary.title_words)
        self._known |= set(spell_words) | STOP_WORDS
        self._described_only: set[str] = set()
        if title_words:  # the catalog's own language is no typo ("made" stays, never "male"), unless one slip
            # from a value ("tips" for tops, "shows" for shoes, "pin" for pink: `_corrections`)
            described = {w for w, c in vocabulary.description_counts.items() if c >= MIN_TITLE_COUNT}
            self._described_only = described - self._known
            self._known |= described
        self._title_known = {w for w, c in vocabulary.title_counts.items() if c >= MIN_TITLE_COUNT}
        # a common English word the catalog does not use: what the shopper meant, unless one slip from a catalog
        # value's word ("bets" for belts, "sorts" for sports; "gala" stays, though one slip from the synonym "gals")
        self._english_counts = english_word_counts(english_count) if english else {}
        self._english_floor = english_count
        self._english = frozenset(w for w in self._english_counts if len(w) >= min_corrected and w not in self._known)
        self._english_added = english_added
        self.inference: ValueInference | None = None  # `infer_with`
        self._catalog_words = catalog_words
        self._keys = set(vocabulary.by_key) | {key for key, _ in synonyms.sources()}
        self._spell = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
        for w, count in spell_words.items():
            if len(w) >= 3 and w.isalpha() and w not in STOP_WORDS:  # "whit" is white, never "with"
                self._spell.create_dictionary_entry(w, max(1, count))
        self._inner_only: set[str] = set()  # `_inner_words`: never a correction of a common English word
        self._inner_words(inner - set(spell_words))
        self.parse = functools.lru_cache(maxsize=PARSE_CACHE)(self._parse)

    def _inner_words(self, inner: set[str]) -> None:
        """Make the words met only inside synonyms of several words known words and spelling targets ("fany pack" is
        "fanny pack"), except those one slip from a word the catalog uses: "pin" (of "tie pin") stays a typo of pink,
        and "tie pin" is still matched as typed (`_parse` tries the typed span before the corrected one)."""
        for w in sorted(inner):
            near = self._spell.lookup(w, Verbosity.TOP, max_edit_distance=1) if len(w) >= SHORT_WORD - 1 else []
            if near and near[0].distance == 1:
                continue
            self._known.add(w)
            self._value_words.add(w)
            self._inner_only.add(w)
            if len(w) >= 3 and w.isalpha() and w not in STOP_WORDS:
                self._spell.create_dictionary_entry(w, 1)

    def infer_with(self, encode: Encode) -> ValueInference:
        """Name values for words no rule covers, by their embedding (`search.value_inference`), from now on."""
        fields = {name: list(f.values) for name, f in self.vocabulary.fields.items()}
        self.inference = ValueInference(fields, encode)
        self.parse.cache_clear()
        return self.inference

    @classmethod
    def build(cls, products: list[Product], synonyms: Synonyms | None = None) -> QueryUnderstanding:
        start = time.perf_counter()
        out = cls(Vocabulary.from_products(products), synonyms if synonyms is not None else load_synonyms())
        logger.info("query understanding: %d values in %d fields, %d synonym phrases, built in %.2f s",
                    len(out.vocabulary.by_key), len(out.vocabulary.fields), len(out._synonym_targets),
                    time.perf_counter() - start)
        return out

    # -- parsing -----------------------------------------------------------------------------------
    def _needs_lookup(self, word: str) -> bool:
        known = word in self._known and word not in self._described_only
        return not (known or word_key(word) in self._keys or not word.isalpha()
                    or len(word) < self.min_corrected or len(word) > MAX_WORD_LENGTH)

    def _corrections(self, word: str) -> tuple[str, ...]:
        """What ``word`` may be a typo of, best first (``word`` itself when it needs no correction or has none).
        Several when equally close and equally plausible: "kurtia" is one edit from kurta, kurti and kurtis, "fla"
        one dropped letter from flat and fila, and the parser lets such a word name every value they name."""
        if not self._needs_lookup(word):
            return (word,)
        found = self._spell.lookup(word, Verbosity.CLOSEST, max_edit_distance=1 if len(word) < 9 else 2)
        # shoppers rarely mistype a word's first letter; keeping it stops "made" becoming "jade"
        found = [f for f in found if f.term[0] == word[0]]
        if len(word) < SHORT_WORD:  # a 3-letter word only lost a letter ("gey" -> "grey"); "bat" is never "bag"
            found = [f for f in found if len(f.term) == len(word) + 1 and lost_one(f.term, word)]
        # a word of the descriptions only: a value's slip, or itself; a common English word: a catalog value's
        # slip, or itself ("gala", "father"); neither ever by dropping a letter the shopper would have added
        targets = self._value_words if word in self._described_only else \
            self._catalog_words if word in self._english else None
        if targets is not None:
            found = [f for f in found if f.term in targets and plausible(word, f.term)
                     and (self._english_added or len(f.term) >= len(word))]
        typed = self._english_counts.get(word)
        if typed is not None:  # any common English word: never to one far rarer than itself ("most" is not "mist"),
            # nor to a word met only inside a synonym of several words ("while" is not the "whole" of "whole cut shoes")
            found = [f for f in found if f.term not in self._inner_only
                     and typed < INTENDED_RATIO * max(self._english_counts.get(f.term, 0), self._english_floor)]
        if not found:
            return (word,)
        # among equally close words, a slip of the finger (a neighbouring key) before any other substitution
        closeness = lambda f: (f.distance, not plausible(word, f.term))  # noqa: E731
        found.sort(key=lambda f: (*closeness(f), -f.count))
        return tuple(f.term for f in found if closeness(f) == closeness(found[0]))

    def _correct(self, word: str) -> str:
        return self._corrections(word)[0]

    def _candidates(self, key: str) -> tuple[Match, ...]:
        out: dict[tuple[str, int], Match] = {}
        for name, code in self.vocabulary.lookup(key):
            out[(name, code)] = Match(name, self.vocabulary.value(name, code), code, CONFIDENCE["value"], "value")
        for name, code in self._synonym_targets.get(key, ()):
            if (name, code) not in out:
                out[(name, code)] = Match(name, self.vocabulary.value(name, code), code, CONFIDENCE["synonym"],
                                          "synonym")
        return tuple(out.values())

    def _composed(self, span: list[str], keys: list[str]) -> tuple[Match, ...]:
        """The product type a span of several words names once a synonym inside it is read as what it stands for:
        "lounge shoes" -> Casual Shoes ("lounge" means the usage Casual, and "casual shoes" is a category of the
        catalog), "office shoes" -> Formal Shoes, "gym sandals" -> Sports Sandals. Only a category (a product type)
        is composed so: the span then names that type, where its words one by one named another ("shoes") and an
        attribute. Confidence as a synonym's; () when no such type. ``keys``: each word's part of a key (`word_key`)."""
        if not self.compose or len(span) < 2:
            return ()
        out: dict[tuple[str, int], Match] = {}
        for a in range(len(span)):
            for b in range(a + 1, len(span) + 1):
                if b - a == len(span) or (b - a == 1 and span[a] in STOP_WORDS):
                    continue
                for target in self._synonym_keys.get("".join(keys[a:b]), ()):
                    pairs = self.vocabulary.lookup("".join(keys[:a]) + target + "".join(keys[b:]))
                    if any(name == CATEGORY for name, _ in pairs):
                        for name, code in pairs:
                            out.setdefault((name, code), Match(name, self.vocabulary.value(name, code), code,
                                                               CONFIDENCE["synonym"], "synonym"))
        return tuple(out.values())

    def _span_reading(self, i: int, length: int, typed: list[str], fixed: list[str], others: list[tuple[str, ...]],
                      typed_keys: list[str], fixed_keys: list[str]) -> tuple[list[str], tuple[Match, ...], bool] | None:
        """What the span of ``length`` words at ``i`` names: (its words as read, the values, whether composed from a
        synonym, `_composed`), or None when it names nothing."""
        span = fixed[i:i + length]
        if length == 1 and (span[0] in STOP_WORDS or len(span[0]) < 2):
            return None
        keys = fixed_keys[i:i + length]
        matches = self._candidates("".join(keys))
        if length > 1 and span != typed[i:i + length]:  # a phrase typed right is not "corrected" away
            as_typed = self._candidates("".join(typed_keys[i:i + length]))
            if as_typed:
                span, keys, matches = typed[i:i + length], typed_keys[i:i + length], as_typed
        if length == 1 and others[i]:  # an ambiguous typo names the values of every equally close word
            more = [m for w in others[i] for m in self._candidates(word_key(w))]
            matches = tuple({(m.field, m.code): m for m in reversed([*matches, *more])}.values())[::-1]
        composed = not matches and length > 1
        if composed:
            matches = self._composed(span, keys)
        return (span, matches, composed) if matches else None

    def _parse(self, text: str) -> ParsedQuery:
        typed = words(text)[:MAX_QUERY_WORDS]
        said = list(typed)  # per word: what the signals search instead ("" when a span's first word says it all)
        fixed, others, lookups = [], [], 0
        for w in typed:  # at most MAX_CORRECTIONS dictionary lookups: a query of random words stays cheap
            options = self._corrections(w) if lookups < MAX_CORRECTIONS else (w,)
            lookups += self._needs_lookup(w)
            fixed.append(options[0])
            others.append(options[1:])
        fixed_keys, typed_keys = [word_key(w) for w in fixed], [word_key(w) for w in typed]
        readings: dict[tuple[int, int], tuple[list[str], tuple[Match, ...], bool]] = {}
        for i in range(len(fixed)):
            for length in range(1, min(MAX_PHRASE_WORDS, len(fixed) - i) + 1):
                reading = self._span_reading(i, length, typed, fixed, others, typed_keys, fixed_keys)
                if reading is not None:
                    readings[(i, length)] = reading
        counted = [w not in STOP_WORDS and len(w) > 1 for w in fixed]
        covers = [not s for s in possessive_s(text)[:len(fixed)]] if "s" in typed else None  # "women's": no word
        chosen = best_segmentation(counted, (Span(i, length, any(m.field == CATEGORY for m in r[1]))
                                             for (i, length), r in readings.items()), covers)
        back = pointing_back([(typed[p.start:p.start + p.length], readings[(p.start, p.length)][1]) for p in chosen],
                             STOP_WORDS)
        groups: list[Group] = []
        starts: list[int] = []  # per group: the position of its first word
        covered: set[int] = set()
        for k, part in enumerate(chosen):
            i, length = part.start, part.length
            span, matches, composed = readings[(i, length)]
            covered.update(range(i, i + length))
            if k in back:  # "for her" after "my daughter": explained, names nothing, searched as typed
                continue
            said[i:i + length] = self._said(span, matches, lead=not composed)
            n_fixed = sum(a != b for a, b in zip(typed[i:i + length], span, strict=True))
            if n_fixed:
                factor = CORRECTED_FACTOR ** n_fixed
                matches = tuple(Match(m.field, m.value, m.code, round(m.confidence * factor, 4), "spelling")
                                for m in matches)
            matches = with_suited(matches, self.vocabulary)  # after `_said`: unisex is never searched for
            if all(set(matches) != set(g.matches) for g in groups):  # "dress dress" counts once
                groups.append(Group(" ".join(typed[i:i + length]), " ".join(span) if n_fixed else None, matches))
                starts.append(i)
        unknown = [i for i in range(len(fixed)) if i not in covered and counted[i]]  # words that named nothing
        for i in range(len(fixed)):
            if i not in covered:
                said[i] = fixed[i]
        unmatched = len(unknown)
        if self.inference is not None and unknown:
            unmatched -= self._inferred(self.inference, typed, unknown, groups)
        return ParsedQuery(tuple(groups), rewritten(text, typed, said) if self.rewrite else None, unmatched,
                           head_of(groups, starts, fixed))

    @staticmethod
    def _inferred(inference: ValueInference, typed: list[str], unknown: list[int], groups: list[Group]) -> int:
        """Add a low-confidence group per run of unknown words whose embedding names a value of a field no group
        names (`ValueInference`); the words now understood."""
        spans: list[list[int]] = []
        for at in unknown:
            if spans and spans[-1][-1] == at - 1 and len(spans[-1]) < MAX_SPAN_WORDS:
                spans[-1].append(at)
            else:
                spans.append([at])
        named = {m.field for g in groups for m in g.matches}
        understood = 0
        for span, guess, n_words in inference.infer([typed[s[0]:s[-1] + 1] for s in spans], named):
            groups.append(Group(span, None, (Match(guess.field, guess.value, guess.code, INFERRED_CONFIDENCE,
                                                   "inferred"),)))
            understood += n_words
        return understood

    def _said(self, span: list[str], matches: tuple[Match, ...], lead: bool = True) -> list[str]:
        """What the signals search for a matched span: a synonym span becomes the catalog values it names (led by
        its own words when ``lead`` and the catalog's titles use them all: "tote" -> "tote Handbags"; a composed type
        never: "lounge shoes" -> "Casual Shoes", not Lounge Pants' words), anything else its (corrected) words."""
        if not any(m.via == "synonym" for m in matches) or any(m.via == "value" for m in matches):
            return list(span)
        values = " ".join(dict.fromkeys(m.value for m in matches))
        prefix = " ".join(span) + " " if lead and all(w in self._title_known for w in span) else ""
        return [prefix + values] + [""] * (len(span) - 1)

    def product_query(self, product: Product) -> ParsedQuery | None:
        """A "more like this" seed as a query of the `attributes` signal: its product type (its category's last
        level, e.g. Tshirts), so that products of its type come first; how alike they look is the vectors' to say
        (`search.attribute_scoring.retrieve_attributes` breaks the tie by the seed's text vector, and fusion adds
        the `semantic` and `image` runs). Its other values (colour, gender...) are left out: as a query they made the
        signal alone the best "more like this" on a set graded by them, which fusion then could not beat (README,
        "Eval per query kind and family"). None when the product has no category the vocabulary holds."""
        if not product.category:
            return None
        code = self.vocabulary.code_of(CATEGORY, product.category[-1])
        if code is None:
            return None
        value = self.vocabulary.value(CATEGORY, code)
        return ParsedQuery((Group(value, None, (Match(CATEGORY, value, code, CONFIDENCE["value"], "value"),)),))

    def group_factor(self, parsed: ParsedQuery, group: Group) -> float:
        """How much ``group`` counts in `match_scores`: a group naming a category (the product type, the query's head)
        as much as all the query's groups together (with ``type_first``), any other group 1. When several groups name a
        category, only the head (`ParsedQuery.head`) counts so: "denim shirt" ranks shirts before jeans, "short dress"
        dresses before shorts."""
        named_type = self.type_first and any(m.field == CATEGORY for m in group.matches)
        if named_type and (parsed.head is None or parsed.head is group):
            return float(len(parsed.groups))
        return 1.0

    def best_score(self, parsed: ParsedQuery) -> float:
        """The most a product can score in `match_scores`: holding the best-confidence value of every group."""
        return sum(self.group_factor(parsed, g) * max(m.confidence for m in g.matches) for g in parsed.groups)

    def attributes_scale(self, parsed: ParsedQuery) -> float:
        """The `attributes` run's absolute scale (`Run.scale`): fusion gives a product the share of the whole query
        it holds, so the signal weighs as much as the query is understood. A product holding every value scores
        ~1 when every word named a value (confidences < 1 for synonyms and typos), and less for each word that
        named none ("comfy red dress": red and dress understood, at most 3/4 + the BM25 tie-break); a product holding
        only some values keeps its share, where min-max over the run's candidates gave its worst ~0."""
        return self.best_score(parsed) + parsed.unmatched + TIE_BREAK


def product_type(ctx: QueryContext) -> ParsedQuery | None:
    """The `product_type` query encoder: a "more like this" seed's product type (`QueryUnderstanding.product_query`)."""
    if ctx.product_row is None:
        return None
    return ctx.searcher.understanding.product_query(ctx.searcher.index.store.products[ctx.product_row])


def parse_query(ctx: QueryContext) -> ParsedQuery | None:
    """The `understood` query encoder: the typed query's parse, or None (signal skipped) when it names no value."""
    typed = ctx.typed_text if ctx.typed_text is not None else ctx.text
    if typed is None:
        return None
    return ctx.searcher.understanding.parse(typed) or None


def search_text(understanding: QueryUnderstanding, text: str | None) -> str | None:
    """The text the lexical, semantic and visual signals search for the typed ``text``: its rewrite
    (`ParsedQuery.text`), or ``text`` itself."""
    if text is None:
        return None
    return understanding.parse(text).text or text
