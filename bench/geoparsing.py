"""Reader and scorer of the geoparsing development sets (TR-News, GeoVirus) for bench/places.py.

Each article becomes an HTML page (headline as ``<h1>``, paragraphs as ``<p>``) that goes
through the cleaning stage; gold toponyms are mapped into the text the stage returns. Scoring
follows the sets' README: one-to-one recognition (exact and overlap-only), great-circle error
of the matched toponyms that have gold coordinates, accuracy@161 km, mean/median and AUC,
and beside them, as information, the share resolved to the gold's area (:func:`same_area`).
"""

from __future__ import annotations

import hashlib
import html
import math
import os
import re
import statistics
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from itertools import pairwise
from pathlib import Path
from urllib.parse import unquote, urlsplit

# ../shared/data beside the repository; NEWSFLOW_SHARED_DATA points elsewhere (a worktree).
SHARED_DATA = Path(
    os.environ.get("NEWSFLOW_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)
DATA = SHARED_DATA / "geoparsing-dev"
MAX_ERROR_KM = 20039.0
HELD_OUT_SHARE = 3  # one article in three (by hash of its text) is kept out of development


@dataclass
class Toponym:
    phrase: str
    start: int  # into the source text, then into the cleaned text once mapped
    end: int
    lat: float | None
    lon: float | None


@dataclass
class Article:
    corpus: str
    url: str
    title: str
    text: str
    toponyms: list[Toponym]
    held_out: bool = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha1(self.text.encode()).digest()
        self.held_out = digest[0] % HELD_OUT_SHARE == 0

    def page(self) -> bytes:
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in self.text.split("\n") if p)
        head = html.escape(self.title)
        return (
            f"<html><head><title>{head}</title></head><body><article><h1>{head}</h1>"
            f"{paragraphs}</article></body></html>"
        ).encode()


def _nearest(text: str, phrase: str, expected: int) -> int | None:
    starts = [m.start() for m in re.finditer(re.escape(phrase), text)]
    return min(starts, key=lambda s: abs(s - expected)) if starts else None


def _fixed(text: str, phrase: str, start: int) -> int:
    """Where ``phrase`` really starts: some TR-News offsets are up to 10 characters late."""
    window = max(0, start - 12)
    found = _nearest(text[window : start + len(phrase) + 12], phrase, start - window)
    return start if found is None else window + found


def tr_news() -> list[Article]:
    articles = []
    for node in ET.parse(DATA / "TR-News.xml").getroot():
        text = node.findtext("text") or ""
        toponyms = []
        for t in node.find("toponyms"):
            phrase, start = t.findtext("phrase"), int(t.findtext("start"))
            begin = _fixed(text, phrase, start)
            gaz = t.find("gaztag")
            lat = float(gaz.findtext("lat")) if gaz is not None else None
            lon = float(gaz.findtext("lon")) if gaz is not None else None
            toponyms.append(Toponym(phrase, begin, begin + len(phrase), lat, lon))
        url = (node.findtext("url") or "").strip()
        articles.append(
            Article("TR-News", url, (node.findtext("title") or "").strip(), text, toponyms)
        )
    return articles


def geovirus() -> list[Article]:
    articles = []
    for node in ET.parse(DATA / "GeoVirus.xml").getroot():
        text = node.findtext("text") or ""
        toponyms = []
        for loc in node.find("locations"):
            start = int(loc.findtext("start")) - 1  # the set's offsets are shifted by one
            name = loc.findtext("name")
            toponyms.append(
                Toponym(
                    name,
                    start,
                    start + len(name),
                    float(loc.findtext("lat")),
                    float(loc.findtext("lon")),
                )
            )
        url = (node.findtext("source") or "").strip()
        title = unquote(urlsplit(url).path.rsplit("/", 1)[-1]).replace("_", " ")
        articles.append(Article("GeoVirus", url, title, text, toponyms))
    return articles


def body_start(cleaned: str, source: str) -> int:
    """Where the article's own text starts in ``cleaned``: the cleaning stage puts the
    headline before it, and the sets annotate no headline."""
    return _nearest(cleaned, source[:40].strip(), 0) or 0


def map_into(cleaned: str, source: str, toponyms: list[Toponym]) -> list[Toponym]:
    """The gold toponyms at their places in ``cleaned`` (the stage's text), in order, each
    looked up near where the shift of the previous one says it should be."""
    shift, mapped = body_start(cleaned, source), []
    for t in sorted(toponyms, key=lambda t: t.start):
        found = _nearest(cleaned, t.phrase, t.start + shift)
        if found is None:
            continue
        shift = found - t.start
        mapped.append(Toponym(t.phrase, found, found + len(t.phrase), t.lat, t.lon))
    return mapped


def surface(text: str) -> str:
    key = text.lower().replace(".", "").strip()
    key = re.sub(r"['\u2019]s?$", "", key)
    return key.removeprefix("the ").strip()


def match(gold: list[Toponym], predicted: list[tuple[int, int, str]], exact: bool) -> dict:
    """One-to-one matching of predicted (start, end, text) spans to gold toponyms."""
    pairs, used = {}, set()
    for i, g in enumerate(gold):
        for j, (start, end, text) in enumerate(predicted):
            if j in used or not (start < g.end and g.start < end):
                continue
            if exact and surface(text) != surface(g.phrase):
                continue
            pairs[i] = j
            used.add(j)
            break
    return pairs


def haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371 * math.asin(min(1.0, math.sqrt(h)))


def error_km(gold: Toponym, predicted: tuple[float, float] | None) -> float:
    if predicted is None or None in predicted:
        return MAX_ERROR_KM
    return haversine((gold.lat, gold.lon), predicted)


def resolution(errors: list[float]) -> dict[str, float]:
    if not errors:
        return {"acc161": 0.0, "mean": 0.0, "median": 0.0, "auc": 0.0, "n": 0}
    ordered = sorted(errors)
    logs = [math.log(1 + e) for e in ordered]
    area = sum((a + b) / 2 for a, b in pairwise(logs))
    auc = area / (math.log(MAX_ERROR_KM) * (len(logs) - 1)) if len(logs) > 1 else logs[0]
    return {
        "acc161": sum(e < 161 for e in errors) / len(errors),
        "mean": statistics.mean(errors),
        "median": statistics.median(errors),
        "auc": auc,
        "n": len(errors),
    }


def _inside(ring: list, lat: float, lon: float) -> bool:
    """Whether (lat, lon) is inside a GeoJSON ring (ray casting)."""
    found = False
    for (x0, y0), (x1, y1) in pairwise(ring):
        if (y0 > lat) != (y1 > lat) and lon < x0 + (lat - y0) * (x1 - x0) / (y1 - y0):
            found = not found
    return found


@cache
def _country_polygons(code: str) -> list:
    from countryinfo import all_countries

    for country in all_countries():
        info = country.info()
        if info.get("ISO", {}).get("alpha2") == code:
            geometry = ((info.get("geoJSON") or {}).get("features") or [{}])[0].get("geometry")
            polygons = (geometry or {}).get("coordinates") or []
            return [polygons] if (geometry or {}).get("type") == "Polygon" else polygons
    return []


def in_country(code: str, lat: float, lon: float) -> bool:
    return any(polygon and _inside(polygon[0], lat, lon) for polygon in _country_polygons(code))


def same_area(gold: Toponym, place: dict | None) -> bool:
    """Information beside accuracy@161 km: the resolved place is the gold's area though its
    point is farther off (TR-News places countries and provinces at other points): within
    161 km, or a country whose borders hold the gold point, or a region of that country
    whose point is the nearest region point to the gold's (the gazetteer's crude map)."""
    if place is None or gold.lat is None:
        return False
    if haversine((gold.lat, gold.lon), (place["latitude"], place["longitude"])) < 161:
        return True
    code = place["country_code"]
    if place["kind"] not in ("country", "region") or not in_country(code, gold.lat, gold.lon):
        return False
    if place["kind"] == "country":
        return True
    from workers.nlp import gazetteer

    def region(lat: float, lon: float) -> str:
        return gazetteer.region_of(gazetteer.Place("", "city", code, lat, lon, 0))

    return region(gold.lat, gold.lon) == region(place["latitude"], place["longitude"])


def f1(tp: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)
