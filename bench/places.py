"""Benchmark of toponym recognition and resolution: newsflow's ``entities``/``places``
enrichers beside "the most populous place of that name" in the same gazetteer, on the
geoparsing development sets (``../shared/data/geoparsing-dev``: TR-News, GeoVirus).

Usage: ``python bench/places.py [--limit N]``. Two NER budgets side by side: the default
``NEWSFLOW_NER_MAX_CHARS`` and the whole text. Each article goes through the cleaning stage as
an HTML page, then through the two enrichers; one article in three (by hash of its text) was
kept out of sight while the resolver was developed and is reported apart ("held-out").
Recognition (in the article's text; the headline the cleaning stage puts first is not
annotated, so places found there are not scored): one-to-one, exact surface (case, a leading
"the", dots and a possessive ignored) and overlap-only. Resolution: accuracy@161 km, mean
and median error, AUC (lower is better), on the matched toponyms with gold coordinates; the
anchor resolves the same toponyms. "Same area" (information only): the share of those
resolved to the gold's area, a country or region holding the gold point included
(``geoparsing.same_area``).

``python bench/places.py --languages de,es,nl,ru`` measures the gazetteer alone beyond
English, on the named-entity sets of ``../shared/data/multilingual-ner-dev`` (read as
``bench/entities_languages.py`` reads them, same halves: A developed on, B held out): the
share of the distinct gold LOC names, as written, that the gazetteer resolves at all in the
article's language (``gazetteer.candidates(name, language)`` or a water). Those sets give no
coordinates, so whether the place found is the right one is not measured here.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections import defaultdict

import geoparsing as gp

from workers.cleaning.stage import clean_message
from workers.enrichment.enrichers.entities import EntitiesEnricher
from workers.enrichment.enrichers.places import PlacesEnricher
from workers.kafka.produce import encode_raw, raw_record
from workers.nlp import gazetteer
from workers.records.message import InputMessage
from workers.settings import Settings

WHOLE_TEXT = 100_000  # NEWSFLOW_NER_MAX_CHARS no article reaches


def predicted(entities: dict, places: dict) -> list[tuple[int, int, str, tuple | None, dict]]:
    """(start, end, text, coordinates, resolved place) of every place mention the enrichers
    return."""
    where = {p["name"]: p for p in places.get("places", [])}
    found = []
    for place in entities.get("places", []):
        resolved = where.get(place["name"])
        point = (resolved["latitude"], resolved["longitude"]) if resolved else None
        found += [(m["start"], m["end"], m["text"], point, resolved) for m in place["mentions"]]
    return found


def anchor(phrase: str) -> tuple[float, float] | None:
    place = gazetteer.most_populous(phrase)
    return None if place is None else (place.latitude, place.longitude)


def score(article: gp.Article, cleaned: str, found: list, tally: dict) -> None:
    gold = gp.map_into(cleaned, article.text, article.toponyms)
    # The headline is not annotated: places found there are neither right nor wrong.
    body = gp.body_start(cleaned, article.text)
    tally["headline"] += sum(start < body for start, *_ in found)
    found = [f for f in found if f[0] >= body]
    tally["gold"] += len(article.toponyms)
    tally["unmapped"] += len(article.toponyms) - len(gold)
    tally["predicted"] += len(found)
    spans = [(s, e, t) for s, e, t, *_ in found]
    tally["inexact"] += len(gp.match(gold, spans, exact=False))
    pairs = gp.match(gold, spans, exact=True)
    tally["exact"] += len(pairs)
    for i, j in pairs.items():
        if gold[i].lat is None:
            continue
        tally["ours"].append(gp.error_km(gold[i], found[j][3]))
        tally["same_area"] += gp.same_area(gold[i], found[j][4])
        tally["anchor"].append(gp.error_km(gold[i], anchor(gold[i].phrase)))
    for g in gold:
        if g.lat is not None:
            tally["anchor_all"].append(gp.error_km(g, anchor(g.phrase)))


def coverage(languages: list[str]) -> None:
    """The share of each set's distinct gold LOC names the gazetteer knows, per half."""
    from bench.entities_languages import HALVES, read_articles

    print(f"gazetteer coverage · {time.strftime('%Y-%m-%d')} · {platform.python_version()}\n")
    print("| language | half | distinct gold LOC names | resolved | share |")
    print("|---|---|---:|---:|---:|")
    for language in languages:
        names: dict[str, set[str]] = {half: set() for half in HALVES}
        for index, article in enumerate(read_articles(language)):
            names[HALVES[index % 2]] |= {article.text[a:b] for a, b in article.places}
        for half in HALVES:
            known = sum(
                bool(gazetteer.candidates(n, language) or gazetteer.waters(n)) for n in names[half]
            )
            total = len(names[half])
            print(f"| {language} | {half} | {total} | {known} | **{known / total:.3f}** |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--limit", type=int, default=0, help="articles per set (0: all)")
    parser.add_argument("--languages", default="", help="gazetteer coverage only: de,es,nl,ru")
    args = parser.parse_args()
    if args.languages:
        coverage(args.languages.split(","))
        return
    settings = Settings()
    budgets = {"default": settings, "whole text": Settings(ner_max_chars=WHOLE_TEXT)}
    systems = {
        name: (EntitiesEnricher(chosen), PlacesEnricher(chosen)) for name, chosen in budgets.items()
    }
    tallies: dict = defaultdict(
        lambda: defaultdict(int) | {"ours": [], "anchor": [], "anchor_all": []}
    )
    rejected: dict = defaultdict(int)
    cpu: dict = defaultdict(list)
    for corpus in (gp.tr_news(), gp.geovirus()):
        for article in corpus[: args.limit or None]:
            key, value, _ = encode_raw(raw_record(article.page(), article.url or "https://x.test/"))
            record = clean_message(InputMessage(value, key=key), settings)
            for budget, (entities, places) in systems.items():
                part = (article.corpus, "held-out" if article.held_out else "dev", budget)
                if "text" not in record:
                    rejected[part] += 1
                    continue
                started = time.process_time()
                found = predicted(entities(record), places(record))
                cpu[part].append((time.process_time() - started) * 1000)
                score(article, record["text"], found, tallies[part])

    print(f"places benchmark · {time.strftime('%Y-%m-%d')} · {platform.python_version()}\n")
    print(
        "| set | part | NER budget | docs (rejected) | gold | recognition P / R / F1 | inexact F1 "
        "| resolved | acc@161 ours | anchor | mean km ours / anchor | median km ours / anchor "
        "| AUC ours / anchor | anchor acc@161, all gold | same area ours | ms CPU/doc |"
    )
    print("|---|---|---|---:|---:|---|---:|---:|---:|---:|---|---|---|---:|---:|---:|")
    for part in sorted(tallies):
        t = tallies[part]
        p, r, f = gp.f1(t["exact"], t["predicted"], t["gold"])
        inexact = gp.f1(t["inexact"], t["predicted"], t["gold"])[2]
        ours, base = gp.resolution(t["ours"]), gp.resolution(t["anchor"])
        print(
            f"| {part[0]} | {part[1]} | {part[2]} | {len(cpu[part])} ({rejected[part]}) "
            f"| {t['gold']} "
            f"| {p:.3f} / {r:.3f} / **{f:.3f}** | {inexact:.3f} | {ours['n']} "
            f"| **{ours['acc161']:.3f}** | {base['acc161']:.3f} "
            f"| {ours['mean']:.0f} / {base['mean']:.0f} "
            f"| {ours['median']:.0f} / {base['median']:.0f} "
            f"| {ours['auc']:.3f} / {base['auc']:.3f} "
            f"| {gp.resolution(t['anchor_all'])['acc161']:.3f} "
            f"| {t['same_area'] / max(ours['n'], 1):.3f} "
            f"| {statistics.median(cpu[part]):.1f} |"
        )
    unmapped = sum(t["unmapped"] for t in tallies.values())
    headline = sum(t["headline"] for t in tallies.values())
    print(f"\ngold toponyms not found in the cleaned text (count as missed): {unmapped}")
    print(f"place mentions in headlines (not annotated, not scored): {headline}")


if __name__ == "__main__":
    main()
