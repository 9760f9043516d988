"""Place names NER leaves out, found with the gazetteer (no second NER pass).

NER reads a budget of characters (:mod:`workers.nlp.ner`) and, where it reads, often tags a
place inside a longer name as an organisation. This pass adds what the sentence's shape
says is a place:

- the place an organisation is named after at its start ("U.S. Food and Drug
  Administration", "Queensland Police"), and an organisation that is only a place's name
  ("Danbury", a metonymy: "Beijing said"); a place after an organisation's "of" ("the Bank
  of England", "University of Michigan") is part of its title, not a place the article
  mentions, and is not added;
- the region or country written after a place ("Alvin, Texas", "Gatineau, Que.");
- a dateline's town ("DETROIT —", "ATLANTA (AP) —");
- a name the sentence calls a place, whatever NER read ("the island of Java"; "Darfur and
  Malakal": listed beside a place);
- anywhere NER did not tag (past its window, or missed): a country's, a continent's or a
  region's name standing alone (not inside a longer capitalised name, not a word the text
  also writes in lower case: "turkey").

It also takes back places that are diseases' names ("Ebola virus", "West Nile fever").
"""

from __future__ import annotations

import re
from bisect import bisect_left
from itertools import accumulate

from workers.nlp import gazetteer
from workers.nlp.ner import PLACE_LABELS, Mention

# Towns filled in without a population are too many and too small to be guessed from an
# organisation's name ("New Milford Police" holds one; "Ford Motor" must not).
_NAMED_AFTER_FROM = 5000
_BIG_CITY = 100_000
_MAX_WORDS = 4
_NAME_WORD = re.compile(r"[A-Z][\w'\u2019&.-]*")
# Runs of capitalised words ("New South Wales", "U.S.") with their spans.
_CAPITALISED_RUN = re.compile(r"[A-Z][\w\u2019'.&-]*(?:[ \t]+[A-Z][\w\u2019'.&-]*)*")
_QUALIFIER = re.compile(r",\s*((?:[A-Z][\w.]*\.?)(?:\s+[A-Z][\w.]*)?)")
_DATELINE = re.compile(
    r"(?:^|\n)\s*([A-Z][A-Z.'-]{2,}(?:[ ][A-Z][A-Z.'-]+)*)"  # the town, in capitals
    r"(?:,\s*[A-Z][\w.]*(?:\s[A-Z][\w.]*)?)?"  # its state or country ("LONDON, Ont.")
    r"\s*(?:\([A-Za-z .]{2,20}\)\s*)?"  # the agency ("(AP)")
    r"(?=(?P<dash>[\u2014\u2013-]|:\s)|\s[A-Z][a-z])"  # a dash, a colon or the sentence
)
_DATELINE_LETTERS = 5
_INITIALS = re.compile(r"(?:^|[\s.])[A-Z]\.$")
# Offices named after their place ("Texas Senator Ted Cruz", "U.S. Secretary of State").
_OFFICES = frozenset(
    {"Governor", "Gov", "Senator", "Sen", "Secretary", "President", "Premier", "Minister"}
    | {"Attorney", "Representative", "Rep", "Congressman", "Congresswoman", "Ambassador"}
    | {"Prime", "Foreign", "Health", "Agriculture", "Defence", "Defense", "Interior"}
)
_PLACE_OF = re.compile(
    r"\b(?:island|province|state|city|town|village|region|county|district|capital|suburb|"
    r"outskirts) of\s+(?:the\s+)?$"
)
_COORDINATED = re.compile(r",?\s+(?:and|or)\s+|,\s*")  # "Darfur and Malakal"
_CURRENCY = frozenset("$€£¥")
_DISEASE_AFTER = re.compile(r"\s+(?:virus|fever|disease|encephalitis)\b", re.I)
# Words of direction or landscape: a region named with them ("Central", "Western Cape") is
# left to NER, never found by its name alone.
_GENERIC = frozenset(
    {"central", "north", "south", "east", "west", "northern", "southern", "eastern"}
    | {"western", "capital", "coast", "islands", "island", "lakes", "mountain", "valley"}
    | {"centre", "center", "federal", "district", "city", "upper", "lower", "border"}
)


def _initials(name: str) -> str:
    return "".join(word[0] for word in name.split()).upper()


