"""The cleaning stage: a raw-html.v1 message to an articles-clean.v1 record.

``clean_message`` ties the pieces: the envelope checks (:mod:`workers.cleaning.envelope`),
the text extraction (:mod:`workers.cleaning.extraction`), the choice between the metadata
the page states and the one trafilatura guesses, and the record around them. Every way it can
fail raises :class:`~workers.errors.StageError` with a bounded reason.
"""

from __future__ import annotations

from typing import Any

import trafilatura
from trafilatura.metadata import extract_url

from workers import __version__
from workers.cleaning.envelope import open_envelope
from workers.cleaning.extraction import extract_text, prose_words
from workers.cleaning.fallback import shared_lines
from workers.cleaning.metadata import PageMeta, chosen_metadata, page_meta
from workers.cleaning.metadata.markup import ARTICLE_TYPES, json_ld_objects, meta_tags, types
from workers.cleaning.options import CleanOptions
from workers.cleaning.site_memory import SiteMemory, create_memory, site_of
from workers.errors import StageError
from workers.nlp import langid
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
    options = CleanOptions.from_settings(settings)
    article = extract_article(envelope.page.text, url, options)
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
                "content_sha256": envelope.content_sha256,
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


def extract_article(html: str, url: str, options: CleanOptions) -> dict[str, Any]:
    """Main text and metadata of one page (the fields of articles-clean.v1 it determines)."""

    def read_tree(tree: Any) -> tuple[str | None, str | None, PageMeta, bool]:
        return (
            extract_url(tree, None),
            _declared_language(tree),
            page_meta(tree),
            declares_article(tree),
        )

    found = extract_text(html, url, options, read_tree=read_tree)
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
    least = options.min_words
    if article_page:
        least = min(least, DECLARED_ARTICLE_MIN_WORDS)
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


class CleanStage:
    """The clean stage as the runtime runs it (:data:`workers.pipeline.STAGES`): extraction,
    then the per-site memory (Redis, shared by the clean replicas) when it is on."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.site_memory = create_memory(settings)
        self.part_seconds: dict[str, float] = {}

    def warm_up(self, sample: InputMessage) -> dict[str, Any]:
        """Pay trafilatura's and the language model's one-off start-up costs (htmldate's
        patterns, lxml tables, model load) on ``sample`` before the first real message; the
        per-site memory is left alone (it must not count a synthetic page). dateparser is not
        prepared: with htmldate's extensive search off (:mod:`workers.cleaning.extraction`)
        no page reaches it."""
        return clean_message(sample, self.settings)

    def sample_record(self, sample: InputMessage) -> dict[str, Any]:
        """``sample``'s record for the enrich stage's warm-up (the per-site memory left
        alone, as in :meth:`warm_up`)."""
        return clean_message(sample, self.settings)

    def __call__(self, message: InputMessage) -> dict[str, Any]:
        record = clean_message(message, self.settings)
        if self.site_memory is None:
            return record
        return forget_site_boilerplate(record, self.site_memory)
