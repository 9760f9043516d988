"""The cleaning stage: a raw-html.v1 message to an articles-clean.v1 record.

``clean_message`` checks the envelope, decodes the page to Unicode, extracts the main text
and metadata with trafilatura (comments excluded) and returns the record. Every way it can
fail raises :class:`~workers.errors.StageError` with a bounded reason.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

import trafilatura
from htmldate.extractors import get_external_parser
from lxml import etree
from trafilatura.metadata import extract_url
from trafilatura.utils import load_html

from workers import __version__, contracts, langid
from workers.charset import Decoded, decode_html
from workers.cloudevents import now_rfc3339
from workers.errors import StageError
from workers.ids import document_id, normalise_url
from workers.settings import Settings
from workers.stages.base import InputMessage
from workers.timeout import DeadlineExceeded, deadline

TRAFILATURA_VERSION = trafilatura.__version__
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/xml", "application/xml")
_LOOKS_LIKE_HTML = re.compile(r"<\s*(!doctype|html|head|body|div|p|article|meta|title)\b", re.I)
_AUTHOR_SEPARATOR = re.compile(r"\s*;\s*")
_NAVIGATION = ["//nav", "//*[@role='navigation']"]


def clean_message(message: InputMessage, settings: Settings) -> dict[str, Any]:
    """Turn one raw-html.v1 message into an articles-clean.v1 record."""
    value = message.value or b""
    if len(value) > settings.max_message_bytes:
        raise StageError(
            "oversize",
            f"raw message is {len(value)} bytes; limit is {settings.max_message_bytes} "
            "(NEWSFLOW_MAX_MESSAGE_BYTES)",
        )
    raw = contracts.decode(message.value, "raw-html.v1")
    status = raw.get("status", 200)
    if status >= 400:
        raise StageError("http_error", f"fetch returned HTTP {status}")
    headers = {k.lower(): v for k, v in raw.get("headers", {}).items()}
    content_type = headers.get("content-type")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type and media_type not in _HTML_TYPES:
        raise StageError("not_html", f"content-type is {media_type!r}, not HTML")

    decoded = _page_text(raw, content_type, settings.max_html_bytes)
    if not _LOOKS_LIKE_HTML.search(decoded.text[:65536]):
        raise StageError("not_html", "body has no HTML markup in its first 64 KiB")

    url = raw["url"]
    article = extract_article(decoded.text, url, settings.extraction_timeout_s)
    language, _ = langid.detect(article["text"])
    return {
        "document_id": document_id(url),
        "url": url,
        "normalized_url": normalise_url(url),
        **article,
        "language": language or _primary_subtag(article["language_declared"]),
        "encoding": {"name": decoded.encoding, "source": decoded.source},
        "extractor": {
            "name": "trafilatura",
            "version": TRAFILATURA_VERSION,
            "newsflow": __version__,
        },
        "timestamps": {
            "fetched": raw["fetched_at"],
            "raw_produced": message.timestamp_rfc3339,
            "cleaned": now_rfc3339(),
        },
        "lineage": [
            {
                "stage": "clean",
                "topic": message.topic,
                "partition": message.partition,
                "offset": message.offset,
            }
        ],
        "http_status": status,
        "crawler": raw.get("crawler"),
        "meta": raw.get("meta"),
    }


def _page_text(raw: dict[str, Any], content_type: str | None, max_bytes: int) -> Decoded:
    if "html" in raw:
        text = raw["html"]
        # Only encode when the character count alone cannot settle it (UTF-8: ≤ 4 bytes each).
        size = len(text) if len(text) * 4 <= max_bytes else len(text.encode("utf-8"))
        if size > max_bytes:
            raise StageError(
                "oversize", f"html is {size} bytes; limit is {max_bytes} (NEWSFLOW_MAX_HTML_BYTES)"
            )
        return Decoded(text, "utf-8", "text")
    try:
        body = base64.b64decode(raw["html_base64"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StageError("schema_violation", f"html_base64 is not valid base64: {exc}") from exc
    if len(body) > max_bytes:
        raise StageError(
            "oversize",
            f"page is {len(body)} bytes; limit is {max_bytes} (NEWSFLOW_MAX_HTML_BYTES)",
        )
    if not body.strip():
        raise StageError("empty_content", "page body is empty")
    return decode_html(body, content_type)


def extract_article(html: str, url: str, timeout_s: float) -> dict[str, Any]:
    """Main text and metadata of one page (the fields of articles-clean.v1 it determines)."""
    try:
        with deadline(timeout_s):
            tree = load_html(html)
            if tree is None:
                raise StageError("not_html", "the HTML parser found no document")
            canonical = extract_url(tree, None)
            declared = _declared_language(tree)
            document = trafilatura.bare_extraction(
                tree,
                url=url,
                include_comments=False,
                with_metadata=True,
                include_tables=True,
                # A page of nothing but menus is empty, not an article made of menu items.
                prune_xpath=_NAVIGATION,
            )
    except DeadlineExceeded as exc:
        raise StageError(
            "extraction_timeout",
            f"extraction took longer than {timeout_s} s (NEWSFLOW_EXTRACTION_TIMEOUT_S)",
        ) from exc
    except StageError:
        raise
    except (etree.LxmlError, ValueError, TypeError, RecursionError, MemoryError) as exc:
        raise StageError(
            "extraction_failed", f"{type(exc).__name__}: {exc}", error_class=type(exc).__name__
        ) from exc

    text = (document.text or "").strip() if document is not None else ""
    if not text:
        raise StageError("empty_content", "no main text found in the page")
    return {
        "title": document.title or None,
        "authors": [a for a in _AUTHOR_SEPARATOR.split(document.author or "") if a],
        "published_at": document.date or None,
        "site_name": document.sitename or None,
        "description": document.description or None,
        "canonical_url": canonical or None,
        "language_declared": declared,
        "text": _paragraphs(text),
    }


def _paragraphs(text: str) -> str:
    # trafilatura separates blocks by one newline; the contract says a blank line.
    return "\n\n".join(line.strip() for line in text.splitlines() if line.strip())


def _declared_language(tree: Any) -> str | None:
    lang = tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    if not lang:
        for meta in tree.iterfind(".//meta[@http-equiv]"):
            if meta.get("http-equiv", "").lower() == "content-language":
                lang = meta.get("content")
                break
    return lang.strip() if lang and lang.strip() else None


def _primary_subtag(lang: str | None) -> str | None:
    return lang.split("-")[0].split("_")[0].lower() if lang else None


_WARM_UP_PAGE = (
    "<html lang='en'><head><title>Warm-up</title></head><body><article>"
    "<p>Published on 3 March 2024 by the newsflow desk.</p>"
    "<p>This paragraph exists only so that the extractor runs its full path once.</p>"
    "</article></body></html>"
)


def warm_up(settings: Settings) -> dict[str, Any]:
    """Pay trafilatura's and the language model's one-off start-up costs (date parsers,
    lxml tables, model load) before the first real message; returns the clean record of
    a small built-in page, for the enrichers to warm up on."""
    # htmldate's last resort, dateparser, compiles patterns for ~200 locales on first use
    # (seconds): pay that here rather than on the first page without a plain date.
    get_external_parser().get_date_data("19 qzx 2024")  # no locale knows it: all are tried
    raw = {
        "url": "https://warm-up.newsflow.invalid/",
        "fetched_at": "2024-03-03T00:00:00Z",
        "html": _WARM_UP_PAGE,
    }
    return clean_message(InputMessage(contracts.encode(raw)), settings)