def _places(name: str, language: str | None = None) -> list[gazetteer.Place]:
    """The places a rule may claim ``name`` for. A name in capitals is an acronym: only a
    country's ("U.S.", "DRC") or the initials of a region's name ("NSW", "PEI"), not a town's
    or a code that spells a word ("CNN", "UN")."""
    found = gazetteer.candidates(name, language) or gazetteer.candidates(
        name.rstrip(".,"), language
    )
    letters = name.replace(".", "")
    if letters.isupper() and not gazetteer.is_abbreviation(name):
        found = [
            p
            for p in found
            if p.kind == "country" or (p.kind == "region" and _initials(p.name) == letters)
        ]
    return found


def is_place(name: str, named_after: bool = False, language: str | None = None) -> bool:
    """Whether ``name`` is a place the gazetteer knows well enough for a rule to claim it;
    ``named_after``: as the start of an organisation's name, where one word must name a
    country, a region or a city of 100,000 (a common word names some small town: "Liberal",
    Kansas) and several words a town of 5,000. ``language``: also the names places have in it
    ("Deutschland" in German), as :func:`workers.nlp.gazetteer.candidates` reads them."""
    found = _places(name, language)
    if not named_after:
        return bool(found)
    least = _BIG_CITY if len(name.split()) == 1 else _NAMED_AFTER_FROM
    # A town counts by its own name only: GeoNames' alternate names hold odd ones (Topeka's
    # "Google").
    return any(
        p.kind != "city" or (p.population >= least and gazetteer.key(p.name) == gazetteer.key(name))
        for p in found
    )


def _standalone_kinds(name: str) -> bool:
    """Whether ``name`` names a country, a continent or a region (US state, province...) and
    nothing smaller, in words that are not generic ("Central")."""
    found = _places(name)
    if not found or any(w.lower() in _GENERIC for w in name.split()):
        return False
    if gazetteer.is_abbreviation(name):
        return False  # "Miss." alone is a title, not Mississippi
    big = [p for p in found if p.kind in ("country", "continent", "region")]
    return bool(big) and big[0] is found[0] and (found[0].kind != "region" or len(name) > 3)


def _standalone(
    text: str, run: re.Match, taken: Taken, lower_words: set[str]
) -> tuple[int, int] | None:
    """The country, state or continent a run of capitalised words NER did not tag is, or
    names before an office ("Texas", "U.S. Secretary of State", "Wisconsin Governor Jim
    Doyle"; not "Mexico City" nor "New York Times"), as a span."""
    words = list(_NAME_WORD.finditer(text, run.start(), run.end()))
    for count in range(min(_MAX_WORDS, len(words)), 0, -1):
        if count < len(words) and words[count][0].rstrip(".") not in _OFFICES:
            continue
        start, end = run.start(), words[count - 1].end()
        name = text[start:end]
        if not gazetteer.is_abbreviation(name):
            name = name.rstrip(",;:")
            if not _INITIALS.search(name):  # "U.S." keeps its last dot
                name = re.sub(r"['\u2019]s?$", "", name.rstrip("."))
        end = start + len(name)
        if taken.overlaps(start, end) or text[end : end + 1] in _CURRENCY:
            continue  # NER's reading stands; "US$1,800"
        if _standalone_kinds(name) and name.lower() not in lower_words:
            return start, end
    return None


