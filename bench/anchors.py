"""The extractors newsflow is measured against, run as their users would run them:
trafilatura with its defaults, trafilatura with comments switched off, readability-lxml.

Each returns the scorer's fields (``text``, ``title``, ``authors``, ``date``, ``outcome``);
an extractor that finds nothing (or gives up) has outcome ``empty``.
"""

from __future__ import annotations

import json
from typing import Any

_EMPTY = {"text": "", "title": None, "authors": [], "date": None, "outcome": "empty"}


def _html(body: bytes) -> str:
    from workers.cleaning.charset import decode_html

    return decode_html(body, "text/html").text


def run_trafilatura(body: bytes, url: str, include_comments: bool = True) -> dict[str, Any]:
    import trafilatura

    out = trafilatura.extract(
        _html(body),
        url=url,
        output_format="json",
        with_metadata=True,
        include_comments=include_comments,
    )
    if out is None:
        return dict(_EMPTY)
    doc = json.loads(out)
    return {
        "text": doc.get("text") or "",
        "title": doc.get("title"),
        "authors": doc.get("author"),
        "date": doc.get("date"),
        "outcome": "ok",
    }


def run_trafilatura_no_comments(body: bytes, url: str) -> dict[str, Any]:
    return run_trafilatura(body, url, include_comments=False)


def readability_text(html: str, url: str) -> str:
    """readability-lxml's article as plain text ("" when it gives up)."""
    from lxml import html as lxml_html
    from readability import Document  # type: ignore[import-untyped]

    try:
        document = Document(html, url=url or None)
        summary = document.summary(html_partial=True)
        return lxml_html.fromstring(summary).text_content().strip()
    except Exception:  # readability raises on pages it cannot read: it found nothing
        return ""


def run_readability(body: bytes, url: str) -> dict[str, Any]:
    from readability import Document  # type: ignore[import-untyped]

    html = _html(body)
    text = readability_text(html, url)
    if not text:
        return dict(_EMPTY)
    try:
        title = Document(html).short_title()
    except Exception:  # the title is only a side column here
        title = None
    return {"text": text, "title": title, "authors": [], "date": None, "outcome": "ok"}


ANCHORS = {
    "trafilatura": run_trafilatura,
    "trafilatura -comments": run_trafilatura_no_comments,
    "readability-lxml": run_readability,
}
