"""The cleaning stage: a raw-html.v1 message to an articles-clean.v1 record.

``clean_message`` checks the envelope, decodes the page to Unicode, extracts the main text
and metadata with trafilatura (comments excluded) and returns the record. Every way it can
fail raises :class:`~workers.errors.StageError` with a bounded reason.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import trafilatura
from htmldate.extractors import get_external_parser
from lxml import etree
from trafilatura.metadata import extract_url
from trafilatura.utils import load_html

from workers import __version__
from workers.cleaning.charset import Decoded, decode_html
from workers.cleaning.clutter import drop_clutter
from workers.cleaning.deadline import DeadlineExceeded, deadline
from workers.cleaning.metadata import PageMeta, chosen_metadata, page_meta
from workers.cleaning.site_memory import SiteMemory, create_memory, site_of
from workers.errors import StageError
from workers.nlp import langid
from workers.records import contracts
from workers.records.clock import now_rfc3339
from workers.records.ids import document_id, normalise_url
from workers.records.message import InputMessage
from workers.settings import Settings

TRAFILATURA_VERSION = trafilatura.__version__
_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/xml", "application/xml")
_LOOKS_LIKE_HTML = re.compile(r"<\s*(!doctype|html|head|body|div|p|article|meta|title)\b", re.I)
# Menus are pruned before extraction; a <nav> holding paragraphs is not a menu but a
# template wrapping the page (or an unclosed tag), and pruning it would empty the article.
_NAVIGATION = ["//nav[count(.//p) < 3]", "//*[@role='navigation'][count(.//p) < 3]"]
# A word, or one CJK character (those scripts write no spaces; a character is about a word).
_CJK = "\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af"
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
_PROSE_LINE_WORDS = 10


def clean_message(
    message: InputMessage, settings: Settings, options: CleanOptions | None = None
) -> dict[str, Any]:
    """Turn one raw-html.v1 message into an articles-clean.v1 record (``options``: the
    benchmark's ablations; the worker runs the defaults)."""
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
    article = extract_article(
        decoded.text,
        url,
        settings.extraction_timeout_s,
        min_words=settings.min_article_words,
        options=options or DEFAULT_OPTIONS,
    )
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


def forget_site_boilerplate(record: dict[str, Any], memory: SiteMemory) -> dict[str, Any]:
    """``record`` without the lines its site repeats on many pages (the per-site memory of
    :mod:`workers.cleaning.site_memory`, which counts this page's lines too). A text the memory
    would empty entirely is left as it is."""
    lines = record["text"].split("\n\n")
    kept = memory.filter(site_of(record["url"]), record["document_id"], lines)
    if not kept or len(kept) == len(lines):
        return record
    return {**record, "text": "\n\n".join(kept)}


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


@dataclass(frozen=True, slots=True)
class CleanOptions:
    """How the stage extracts; the defaults are what the worker runs. The other values
    exist so bench/extraction.py can measure what each idea is worth (ablations)."""

    # trafilatura's balance. On the WCXB dev pages "recall" was faster but kept more
    # boilerplate and lost 0.01 F1; "precision" empties some pages (bench/RESULTS.md).
    favor: Literal["recall", "default", "precision"] = "default"
    page_metadata: bool = True  # headline / authors / date from JSON-LD, meta tags, <h1>
    strict_dates: bool = True  # no date found by scanning free text (it invents dates)
    line_filter: bool = True  # second pass: drop clutter lines (workers.cleaning.clutter)
    # A short extraction (under this many characters) gets a second, recall-favouring
    # look, kept when it is clearly longer: the default pass sometimes stops at a
    # section break. 0 turns it off.
    recall_retry_chars: int = 2000
    # The date written beside the headline, used after the markup's (or not at all).
    byline_date: Literal["first", "last", "off"] = "last"
    # A name found only by trafilatura's heuristics must be visible on the page.
    shown_authors: bool = True
    # A permalink's /YYYY/MM/DD/ is the publication day, ahead of every other source.
    url_date: bool = True
    # A <time datetime> in the headline's header, after the markup's date, before the byline's.
    header_time: bool = True
    # A visible byline date more than a day before the markup's date replaces it.
    earlier_shown_date: bool = True
    # A date labelled "Published …" / "Posted …", after the header's, before the byline's.
    labelled_date: bool = True
    # Heuristic bylines lose lead-ins and trailing roles / dates ("Rachel MacDonald Writer").
    tidy_bylines: bool = True
    # A shown byline name replaces a markup author that is only the site's / publisher's name.
    person_over_publisher: bool = True
    # A markup account name ("jdoe") counts when the page shows it and gives no other name.
    shown_accounts: bool = True
    # An organisation named as author (typed or named so) counts only when the byline credits it.
    credited_organisations: bool = True
    # A "By Ana Silva" written after the headline names the author when nothing else does.
    shown_byline: bool = True

    @classmethod
    def variant(cls, name: str) -> CleanOptions:
        """Named ablations for the benchmark: ``newsflow`` is the default, ``-x`` turns
        one idea off."""
        variants = {
            "newsflow": cls(),
            "favor-recall": cls(favor="recall"),
            "favor-precision": cls(favor="precision"),
            "-page-metadata": cls(page_metadata=False),
            "-strict-dates": cls(strict_dates=False),
            "-line-filter": cls(line_filter=False),
            "-recall-retry": cls(recall_retry_chars=0),
            "byline-date-first": cls(byline_date="first"),
            "-byline-date": cls(byline_date="off"),
            "-shown-authors": cls(shown_authors=False),
            "-url-date": cls(url_date=False),
            "-header-time": cls(header_time=False),
            "-earlier-shown-date": cls(earlier_shown_date=False),
            "-labelled-date": cls(labelled_date=False),
            "-tidy-bylines": cls(tidy_bylines=False),
            "-person-over-publisher": cls(person_over_publisher=False),
            "-shown-accounts": cls(shown_accounts=False),
            "-credited-organisations": cls(credited_organisations=False),
            "-shown-byline": cls(shown_byline=False),
        }
        if name not in variants:
            raise ValueError(f"unknown variant {name!r}; known: {', '.join(variants)}")
        return variants[name]


DEFAULT_OPTIONS = CleanOptions()


def extract_article(
    html: str,
    url: str,
    timeout_s: float,
    min_words: int = 1,
    options: CleanOptions = DEFAULT_OPTIONS,
) -> dict[str, Any]:
    """Main text and metadata of one page (the fields of articles-clean.v1 it determines)."""
    prepare_date_parser()  # a one-off cost of the process, not of this page
    started = time.monotonic()
    try:
        with deadline(timeout_s):
            tree = load_html(html)
            if tree is None:
                raise StageError("not_html", "the HTML parser found no document")
            canonical = extract_url(tree, None)
            declared = _declared_language(tree)
            # Read before trafilatura runs: its cleaning prunes the tree it is given.
            stated = page_meta(tree) if options.page_metadata else PageMeta()
            document = trafilatura.bare_extraction(
                tree,
                url=url,
                include_comments=False,  # comments cost up to 8 F1 points
                with_metadata=True,
                include_tables=True,
                # A page of nothing but menus is empty, not an article made of menu items.
                prune_xpath=_NAVIGATION,
                favor_recall=options.favor == "recall",
                favor_precision=options.favor == "precision",
                date_extraction_params={
                    "extensive_search": not options.strict_dates,
                    "original_date": True,
                },
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

    raw_text = (document.text or "").strip() if document is not None else ""
    if len(raw_text) < options.recall_retry_chars and options.favor != "recall":
        # The retry shares the page's time limit.
        remaining = timeout_s - (time.monotonic() - started)
        if remaining > 0:
            raw_text = _recall_retry(html, url, raw_text, remaining)
    lines = [line.strip() for line in raw_text.splitlines() if line.strip()]
    if options.line_filter:
        lines = drop_clutter(lines)
    text = "\n\n".join(lines)
    words = _prose_words(lines)
    if words < min_words:
        raise StageError(
            "not_an_article",
            f"{words} words of prose (fewer than {min_words}, NEWSFLOW_MIN_ARTICLE_WORDS): "
            "an index page, an empty shell or a stub",
        )
    return {
        **chosen_metadata(
            stated,
            url,
            options,
            title=_field(document, "title"),
            author=_field(document, "author"),
            published=_field(document, "date"),
        ),
        "site_name": _field(document, "sitename"),
        "description": _field(document, "description"),
        "canonical_url": canonical or None,
        "language_declared": declared,
        "text": text,
    }


@cache
def prepare_date_parser() -> None:
    """htmldate's last resort, dateparser, compiles patterns for ~200 locales on first use
    (seconds): pay that once per process, outside any page's time limit."""
    get_external_parser().get_date_data("19 qzx 2024")  # no locale knows it: all are tried


def _field(document: Any, name: str) -> str | None:
    # The default pass may have found nothing (None) while the recall retry found text.
    return (getattr(document, name, None) or None) if document is not None else None


def _recall_retry(html: str, url: str, text: str, timeout_s: float) -> str:
    """The text of a recall-favouring pass when it is clearly longer than ``text``."""
    try:
        with deadline(timeout_s):
            retry = trafilatura.bare_extraction(
                load_html(html),
                url=url,
                include_comments=False,
                favor_recall=True,
                prune_xpath=_NAVIGATION,
            )
    except (DeadlineExceeded, etree.LxmlError, ValueError, TypeError, RecursionError):
        return text  # the first pass stands; the retry is only ever an improvement
    longer = (retry.text or "").strip() if retry is not None else ""
    return longer if len(text) < 0.8 * len(longer) else text


def _prose_words(lines: list[str]) -> int:
    """Words in lines long enough to be sentences: an index page's text is a column of
    short link labels, an article's is paragraphs."""
    counts = (len(_WORD.findall(line)) for line in lines)
    return sum(n for n in counts if n >= _PROSE_LINE_WORDS)


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
    "<p>This paragraph exists only so that the extractor runs its full path once, from the "
    "parser through the metadata heuristics to the text, before real pages arrive.</p>"
    "<p>A second paragraph makes the page long enough to count as an article rather than "
    "as an index page or an empty shell, which the cleaner would reject.</p>"
    "</article></body></html>"
)


def warm_up(settings: Settings) -> dict[str, Any]:
    """Pay trafilatura's and the language model's one-off start-up costs (date parsers,
    lxml tables, model load) before the first real message; returns the clean record of
    a small built-in page, for the enrichers to warm up on."""
    raw = {
        "url": "https://warm-up.newsflow.invalid/",
        "fetched_at": "2024-03-03T00:00:00Z",
        "html": _WARM_UP_PAGE,
    }
    return clean_message(InputMessage(contracts.encode(raw)), settings)


class CleanStage:
    """The clean stage as the runtime runs it (:data:`workers.pipeline.STAGES`): extraction,
    then the per-site memory (Redis, shared by the clean replicas) when it is on."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.site_memory = create_memory(settings)
        self.part_seconds: dict[str, float] = {}

    def warm_up(self) -> None:
        warm_up(self.settings)

    def __call__(self, message: InputMessage) -> dict[str, Any]:
        record = clean_message(message, self.settings)
        if self.site_memory is None:
            return record
        return forget_site_boilerplate(record, self.site_memory)
