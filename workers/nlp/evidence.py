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
  ("in Tübingen", "en Cuenca"), opening a dateline ("Wetzlar (dpa)") or listed beside a
  place ("nach Wien, Wetzlar und Krakau"); a water the gazetteer knows ("Ostsee"); with the
  capitalised article the pass cut off where the gazetteer knows the name so ("Den Haag").

German places have rules of their own: a known place in front of a run is cut from the nouns
German capitalises after it ("in Peking Vierter", "Bremens Stürmer"; "von" before a town is
a preposition, not a particle); a noun of a kind of place names the place after it ("die
Kreisstadt Torgau", even unknown to the gazetteer); a direction with a country or a region
in one word is a place ("Ostdeutschland"); a town takes no article, no place an indefinite
one ("einem Mann", "den Bergen"), and words of direction are nouns ("Mitte Mai"); a run of an
organisation's head or an abbreviation before a place is the organisation ("Universität
Leipzig", "VfB Stuttgart"); "am Main" after a town is part of its name when the gazetteer
knows the longer one.

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
    return (
        toponyms.is_place(name, named_after=True, language=language)
        or bool(gazetteer.waters(name, language))
        or (language == "de" and _compass_compound(name))
        or any(  # a town by its own name declined ("Leipzigs Trainer")
            toponyms.is_place(form, named_after=True, language=language)
            for form in gazetteer.base_forms(gazetteer.key(name), language)
            if language == "de"
        )
    )


# German writes a part of a country or a continent as one word with the direction
# ("Ostdeutschland", "Nordafrika", "Oberitalien"), longest prefix first.
_COMPASS_PREFIXES = (
    *(a + b for a in ("Nord", "Süd") for b in ("ost", "west")),
    *("Nord", "Süd", "Ost", "West", "Mittel", "Zentral", "Ober", "Nieder", "Inner"),
)


def _compass_compound(name: str) -> bool:
    """A German word of a direction and a country's, a region's or a continent's name."""
    prefix = next((p for p in _COMPASS_PREFIXES if name.startswith(p)), "")
    rest = name[len(prefix) :]
    if not prefix or " " in name or len(rest) < 4:
        return False
    return any(
        p.kind in ("country", "region", "continent")
        for p in gazetteer.candidates(rest[0].upper() + rest[1:], "de")
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
    if language == "de" and not _german_place_possible(name, before):
        return None
    if _is_place(name, language) or (
        before in _PLACE_PREPOSITIONS.get(language, ()) and _is_town(name, language)
    ):
        return "GPE"
    if language == "de" and _place_noun(before) and len(words) <= 2 and not _is_org(words, "de"):
        return "GPE"  # "die Stadt Halle", "der Gemeinde Pflückuff", "der Fluss Havel"
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


# German nouns that name a kind of place before its name, in apposition ("die Kreisstadt
# Torgau"); compounds of the first two ("Kreisstadt", "Marktgemeinde") are such nouns too.
_PLACE_NOUNS = frozenset(
    {"stadt", "gemeinde", "dorf", "ortschaft", "ortsteil", "stadtteil", "stadtbezirk"}
    | {"landkreis", "bezirk", "kanton", "provinz", "bundesland", "bundesstaat", "insel"}
    | {"fluss", "berg", "gebirge", "tal", "halbinsel", "region", "landschaft"}
)
# Words of direction and position: German common nouns ("von Norden nach Süden", "Mitte
# Mai"), never a place by themselves, whatever town bears the name.
_DIRECTIONS = frozenset(
    {"nord", "süd", "ost", "west", "norden", "süden", "osten", "westen", "mitte", "zentrum"}
)
# Articles and quantifiers: a town's name takes none in German ("in Berlin"; "einem Mann",
# "den Bergen", "mehrere Male" are nouns), and no place takes an indefinite one or a number.
_DEFINITE = frozenset({"der", "die", "das", "den", "dem", "des", "diese", "dieser", "diesem"})
_INDEFINITE = frozenset(
    {"ein", "eine", "einen", "einem", "einer", "eines", "kein", "keine", "keinen", "keinem"}
    | {"mehrere", "einige", "viele", "wenige", "alle", "zwei", "drei", "vier", "beiden"}
)


_AFTER_INDEFINITE = re.compile(
    rf"(?<!\w)(?:{'|'.join(sorted(_INDEFINITE))})\s+({_UPPER}\w+)", re.IGNORECASE
)


def _place_noun(word: str) -> bool:
    return word in _PLACE_NOUNS or (
        word.endswith(("stadt", "gemeinde")) and not gazetteer.candidates(word, "de")
    )


def _german_place_possible(name: str, before: str) -> bool:
    """Whether German grammar lets ``name`` after ``before`` be a place: not a word of
    direction, not after an indefinite article or a number, and a town (no country, region
    or water of that name) not after a definite article."""
    if name.lower() in _DIRECTIONS or before in _INDEFINITE:
        return False
    if before in _DEFINITE:
        found = gazetteer.candidates(name, "de")
        return bool(gazetteer.waters(name, "de")) or any(p.kind != "city" for p in found)
    return True


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
    if language == "de":  # nouns: the words the text writes after an indefinite article
        lower_words |= {w.lower() for w in _AFTER_INDEFINITE.findall(text)}
    taken = toponyms.Taken([(m.start, m.end) for m in mentions if m.end > start])
    known = {m.text for m in mentions}
    found: list[Mention] = []
    unread: list[tuple[int, int]] = []  # candidates with no label, for the coordination rule
    runs = candidates(text, language, lower_words)
    if language == "de":
        runs = _split_at_particles(text, runs, lower_words)
    for first, last, initial in runs:
        if first < start or taken.overlaps(first, last) or text[first:last] in known:
            continue
        words = text[first:last].split(" ")
        previous = _PREVIOUS_WORD.search(text, max(0, first - 30), first)
        before = previous[1].lower() if previous else ""
        first, named = _with_article(text, first, words, language)
        if named:
            found.append(Mention("GPE", first, last, text[first:last]))
            continue
        if language == "de" and len(words) > 1:
            at = first
            first, words, before = _german_run(text, first, words, before, lower_words, found)
            initial = initial and first == at
            if not words:
                continue
        titles = _TITLES.get(language, set())
        while len(words) > 1 and (_strip(words[0]) in titles or _strip(words[0]) in _ABBREVIATIONS):
            before = _strip(words[0])
            first += len(words.pop(0)) + 1
            initial = False
        kind = label(words, language, before, lower_words)
        if kind is None and _dateline(text, first, last) and _is_town(" ".join(words), language):
            kind = "GPE"
        if kind == "PERSON" and initial and len(words) == 1:
            continue
        if kind == "GPE":
            first, last = _whole_place(text, first, last, language)
        if kind:
            found.append(Mention(kind, first, last, text[first:last]))
        elif len(words) == 1:
            unread.append((first, last))
    return found + _coordinated(text, language, found, unread)


# What follows a dateline's town: the agency in brackets or a dash ("Nürnberg (dpa)",
# "Madrid (EFE)", "Berlin - ").
_AFTER_DATELINE = re.compile(r" ?\([A-Za-z][\w./ -]{0,19}\)| [-\u2013\u2014] ")


def _dateline(text: str, first: int, last: int) -> bool:
    """Whether a name opens a line as a dateline's town."""
    return (first == 0 or text[first - 1] == "\n") and bool(_AFTER_DATELINE.match(text, last))


def _split_at_particles(
    text: str, runs: list[tuple[int, int, bool]], lower_words: set[str]
) -> list[tuple[int, int, bool]]:
    """German runs cut at "von" or "zu" before a town where no person's name starts the run:
    the particles join a person's names ("Ursula von der Leyen", "Graf von Berlichingen");
    elsewhere they are prepositions ("Plan von Erfurts Trainer")."""
    split = []
    for first, last, initial in runs:
        words = text[first:last].split(" ")
        at = next((i for i, w in enumerate(words[:-1]) if w in ("von", "zu")), 0)
        if (
            not at
            or _starts_person(words[:at], lower_words)
            or not _is_town(words[at + 1], "de")
            or _starts_person(words[at + 1 :], lower_words)  # "Filme von Oliver Stone"
        ):
            split.append((first, last, initial))
            continue
        head = first + len(" ".join(words[:at]))
        split.append((first, head, initial))
        split.extend(
            _split_at_particles(text, [(head + len(words[at]) + 2, last, False)], lower_words)
        )
    return split


def _german_run(
    text: str, first: int, words: list[str], before: str, lower_words: set[str], found: list
) -> tuple[int, list[str], str]:
    """A German run of several capitalised words read down to its name: a place in front
    that the nouns after it were glued to (added to ``found``), then the common nouns before
    the name cut ("Kreisstadt Torgau": the noun becomes the word ``before`` it), or the
    whole run an organisation named after its place (added; no words left). Returns the
    name's start, its words and the word before it."""
    lead = 0 if _starts_person(words, lower_words) else _leading_place(words, before)
    if lead:
        end = first + len(" ".join(words[:lead]))
        found.append(Mention("GPE", first, end, text[first:end]))
        first, words, before = end + 1, words[lead:], ""
    if len(words) < 2 or _starts_person(words, lower_words) or _is_place(" ".join(words), "de"):
        return first, words, before  # "Vereinigten Staaten": a place as a whole
    skip = german_name(words, lower_words)
    if skip and _named_after_place(words, skip, lower_words):
        end = first + len(" ".join(words))
        found.append(Mention("ORG", first, end, text[first:end]))
        return first, [], before
    if skip:
        before = _strip(words[skip - 1])
    return first + sum(len(w) + 1 for w in words[:skip]), words[skip:], before


def _leading_place(words: list[str], before: str) -> int:
    """How many leading words of a German run are a place the run only glues to the nouns
    after it (German capitalises them): "in Peking Vierter", "bei Genf Atomkerne", "Bremens
    Stürmer" (a genitive before its noun). A known place, or a town after a preposition of
    place; not the start of a longer name the gazetteer knows."""
    if _is_place(" ".join(words), "de"):
        return 0
    for count in range(len(words) - 1, 0, -1):
        name = " ".join(words[:count])
        if any(c.isdigit() for c in name) or _is_org(words[:count], "de"):
            continue
        if not _german_place_possible(name, before):
            continue
        if _is_place(name, "de") or (before in _PLACE_PREPOSITIONS["de"] and _is_town(name, "de")):
            return count
    return 0


def _named_after_place(words: list[str], skip: int, lower_words: set[str]) -> bool:
    """Whether a German run is an organisation named after its place: a head noun or an
    abbreviation before the place ("Medizinische Hochschule Hannover", "VfL Osnabrück",
    "TH Zürich"), as a place after an organisation's "of" is in English."""
    name = " ".join(words[skip:])
    if not _is_place(name, "de"):
        return False
    head = words[:skip]
    abbreviation = any(sum(c.isupper() for c in w) >= 2 and not _is_place(w, "de") for w in head)
    heads = _HEADS["de"]
    return abbreviation or any(_strip(w).endswith(tuple(heads)) for w in head)


# A German town's name and the river or region that tells it from its namesakes
# ("Frankfurt am Main", "Freiburg im Breisgau", "Brandenburg an der Havel").
_DISTINGUISHED = re.compile(rf" (?:am|im|an der|in der|ob der) {_WORD}(?: {_WORD})?")


def _with_article(text: str, first: int, words: list[str], language: str) -> tuple[int, bool]:
    """Where a candidate starts with the capitalised article in front that the names pass cut
    off as a function word, when the gazetteer knows a town of the name with it ("Den Haag",
    "La Coruña"), and whether it did."""
    article = re.search(r"(?:^|(?<=\s))([A-Z][a-z]{1,2}) $", text[max(0, first - 5) : first])
    if article and _is_town(f"{article[1]} {' '.join(words)}", language):
        return first - len(article[1]) - 1, True
    return first, False


def _whole_place(text: str, first: int, last: int, language: str) -> tuple[int, int]:
    """The span of a German town with the river or region after it that is part of its
    name where the gazetteer knows the longer name ("Frankfurt am Main")."""
    after = _DISTINGUISHED.match(text, last) if language == "de" else None
    if after:
        for end in (after.end(), text.rfind(" ", after.start(), after.end())):
            if end > last and gazetteer.candidates(text[first:end].rstrip(".,;:"), language):
                return first, first + len(text[first:end].rstrip(".,;:"))
    return first, last


# Conjunctions of a list, per language: a town listed beside a place is a place ("Avignon,
# Darmstadt, Berlin, Warschau und Venedig").
_CONJUNCTIONS = {
    "de": ("und", "oder", "sowie"),
    "es": ("y", "e", "o"),
    "fr": ("et", "ou"),
    "it": ("e", "ed", "o"),
    "nl": ("en", "of"),
    "pt": ("e", "ou"),
}


def _coordinated(
    text: str, language: str, found: list[Mention], unread: list[tuple[int, int]]
) -> list[Mention]:
    """Single words with no label that the gazetteer knows as towns and that the text lists
    beside a place it found, read along the list until nothing more joins."""
    conjunctions = "|".join(_CONJUNCTIONS.get(language, ()))
    between = re.compile(rf"\s*,\s*|,?\s+(?:{conjunctions})\s+" if conjunctions else r"\s*,\s*")
    places = [(m.start, m.end) for m in found if m.label == "GPE"]
    added: list[Mention] = []
    pending = [(a, b) for a, b in unread if _is_town(text[a:b], language)]
    while pending:
        joined = [
            (a, b)
            for a, b in pending
            if any(
                between.fullmatch(text[end:a]) or between.fullmatch(text[b:start])
                for start, end in places
            )
        ]
        if not joined:
            break
        for a, b in joined:
            added.append(Mention("GPE", a, b, text[a:b]))
            places.append((a, b))
            pending.remove((a, b))
    return added


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
