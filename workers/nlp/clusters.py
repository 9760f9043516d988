"""Entity clusters: the mentions of one person, organisation or place under one name.

Mentions are grouped by their name key (lower-cased words, hyphens and dots ignored, titles
such as "Mr" and a trailing possessive dropped), so "Kim Jong Un" and "Kim Jong-un" share a
key. A shorter person or organisation name then joins the longer name it starts or ends
("Kim" → "Kim Jong Un", "Putin" → "Vladimir Putin"); when several longer names qualify, the
most mentioned wins. Names differing inside ("Kim Yo Jong") never join. Places never join
("Korea" is not "North Korea").

Places are read with care: a demonym joins its country ("Russian" → Russia, from the
gazetteer's country data); a name after a role ("coach Ripley") is a person's; a one-word
place that is a person's first or last name in the article is that person ("Shelton"); a
name read both as place and organisation is the place ("Edmonton"); other worlds
("Jupiter") are places only when qualified ("Jupiter, Florida"). Scores glued to a name in
results tables ("Andrew Park 72") are cut off.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from workers.nlp import evidence, gazetteer, names, pipelines, toponyms
from workers.nlp.ner import MODEL_PACKAGE, PLACE_LABELS, Mention, entities

ENTITY_TYPES = {
    "PERSON": "person",
    "ORG": "organisation",
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
}
_TITLES = re.compile(
    r"^(?:(?:mr|mrs|ms|dr|sir|president|prime minister|chancellor|king|queen|pope)\.?\s+)+",
    re.I,
)
_POSSESSIVE = re.compile(r"['\u2019]s?$")
# Scores and punctuation a results table glues to a name ("Andrew Park 72", "Vaughan 9-1-55-1,").
_TRAILING_SCORES = re.compile(r"(?:[\s,;:(]+[\d][\d\-./:]*)*[\s,;:(]*$")
# A role before a name makes it a person's, whatever NER said ("coach Ripley").
_ROLE_BEFORE = re.compile(
    r"\b(?:coach|manager|captain|striker|goalkeeper|pitcher|quarterback|skipper|officer|"
    r"detective|judge|senator|governor|mayor|sheriff|chief|Sen|Rep|Gov|Sgt|Lt|Col|Gen|Capt)\.?\s$",
    re.I,
)
# Names of other worlds: a place only when qualified ("Jupiter, Florida").
_NOT_ON_EARTH = frozenset(
    {"mercury", "venus", "mars", "jupiter", "saturn", "uranus", "neptune", "pluto"}
)
_QUALIFIED = re.compile(r",\s*[A-Z]")
_HONORIFIC_BEFORE = re.compile(r"\b(?:Mr|Mrs|Ms|Dr)\.?\s$")
_WORD_SEPARATORS = re.compile(r"[\s\-\u2010\u2011\u2013]+")


@dataclass
class Cluster:
    """One entity: its type, its canonical name and every mention found."""

    type: str
    key: tuple[str, ...]
    mentions: list[Mention] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The most frequent spelling among the longest mentions (first seen on a tie); a
        country named only by its demonym takes the gazetteer's name ("Russian" → Russia)."""
        named = [m for m in self.mentions if m.label != "NORP"]
        if not named:
            return gazetteer.country(gazetteer.demonym_country(self.mentions[0].text)).name
        titled = self.type != "place"  # "Pope County" is no title and a county
        longest = max(len(name_key(m.text, titled)) for m in named)
        forms = [
            " ".join((strip_title(m.text) if titled else m.text).split())  # no-break spaces
            for m in named
            if len(name_key(m.text, titled)) == longest
        ]
        return Counter(forms).most_common(1)[0][0]


def strip_title(name: str) -> str:
    return _TITLES.sub("", name).strip()


def name_key(name: str, titled: bool = True) -> tuple[str, ...]:
    """The words of a name, lower-cased, without dots and (``titled``) a title before it."""
    words = _WORD_SEPARATORS.split((strip_title(name) if titled else name).replace(".", "").lower())
    return tuple(word for word in words if word)


