"""Extraction quality and cost: our cleaning stage beside the anchors, on real pages.

Runs ``workers.cleaning.stage.clean_message`` (the function the clean worker runs) and the
anchors of bench/anchors.py (trafilatura with its defaults, trafilatura without comments,
readability-lxml) over the WCXB development articles and the Dragnet development pages,
page by page in the same process (so all see the same machine load), and prints one
Markdown table per set and half: half A is where rules are developed, half B is held out.

Metrics (defined in bench/RESULTS.md): word-level precision / recall / F1 averaged over
pages, share of ``with`` snippets found and ``without`` snippets wrongly kept, title / date /
author exact-match rates, false date / author rates on pages that have none, and CPU time
per page (process time, so other load on the machine counts little) with pages/s on one core.

    .venv/bin/python bench/extraction.py [--sets wcxb,dragnet] [--wcxb DIR] [--dragnet DIR]
        [--limit N] [--jobs 2] [--variants newsflow,...] [--dump FILE]
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import statistics
import sys
import time
import unicodedata
import zlib
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import dragnet
import wcxb
from anchors import ANCHORS, readability_text
from extraction_metadata import clutter_losses, markup_modified, metadata_table

_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")
# Name lists are split on these for the author comparison (both columns alike).
_NAME_SPLIT = re.compile(r"\s*(?:;|,|&|\band\b|\bund\b|\bet\b|\by\b)\s*", re.I)
_BY = re.compile(r"^(?:by|von|par|por)\s+", re.I)
_QUOTES = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
)


# --- metric definitions -------------------------------------------------------------------


def words(text: str | None) -> Counter[str]:
    return Counter(_WORD.findall((text or "").lower()))


def word_prf(predicted: str | None, reference: str | None) -> tuple[float, float, float]:
    """Word-level precision, recall, F1 of one page (the WCXB definition)."""
    pred, ref = words(predicted), words(reference)
    if not ref:
        return (1.0, 1.0, 1.0) if not pred else (0.0, 1.0, 0.0)
    if not pred:
        return 1.0, 0.0, 0.0
    overlap = sum((pred & ref).values())
    precision = overlap / sum(pred.values())
    recall = overlap / sum(ref.values())
    f1 = 2 * precision * recall / (precision + recall) if overlap else 0.0
    return precision, recall, f1


def norm(text: str | None) -> str:
    """Normalised for exact matching: NFKC, typographic quotes/dashes to ASCII, case folded,
    whitespace collapsed."""
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES)
    return _SPACE.sub(" ", text).strip().casefold()


def author_set(value: str | list[str] | None) -> frozenset[str]:
    """A set of normalised names; a list or a string with separators both become names."""
    items = value if isinstance(value, list) else [value or ""]
    names = set()
    for item in items:
        for part in _NAME_SPLIT.split(norm(item)):
            part = _BY.sub("", part).strip(" .")
            if part:
                names.add(part)
    return frozenset(names)


def snippet_found(snippet: str, text: str) -> bool:
    return norm(snippet) in norm(text)


# --- the two systems ----------------------------------------------------------------------


def raw_message(body: bytes, url: str) -> Any:
    """The raw-html.v1 message a crawler would publish for ``body`` fetched from ``url``."""
    from workers.records.message import InputMessage

    raw = {
        "url": url,
        "fetched_at": "2026-01-01T00:00:00Z",
        "status": 200,
        "headers": {"content-type": "text/html"},
        "html_base64": base64.b64encode(body).decode(),
    }
    return InputMessage(value=json.dumps(raw).encode())


# The stage as configured, and with each setting of the chain a user may turn on (the
# ideas whose worth is settled have no switch left; bench/RESULTS.md keeps their numbers).
VARIANTS: dict[str, dict[str, Any]] = {
    "newsflow": {},
    # readability-lxml judges every page, not only where trafilatura's text looks wrong
    "+boundary": {"extraction_boundary": True},
}


def variant_settings(name: str, settings: Any) -> Any:
    """``settings`` with the variant ``name``'s changes."""
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; known: {', '.join(VARIANTS)}")
    return settings.model_copy(update=VARIANTS[name])


