"""The Dragnet development pages the benchmarks read (``../shared/data/dragnet-dev``, its
README defines the layout): ``html/ID.html`` and ``gold/ID.txt``, news and blog pages of 2012
with article-only gold text and no URL, title, author or date."""

from __future__ import annotations

from pathlib import Path
from typing import Any

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "dragnet-dev"


def page_ids(data: Path) -> list[str]:
    """Every page's id ("100", ...), in file order."""
    return sorted(path.stem for path in (data / "html").glob("*.html"))


def read_page(data: Path, page_id: str) -> tuple[bytes, dict[str, Any]]:
    """The page's bytes as crawled and a record shaped like a WCXB one, so one scorer reads
    both sets: ``ground_truth.main_content`` is the gold text, ``url`` a made-up address
    (the pages have none; a raw record needs one)."""
    body = (data / "html" / f"{page_id}.html").read_bytes()
    gold = (data / "gold" / f"{page_id}.txt").read_text(encoding="utf-8", errors="replace")
    url = f"https://dragnet.invalid/{page_id}.html"
    return body, {"url": url, "ground_truth": {"main_content": gold}}
