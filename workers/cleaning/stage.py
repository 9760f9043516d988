"""The cleaning stage: a raw-html.v1 message to an articles-clean.v1 record.

``clean_message`` ties the pieces: the envelope checks (:mod:`workers.cleaning.envelope`),
the text extraction (:mod:`workers.cleaning.extraction`), the choice between the metadata
the page states and the one trafilatura guesses, and the record around them. Every way it can
fail raises :class:`~workers.errors.StageError` with a bounded reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache, partial
from typing import Any, Literal

import trafilatura
from htmldate.extractors import get_external_parser
from trafilatura.metadata import extract_url

from workers import __version__
from workers.cleaning.envelope import open_envelope
from workers.cleaning.extraction import Extraction, extract_text, prose_words
from workers.cleaning.fallback import shared_lines
from workers.cleaning.metadata import PageMeta, chosen_metadata, page_meta
from workers.cleaning.metadata.markup import ARTICLE_TYPES, json_ld_objects, meta_tags, types
from workers.cleaning.site_memory import SiteMemory, create_memory, site_of
from workers.errors import StageError
from workers.nlp import langid
from workers.records import contracts
from workers.records.clock import now_rfc3339
from workers.records.ids import document_id, normalise_url
from workers.records.message import InputMessage
from workers.settings import Settings

TRAFILATURA_VERSION = trafilatura.__version__
# A page whose markup declares it an article (og:type "article", a JSON-LD Article or
# BlogPosting), or whose prose trafilatura and readability both read as the article, needs
# only this many words of prose, one sentence, to pass the not-an-article gate: a short post
# under a photo or a video is still an article, and index pages and empty shells do not
# declare themselves articles.
DECLARED_ARTICLE_MIN_WORDS = 10
# Prose lines trafilatura and readability must both have for the page to count as declared.
AGREED_PROSE_LINES = 2
_DECLARED_TYPES = ARTICLE_TYPES - {"webpage", "medicalwebpage"}


def clean_message(message: InputMessage, settings: Settings) -> dict[str, Any]:
    """Turn one raw-html.v1 message into an articles-clean.v1 record."""
    envelope = open_envelope(message, settings)
    raw, url = envelope.raw, envelope.url
    article = extract_article(
        envelope.page.text,
        url,
        settings.extraction_timeout_s,
        settings.min_article_words,
        extract=partial(extract_text, boundary=settings.extraction_boundary),
    )
    path = article.pop("extraction_path")
    language, _ = langid.detect(article["text"])
    return {
        "document_id": document_id(url),
        "url": url,
        "normalized_url": normalise_url(url),
        **article,
        "language": language or _primary_subtag(article["language_declared"]),
        "encoding": {"name": envelope.page.encoding, "source": envelope.page.source},
        "extractor": {
            "name": "trafilatura",
            "version": TRAFILATURA_VERSION,
            "newsflow": __version__,
            "path": path,
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
        "http_status": envelope.status,
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


@dataclass(frozen=True, slots=True)
class CleanOptions:
    """How the stage chooses metadata; the defaults are what the worker runs. The other
    values exist so bench/extraction.py can measure what each idea is worth (ablations,
    named in bench/ablations.py)."""

    page_metadata: bool = True  # headline / authors / date from JSON-LD, meta tags, <h1>
    strict_dates: bool = True  # no date found by scanning free text (it invents dates)
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


DEFAULT_OPTIONS = CleanOptions()


def extract_article(
    html: str,
    url: str,
    timeout_s: float,
    min_words: int = 1,
    options: CleanOptions = DEFAULT_OPTIONS,
    extract: Callable[..., Extraction] = extract_text,
) -> dict[str, Any]:
    """Main text and metadata of one page (the fields of articles-clean.v1 it determines);
    ``extract`` is the text extraction (the benchmark passes its ablations there)."""
    prepare_date_parser()  # a one-off cost of the process, not of this page

    def read_tree(tree: Any) -> tuple[str | None, str | None, PageMeta, bool]:
        stated = page_meta(tree) if options.page_metadata else PageMeta()
        return extract_url(tree, None), _declared_language(tree), stated, declares_article(tree)

    found = extract(
        html,
        url,
        timeout_s,
        read_tree=read_tree,
        extensive_date_search=not options.strict_dates,
    )
    canonical, declared, stated, article_page = found.seen
    # The gate judges the page, not the boundary: trafilatura's lines before readability cut
    # them count too (a short post above a blog's sidebar is a short post, not an index).
    words = max(prose_words(found.lines), prose_words(found.first_lines or []))
    # Two extractors that read the page differently agreeing on the same prose lines is, like
    # the markup's declaration, a sign of an article (a two-sentence post under a video). One
    # line is not: it may be the one teaser or caption of an otherwise empty page.
    first = found.first_lines or found.lines
    agreed = [line for line in shared_lines(first, found.second_lines or []) if prose_words([line])]
    article_page = article_page or len(agreed) >= AGREED_PROSE_LINES
    least = min(min_words, DECLARED_ARTICLE_MIN_WORDS) if article_page else min_words
    if words < least:
        raise StageError(
            "not_an_article",
            f"{words} words of prose (fewer than {least}, NEWSFLOW_MIN_ARTICLE_WORDS"
            f"{', the page reads as an article' if article_page else ''}): "
            "an index page, an empty shell or a stub",
        )
    return {
        **chosen_metadata(
            stated,
            url,
            options,
            title=found.field("title"),
            author=found.field("author"),
            published=found.field("date"),
        ),
        "site_name": found.field("sitename"),
        "description": found.field("description"),
        "canonical_url": canonical or None,
        "language_declared": declared,
        "text": found.text,
        "extraction_path": found.path,  # which path of the chain produced the text
    }


def declares_article(tree: Any) -> bool:
    """Whether the page's markup says it is an article: ``og:type`` "article", or a JSON-LD
    object typed Article, NewsArticle, BlogPosting and the like (not a mere WebPage)."""
    if meta_tags(tree).get("og:type", "").strip().lower() == "article":
        return True
    return any(types(obj) & _DECLARED_TYPES for obj in json_ld_objects(tree))


@cache
def prepare_date_parser() -> None:
    """htmldate's last resort, dateparser, compiles patterns for ~200 locales on first use
    (seconds): pay that once per process, outside any page's time limit."""
    get_external_parser().get_date_data("19 qzx 2024")  # no locale knows it: all are tried


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