def run_ours(body: bytes, url: str, settings: Any) -> dict[str, Any]:
    """The stage's record fields for one page: ``clean_message`` itself, with the settings of
    the variant (:data:`VARIANTS`)."""
    from workers.cleaning.stage import clean_message
    from workers.errors import StageError

    try:
        record = clean_message(raw_message(body, url), settings)
    except StageError as error:
        return {"text": "", "title": None, "authors": [], "date": None, "outcome": error.reason}
    except Exception as exc:  # the worker dead-letters these as internal_error; count them
        print(f"{url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return {"text": "", "title": None, "authors": [], "date": None, "outcome": "bug"}
    return {
        "text": record["text"],
        "title": record["title"],
        "authors": record["authors"],
        "date": record["published_at"],
        "modified": record.get("modified_at"),
        "outcome": "ok",
        "path": record["extractor"]["path"],
    }


def clutter_lines(body: bytes, url: str, settings: Any) -> list[tuple[str, str | None]]:
    """The stage's extracted lines before the clutter filter, each with the rule that drops
    it (None: kept): what each rule costs, measured outside the timings."""
    from dataclasses import replace

    from workers.cleaning.clutter import clutter_rules
    from workers.cleaning.envelope import open_envelope
    from workers.cleaning.options import CleanOptions
    from workers.cleaning.stage import extract_article
    from workers.errors import StageError

    unfiltered = replace(CleanOptions.from_settings(settings), line_filter=False)
    try:
        envelope = open_envelope(raw_message(body, url), settings)
        record = extract_article(envelope.page.text, url, unfiltered)
    except StageError:
        return []
    lines = record["text"].split("\n\n")
    return list(zip(lines, clutter_rules(lines), strict=True))


def confirm_with_readability(result: dict[str, Any], body: bytes, url: str) -> dict[str, Any]:
    """``result`` keeping only the lines that readability-lxml's extraction of the page
    also has (at least half of a line's words), when the two agree on at least half of all
    its words. A measured, rejected idea (bench/RESULTS.md)."""
    from workers.cleaning.charset import decode_html

    if not result["text"]:
        return result
    other = words(readability_text(decode_html(body, "text/html").text, url))
    ours = words(result["text"])
    if not other or sum((ours & other).values()) < 0.5 * sum(ours.values()):
        return result
    lines = result["text"].split("\n\n")
    kept = [
        line
        for line in lines
        if (counts := words(line)) and sum((counts & other).values()) >= 0.5 * sum(counts.values())
    ]
    return {**result, "text": "\n\n".join(kept)} if kept else result


def score(result: dict[str, Any], truth: dict[str, Any], body: bytes) -> dict[str, Any]:
    p, r, f = word_prf(result["text"], truth.get("main_content") or "")
    modified, stated = (result.get("modified") or "")[:10] or None, markup_modified(body)
    with_ = truth.get("with") or []
    without = truth.get("without") or []
    date_true = (truth.get("publish_date") or "")[:10] or None
    date_pred = (result["date"] or "")[:10] or None
    author_true = author_set(truth.get("author"))
    author_pred = author_set(result["authors"])
    return {
        "p": p,
        "r": r,
        "f1": f,
        "with_found": sum(snippet_found(s, result["text"]) for s in with_),
        "with_n": len(with_),
        "without_kept": sum(snippet_found(s, result["text"]) for s in without),
        "without_n": len(without),
        "title_ok": norm(result["title"]) == norm(truth.get("title"))
        if truth.get("title")
        else None,
        "date_ok": date_pred == date_true if date_true else None,
        "date_false": bool(date_pred) if not date_true else None,
        "author_ok": author_pred == author_true if author_true else None,
        "author_false": bool(author_pred) if not author_true else None,
        # modified_at against the page's own markup dateModified (the truth has no such field)
        "modified_filled": bool(modified) if stated else None,
        "modified_ok": modified == stated if modified and stated else None,
        "outcome": result["outcome"],
    }


# --- running ------------------------------------------------------------------------------

_STATE: dict[str, Any] = {}
_READABILITY = "+readability"
# Each set's reader: its layout differs (WCXB: gzipped pages and JSON truth with metadata;
# Dragnet: raw bytes and a gold text only).
READERS = {"wcxb": wcxb, "dragnet": dragnet}


def half(set_name: str, page_id: str) -> str:
    """A page's fixed half: "A" to develop rules on, "B" held out to report them on."""
    return "AB"[zlib.crc32(f"{set_name}/{page_id}".encode()) % 2]


def _init(variants: list[str]) -> None:
    from workers.pipeline import STAGES, warm_up
    from workers.settings import Settings

    settings = Settings()
    # The worker does this at start; so do we, outside the timings.
    warm_up("clean", STAGES["clean"].create(settings), settings)
    _STATE["settings"] = settings
    # "<variant>+readability": the variant's output confirmed line by line by readability-lxml.
    _STATE["systems"] = {
        name: variant_settings(name.removesuffix(_READABILITY), settings) for name in variants
    }
    # Every system pays its one-off costs (date parser fallbacks, lxml tables) on the same
    # warm-up pages before any timing, as a long-running worker would have.
    body = (
        b"<html><head><title>Warm-up</title></head><body><article><h1>Warm-up</h1>"
        b"<p>Posted Tuesday, 3rd of March 2024 at 10:15 by the desk.</p>"
        b"<p>This paragraph exists only so that both extractors run their full path.</p>"
        b"</article></body></html>"
    )
    for _ in range(2):
        for anchor in ANCHORS.values():
            anchor(body, "https://warm-up.invalid/")
        for system in _STATE["systems"].values():
            run_ours(body, "https://warm-up.invalid/", system)


def _page(job: tuple[str, str, str]) -> dict[str, Any]:
    set_name, page_id, data = job
    body, doc = READERS[set_name].read_page(Path(data), page_id)
    truth, url = doc["ground_truth"], doc.get("url") or ""
    rows = {}
    systems = [*ANCHORS.items(), *_STATE["systems"].items()]
    for name, system in systems:
        started = time.process_time()
        if callable(system):
            result = system(body, url)
        else:
            result = run_ours(body, url, system)
            if name.endswith(_READABILITY):
                result = confirm_with_readability(result, body, url)
        cpu_ms = (time.process_time() - started) * 1000
        rows[name] = {**score(result, truth, body), "cpu_ms": cpu_ms, "path": result.get("path")}
        lost = {}
        if name == "newsflow" and (lines := clutter_lines(body, url, _STATE["settings"])):
            lost = clutter_losses({"lines": lines}, truth.get("with") or [], snippet_found)
        rows[name]["clutter_lost"] = lost
    return {"set": set_name, "id": page_id, "half": half(set_name, page_id), "rows": rows}


def _rate(values: list[bool | None]) -> tuple[float, int]:
    known = [v for v in values if v is not None]
    return (sum(known) / len(known) if known else float("nan")), len(known)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else float("nan")


def summarise(name: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    cpu = sorted(r["cpu_ms"] for r in rows)
    return {
        "system": name,
        "pages": len(rows),
        "P": statistics.mean(r["p"] for r in rows),
        "R": statistics.mean(r["r"] for r in rows),
        "F1": statistics.mean(r["f1"] for r in rows),
        # A set without snippets (Dragnet) shows nan, not a rate of 0.
        "with": _share(sum(r["with_found"] for r in rows), sum(r["with_n"] for r in rows)),
        "without": _share(sum(r["without_kept"] for r in rows), sum(r["without_n"] for r in rows)),
        "title": _rate([r["title_ok"] for r in rows]),
        "date": _rate([r["date_ok"] for r in rows]),
        "author": _rate([r["author_ok"] for r in rows]),
        "false_date": _rate([r["date_false"] for r in rows]),
        "false_author": _rate([r["author_false"] for r in rows]),
        "cpu_median": statistics.median(cpu),
        "cpu_p95": cpu[min(len(cpu) - 1, round(0.95 * (len(cpu) - 1)))],
        "cpu_max": cpu[-1],
        "pages_s": 1000 * len(cpu) / sum(cpu),
        "empty": sum(r["outcome"] != "ok" for r in rows),
    }


def table(summaries: list[dict[str, Any]]) -> str:
    head = (
        "| system | pages | P | R | F1 | `with` found | `without` kept | title exact | "
        "date exact | author exact | false date | false author | CPU ms median | p95 | max | "
        "pages/s (1 core) | CPU median / trafilatura's | no text |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for s in summaries:
        lines.append(
            f"| {s['system']} | {s['pages']} | {s['P']:.3f} | {s['R']:.3f} | **{s['F1']:.3f}** | "
            f"{s['with']:.3f} | {s['without']:.3f} | {s['title'][0]:.3f} | {s['date'][0]:.3f} | "
            f"{s['author'][0]:.3f} | {s['false_date'][0]:.3f} | {s['false_author'][0]:.3f} | "
            f"{s['cpu_median']:.1f} | {s['cpu_p95']:.1f} | {s['cpu_max']:.0f} | "
            f"{s['pages_s']:.1f} | {s['cpu_median'] / summaries[0]['cpu_median']:.2f}x | "
            f"{s['empty']} |"
        )
    first = summaries[0]
    lines.append("")
    lines.append(
        f"Denominators: title over {first['title'][1]} pages, date over {first['date'][1]} "
        f"pages with a date, author over {first['author'][1]} pages with an author; false date "
        f"over {first['false_date'][1]} pages without a date, false author over "
        f"{first['false_author'][1]} without an author."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sets", default="wcxb,dragnet", help="comma-separated: wcxb,dragnet")
    parser.add_argument("--wcxb", type=Path, default=wcxb.DEFAULT_DATA, help="WCXB folder")
    parser.add_argument("--dragnet", type=Path, default=dragnet.DEFAULT_DATA, help="Dragnet")
    parser.add_argument("--limit", type=int, default=None, help="first N pages of each set")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument(
        "--variants",
        default="newsflow",
        help="comma-separated variants to run beside the anchors "
        f"({', '.join(VARIANTS)}: the stage as configured, or with the setting named; "
        "a '+readability' suffix adds the readability-lxml confirmation)",
    )
    parser.add_argument("--dump", type=Path, help="write per-page scores as JSON here")
    parser.add_argument(
        "--split",
        default="4000",
        help="WCXB file id below which the metadata rules were developed; the rest is held out",
    )
    args = parser.parse_args(argv)

    jobs = []
    for set_name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        data = getattr(args, set_name)
        ids = READERS[set_name].page_ids(data)[: args.limit]
        jobs += [(set_name, i, str(data)) for i in ids]
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    started = time.perf_counter()
    with ProcessPoolExecutor(args.jobs, initializer=_init, initargs=(variants,)) as pool:
        pages = list(pool.map(_page, jobs, chunksize=4))
    wall = time.perf_counter() - started
    names = [*ANCHORS, *variants]
    for set_name in dict.fromkeys(p["set"] for p in pages):
        for part in ("A", "B", "AB"):
            chosen = [p for p in pages if p["set"] == set_name and p["half"] in part]
            summaries = [summarise(n, [p["rows"][n] for p in chosen]) for n in names]
            print(f"\n### {set_name}, half {'+'.join(part)}\n\n{table(summaries)}")
            print(choice_ceiling(chosen))
        print(paths_line(names, [p for p in pages if p["set"] == set_name]))
    wcxb_pages = [p for p in pages if p["set"] == "wcxb"]
    if wcxb_pages:  # the only set with metadata in its ground truth
        print("\n### wcxb, metadata by development part\n")
        print(metadata_table(wcxb_pages, names, args.split, clutter=variants))
    print(f"\n{len(jobs)} pages, {args.jobs} processes, {wall:.0f} s wall.", file=sys.stderr)
    if args.dump:
        args.dump.write_text(json.dumps(pages))
    return 0


def choice_ceiling(pages: list[dict[str, Any]]) -> str:
    """Word-F1 of an oracle taking, page by page, the better of trafilatura's text (comments
    off) and readability-lxml's: the most any rule choosing between the two could reach."""
    best = statistics.mean(
        max(p["rows"][n]["f1"] for n in ("trafilatura -comments", "readability-lxml"))
        for p in pages
    )
    return (
        f"\nThe better of trafilatura -comments and readability-lxml page by page (an oracle: "
        f"the ceiling of choosing between them): F1 {best:.3f}."
    )


def paths_line(names: list[str], pages: list[dict[str, Any]]) -> str:
    """How often each path of the extraction chain produced the text, per variant."""
    parts = []
    for name in names:
        counts = Counter(p["rows"][name]["path"] for p in pages if p["rows"][name]["path"])
        if counts:
            shown = ", ".join(f"{path} {n}" for path, n in counts.most_common())
            parts.append(f"{name}: {shown}")
    return "\nText from each path of the chain: " + "; ".join(parts) + "." if parts else ""


if __name__ == "__main__":
    sys.exit(main())
