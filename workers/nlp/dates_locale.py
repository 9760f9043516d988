"""Date expressions of German, Spanish, French, Italian, Dutch, Portuguese and Russian text,
written the English way so that :func:`workers.nlp.dates.resolve` resolves them with the
English conventions (a bare weekday is the nearest such day, a bare month its latest
occurrence, "last X" the latest X strictly before the anchor).

Month and weekday names, the words for yesterday, today, tomorrow, last and next year or
month, and "N years ago" come from dateparser's locale data (CLDR-derived, shipped in its
wheel). dateparser's own ``search_dates`` is not used: on the sample articles it took
40-160 ms and returned articles and prepositions as dates ("die" as Tuesday, "Je" as a
Thursday). The few grammar words the data lacks (the "last"/"next" of a weekday, the
prepositions that make a bare month or year a date) are listed per language below.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from workers.nlp.dates import MONTHS, WEEKDAYS

LANGUAGES = frozenset({"de", "es", "fr", "it", "nl", "pt", "ru"})


@dataclass(frozen=True, slots=True)
class Grammar:
    """Words around a name that dateparser's data does not give, each a regex alternative."""

    last_before: tuple[str, ...] = ()  # "letzten Montag"
    last_after: tuple[str, ...] = ()  # "lundi dernier"
    next_before: tuple[str, ...] = ()
    next_after: tuple[str, ...] = ()
    month_in: tuple[str, ...] = ()  # a bare month is a date only after one of these
    year_in: tuple[str, ...] = ()  # likewise a bare year
    # words after which the word for tomorrow is the noun "morning" ("esta mañana")
    not_tomorrow_after: tuple[str, ...] = ()
    # German writes nouns capitalised: "Morgen" is the morning, "morgen" tomorrow.
    adverbs_lower_case: bool = False


GRAMMAR: dict[str, Grammar] = {
    "de": Grammar(
        last_before=("letzten", "letzter", "vergangenen", "vergangener", "vorigen", "voriger"),
        next_before=("nächsten", "nächster", "kommenden", "kommender"),
        month_in=("im", "in", "seit", "bis", "ab", "anfang", "ende", "mitte", "von"),
        year_in=("im jahr", "im jahre", "seit", "bis", "von", "ab"),
        adverbs_lower_case=True,
    ),
    "es": Grammar(
        last_before=("pasado",),
        last_after=("pasado",),
        next_before=("próximo",),
        next_after=("próximo", "que viene"),
        month_in=("en", "de", "desde", "hasta"),
        year_in=("en", "desde", "hasta", "en el año", "del año"),
        not_tomorrow_after=("la", "esta", "una", "cada", "toda"),
    ),
    "fr": Grammar(
        last_after=("dernier",),
        next_after=("prochain",),
        month_in=("en", "depuis", "jusqu'en", "fin", "début", "mi-"),
        year_in=("en", "depuis", "jusqu'en", "de"),
    ),
    "it": Grammar(
        last_before=("scorso", "scorsa"),
        last_after=("scorso", "scorsa"),
        next_before=("prossimo", "prossima"),
        next_after=("prossimo", "prossima"),
        month_in=("a", "in", "di", "da", "fino a", "entro"),
        year_in=("nel", "dal", "fino al", "entro il", "del"),
    ),
    "nl": Grammar(
        last_before=("afgelopen", "vorige"),
        next_before=("volgende", "komende"),
        month_in=("in", "sinds", "tot", "eind", "begin", "medio"),
        year_in=("in", "sinds", "tot", "van"),
        not_tomorrow_after=("de", "deze", "die", "elke", "een"),
    ),
    "pt": Grammar(
        last_before=("último", "última", "passado", "passada"),
        last_after=("passado", "passada"),
        next_before=("próximo", "próxima"),
        next_after=("que vem",),
        month_in=("em", "de", "desde", "até"),
        year_in=("em", "desde", "até", "de"),
    ),
    "ru": Grammar(
        last_before=("прошлый", "прошлую", "прошлое", "прошлой", "прошедший", "прошедшую"),
        next_before=("следующий", "следующую", "следующее", "ближайший", "ближайшую"),
        month_in=("в", "с", "до", "к"),  # noqa: RUF001 (Cyrillic)
        year_in=("в", "с", "до"),  # noqa: RUF001 (Cyrillic)
    ),
}