def tidy(mention: Mention, text: str) -> Mention:
    """The mention without a trailing possessive ("North Korea's" → "North Korea") and with
    an honorific NER left out ("Putin" after "Mr " → "Mr Putin")."""
    start, end = mention.start, mention.end
    end = start + len(_TRAILING_SCORES.sub("", text[start:end]))
    match = _POSSESSIVE.search(text, start, end)
    if match and match.start() > start:
        end = match.start()
    honorific = _HONORIFIC_BEFORE.search(text, max(0, start - 5), start)
    label = mention.label
    if label in PLACE_LABELS and _ROLE_BEFORE.search(text, max(0, start - 14), start):
        label = "PERSON"
    if label == "PERSON" and honorific:
        start = honorific.start()
    return Mention(label, start, end, text[start:end])


def _kind_and_key(mention: Mention, text: str) -> tuple[str | None, tuple[str, ...]]:
    """The cluster a mention belongs to: a demonym joins its country ("Russian" → Russia),
    another world's name is no place unless qualified."""
    if mention.label == "NORP":
        code = gazetteer.demonym_country(mention.text)
        country = gazetteer.country(code) if code else None
        return ("place", name_key(country.name)) if country else (None, ())
    kind = ENTITY_TYPES.get(mention.label)
    key = name_key(mention.text, titled=kind != "place")
    if (
        kind == "place"
        and " ".join(key) in _NOT_ON_EARTH
        and not _QUALIFIED.match(text, mention.end)
    ):
        return None, ()
    return kind, key


def _drop_places_named_after_persons(groups: dict) -> None:
    """A one-word place that is the first or last name of a person of the article is that
    person ("Shelton" beside "Jane Shelton")."""
    persons = [key for kind, key in groups if kind == "person" and len(key) > 1]
    for kind, key in list(groups):
        if kind == "place" and len(key) == 1 and any(_contains_at_edge(p, key) for p in persons):
            del groups[(kind, key)]


def _places_over_organisations(groups: dict) -> None:
    """A name NER reads once as a place and once as an organisation is the place
    ("Edmonton"): a team or a council carries a longer name."""
    for kind, key in list(groups):
        if kind == "organisation" and ("place", key) in groups:
            groups[("place", key)].mentions.extend(groups.pop((kind, key)).mentions)


