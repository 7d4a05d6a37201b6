"""Synonyms in Solr's format: the shopper's words -> the catalog's values.

One rule a line; ``#`` starts a comment; blank lines are skipped::

    ladies, womens => Women        # explicit: each phrase on the left means the ones on the right
    tee, tshirt, t-shirt           # equivalent: each phrase means every other one (and itself)

A phrase is compared by its key (`search.normalise.phrase_key`: case, punctuation and plurals do
not matter). Rules from several files add up (a phrase on the left of several rules means all
their right-hand sides). A comma or ``=>`` inside a phrase can be escaped with a backslash.
The shipped defaults (`DEFAULT_SYNONYMS`, common shop vocabulary written from general knowledge)
are loaded first unless asked not to; a shop adds its own file (`prodsearch serve --synonyms`,
`PRODSEARCH_SYNONYMS`). Targets that name no value of the catalog are ignored by the parser, so one
file can serve catalogs with different labels ("Navy" and "Navy Blue").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from indexer.errors import ProdsearchError
from search.normalise import MAX_PHRASE_WORDS, key_of_words, phrase_key, words

DEFAULT_SYNONYMS = Path(__file__).with_name("default_synonyms.txt")
MAX_RULES = 100_000
MAX_RULE_PHRASES = 200  # phrases on one side of a rule (the shipped file's longest has 22)
MAX_PAIRS = 1_000_000  # (phrase, target) pairs over all rules: what the parser's build walks (~4 s at the cap)
_SPLIT_ARROW = re.compile(r"(?<!\\)=>")
_SPLIT_COMMA = re.compile(r"(?<!\\),")


class SynonymsError(ProdsearchError, ValueError):
    """A synonyms file that cannot be read or has a malformed line (file and line number said)."""


@dataclass
class Synonyms:
    """Phrase -> the phrases it also means, both as written; looked up by key.

    Each rule's right-hand side is stored once, as a group its sources point to: an equivalence line of n phrases
    costs n entries, not n * n (`MAX_PAIRS` still bounds what `sources` hands the parser)."""

    _groups: list[dict[str, str]] = field(default_factory=list)  # one per rule: target key -> target as written
    _sources: dict[str, list[int]] = field(default_factory=dict)  # source key -> its groups, in rule order
    _written: dict[str, str] = field(default_factory=dict)  # key -> the phrase as first written
    rules: int = 0
    pairs: int = 0  # (source, target) pairs the rules name: an equivalence line of n phrases names n * n

    def add(self, sources: Iterable[str], targets: Iterable[str]) -> None:
        group: dict[str, str] = {}
        for target in targets:
            group.setdefault(phrase_key(target), target)
        self.add_keyed([(phrase_key(s), s) for s in sources], group)

    def add_keyed(self, sources: list[tuple[str, str]], group: dict[str, str]) -> None:
        """`add` with the keys already computed (the same dict may serve as both sides: an equivalence line)."""
        gid = len(self._groups)
        self._groups.append(group)
        for skey, source in sources:
            self._written.setdefault(skey, source)
            ids = self._sources.setdefault(skey, [])
            if not ids or ids[-1] != gid:
                ids.append(gid)
        self.rules += 1
        self.pairs += len(sources) * len(group)

    def _merged(self, ids: list[int]) -> dict[str, str]:
        if len(ids) == 1:
            return self._groups[ids[0]]
        out: dict[str, str] = {}
        for gid in ids:
            for key, target in self._groups[gid].items():
                out.setdefault(key, target)
        return out

    def expand(self, phrase: str) -> list[str]:
        """What ``phrase`` also means (as written in the rules); [] when no rule names it."""
        return list(self._merged(self._sources.get(phrase_key(phrase), [])).values())

    def variants(self, phrase: str) -> list[str]:
        """The phrases that mean ``phrase`` (the reverse of `expand`, itself left out): the shopper
        wordings of a catalog value, e.g. variants("Navy Blue") -> ["navy", ...]."""
        key = phrase_key(phrase)
        return [self._written[s] for s, ids in self._sources.items()
                if s != key and any(key in self._groups[gid] for gid in ids)]

    def phrase(self, key: str) -> str:
        """A source phrase as first written, by its key."""
        return self._written[key]

    def sources(self) -> Iterator[tuple[str, list[str]]]:
        """Every (source key, target phrases) pair."""
        for key, ids in self._sources.items():
            yield key, list(self._merged(ids).values())

    def __len__(self) -> int:
        return len(self._sources)

    def __contains__(self, phrase: object) -> bool:
        return isinstance(phrase, str) and phrase_key(phrase) in self._sources


def _phrases(part: str, where: str) -> list[tuple[str, str]]:
    """The (key, phrase as written) pairs of one side of a rule, at most `MAX_RULE_PHRASES`."""
    raw = [p for p in (r.replace("\\,", ",").replace("\\=>", "=>").strip() for r in _SPLIT_COMMA.split(part)) if p]
    if len(raw) > MAX_RULE_PHRASES:
        raise SynonymsError(f"{where}: {len(raw)} phrases; a rule lists at most {MAX_RULE_PHRASES} "
                            f"(several 'a, b => X' lines mean the same as one)")
    out = []
    for phrase in raw:
        ws = words(phrase)
        if not ws:
            raise SynonymsError(f"{where}: {phrase!r} has no letters or digits")
        if len(ws) > MAX_PHRASE_WORDS:
            raise SynonymsError(f"{where}: {phrase!r} has {len(ws)} words; a phrase has at most {MAX_PHRASE_WORDS}")
        out.append((key_of_words(ws), phrase))
    return out


def _check_pairs(syn: Synonyms, n_sources: int, n_targets: int, where: str) -> None:
    if syn.pairs + n_sources * n_targets > MAX_PAIRS:
        raise SynonymsError(f"{where}: the rules so far pair more than {MAX_PAIRS:,} phrases with a target "
                            f"('a, b => c' pairs 2, an equivalence line of n phrases n*n)")


def parse_synonyms(text: str, source: str = "<text>", into: Synonyms | None = None) -> Synonyms:
    """The rules in ``text`` (Solr format), added to ``into`` when given."""
    syn = into if into is not None else Synonyms()
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{source}:{number}"
        if syn.rules >= MAX_RULES:
            raise SynonymsError(f"{where}: more than {MAX_RULES} rules")
        parts = _SPLIT_ARROW.split(line)
        if len(parts) > 2:
            raise SynonymsError(f"{where}: more than one '=>' in {line!r}")
        if len(parts) == 2:
            left, right = _phrases(parts[0], where), _phrases(parts[1], where)
            if not left or not right:
                raise SynonymsError(f"{where}: '=>' needs phrases on both sides: {line!r}")
            targets: dict[str, str] = {}
            for key, phrase in right:
                targets.setdefault(key, phrase)
            _check_pairs(syn, len(left), len(targets), where)
            syn.add_keyed(left, targets)
        else:
            group = _phrases(parts[0], where)
            if len(group) < 2:
                raise SynonymsError(f"{where}: an equivalence line lists at least two phrases, comma-separated: "
                                    f"{line!r}")
            members: dict[str, str] = {}
            for key, phrase in group:
                members.setdefault(key, phrase)
            _check_pairs(syn, len(group), len(members), where)
            syn.add_keyed(group, members)
    return syn


def load_synonyms(paths: Iterable[str | Path] | str | Path | None = None, *, defaults: bool = True) -> Synonyms:
    """The shipped defaults (unless ``defaults=False``) plus the rules of each file in ``paths``, in order."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    files = ([DEFAULT_SYNONYMS] if defaults else []) + [Path(p) for p in paths or []]
    syn = Synonyms()
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SynonymsError(f"synonyms file not found: {path}") from None
        except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError, as is a NUL in the path
            raise SynonymsError(f"cannot read synonyms file {path!s}: {exc}") from None
        parse_synonyms(text, str(path), syn)
    return syn
