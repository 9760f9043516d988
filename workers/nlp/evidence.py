"""The names pass for languages the NER registry has no pipeline for: persons, organisations
and places from evidence, with no model of the language.

A candidate is a run of capitalised words joined by single spaces, with the particles names
carry inside them ("Banco de España", "Jan van der Berg"); the function words in front are cut,
and so is a sentence's first word the text also writes in lower case. A candidate gets a label
only on evidence:

- an organisation: a legal form of the language at its end ("Siemens AG", "Telefónica
  S.A."; the Russian OOO, in Cyrillic, in front), a head noun organisations are named with
  ("Partido Popular", "Deutsche Bank", "Bundesministerium": German writes compounds in one
  word), or an acronym the gazetteer does not know as a country ("SPD", "PSOE");
- a person: a given name of the multilingual list of ``gender-guesser``'s data file (read as
  data, its code is not imported) then a family name ("Angela Merkel"), or a title of the
  language before a capitalised name ("Herr Müller", "el presidente Aznar");
- a place: a name the gazetteer knows as a country, a region or a city of 100,000
  (:func:`workers.nlp.toponyms.is_place`), or a town of 5,000 after a preposition of place
  ("in Tübingen", "en Cuenca"); a water the gazetteer knows ("Nordsee").

What has no evidence is left out, with one exception: where the language capitalises only
names (every language here but German), a run of two or three capitalised words in the middle
of a sentence is a name, and a person's when nothing says otherwise (an organisation's or a
place's name carries a head word or is known). German capitalises every noun, so there a
capitalised word is not a name by itself; a capitalised adjective before a capitalised noun is
("Europäische Union", "Deutsche Bahn": German writes such adjectives in lower case elsewhere).

The lists below are general knowledge of each language (legal forms, head nouns, titles,
prepositions), none drawn from an evaluation set.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib import resources

from workers.nlp import gazetteer, toponyms
from workers.nlp.ner import Mention

LANGUAGES = frozenset({"de", "es", "fr", "it", "nl", "pt"})
# Upper-case letters of the Latin and Cyrillic alphabets these languages and their names use.
_UPPER = r"[A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĒĖĘĚĞĪĮİĶĹĻĽŁŃŅŇŌŐŒŔŘŚŞŠŢŤŪŮŰŲŸŹŻŽА-ЯЁ]"
_WORD = rf"{_UPPER}[\w'\u2019.&-]*"
_LOWER_WORD = re.compile(r"(?<![\w'\u2019-])[^\W\d_A-ZÀ-ÞА-Я][\w'\u2019-]*")
_SENTENCE_END = re.compile(r"(?:[.!?:;\n\"«»„“]|^)\s*$")
_ACRONYM = re.compile(r"[A-ZÀ-ÞА-Я]{2,6}")
_INITIAL = re.compile(r"[A-ZÀ-ÞА-Я]\.")
_MAX_WORDS = 5
_PERSON_WORDS = 3

# Particles inside names ("Banco de España", "Ludwig van Beethoven").
_PARTICLES = {
    "de": {"von", "van", "zu", "de"},  # not "der": an article there ("Vorstand der Bank")
    "es": {"de", "del", "la", "las", "los", "y"},
    "fr": {"de", "du", "des", "la", "le", "d'"},
    "it": {"di", "del", "della", "dei", "degli", "de", "da"},
    "nl": {"van", "de", "der", "den", "het", "ter", "ten", "voor"},
    "pt": {"de", "da", "do", "dos", "das", "e"},
}
# Words that start a sentence or a run and name nothing themselves.
_FUNCTION = {
    "de": {"der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "einem", "und"}
    | {"oder", "aber", "in", "im", "am", "an", "auf", "aus", "bei", "mit", "nach", "von"}
    | {"vom", "zum", "zur", "für", "über", "unter", "er", "sie", "es", "wir", "ich", "man"}
    | {"dieser", "diese", "dieses", "auch", "doch", "als", "wie", "wenn", "dass", "nicht"},
    "es": {"el", "la", "los", "las", "un", "una", "y", "o", "pero", "en", "de", "del", "a"}
    | {"al", "por", "para", "con", "sin", "sobre", "según", "este", "esta", "ese", "esa"}
    | {"él", "ella", "ellos", "se", "su", "sus", "no", "que", "como", "cuando", "tras"},
    "fr": {"le", "la", "les", "l'", "un", "une", "des", "du", "de", "et", "ou", "mais"}
    | {"en", "à", "au", "aux", "par", "pour", "avec", "sans", "sur", "selon", "ce", "cette"}
    | {"il", "elle", "ils", "elles", "on", "nous", "son", "sa", "ses", "ne", "que", "après"},
    "it": {"il", "lo", "la", "i", "gli", "le", "un", "uno", "una", "e", "o", "ma", "in"}
    | {"di", "del", "della", "a", "al", "alla", "da", "per", "con", "su", "secondo", "questo"}
    | {"questa", "lui", "lei", "loro", "si", "suo", "sua", "non", "che", "come", "dopo"},
    "nl": {"de", "het", "een", "en", "of", "maar", "in", "op", "aan", "uit", "bij", "met"}
    | {"naar", "van", "voor", "door", "over", "onder", "hij", "zij", "ze", "wij", "we"}
    | {"ik", "men", "dit", "dat", "deze", "die", "zijn", "haar", "niet", "als", "toen"},
    "pt": {"o", "a", "os", "as", "um", "uma", "e", "ou", "mas", "em", "no", "na", "nos"}
    | {"nas", "de", "do", "da", "dos", "das", "ao", "por", "para", "com", "sem", "sobre"}
    | {"segundo", "este", "esta", "ele", "ela", "eles", "seu", "sua", "não", "que", "após"},
}
# Titles before a person's name, lower-cased without a dot.
_TITLES = {
    "de": {"herr", "frau", "dr", "prof", "kanzler", "kanzlerin", "präsident", "präsidentin"}
    | {"minister", "ministerin", "bürgermeister", "bürgermeisterin", "trainer", "papst"},
    "es": {"señor", "señora", "sr", "sra", "don", "doña", "presidente", "presidenta"}
    | {"ministro", "ministra", "alcalde", "alcaldesa", "rey", "reina", "papa", "doctor"},
    "fr": {"m", "mme", "monsieur", "madame", "président", "présidente", "ministre", "maire"}
    | {"roi", "reine", "pape", "docteur", "général"},
    "it": {"signor", "signora", "sig", "sig.ra", "presidente", "ministro", "ministra"}
    | {"sindaco", "re", "regina", "papa", "dottor", "dottore", "generale"},
    "nl": {"meneer", "mevrouw", "dhr", "mw", "mevr", "minister", "premier", "burgemeester"}
    | {"koning", "koningin", "paus", "dokter", "generaal", "president", "trainer"},
    "pt": {"senhor", "senhora", "sr", "sra", "dom", "dona", "presidente", "presidenta"}
    | {"ministro", "ministra", "prefeito", "prefeita", "rei", "rainha", "papa", "doutor"},
}
# Legal forms, as written (dots and case), at the end of a company's name (or, in Russian, in
# front of it).
_LEGAL_FORMS = {
    "de": {"GmbH", "AG", "KG", "KGaA", "OHG", "SE", "e.V.", "eV", "mbH", "Co.", "GbR"},
    "es": {"S.A.", "SA", "S.L.", "SL", "S.A.U.", "SAU", "S.Coop."},
    "fr": {"SA", "S.A.", "SARL", "SAS", "SCA", "SNC"},
    "it": {"S.p.A.", "SpA", "S.r.l.", "Srl", "S.a.s.", "S.n.c."},
    "nl": {"B.V.", "BV", "N.V.", "NV", "V.O.F.", "VOF"},
    "pt": {"S.A.", "SA", "Lda.", "Lda", "Ltda.", "Ltda"},
}
RUSSIAN_FORMS = frozenset({"ООО", "ОАО", "ЗАО", "ПАО", "АО", "НКО", "ГУП", "МУП"})  # noqa: RUF001
# Head nouns of organisations' names, lower-cased. German and Dutch write compounds in one
# word, so there a word ending with a head names an organisation too ("Bundesministerium").
_HEADS = {
    "de": {"partei", "universität", "bank", "ministerium", "regierung", "kommission"}
    | {"gericht", "verband", "verein", "stiftung", "institut", "gewerkschaft", "polizei"}
    | {"bundestag", "landtag", "parlament", "gruppe", "agentur", "union", "konzern"}
    | {"verlag", "zeitung", "gesellschaft", "hochschule", "akademie", "behörde", "amt"},
    "es": {"ministerio", "partido", "universidad", "banco", "gobierno", "consejo"}
    | {"comisión", "tribunal", "asociación", "fundación", "federación", "instituto"}
    | {"sindicato", "ayuntamiento", "junta", "policía", "ejército", "congreso", "senado"}
    | {"club", "grupo", "compañía", "empresa", "agencia", "unión", "organización", "diario"},
    "fr": {"ministère", "parti", "université", "banque", "gouvernement", "conseil"}
    | {"commission", "tribunal", "association", "fondation", "fédération", "institut"}
    | {"syndicat", "mairie", "police", "armée", "assemblée", "sénat", "groupe", "agence"}
    | {"union", "organisation", "société", "compagnie", "journal", "club"},
    "it": {"ministero", "partito", "università", "banca", "banco", "governo", "consiglio"}
    | {"commissione", "tribunale", "associazione", "fondazione", "federazione", "istituto"}
    | {"sindacato", "comune", "polizia", "esercito", "camera", "senato", "gruppo"}
    | {"agenzia", "unione", "organizzazione", "società", "compagnia", "club"},
    "nl": {"ministerie", "partij", "universiteit", "bank", "regering", "raad", "commissie"}
    | {"rechtbank", "vereniging", "stichting", "federatie", "instituut", "vakbond"}
    | {"gemeente", "politie", "leger", "kamer", "senaat", "groep", "agentschap", "bond"}
    | {"unie", "organisatie", "maatschappij", "krant", "club"},
    "pt": {"ministério", "partido", "universidade", "banco", "governo", "conselho"}
    | {"comissão", "tribunal", "associação", "fundação", "federação", "instituto"}
    | {"sindicato", "câmara", "polícia", "exército", "congresso", "senado", "grupo"}
    | {"agência", "união", "organização", "companhia", "empresa", "clube"},
}
_COMPOUNDING = frozenset({"de", "nl"})
# Prepositions of place: a known town after one is a place whatever its size.
_PLACE_PREPOSITIONS = {
    "de": {"in", "nach", "aus", "bei", "von"},
    "es": {"en", "desde", "hacia", "de"},
    "fr": {"à", "en", "de", "depuis", "vers"},
    "it": {"a", "in", "da", "verso"},
    "nl": {"in", "naar", "uit", "bij", "te"},
    "pt": {"em", "no", "na", "de", "para"},
}
# German adjectives by their derivational suffix and inflection ("Europäische",
# "Hessischen", "Bundesdeutsches"); a plural noun ends in -en or -e too ("Milliarden"), so
# the inflection alone is no evidence.
_ADJECTIVE_ENDINGS = tuple(
    stem + ending
    for stem in ("isch", "lich", "ig", "bar", "sam", "haft", "al", "ell", "iv", "är", "deutsch")
    for ending in ("e", "en", "er", "es", "em")
)
# Words written with a dot that does not end a sentence.
_ABBREVIATIONS = frozenset({"prof", "dipl", "ing", "mag", "sra", "mme", "dott", "mevr", "gen"})
# gender-guesser's data file: the name in columns 4-29, a sorting mark in column 30.
_NAMES_FILE = "data/nam_dict.txt"
_SORT_MARK = 29


@cache
def given_names() -> frozenset[str]:
    """Given names of ``gender-guesser``'s multilingual list (≈ 45,000 names of 54 countries,
    GNU FDL data), lower-cased; read as a data file through importlib.resources."""
    text = resources.files("gender_guesser").joinpath(_NAMES_FILE).read_text(encoding="utf-8")
    found = set()
    for line in text.splitlines():
        if not line or line[0] in "#=":
            continue
        name = line[3:_SORT_MARK].strip()  # column 30 marks how umlauts were sorted
        if name and " " not in name:
            found.add(name.replace("+", "-").lower())
    return frozenset(found)


def _title_case(word: str) -> bool:
    return word[:1].isupper() and any(c.islower() for c in word)


@cache
def _run_pattern(language: str) -> re.Pattern[str]:
    particles = "|".join(re.escape(p) for p in sorted(_PARTICLES.get(language, ()), key=len)[::-1])
    inside = rf"(?: (?:(?:{particles}) )*{_WORD})*" if particles else rf"(?: {_WORD})*"
    return re.compile(rf"(?<![\w'\u2019-]){_WORD}{inside}")


def _strip(word: str) -> str:
    return word.rstrip(".,;:'\u2019").lower()


def candidates(text: str, language: str, lower_words: set[str]) -> list[tuple[int, int, bool]]:
    """Runs of capitalised words as (start, end, sentence-initial): function words in front
    and a sentence's first word the text also writes in lower case cut off, a trailing
    possessive, comma or dot too (not a legal form's: "S.A.")."""
    function = _FUNCTION.get(language, set())
    forms = _LEGAL_FORMS.get(language, set())
    runs = []
    for match in _run_pattern(language).finditer(text):
        first, name = match.start(), match[0]
        initial = bool(_SENTENCE_END.search(text, max(0, first - 3), first))
        while name:
            word, _, rest = name.partition(" ")
            key = _strip(word)
            if key not in function and not (initial and key in lower_words):
                break
            first, name, initial = first + len(word) + 1, rest, False
            while name and not name[0].isupper():  # particles left in front
                word, _, name = name.partition(" ")
                first += len(word) + 1
        if not name:
            continue
        # A word ending in a dot ends the sentence ("Narbonne. Le"), unless an initial or an
        # abbreviation ("S.A.", "Dr.").
        end = re.search(r"(?<=[^\W\d_]{3})\. ", name)
        before_dot = name[: end.start()].split(" ")[-1] if end else ""
        if end and "." not in before_dot and before_dot.lower() not in _ABBREVIATIONS:
            name = name[: end.start()]
        words = name.split(" ")
        if words[-1] not in forms and not _INITIAL.fullmatch(words[-1]):
            name = re.sub(r"(?:['\u2019]s?|[.,;:])$", "", name)
        runs.append((first, first + len(name), initial))
    return runs


@lru_cache(maxsize=1 << 16)
def _is_place(name: str, language: str) -> bool:
    return toponyms.is_place(name, named_after=True, language=language) or bool(
        gazetteer.waters(name)
    )


@lru_cache(maxsize=1 << 16)
def _is_country(name: str, language: str) -> bool:
    return any(p.kind == "country" for p in gazetteer.candidates(name, language))


@lru_cache(maxsize=1 << 16)
def _is_town(name: str, language: str) -> bool:
    return any(
        p.kind != "city" or p.population >= gazetteer.MIN_TOWN_POPULATION
        for p in gazetteer.candidates(name, language)
    )


def _is_org(words: list[str], language: str) -> bool:
    if words[-1] in _LEGAL_FORMS.get(language, ()) and len(words) > 1:
        return True
    heads = _HEADS.get(language, set())
    lowered = [_strip(w) for w in words]
    if any(w in heads for w in lowered):
        return len(words) > 1  # "Regierung" alone is a common noun
    return language in _COMPOUNDING and any(
        w.endswith(h) and len(w) > len(h) + 2 for w in lowered for h in heads
    )


def german_name(words: list[str], lower_words: set[str]) -> int:
    """How many leading words of a German run are common nouns before the name ("Konzern" in
    "Konzern Siemens AG"): the name is its last word, with the capitalised adjectives before
    it ("Deutsche Bank AG", "Bayerische Motoren Werke AG") and its legal form after."""
    for at in range(1, len(words) - 1):  # a person after nouns: "Energieexperte Prof. Dr. X"
        if _starts_person(words[at:], lower_words):
            return at
    end = len(words) - 1 if words[-1] in _LEGAL_FORMS["de"] and len(words) > 1 else len(words)
    first = end - 1
    while first > 0 and _adjective(words[first - 1], lower_words):
        first -= 1
    return max(first, 0)


def _adjective(word: str, lower_words: set[str]) -> bool:
    """A German capitalised adjective: an adjective's ending, not written in lower case."""
    lower = word.lower()
    return lower.endswith(_ADJECTIVE_ENDINGS) and lower not in lower_words and word.isalpha()


def label(words: list[str], language: str, before: str, lower_words: set[str]) -> str | None:
    """PERSON, ORG, GPE or None for a candidate's words, ``before`` being the word in front."""
    if len(words) > _MAX_WORDS:
        return None
    name = " ".join(words)
    if _is_org(words, language):
        return "ORG"
    if len(words) == 1 and _ACRONYM.fullmatch(name):
        return "GPE" if _is_place(name, language) else "ORG"
    if _is_place(name, language) or (
        before in _PLACE_PREPOSITIONS.get(language, ()) and _is_town(name, language)
    ):
        return "GPE"
    capitalised = [w for w in words if w[:1].isupper()]
    if not all(_title_case(w) for w in capitalised):
        return None
    first = words[0].lower()
    # A given name that is a country's is no evidence of a person ("France Télévisions").
    given = (
        first in given_names() and first not in lower_words and not _is_country(words[0], language)
    )
    if 1 < len(words) <= _PERSON_WORDS + 1 and given:
        return "PERSON"
    if before.rstrip(".") in _TITLES.get(language, ()):
        return "PERSON"
    if language == "de":
        # A capitalised adjective before a noun is part of a name ("Deutsche Bahn").
        if len(words) == 2 and words[0].lower().endswith(_ADJECTIVE_ENDINGS):
            return "ORG" if words[0].lower() not in lower_words else None
        return None
    return "PERSON" if 1 < len(capitalised) <= _PERSON_WORDS else None


def _starts_person(words: list[str], lower_words: set[str]) -> bool:
    """Whether a run is a title or a given name and a family name ("Angela Merkel")."""
    head = words[0].lower().rstrip(".")
    if head in _TITLES["de"] or head in _ABBREVIATIONS:
        return True
    return head in given_names() and head not in lower_words and _title_case(words[-1])


_PREVIOUS_WORD = re.compile(r"([\w.']+)\s+$")


def find(
    text: str, language: str, start: int = 0, mentions: list[Mention] | None = None
) -> list[Mention]:
    """Mentions of persons, organisations and places in ``text`` from ``start`` on that no
    mention in ``mentions`` covers or spells (those are re-matched with their cluster)."""
    mentions = mentions or []
    lower_words = set(_LOWER_WORD.findall(text))
    taken = toponyms.Taken([(m.start, m.end) for m in mentions if m.end > start])
    known = {m.text for m in mentions}
    found = []
    for first, last, initial in candidates(text, language, lower_words):
        if first < start or taken.overlaps(first, last) or text[first:last] in known:
            continue
        words = text[first:last].split(" ")
        previous = _PREVIOUS_WORD.search(text, max(0, first - 30), first)
        before = previous[1].lower() if previous else ""
        if language == "de" and len(words) > 1 and not _starts_person(words, lower_words):
            skip = german_name(words, lower_words)
            first += sum(len(w) + 1 for w in words[:skip])
            words = words[skip:]
        titles = _TITLES.get(language, set())
        while len(words) > 1 and (_strip(words[0]) in titles or _strip(words[0]) in _ABBREVIATIONS):
            before = _strip(words[0])
            first += len(words.pop(0)) + 1
            initial = False
        kind = label(words, language, before, lower_words)
        if kind == "PERSON" and initial and len(words) == 1:
            continue
        if kind:
            found.append(Mention(kind, first, last, text[first:last]))
    return found


def is_name(text: str) -> bool:
    """Whether a mention a pipeline found can be a name in a language that capitalises names:
    it holds a capital letter and is more than an elided word ("L'", "qu'" written with the
    typographic apostrophe, which the small models were not trained on)."""
    core = text.rstrip("'\u2019")
    return len(core) > 1 and core != text.lower() and not text.endswith(("'", "\u2019"))


def russian_forms(text: str) -> list[Mention]:
    """Companies named with a Russian legal form in front of their quoted name (OOO, OAO,
    ZAO... in Cyrillic, then the name in «» quotes)."""
    forms = "|".join(sorted(RUSSIAN_FORMS, key=len, reverse=True))
    pattern = rf"(?<!\w)(?:{forms})\s+(?:«[^»\n]{{1,60}}»|\"[^\"\n]{{1,60}}\")"
    return [Mention("ORG", m.start(), m.end(), m[0]) for m in re.finditer(pattern, text)]
