"""Everything the page states about its article, read once from the parsed tree before
trafilatura prunes it: :class:`PageMeta`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workers.cleaning.metadata.byline import shown_byline
from workers.cleaning.metadata.dates import (
    byline_date,
    header_time,
    iso_date,
    labelled_date,
    updated_date,
)
from workers.cleaning.metadata.headline import byline_window, choose_headline, headings
from workers.cleaning.metadata.markup import (
    ARTICLE_TYPES,
    AUTHOR_META,
    MODIFIED_META,
    PAGE_TYPES,
    PUBLISHED_META,
    clean_text,
    json_ld_objects,
    key,
    meta_tags,
    shown_text,
    types,
)
from workers.cleaning.metadata.names import account_names, person_names
from workers.cleaning.metadata.organisations import organisation_names


@dataclass(slots=True)
class PageMeta:
    """What the page's markup says about the article (None / empty when it says nothing)."""

    headline: str | None = None
    title_candidates: list[str] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    published: str | None = None
    # The markup's last-modified date (dateModified, article:modified_time).
    modified: str | None = None
    # A date labelled "Updated" / "Modified" beside the visible headline.
    updated_date: str | None = None
    site_names: set[str] = field(default_factory=set)
    # A date written next to the visible headline (the byline's), e.g. "Updated March 3, 2024".
    byline_date: str | None = None
    # A machine-readable <time datetime> beside the visible headline (the article header's).
    header_time: str | None = None
    # The first date the page labels as its publication: "Published on …", "Posted: …",
    # "Originally published …".
    labelled_date: str | None = None
    # Markup author values that are account names ("jdoe"), kept apart from ``authors``.
    account_names: list[str] = field(default_factory=list)
    # The page's visible text, case-folded, for checking that a name is really shown.
    visible_text: str = ""
    # Markup authors typed as an organisation or a website (as compared: case-folded).
    organisations: set[str] = field(default_factory=set)
    # The visible text from the headline on, case-folded: where a byline is written.
    after_headline: str = ""
    # The names of a "By …" byline written after the headline.
    byline_names: list[str] = field(default_factory=list)

    def shows(self, name: str) -> bool:
        """True when ``name`` appears in the page's visible text."""
        return key(name) in self.visible_text

    def credits(self, name: str) -> bool:
        """True when the page credits ``name`` in its byline: shown just after the headline
        (not in the menus above it), or after "by"."""
        return key(name) in self.after_headline or self.credits_by(name)

    def credits_by(self, name: str) -> bool:
        """True when the page shows "by ``name``"."""
        return f"by {key(name)}" in self.visible_text

    def is_site(self, name: str) -> bool:
        """True when ``name`` is the site's or publisher's name."""
        return key(name) in self.site_names

    def near_site(self, name: str) -> bool:
        """True when ``name`` contains a site name or is part of one."""
        wanted = key(name)
        return any(wanted in site or site in wanted for site in self.site_names)


def page_meta(tree: Any) -> PageMeta:
    """Headline, authors, publication date and site names stated by the page's markup."""
    tags = meta_tags(tree)
    sites = {key(s) for s in (clean_text(tags.get("og:site_name")),) if s}
    title_tag = tree.find(".//title")
    title_text = clean_text(title_tag.text_content()) if title_tag is not None else None

    headline_ld: str | None = None
    authors: list[str] = []
    published: str | None = None
    modified: str | None = None
    organisations: set[str] = set()
    for obj in json_ld_objects(tree):
        kinds = types(obj)
        if kinds & {"organization", "newsmediaorganization", "website"}:
            name = clean_text(obj.get("name"))
            if name and "website" in kinds:
                sites.add(key(name))
        if not kinds & ARTICLE_TYPES:
            continue
        publisher = obj.get("publisher")
        if isinstance(publisher, dict) and (name := clean_text(publisher.get("name"))):
            sites.add(key(name))
        # "webpage" objects describe the page, not the article: use them only as a fallback.
        primary = bool(kinds - PAGE_TYPES)
        if headline_ld is None and primary:
            headline_ld = clean_text(obj.get("headline"))
        if not authors and (primary or obj.get("author")):
            authors = person_names(obj.get("author"))
            organisations |= organisation_names(obj.get("author"))
        if published is None and (primary or obj.get("datePublished")):
            published = iso_date(obj.get("datePublished"))
        if modified is None and (primary or obj.get("dateModified")):
            modified = iso_date(obj.get("dateModified"))

    for name in PUBLISHED_META:
        if published:
            break
        published = iso_date(tags.get(name))
    for name in MODIFIED_META:
        if modified:
            break
        modified = iso_date(tags.get(name))
    if not authors:
        for name in AUTHOR_META:
            if (value := tags.get(name)) and (authors := person_names(value)):
                break
    accounts = [] if authors else account_names(tree, tags)

    candidates = [c for c in (headline_ld, clean_text(tags.get("og:title")), title_text) if c]
    headline = choose_headline(headings(tree), candidates, sites)
    shown = shown_text(tree)
    visible = shown.casefold()
    before, after = byline_window(visible, headline)
    return PageMeta(
        byline_date=byline_date(before + after),
        updated_date=updated_date(before + after),
        modified=modified,
        after_headline=after,
        byline_names=shown_byline(shown, headline),
        labelled_date=labelled_date(visible),
        account_names=accounts,
        header_time=header_time(tree, headline),
        visible_text=visible,
        headline=headline,
        title_candidates=candidates,
        authors=authors,
        published=published,
        site_names=sites,
        organisations=organisations,
    )
