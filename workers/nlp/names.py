"""Names past the NER window, labelled without the neural model.

NER reads a budget of characters (:mod:`workers.nlp.ner`); past it, a run of capitalised
words is a candidate name (not a sentence-initial word the text also writes in lower case,
cut before trailing scores and punctuation), and it gets a label only on evidence:

- a name NER or the gazetteer pass already found is left to the re-matching of clusters
  (:mod:`workers.nlp.clusters`), which gives it that cluster's label;
- an organisation by its form: a last word only organisations end with ("Acme Corp",
  "Labour Party", "Bowling Green State University");
- a person: "Firstname Lastname", the first word a given name of the 1990 US census lists
  (the ``names`` package) that is no country's name ("Jordan") and that the text does not
  also write in lower case ("May", "Will"), after at most a demonym or a title
  ("Australian Tom Moody"); initials and a family name ("S. Jayasuriya"); or two or three
  capitalised words with a country in brackets after them, as results tables give an
  athlete's nationality ("Gete Wami (Ethiopia)");
- a place: a name the gazetteer knows as a country, a region or a city of 100,000 (as for
  the place an organisation is named after, :func:`workers.nlp.toponyms.is_place`), unless a
  score follows it (a team: "Luton 2 Wigan 1") or it is a given name alone ("George"); or a
  town of any size with its region or country after it ("Lewisburg, W.Va."), both places.

The lists are general (census given names, organisation endings, the gazetteer), none
drawn from an evaluation set. Everything is regular expressions and set look-ups: well
under a millisecond per article, where NER costs ≈ 0.07 ms per token it reads.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib import resources

from workers.nlp import gazetteer, toponyms
from workers.nlp.ner import Mention

# Capitalised words joined by single spaces (a line break ends a name: tables put one per line).
_RUN = re.compile(r"[A-Z][\w'\u2019.&-]*(?: [A-Z][\w'\u2019.&-]*)*")
_SENTENCE_END = re.compile(r"[.!?:;\n\"]\s*$|^\s*$")
_LOWER_WORD = re.compile(r"(?<![\w'\u2019-])[a-z][\w'\u2019-]*")
_SCORE_AFTER = re.compile(r"\s*\d")
_BRACKETS_AFTER = re.compile(r" ?\(([A-Z][\w. ]{1,25})\)")
_INITIAL_DOT = re.compile(r"(?:^|[ .])[A-Z]\.$")
_TRAILING = re.compile(r"(?:['\u2019]s?|[.,])$")
_LINE_END = re.compile(r"\s*(?:\n|$)")  # a dot there ends the sentence, not "Corp."
_INITIAL = re.compile(r"[A-Z]\.")
_MAX_WORDS = 4
_PERSON_WORDS = 3  # "Kim Jong Un"; a longer run is an organisation's name
# Words that start a sentence or a name's run and name nothing themselves.
_FUNCTION = frozenset(
    {"the", "a", "an", "and", "but", "or", "in", "on", "at", "of", "for", "to", "by", "with"}
    | {"he", "she", "it", "we", "they", "i", "his", "her", "their", "its", "this", "that"}
    | {"mr", "mrs", "ms", "dr", "sir"}
    | {"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}
    | {"january", "february", "march", "april", "may", "june", "july", "august"}
    | {"september", "october", "november", "december"}
)
_TITLES = frozenset(
    {"mr", "mrs", "ms", "dr", "sir", "president", "minister", "premier", "chancellor", "king"}
    | {"queen", "prince", "princess", "coach", "manager", "captain", "striker", "senator"}
    | {"governor", "mayor", "judge", "general", "gen", "col", "lt", "sgt", "rep", "sen", "gov"}
)
# Endings written abbreviated, whose dot is part of the name ("Banc One Corp.").
_ABBREVIATED = frozenset({"inc", "corp", "co", "ltd", "plc", "llc", "bros"})
# Last words only organisations' names end with.
_ORG_ENDINGS = frozenset(
    {"inc", "corp", "corporation", "co", "ltd", "plc", "llc", "ag", "gmbh", "nv", "bv", "sa"}
    | {"group", "holdings", "bank", "party", "university", "club", "council", "ministry"}
    | {"association", "federation", "institute", "foundation", "committee", "commission"}
    | {"agency", "airlines", "airways", "motors", "company", "fc", "exchange", "board"}
    | {"college", "school", "academy", "alliance", "society", "league", "institution"}
    | {"department", "treasury", "police", "army", "navy", "court", "parliament", "assembly"}
)


@cache
def given_names() -> frozenset[str]:
    """Given names of the 1990 US census lists (``names`` package), lower-cased."""
    found = set()
    for file in ("dist.male.first", "dist.female.first"):
        text = resources.files("names").joinpath(file).read_text(encoding="ascii")
        found.update(line.split()[0].lower() for line in text.splitlines() if line.strip())
    return frozenset(found)


def _title_case(word: str) -> bool:
    return word[:1].isupper() and any(c.islower() for c in word)


# Look-ups of names taken from articles: bounded, as a worker reads articles for months.
_NAME_LOOKUPS = 1 << 16


@lru_cache(maxsize=_NAME_LOOKUPS)
def _is_place(name: str) -> bool:
    # As for a place an organisation is named after: one word must be a country, a region
    # or a city of 100,000 ("Paul", Idaho, does not make Paul Johnson a place).
    return toponyms.is_place(name, named_after=True)


def candidates(text: str, start: int, lower_words: set[str]) -> list[tuple[int, int, list[str]]]:
    """Runs of capitalised words in ``text`` from ``start`` on, as (start, end, words): the
    function words in front, sentence-initial words the text also writes in lower case
    ("Police said") and a trailing possessive, comma or dot cut off ("U.S." keeps its dot)."""
    runs = []
    for match in _RUN.finditer(text, start):
        words, first = match[0].split(" "), match.start()
        while words:
            word = words[0].rstrip(".,'\u2019").lower()
            initial = _SENTENCE_END.search(text, max(0, first - 3), first)
            if word not in _FUNCTION and not (initial and word in lower_words):
                break
            first += len(words.pop(0)) + 1
        if not words:
            continue
        name = text[first : match.end()]
        last = words[-1].rstrip(".").lower()
        abbreviation = last in _ABBREVIATED and not _LINE_END.match(text, match.end())
        if not _INITIAL_DOT.search(name) and not abbreviation:  # "U.S.", "Lear Corp."
            name = _TRAILING.sub("", name)
        runs.append((first, first + len(name), name.split(" ")))
    return runs


@lru_cache(maxsize=_NAME_LOOKUPS)
def _is_country(name: str) -> bool:
    """Whether ``name`` names a country. A given name that is a country's name is no
    evidence of a person ("Jordan Valley"); a town's or a region's is ("Paul", "Florence",
    "Sydney")."""
    return any(p.kind == "country" for p in gazetteer.candidates(name))


def _country_after(text: str, end: int) -> bool:
    """Whether a country in brackets follows ``end`` ("Gete Wami (Ethiopia)"): the way
    results tables give an athlete's nationality."""
    match = _BRACKETS_AFTER.match(text, end)
    return bool(match) and _is_country(match[1])