def _contains_at_edge(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    return len(longer) > len(shorter) and (
        longer[: len(shorter)] == shorter or longer[-len(shorter) :] == shorter
    )


def cluster(mentions: list[Mention], text: str) -> list[Cluster]:
    """Group the mentions found in ``text`` into clusters, ordered by first mention."""
    groups: dict[tuple[str, tuple[str, ...]], Cluster] = {}
    for raw in mentions:
        mention = tidy(raw, text)
        kind, key = _kind_and_key(mention, text)
        if kind is None or not key:
            continue
        groups.setdefault((kind, key), Cluster(kind, key)).mentions.append(mention)
    _drop_places_named_after_persons(groups)
    _places_over_organisations(groups)

    # Shortest names first, so "Kim" joins "Kim Jong Un" after nothing else changed it.
    for kind, key in sorted(groups, key=lambda k: len(k[1])):
        if kind == "place" or (kind, key) not in groups:
            continue
        group = groups[(kind, key)]
        targets = [
            other
            for (other_kind, other_key), other in groups.items()
            if other_kind == kind and _contains_at_edge(other_key, key)
        ]
        # A full name seen less often than its short form is more likely a mis-cut span
        # ("Vladimir Putin North Korea") than the person's name, unless the short form is
        # a single word (a surname or a family name).
        targets = [t for t in targets if len(key) == 1 or len(t.mentions) >= len(group.mentions)]
        if not targets:
            continue
        target = max(targets, key=lambda t: (len(t.mentions), -t.mentions[0].start))
        target.mentions.extend(group.mentions)
        del groups[(kind, key)]

    result = list(groups.values())
    for item in result:
        item.mentions.sort(key=lambda m: m.start)
    return sorted(result, key=lambda c: c.mentions[0].start)


# A known name followed by another capitalised word is probably part of a longer, unknown
# name ("Kim" in "Kim Yo Jong"): not a mention of the known entity.
_NAME_CONTINUES = re.compile(r"[\s\-][A-Z]")


def _more_mentions(text: str, clusters: list[Cluster]) -> None:
    """Add every further occurrence of a cluster's spellings anywhere in ``text``
    (NER reads only a window, and misses some mentions inside it)."""
    taken = [(m.start, m.end) for c in clusters for m in c.mentions]
    spellings = {(m.text, id(c)): (c, m.label) for c in clusters for m in c.mentions}
    # A person's family name alone refers back to them ("Kim", "Putin"), read or not.
    for item in clusters:
        words = item.name.split()
        if item.type == "person" and len(words) > 1:
            for word in (words[0], words[-1]):
                if len(word) > 2 and word[0].isupper() and word.isalpha():
                    spellings.setdefault((word, id(item)), (item, "PERSON"))
    # One scan of the text for all spellings, longest first where several start at one
    # place (the first owner in that order keeps a spelling two clusters share); a scan per
    # spelling cost 2-4 ms an article.
    owners: dict[str, tuple[Cluster, str]] = {}
    for (form, _), owner in sorted(spellings.items(), key=lambda item: -len(item[0][0])):
        owners.setdefault(form, owner)
    if not owners:
        return
    alternatives = "|".join(re.escape(form) for form in owners)
    for match in re.finditer(rf"(?<!\w)(?:{alternatives})(?!\w)", text):
        start, end = match.span()
        if any(start < b and a < end for a, b in taken):
            continue
        if _NAME_CONTINUES.match(text, end):
            continue
        owner, label = owners[match[0]]
        mention = tidy(Mention(label, start, end, match[0]), text)
        owner.mentions.append(mention)
        taken.append((mention.start, mention.end))
    for item in clusters:
        item.mentions.sort(key=lambda m: m.start)


NAMES_PASS = "names-pass"


def pipeline_name(language: str | None) -> str:
    """What reads ``language``'s entities: the registry's pipeline, else the names pass."""
    pipeline = pipelines.for_language(language)
    return pipeline.name if pipeline else NAMES_PASS


def _mentions(text: str, max_chars: int, language: str) -> list[Mention]:
    """NER's mentions and the names past its window, or the names pass over the whole text
    when the registry has no pipeline for ``language``."""
    pipeline = pipelines.for_language(language)
    if pipeline is None:
        if language == "en":
            return names.find(text, 0, [])
        return evidence.find(text, language)
    mentions, window = entities(text, max_chars, language)
    found = [m for m in mentions if language == "en" or evidence.is_name(m.text)]
    if language == "ru":
        found += [m for m in evidence.russian_forms(text) if not _covered(m, found)]
    if language == "en":
        return found + names.find(text, window, found)
    return found + evidence.find(text, language, window, found)


def _covered(mention: Mention, mentions: list[Mention]) -> bool:
    return any(m.start < mention.end and mention.start < m.end for m in mentions)


@lru_cache(maxsize=8)  # entities, places and keyphrases read the same article's clusters
def find_clusters(text: str, max_chars: int, language: str | None = "en") -> tuple[Cluster, ...]:
    """The entity clusters of ``text`` in ``language``: NER on its opening with the
    language's pipeline (or the names pass, :mod:`workers.nlp.evidence`, when the registry has
    none), the place names it left out (:mod:`workers.nlp.toponyms`), mentions matched
    everywhere. Shared between enrichers: do not modify them."""
    language = language or "en"
    pipeline = pipelines.for_language(language)
    if language == "en" and pipeline is not None and pipeline.package == MODEL_PACKAGE:
        # English as it always read: the names past the window see the toponyms found.
        mentions, window = entities(text, max_chars)
        found = toponyms.find(text, list(mentions))
        found = sorted(found + names.find(text, window, found), key=lambda m: m.start)
    else:
        found = toponyms.find(
            text, sorted(_mentions(text, max_chars, language), key=_start), language
        )
    clusters = cluster(found, text)
    _more_mentions(text, clusters)
    return tuple(clusters)


def _start(mention: Mention) -> int:
    return mention.start