def _prefix_place(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The longest place name an organisation's name starts with ("U.S." in "U.S. Food and
    Drug Administration"), as a span: the whole name when it is a place's (a metonymy)."""
    words = list(_NAME_WORD.finditer(text, start, end))
    if words and words[0][0] in ("The", "the"):
        words = words[1:]
    for count in range(min(_MAX_WORDS, len(words)), 0, -1):
        first, last = words[0], words[count - 1]
        if text[first.start() : last.end()].count("\n"):
            continue
        # Only words joined by spaces: "Food and Drug" is no run of one name.
        span = text[first.start() : last.end()]
        if not re.fullmatch(r"[^\s]+(?: [^\s]+)*", span):
            continue
        name = span.rstrip(",;:")
        name = re.sub(r"['\u2019]s$", "", name)
        if is_place(name, named_after=True):
            return first.start(), first.start() + len(name)
    return None


def _overlaps(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(span[0] < b and a < span[1] for a, b in spans)


class Taken:
    """Spans to test others against for overlap by bisection (a test per capitalised run
    of an article against every mention cost ≈ 0.5 ms)."""

    def __init__(self, spans: list[tuple[int, int]]):
        spans = sorted(spans)
        self.starts = [a for a, _ in spans]
        self.reach = list(accumulate((b for _, b in spans), max))  # furthest end so far

    def overlaps(self, start: int, end: int) -> bool:
        at = bisect_left(self.starts, end)  # the spans starting before ``end``
        return bool(at) and self.reach[at - 1] > start


def qualifier(
    text: str, end: int, language: str | None = None
) -> tuple[int, int, list[gazetteer.Place]] | None:
    """The region or country written after a place ending at ``end`` ("Dublin, Ohio",
    "Paris, Tenn."): its span and its regions and countries. Two capitalised words may be
    one name ("New York") or a name and the next sentence ("Illinois. Police")."""
    match = _QUALIFIER.match(text, end)
    if not match:
        return None
    for name in (match[1], match[1].split()[0]):
        if not gazetteer.is_abbreviation(name):
            name = name.rstrip(".")
        found = gazetteer.candidates(name, language)
        if found and found[0].kind in ("region", "country"):
            regions = [p for p in found if p.kind in ("region", "country")]
            return match.start(1), match.start(1) + len(name), regions
    return None


def find(text: str, mentions: list[Mention], language: str | None = None) -> list[Mention]:
    """``mentions`` (NER's) with the place names NER left out added and diseases' names
    taken back, in text order."""
    diseases = {
        m.text.lower()
        for m in mentions
        if m.label in PLACE_LABELS and _DISEASE_AFTER.match(text, m.end)
    }
    kept = [m for m in mentions if not (m.label in PLACE_LABELS and m.text.lower() in diseases)]
    places = [(m.start, m.end) for m in kept if m.label in PLACE_LABELS]
    added: list[Mention] = []

    def add(start: int, end: int) -> None:
        if end > start and not _overlaps((start, end), places):
            places.append((start, end))
            added.append(Mention("GPE", start, end, text[start:end]))

    for index, mention in enumerate(kept):
        if mention.label != "ORG":
            continue
        prefix = _prefix_place(text, mention.start, mention.end)
        if prefix and prefix[1] >= mention.end - 1 and not _overlaps(prefix, places):
            # The whole name is a place's: a metonymy ("Beijing said"), NER's ORG is wrong.
            kept[index] = Mention("GPE", mention.start, prefix[1], text[mention.start : prefix[1]])
            places.append((mention.start, prefix[1]))
            continue
        # The place an organisation's name starts with says whose it is ("U.S." in "U.S.
        # Army", "Queensland Police"): a place the article mentions, as news gazetteers
        # annotate it. A place after the name's "of" ("England" in "the Bank of England",
        # "University of Michigan") is part of a fixed title, not a mention of the place:
        # where the article names the place itself, that mention is found on its own.
        if prefix:
            add(*prefix)
    # A region or country after a place ("Alvin, Texas"), even where NER took it for a
    # person ("Gatineau, Que."): the qualifier's mention replaces NER's reading.
    for mention in [m for m in kept if m.label in PLACE_LABELS]:
        qualified = qualifier(text, mention.end, language)
        if qualified:
            span = qualified[:2]
            kept = [
                m
                for m in kept
                if m.label in PLACE_LABELS or not _overlaps(span, [(m.start, m.end)])
            ]
            add(*span)
    # What the sentence says is a place, whatever NER read ("the island of Java", where NER
    # saw a person; "Darfur and Malakal", where it saw an organisation).
    for index, mention in enumerate(kept):
        if mention.label not in ("PERSON", "ORG") or not is_place(mention.text, True, language):
            continue
        before = text[max(0, mention.start - 30) : mention.start]
        if _PLACE_OF.search(before) or any(
            _COORDINATED.fullmatch(text[end : mention.start])
            or _COORDINATED.fullmatch(text[mention.end : start])
            for start, end in places
        ):
            kept[index] = Mention("GPE", mention.start, mention.end, mention.text)
            places.append((mention.start, mention.end))
    for match in _DATELINE.finditer(text):
        name = match[1]
        # Without a dash a short word in capitals is more often an acronym ("NATO Chief").
        if not match["dash"] and len(name.replace(".", "")) < _DATELINE_LETTERS:
            continue
        if is_place(name.title(), language=language):
            add(match.start(1), match.end(1))
    if language == "de":
        # German capitalises every noun: a capitalised word alone is no evidence ("Mann",
        # a name of the Isle of Man); the names pass reads German names in their sentence.
        return sorted(kept + added, key=lambda m: m.start)
    taken = Taken([(m.start, m.end) for m in kept] + [(m.start, m.end) for m in added])
    lower_words = {w for w in re.findall(r"[a-z][\w'-]*", text)}
    for match in _CAPITALISED_RUN.finditer(text):
        span = _standalone(text, match, taken, lower_words)
        if span:
            add(*span)
    return sorted(kept + added, key=lambda m: m.start)