def _qualified_town(
    text: str, first: int, last: int, words: list[str]
) -> list[tuple[int, int]] | None:
    """A town of any size with its region or country written after it ("Lewisburg,
    W.Va.", "Aschaffenburg, Bavaria"), as the spans of both; None if the gazetteer knows no
    such town in that region or country."""
    if len(words) > _MAX_WORDS or not all(_title_case(w) for w in words):
        return None
    qualified = toponyms.qualifier(text, last)
    if not qualified:
        return None
    countries = {p.country_code for p in qualified[2]}
    towns = gazetteer.candidates(text[first:last])
    if any(p.kind == "city" and p.country_code in countries for p in towns):
        return [(first, last), qualified[:2]]
    return None


def _demonym_or_title(word: str) -> bool:
    return word.lower().rstrip(".") in _TITLES or gazetteer.demonym_country(word) is not None


def label(words: list[str], lower_words: set[str]) -> tuple[str, int] | None:
    """The label of a candidate's words, PERSON, ORG or GPE, and how many leading words are
    not part of the name; None when nothing says what it is."""
    if len(words) > _MAX_WORDS:
        return None
    if len(words) > 1 and words[-1].rstrip(".").lower() in _ORG_ENDINGS:
        return "ORG", 0
    if 1 < len(words) <= _PERSON_WORDS and all(_INITIAL.fullmatch(w) for w in words[:-1]):
        # Initials and a family name ("S. Jayasuriya"), not a place's ("N. Ireland").
        last = words[-1]
        if _title_case(last) and last.lower() not in lower_words and not _is_place(last):
            return "PERSON", 0
    if not all(_title_case(w) for w in words):
        return None
    # A person's name starts at a given name; the words before it may be a demonym or a
    # title ("Australian Tom Moody"), not part of another name ("Los Angeles Dodgers").
    for skip, first in enumerate(words[:-1]):
        if skip and not _demonym_or_title(words[skip - 1]):
            break
        lower = first.lower()
        if (
            len(words) - skip <= _PERSON_WORDS
            and lower in given_names()
            and lower not in lower_words
            and not _is_country(first)
        ):
            return "PERSON", skip
    if _is_place(" ".join(words)) and (len(words) > 1 or words[0].lower() not in given_names()):
        return "GPE", 0  # not a given name alone ("George")
    return None


def find(text: str, start: int, mentions: list[Mention]) -> list[Mention]:
    """Mentions of persons, organisations and places past ``start`` that no mention in
    ``mentions`` covers, nor spells (those are re-matched with their cluster's label)."""
    lower_words = set(_LOWER_WORD.findall(text))
    taken = toponyms.Taken([(m.start, m.end) for m in mentions if m.end > start])
    known = {m.text for m in mentions}
    found = []
    for first, last, words in candidates(text, start, lower_words):
        if taken.overlaps(first, last) or text[first:last] in known:
            continue  # a mention overlaps it, or spells it
        labelled = label(words, lower_words)
        if (
            not labelled
            and 1 < len(words) <= _PERSON_WORDS
            and all(_title_case(w) for w in words)
            and _country_after(text, last)
        ):
            labelled = ("PERSON", 0)
        if not labelled:
            qualified = _qualified_town(text, first, last, words)
            if qualified:
                found += [Mention("GPE", a, b, text[a:b]) for a, b in qualified]
            continue
        kind, skip = labelled
        if kind == "GPE" and _SCORE_AFTER.match(text, last):
            continue  # a place with a score after it is a team ("Luton 2 Wigan 1")
        first += sum(len(w) + 1 for w in words[:skip])
        found.append(Mention(kind, first, last, text[first:last]))
    return found
