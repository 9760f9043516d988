"""The WCXB development articles the benchmarks read (``../shared/data/wcxb-dev-articles``,
its README defines the layout): ``html/NNNN.html.gz`` and ``ground-truth/NNNN.json``."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "wcxb-dev-articles"


def page_ids(data: Path) -> list[str]:
    """Every page's id ("0001", ...), in file order."""
    return sorted(path.name.split(".")[0] for path in (data / "html").glob("*.html.gz"))


def read_page(data: Path, page_id: str) -> tuple[bytes, dict[str, Any]]:
    """The page's HTML as crawled and its ground-truth record (``url``, ``ground_truth``)."""
    body = gzip.decompress((data / "html" / f"{page_id}.html.gz").read_bytes())
    record = json.loads((data / "ground-truth" / f"{page_id}.json").read_text())
    return body, record
