"""Syllables of a word by the spelling rules of its language, for readability formulas.

A syllable has one vowel sound, so each language counts its groups of vowel letters, with
the rules its spelling gives for groups that hold two syllables or letters that are silent:
- Russian: every vowel letter is a syllable of its own (exact);
- Spanish, Italian, Portuguese: two strong vowels side by side (a, e, o) are a hiatus, two
  syllables ("pa-e-se", "po-e-ta"), as is a stressed í or ú beside a vowel ("dí-a");
  Portuguese ã and õ glide into the next vowel ("não");
- French and Dutch: a vowel with a diaeresis starts a syllable ("na-ïf", "Bel-gi-ë"); French
  final -e and -es after a consonant are silent ("mesure", "tables");
- German: umlauts are vowels, diphthongs (ei, au, eu, äu) one group already.
These rules cost microseconds a word; hyphenation dictionaries (pyphen) were not used: they
never split off a single letter at a word's edge ("Abend", "aéreo"), so they count fewer
syllables than there are, and cost about ten times more.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

LANGUAGES = frozenset({"de", "es", "fr", "it", "nl", "pt", "ru"})

_VOWELS = {
    "de": "aeiouyäöü",
    "es": "aeiouáéíóúüy",
    "fr": "aeiouyàâäéèêëîïôöùûüœæ",
    "it": "aeiouàèéìíòóùú",
    "nl": "aeiouyáéíóúäëïöü",
    "pt": "aeiouáéíóúâêôãõàü",
    "ru": "аеёиоуыэюя",
}
_GROUPS = {code: re.compile(f"[{vowels}]+") for code, vowels in _VOWELS.items()}
_HIATUS_STRONG = {"es": "aeoáéó", "it": "aeoàèéòó", "pt": "aeoáéóâêô"}
_HIATUS_STRESSED = {"es": "íú", "it": "", "pt": "íú"}
_DIAERESIS = {"fr": "ëïü", "nl": "äëïöü"}


def _splits(group: str, language: str) -> int:
    """How many more syllables a vowel group holds than one."""
    extra = 0
    strong = _HIATUS_STRONG.get(language, "")
    stressed = _HIATUS_STRESSED.get(language, "")
    diaeresis = _DIAERESIS.get(language, "")
    for before, after in itertools.pairwise(group):
        hiatus = before in strong and after in strong
        if hiatus or after in diaeresis or (stressed and {before, after} & set(stressed)):
            extra += 1
    return extra


@lru_cache(maxsize=65536)
def syllables(word: str, language: str) -> int:
    """Syllables of ``word`` (letters only) in ``language`` (one of :data:`LANGUAGES`);
    at least one."""
    word = word.lower()
    if language == "ru":
        return max(len(_GROUPS["ru"].findall(word)), 1)
    groups = _GROUPS[language].findall(word)
    count = len(groups) + sum(_splits(g, language) for g in groups)
    if language == "fr" and count > 1 and re.search(r"[^aeiouyéèêàâîôûë]es?$", word):
        count -= 1  # the mute e after a consonant: "mesure", "tables"
    return max(count, 1)