# dateparser's relative words kept, as the English resolver writes them (weeks, hours and
# "the day before yesterday" have no English counterpart there).
_RELATIVE = {
    "1 day ago": "yesterday",
    "0 day ago": "today",
    "in 1 day": "tomorrow",
    "1 year ago": "last year",
    "0 year ago": "this year",
    "in 1 year": "next year",
    "1 month ago": "last month",
    "in 1 month": "next month",
}
_NUMBER = r"(\d++[.,]?\d*+)"  # how dateparser's relative-type regexes write a number


def _full_forms(forms: list[str]) -> list[str]:
    """The written-out names among dateparser's forms: no abbreviation ("mär" of "märz",
    "Segunda" of "segunda-feira"), nothing shorter than 4 letters unless every form is
    ("mai", "май")."""
    lowered = sorted({f.lower() for f in forms})
    longest = max(len(f) for f in lowered)
    return [
        f
        for f in lowered
        if len(f) >= min(4, longest) and not any(o != f and o.startswith(f) for o in lowered)
    ]


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


@dataclass(frozen=True, slots=True)
class Locale:
    pattern: re.Pattern[str]
    months: dict[str, str]  # written form → English name
    weekdays: dict[str, str]
    relative: dict[str, str]  # "gestern" → "yesterday"
    numbers: tuple[tuple[re.Pattern[str], str], ...]  # number words → digits
    grammar: Grammar


_YEAR = r"(?:1[89]|2[01])\d\d"


@cache
def locale(language: str) -> Locale:
    """The compiled expressions of ``language`` (one of :data:`LANGUAGES`)."""
    info = importlib.import_module(f"dateparser.data.date_translation_data.{language}").info
    grammar = GRAMMAR[language]
    months = {f: name for name in MONTHS for f in _full_forms(info[name])}
    weekdays = {f: name for name in WEEKDAYS for f in _full_forms(info[name])}
    relative = {
        form.lower(): english
        for key, english in _RELATIVE.items()
        for form in info.get("relative-type", {}).get(key, [])
    }
    # "vor (N) jahren", "hace (N) años"; units of one letter ("hace 3 a") are left out.
    ago = [
        p.replace(_NUMBER, r"(?:\d{1,3}|\w+)")
        for p in info.get("relative-type-regex", {}).get("\\1 year ago", [])
        if re.search(r"\)\s*\w\w", p)
    ]
    numbers = tuple(
        (re.compile(key, re.IGNORECASE), value)
        for item in info.get("simplifications", [])
        for key, value in item.items()
        if value.isdigit() and re.fullmatch(r"[\w()|]+", key)
    )
    month = _alternatives(months)

    def optional(name: str, words: tuple[str, ...], before: bool) -> str:
        if not words:
            return ""
        group = rf"(?P<{name}>{_alternatives(words)})"
        return rf"(?:{group}\s+)?" if before else rf"(?:\s+{group})?"

    weekday = (
        optional("last_before", grammar.last_before, True)
        + optional("next_before", grammar.next_before, True)
        + rf"(?P<weekday>{_alternatives(weekdays)})"
        + optional("last_after", grammar.last_after, False)
        + optional("next_after", grammar.next_after, False)
    )
    parts = [
        # 19.06.2024, 19/06/2024: all seven write the day first
        rf"(?P<nd>\d{{1,2}})[./](?P<nm>\d{{1,2}})[./](?P<ny>{_YEAR})",
        # "19. Juni 2024", "3 de marzo de 2024", "1er mai", "3 марта 2024"
        rf"(?P<day>\d{{1,2}})(?:\.|er|º|°)?\s*(?:de\s+)?(?P<day_month>{month})"
        rf"(?:,?\s+(?:de\s+|del\s+)?(?P<day_year>{_YEAR}))?",
        rf"(?P<month_year_month>{month})\s+(?:de\s+|del\s+)?(?P<month_year>{_YEAR})",
        weekday,
        # a bare month or year only after a preposition: the match starts at the name
        rf"(?:{_alternatives(grammar.month_in)})\s+(?P<month>{month})"
        rf"(?:\s+(?:de\s+|del\s+)?(?P<month_in_year>{_YEAR}))?",
        rf"(?:{_alternatives(grammar.year_in)})\s+(?P<year>{_YEAR})",
        rf"(?P<relative>{_alternatives(relative)})",
    ]
    if ago:
        parts.insert(0, "(?P<ago>" + "|".join(ago) + ")")
    return Locale(
        re.compile(rf"(?<!\w)(?:{'|'.join(parts)})(?!\w)", re.IGNORECASE),
        months,
        weekdays,
        relative,
        numbers,
        grammar,
    )


