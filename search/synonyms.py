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
from search.normalise import MAX_PHRASE_WORDS, phrase_key, words

DEFAULT_SYNONYMS = Path(__file__).with_name("default_synonyms.txt")
MAX_RULES = 100_000
_SPLIT_ARROW = re.compile(r"(?<!\\)=>")
_SPLIT_COMMA = re.compile(r"(?<!\\),")


class SynonymsError(ProdsearchError, ValueError):
    """A synonyms file that cannot be read or has a malformed line (file and line number said)."""


@dataclass
class Synonyms:
    """Phrase -> the phrases it also means, both as written; looked up by key."""

    _targets: dict[str, dict[str, str]] = field(default_factory=dict)  # key -> {target key: target as written}
    _written: dict[str, str] = field(default_factory=dict)  # key -> the phrase as first written
    rules: int = 0

    def add(self, sources: Iterable[str], targets: Iterable[str]) -> None:
        targets = list(targets)
        for source in sources:
            skey = phrase_key(source)
            self._written.setdefault(skey, source)
            bucket = self._targets.setdefault(skey, {})
            for target in targets:
                bucket.setdefault(phrase_key(target), target)
        self.rules += 1

    def expand(self, phrase: str) -> list[str]:
        """What ``phrase`` also means (as written in the rules); [] when no rule names it."""
        return [t for k, t in self._targets.get(phrase_key(phrase), {}).items()]

    def variants(self, phrase: str) -> list[str]:
        """The phrases that mean ``phrase`` (the reverse of `expand`, itself left out): the shopper
        wordings of a catalog value, e.g. variants("Navy Blue") -> ["navy", ...]."""
        key = phrase_key(phrase)
        return [self._written[s] for s, targets in self._targets.items() if key in targets and s != key]

    def phrase(self, key: str) -> str:
        """A source phrase as first written, by its key."""
        return self._written[key]

    def sources(self) -> Iterator[tuple[str, list[str]]]:
        """Every (source key, target phrases) pair."""
        for key, targets in self._targets.items():
            yield key, list(targets.values())

    def __len__(self) -> int:
        return len(self._targets)

    def __contains__(self, phrase: object) -> bool:
        return isinstance(phrase, str) and phrase_key(phrase) in self._targets


def _phrases(part: str, where: str) -> list[str]:
    out = []
    for raw in _SPLIT_COMMA.split(part):
        phrase = raw.replace("\\,", ",").replace("\\=>", "=>").strip()
        if not phrase:
            continue
        n = len(words(phrase))
        if n == 0:
            raise SynonymsError(f"{where}: {phrase!r} has no letters or digits")
        if n > MAX_PHRASE_WORDS:
            raise SynonymsError(f"{where}: {phrase!r} has {n} words; a phrase has at most {MAX_PHRASE_WORDS}")
        out.append(phrase)
    return out


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
            syn.add(left, right)
        else:
            group = _phrases(parts[0], where)
            if len(group) < 2:
                raise SynonymsError(f"{where}: an equivalence line lists at least two phrases, comma-separated: "
                                    f"{line!r}")
            syn.add(group, group)
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
        except (OSError, UnicodeDecodeError) as exc:
            raise SynonymsError(f"cannot read synonyms file {path}: {exc}") from None
        parse_synonyms(text, str(path), syn)
    return syn
