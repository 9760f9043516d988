"""Names past the NER window, labelled without the neural model.

NER reads a budget of characters (:mod:`workers.nlp.ner`); past it, a run of capitalised
words is a candidate name (not a sentence-initial word the text also writes in lower case,
cut before trailing scores and punctuation), and it gets a label only on evidence:

- a name NER or the gazetteer pass already found is left to the re-matching of clusters
  (:mod:`workers.nlp.clusters`), which gives it that cluster's label;
- a person: "Firstname Lastname", the first word a given name of the US census lists
  (the ``names`` package) that is not a place and not written in lower case in the text
  ("May", "Will");
- an organisation by its form: a last word that only organisations end with ("Acme Corp",
  "Labour Party", "Bank", "University").

Places past the window are the toponym pass's (:mod:`workers.nlp.toponyms`: countries,
regions and continents standing alone). Everything here is regular expressions and set
look-ups: a fraction of a millisecond per article.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from workers.enrichment import gazetteer
from workers.nlp import toponyms
from workers.nlp.ner import Mention

# Capitalised words joined by single spaces (a line break ends a name: tables put one per line).
_RUN = re.compile(r"[A-Z][\w'\u2019.&-]*(?: [A-Z][\w'\u2019.&-]*)*")
_SENTENCE_END = re.compile(r"[.!?:;\n\"]\s*$|^\s*$")
_LOWER_WORD = re.compile(r"(?<![\w'\u2019-])[a-z][\w'\u2019-]*")
_SCORE_AFTER = re.compile(r"\s*\d")
_BRACKETS_AFTER = re.compile(r" ?\(([A-Z][\w. ]{1,25})\)")
NATIONALITY = True
_MAX_WORDS = 4
PLACES = True
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
# Last words only organisations' names end with.
_ORG_ENDINGS = frozenset(
    {"inc", "corp", "corporation", "co", "ltd", "plc", "llc", "ag", "gmbh", "nv", "bv", "sa"}
    | {"group", "holdings", "bank", "party", "university", "club", "council", "ministry"}
    | {"association", "federation", "institute", "foundation", "committee", "commission"}
    | {"agency", "airlines", "airways", "motors", "company", "fc", "exchange", "board"}
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


@cache
def _is_place(name: str) -> bool:
    # As for a place an organisation is named after: one word must be a country, a region
    # or a city of 100,000 ("Paul", Idaho, does not make Paul Johnson a place).
    return toponyms.is_place(name, named_after=True)


def candidates(text: str, start: int) -> list[tuple[int, int, list[str]]]:
    """Runs of capitalised words in ``text`` from ``start`` on, as (start, end, words), the
    function words in front and a trailing possessive or dot cut off."""
    lower_words = set(_LOWER_WORD.findall(text))
    runs = []
    for match in _RUN.finditer(text, start):
        words = [(m.start(), m.end()) for m in re.finditer(r"\S+", match[0])]
        at = match.start()
        spans = [(at + a, at + b) for a, b in words]
        # Sentence-initial words the text also writes in lower case ("Police", "The").
        while spans:
            word = text[spans[0][0] : spans[0][1]].rstrip(".,'\u2019").lower()
            initial = _SENTENCE_END.search(text, max(0, spans[0][0] - 3), spans[0][0])
            if word in _FUNCTION or (initial and word in lower_words):
                spans.pop(0)
            else:
                break
        if not spans:
            continue
        first, last = spans[0][0], spans[-1][1]
        name = re.sub(r"(?:['\u2019]s?|[.,])$", "", text[first:last])
        if re.search(r"[A-Z]\.$", text[first:last]):  # "U.S." keeps its dot
            name = text[first:last]
        runs.append((first, first + len(name), name.split()))
    return runs


def _country_after(text: str, end: int) -> bool:
    """Whether a country in brackets follows ``end`` ("Gete Wami (Ethiopia)"): the way
    results name an athlete's nationality."""
    match = _BRACKETS_AFTER.match(text, end)
    return bool(match) and any(p.kind == "country" for p in gazetteer.candidates(match[1]))


def label(words: list[str], lower_words: set[str]) -> tuple[str, int] | None:
    """(PERSON, ORG or GPE, how many leading words are not part of the name) for a
    candidate's words, or None."""
    if len(words) > _MAX_WORDS:
        return None
    last = words[-1].rstrip(".")
    if len(words) > 1 and last.lower() in _ORG_ENDINGS:
        return "ORG", 0
    if not all(_title_case(w) for w in words):
        return None
    # The person's name starts at a given name; words before it may be a demonym or a title
    # ("Australian Tom Moody"), not part of another name ("Los Angeles Dodgers").
    for skip, first in enumerate(words[:-1]):
        if skip and not _demonym_or_title(words[skip - 1]):
            break
        if first.lower() in given_names() and first.lower() not in lower_words:
            if not _is_place(first):
                return "PERSON", skip
    if PLACES and _is_place(" ".join(words)):
        if len(words) > 1 or words[0].lower() not in given_names():  # "George"
            return "GPE", 0
    return None


def _demonym_or_title(word: str) -> bool:
    return word.lower().rstrip(".") in _TITLES or gazetteer.demonym_country(word) is not None


def find(text: str, start: int, mentions: list[Mention]) -> list[Mention]:
    """Mentions of persons and organisations past ``start`` that no mention in ``mentions``
    covers, nor spells (those are re-matched with their cluster's label)."""
    lower_words = set(_LOWER_WORD.findall(text))
    taken = [(m.start, m.end) for m in mentions]
    known = {m.text for m in mentions}
    found = []
    for first, last, words in candidates(text, start):
        if any(first < b and a < last for a, b in taken) or text[first:last] in known:
            continue
        labelled = label(words, lower_words)
        if (
            NATIONALITY
            and not labelled
            and 1 < len(words) <= 3
            and all(_title_case(w) for w in words)
            and _country_after(text, last)
        ):
            labelled = ("PERSON", 0)
        if labelled:
            kind, skip = labelled
            if skip:
                first = text.index(words[skip], first)
            if kind == "GPE" and _SCORE_AFTER.match(text, last):
                continue  # a place with a score after it is a team ("Luton 2 Wigan 1")
            found.append(Mention(kind, first, last, text[first:last]))
    return found
