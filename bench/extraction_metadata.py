"""The metadata and clutter columns of ``bench/extraction.py``: metadata measured apart on
the pages the rules were developed on and on held-out pages, ``modified_at`` against the
page's own markup, and the ``with`` snippets each clutter rule removes."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any


def rate(values: list[bool | None]) -> tuple[float, int]:
    known = [v for v in values if v is not None]
    return (sum(known) / len(known) if known else float("nan")), len(known)


_MARKUP_MODIFIED = re.compile(
    r'"dateModified"\s*:\s*"(\d{4}-\d{2}-\d{2})'
    r'|(?:article:modified_time|og:updated_time)"\s+content="(\d{4}-\d{2}-\d{2})',
    re.I,
)


def markup_modified(body: bytes) -> str | None:
    """The page's own dateModified (JSON-LD or meta tag), read apart from the product's code."""
    match = _MARKUP_MODIFIED.search(body.decode("utf-8", "replace"))
    return (match.group(1) or match.group(2)) if match else None


def clutter_losses(
    result: dict[str, Any], with_: list[str], found: Callable[[str, str], bool]
) -> dict[str, int]:
    """For each clutter rule, the ``with`` snippets of the unfiltered text (``found`` in it)
    that removing that rule's lines alone loses."""
    lines = result.get("lines") or []
    full = "\n\n".join(line for line, _ in lines)
    losses: dict[str, int] = {}
    for rule in {rule for _, rule in lines if rule}:
        rest = "\n\n".join(line for line, r in lines if r != rule)
        losses[rule] = sum(found(s, full) and not found(s, rest) for s in with_)
    return losses


def metadata_table(
    pages: list[dict[str, Any]], names: list[str], split: str, clutter: list[str]
) -> str:
    """The metadata columns on the pages the rules were developed on (ids below ``split``)
    and on the held-out rest, and the ``with`` snippets lost to each clutter rule."""
    head = (
        "| system | part | pages | title exact | date exact | author exact | false date | "
        "false author | modified_at filled | modified_at = markup |"
    )
    lines = [head, "|" + "---|" * head.count(" | ") + "---|"]
    for name in names:
        for part, held_out in ((f"developed (< {split})", False), (f"held out (>= {split})", True)):
            rows = [p["rows"][name] for p in pages if (p["id"] >= split) == held_out]
            rates = [
                rate([r[k] for r in rows])
                for k in (
                    "title_ok",
                    "date_ok",
                    "author_ok",
                    "date_false",
                    "author_false",
                    "modified_filled",
                    "modified_ok",
                )
            ]
            cells = " | ".join(f"{rate:.3f} ({n})" for rate, n in rates)
            lines.append(f"| {name} | {part} | {len(rows)} | {cells} |")
    for name in clutter:
        lost: Counter[str] = Counter()
        for page in pages:
            lost.update(page["rows"][name].get("clutter_lost") or {})
        counts = ", ".join(f"{rule} {n}" for rule, n in sorted(lost.items())) or "none"
        lines.append(f"\n{name}: `with` snippets lost by each clutter rule: {counts}.")
    return "\n".join(lines)