def _number(text: str, numbers: tuple[tuple[re.Pattern[str], str], ...]) -> int | None:
    """The count of "vor drei Jahren": its digits, or a number word dateparser knows."""
    for token in re.findall(r"\w+", text):
        if token.isdigit():
            return int(token)
        for pattern, value in numbers:
            if pattern.fullmatch(token):
                return int(value)
    return None


def find(text: str, language: str) -> list[tuple[int, int, str, str]]:
    """Date expressions of ``text`` in ``language``: (start, end, as written, in English for
    :func:`workers.nlp.dates.resolve`)."""
    loc = locale(language)
    found = []
    for match in loc.pattern.finditer(text):
        english = _english(match, loc, text)
        if english is None:
            continue
        group = next(
            (g for g in ("month", "year") if match.group(g) is not None), None
        )  # a bare month or year: the preposition is not part of the expression
        start = match.start(group) if group else match.start()
        found.append((start, match.end(), text[start : match.end()], english))
    return found


def _english(match: re.Match[str], loc: Locale, text: str) -> str | None:
    g = match.groupdict()
    if g.get("ago") is not None:
        count = _number(g["ago"], loc.numbers)
        return f"{count} years ago" if count else None
    if g["nd"] is not None:
        return f"{g['ny']}-{int(g['nm']):02d}-{int(g['nd']):02d}"
    if g["day"] is not None:
        month = loc.months[g["day_month"].lower()]
        return f"{int(g['day'])} {month} {g['day_year'] or ''}".strip()
    if g["month_year_month"] is not None:
        return f"{loc.months[g['month_year_month'].lower()]} {g['month_year']}"
    if g.get("weekday") is not None:
        last = g.get("last_before") or g.get("last_after")
        following = g.get("next_before") or g.get("next_after")
        relation = "last " if last else "next " if following else ""
        return relation + loc.weekdays[g["weekday"].lower()]
    if g["month"] is not None:
        return f"{loc.months[g['month'].lower()]} {g['month_in_year'] or ''}".strip()
    if g["year"] is not None:
        return g["year"]
    word = g["relative"]
    english = loc.relative[word.lower()]
    if (
        loc.grammar.adverbs_lower_case
        and word[0].isupper()
        and not _sentence_start(text, match.start())
    ):
        return None  # "am Morgen": the noun, not the adverb
    before = text[: match.start()].split()[-1:]
    if english == "tomorrow" and before and before[0].lower() in loc.grammar.not_tomorrow_after:
        return None  # "esta mañana": this morning
    return english


def _sentence_start(text: str, position: int) -> bool:
    before = text[:position].rstrip()
    return not before or before[-1] in '.!?:"\u201c\u201e\n'
