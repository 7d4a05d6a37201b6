"""Synonyms in Solr's format and the shared normal form (search.synonyms, search.normalise)."""

from __future__ import annotations

import pytest

from search.normalise import phrase_key, singular, words
from search.synonyms import (
    DEFAULT_SYNONYMS,
    MAX_PAIRS,
    MAX_RULE_PHRASES,
    SynonymsError,
    load_synonyms,
    parse_synonyms,
)


def test_phrase_key_ignores_case_punctuation_plurals_and_accents():
    assert phrase_key("T-Shirts") == phrase_key("t shirt") == phrase_key("TSHIRT") == "tshirt"
    assert phrase_key("Navy Blue") == phrase_key("navy-blue") == "navyblue"
    assert phrase_key("Dresses") == "dress" and phrase_key("watches") == "watch"
    assert phrase_key("Accessories") == "accessory" and phrase_key("dress") == "dress"
    assert words("Crème  BRÛLÉE!") == ["creme", "brulee"]
    assert singular("bus") == "bus" and singular("glass") == "glass"


def test_explicit_and_equivalence_rules():
    syn = parse_synonyms("# shop words\nladies, gals => Women\n\ntee, t-shirt  # a comment\n")
    assert syn.expand("Ladies") == ["Women"] and syn.expand("GALS") == ["Women"]
    assert syn.expand("Women") == []  # explicit rules are one-way
    assert sorted(syn.expand("tee")) == ["t-shirt", "tee"]  # equivalence: each means all
    assert syn.variants("women") == ["ladies", "gals"]
    assert "ladies" in syn and "gents" not in syn and syn.rules == 2


def test_rules_from_several_files_add_up(tmp_path):
    shop = tmp_path / "shop.txt"
    shop.write_text("ladies => Womenswear\n", encoding="utf-8")
    syn = load_synonyms([shop])
    assert set(syn.expand("ladies")) == {"Women", "Womenswear"}  # the default's target and the shop's
    assert load_synonyms(shop, defaults=False).expand("ladies") == ["Womenswear"]


def test_escaped_comma_is_part_of_a_phrase():
    syn = parse_synonyms(r"rock\, paper => Scissors")
    assert syn.expand("rock, paper") == ["Scissors"]


@pytest.mark.parametrize("line, says", [
    ("a => b => c", "more than one '=>'"),
    (" => Women", "both sides"),
    ("lonely", "at least two phrases"),
    ("!!!, ok", "no letters or digits"),
    ("one two three four five, x", "at most 4"),
])
def test_malformed_lines_name_file_and_line(line, says):
    with pytest.raises(SynonymsError, match=f"shop.txt:2: .*{says}"):
        parse_synonyms("ok, fine\n" + line, "shop.txt")


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(SynonymsError, match="not found"):
        load_synonyms(tmp_path / "nope.txt")


def test_defaults_ship_and_parse():
    assert DEFAULT_SYNONYMS.is_file()
    syn = load_synonyms()
    assert "Navy Blue" in syn.expand("navy") and syn.expand("gents") == ["Men"]
    assert set(syn.expand("sneakers")) >= {"Casual Shoes", "Sports Shoes"}
    assert syn.expand("office") == ["Formal"] and "Sports" in syn.expand("gym")


@pytest.mark.parametrize(("phrase", "means", "never"), [
    ("boxer shorts", {"Boxers"}, {"Trunk"}),  # loose boxers, not the close-fitting trunks
    ("tank tops", {"Tops", "Camisoles"}, {"Innerwear Vests"}),  # a top worn as one, not a man's undershirt
    ("nehru jacket", {"Nehru Jackets", "Waistcoat"}, {"Jackets"}),  # sleeveless: a waistcoat, not a jacket
    ("suitcase", {"Trolley Bag"}, {"Duffel Bag"}),  # a case on wheels, not a soft holdall
    ("ethnic tops", set(), {"Kurtis", "Kurtas"}),  # tops of usage Ethnic, as the parser reads the two words
])
def test_default_garment_words_name_the_garment_not_a_neighbour(phrase, means, never):
    targets = set(load_synonyms().expand(phrase))
    assert means <= targets and not targets & never, targets


def test_a_rule_lists_at_most_max_rule_phrases():
    line = ", ".join(f"p{i}" for i in range(MAX_RULE_PHRASES))
    assert len(parse_synonyms(line)) == MAX_RULE_PHRASES  # an equivalence line at the cap: every phrase a source
    with pytest.raises(SynonymsError, match=f"shop.txt:2: {MAX_RULE_PHRASES + 1} phrases; a rule lists at most"):
        parse_synonyms(f"ok, fine\n{line}, one more", "shop.txt")
    with pytest.raises(SynonymsError, match="shop.txt:1: .*at most"):
        parse_synonyms(f"{line}, one more => Women", "shop.txt")


def test_pairs_over_all_rules_are_capped():
    """Each rule stays under the per-rule cap, but the parser's build walks every (phrase, target) pair."""
    line = ", ".join(f"p{i}" for i in range(100))  # 100 * 100 pairs a line
    lines = "\n".join(line.replace("p", f"r{n}x") for n in range(MAX_PAIRS // 10_000 + 1))
    with pytest.raises(SynonymsError, match=f"shop.txt:{MAX_PAIRS // 10_000 + 1}: .*more than {MAX_PAIRS:,}"):
        parse_synonyms(lines, "shop.txt")


def test_unreadable_paths_are_clear_errors(tmp_path):
    (tmp_path / "latin1.txt").write_bytes(b"caf\xe9, cafe\n")
    for path in (tmp_path, tmp_path / "latin1.txt", "a\x00b"):
        with pytest.raises(SynonymsError, match="cannot read synonyms file"):
            load_synonyms(path, defaults=False)
