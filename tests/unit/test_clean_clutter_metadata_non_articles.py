"""The cleaning stage's quality rules: residual clutter, stated metadata, non-articles.

No broker here: these call ``clean_message`` / ``extract_article``, the functions the clean
worker runs.
"""

from __future__ import annotations

import json
from dataclasses import replace

import orjson
import pytest
from lxml import html as lxml_html
from trafilatura.utils import load_html

from tests.support.paths import REPO
from workers.cleaning.clutter import drop_clutter, is_clutter
from workers.cleaning.metadata.byline import shown_byline
from workers.cleaning.metadata.markup import visible_text
from workers.cleaning.metadata.names import byline_name, split_names
from workers.cleaning.metadata.page import page_meta
from workers.cleaning.options import CleanOptions
from workers.cleaning.stage import clean_message, extract_article
from workers.errors import Reason, StageError
from workers.kafka.produce import raw_record
from workers.records.message import InputMessage
from workers.settings import Settings

SAMPLES = REPO / "workers" / "samples"
MANIFEST = orjson.loads((SAMPLES / "manifest.json").read_bytes())
SETTINGS = Settings()
# A short test page is an article: the word gate is tested apart.
OPTIONS = CleanOptions(timeout_s=10.0, min_words=1)

ARTICLE = [
    "The city council voted on Tuesday to rebuild the old harbour bridge, ending a debate "
    "that had run for more than a decade.",
    "Engineers said the new span would carry trams as well as cars, and that construction "
    "could begin next spring if the regional government releases its share of the funds.",
    "Residents who want to follow the work can click here on the council website, the mayor "
    "said, adding that weekly updates would be posted there.",
    "Opponents argued the money would be better spent on schools, but the motion passed by "
    "twenty-one votes to nine after a four-hour session.",
    "The bridge, opened in 1911, has been closed to heavy vehicles since cracks were found in "
    "two of its piers during an inspection three years ago.",
]
# The residual clutter of the seeds (../shared/seeds/), placed inside the article container
# where an extractor keeps it.
CLUTTER = [
    "Skip to main content",
    "We may receive compensation from affiliate partners for some links on this site. "
    "Read our full Disclosure here.",
    "Click here",
    "Harbour, Bridges, City Council, Transport",
    "Join the conversation!",
    "Please share your thoughts about this article below. We value your opinions, and would "
    "love to see you add to the discussion!",
    "Leave a comment",
    "Thanks for sharing!",
    "Do not send comments that include inflammatory words, defamation and content that "
    "exceeds the limit of good taste.",
    "The comment was sent successfully.",
    "Soon the response will be examined by our editors and if it is found to be correct it "
    "will be published on the website.",
    "Hamas Issues New Demand in Ceasefire Negotiations",
    "Gila Isaacson | 18:57",
    "New Poll: Gantz, Netanyahu, and Lapid all losing seats",
    "Avi Woolf | 05.07.24",
]


def page(*, head: str = "", body: str) -> str:
    return f"<!doctype html><html lang='en'><head>{head}</head><body>{body}</body></html>"


def cluttered_page() -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in ARTICLE)
    top, disclosure, click, tags = (f"<p>{c}</p>" for c in CLUTTER[:4])
    comments = "".join(f"<p>{c}</p>" for c in CLUTTER[4:11])
    related = "".join(
        f"<p>{CLUTTER[i]}</p><p>{CLUTTER[i + 1]}</p>" for i in range(11, len(CLUTTER), 2)
    )
    return page(
        head="<title>Harbour bridge to be rebuilt | The Daily Tide</title>",
        body=f"<article>{top}{disclosure}<h1>Harbour bridge to be rebuilt</h1>{paragraphs}"
        f"{click}{tags}{comments}{related}</article>",
    )


def run(html: str, **settings: object) -> dict:
    record = raw_record(html.encode(), "https://news.example/2024/05/harbour-bridge")
    message = InputMessage(value=orjson.dumps(record))
    return clean_message(message, Settings(**settings) if settings else SETTINGS)


def test_seed_clutter_is_dropped_and_every_sentence_kept() -> None:
    text = run(cluttered_page())["text"]
    for sentence in ARTICLE:
        assert sentence in text
    for line in CLUTTER:
        assert line not in text, line
    assert text.split("\n\n") == ["Harbour bridge to be rebuilt", *ARTICLE]


def test_without_the_line_filter_the_extractor_keeps_the_clutter() -> None:
    # The page above is a fair test: trafilatura alone keeps most of its clutter.
    unfiltered = replace(OPTIONS, line_filter=False)
    article = extract_article(cluttered_page(), "https://news.example/", unfiltered)
    kept = [line for line in CLUTTER if line in article["text"]]
    assert len(kept) >= 10, kept


@pytest.mark.parametrize(
    "line",
    [
        "Skip to content",
        "Click here.",
        "Leave a Reply",
        "Share on Facebook",
        "Tags: Elections, Polls",
        "As an Amazon Associate I earn from qualifying purchases.",
        "Your email address will not be published. Required fields are marked *",
        "Gila Isaacson | 18:57",
        "Avi Woolf | 05.07.24",
    ],
)
def test_clutter_lines(line: str) -> None:
    assert is_clutter(line)


@pytest.mark.parametrize(
    "line",
    [
        "Click here to see how the council voted, said the mayor, who opposed the plan.",
        "Comments from residents were mostly positive, the survey found.",
        "The affiliate network's chief executive, Dana Ruiz, resigned on Monday.",
        "Share prices fell 3% in early trading.",
        "Tags were attached to 200 sea turtles last year.",
        "Paris, London, Berlin and Madrid all reported record heat.",
    ],
)
def test_article_sentences_are_not_clutter(line: str) -> None:
    assert not is_clutter(line)


def test_a_teaser_headline_goes_with_its_byline_but_a_sentence_stays() -> None:
    lines = [
        "The minister denied the report.",
        "Iran has a brand new President!",
        "Gila Isaacson | 18:11",
    ]
    assert drop_clutter(lines) == ["The minister denied the report."]


def test_metadata_comes_from_json_ld_and_the_visible_headline() -> None:
    ld = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "The Daily Tide"},
            {
                "@type": "NewsArticle",
                "headline": "Harbour bridge to be rebuilt",
                "datePublished": "2024-05-14T23:30:00-04:00",
                "author": [
                    {"@type": "Person", "name": "Ana Silva"},
                    {"@type": "Person", "name": "Tom O&#039;Neill"},
                ],
            },
        ],
    }
    html = page(
        head=f"<title>Harbour bridge to be rebuilt | The Daily Tide</title>"
        f"<meta name='author' content='admin'>"
        f"<script type='application/ld+json'>{json.dumps(ld)}</script>",
        body="<header><h1>The Daily Tide</h1></header><article>"
        "<h1>Harbour bridge to be rebuilt</h1>"
        + "".join(f"<p>{p}</p>" for p in ARTICLE)
        + "</article>",
    )
    record = run(html)
    assert record["title"] == "Harbour bridge to be rebuilt"
    assert record["authors"] == ["Ana Silva", "Tom O'Neill"]
    # The day the publisher wrote, not converted to UTC.
    assert record["published_at"] == "2024-05-14"


def test_no_date_or_author_is_invented() -> None:
    # Years in the text and the copyright line are not a publication date; the CMS's
    # placeholder "admin" is not an author.
    html = page(
        head="<title>Bridge history</title><meta name='author' content='admin'>",
        body="<article><h1>Bridge history</h1>"
        + "".join(f"<p>{p}</p>" for p in ARTICLE)
        + "<p>In 1998 and again in 2015 the bridge was repainted.</p></article>"
        "<footer>© 2024 The Daily Tide. All rights reserved.</footer>",
    )
    record = run(html)
    assert record["published_at"] is None
    assert record["authors"] == []


def dated_page(*, head: str = "", header: str = "", aside: str = "") -> str:
    return page(
        head=f"<title>Harbour bridge to be rebuilt</title>{head}",
        body=f"<aside><ul>{aside}</ul></aside><article><div class='meta'>"
        f"<h1>Harbour bridge to be rebuilt</h1><p class='byline'>{header}</p></div>"
        + "".join(f"<p>{p}</p>" for p in ARTICLE)
        + "</article>",
    )


def test_permalink_day_comes_before_the_markup_timestamp() -> None:
    # Published late in the evening in the publisher's time zone: the markup's timestamp
    # is already the next day; the permalink (and the visible byline) say the 18th.
    ld = {"@type": "BlogPosting", "datePublished": "2025-12-19T02:10:00+00:00"}
    html = dated_page(head=f"<script type='application/ld+json'>{json.dumps(ld)}</script>")
    url = "https://blog.example/2025/12/18/harbour-bridge/"
    assert extract_article(html, url, OPTIONS)["published_at"] == "2025-12-18"
    # A year and month alone, or a query string, are not a day.
    assert extract_article(html, "https://blog.example/2025/12/x", OPTIONS)["published_at"] == (
        "2025-12-19"
    )
    assert extract_article(html, "https://blog.example/p?d=/2025/12/18", OPTIONS)[
        "published_at"
    ] == ("2025-12-19")


def test_time_element_in_the_article_header_dates_the_page() -> None:
    # The sidebar's teaser dates come first in the document; the <time> beside the
    # headline is the article's, and it says more than the "Updated" text written there.
    aside = "".join(
        f"<li><a href='/n/{d}'>Other story</a> <time datetime='2025-06-0{d}'>June {d}</time></li>"
        for d in (1, 2)
    )
    html = dated_page(
        header="By Ana Silva · <time datetime='2017-03-01T12:00:00Z'>1 March</time>"
        " · Updated June 1, 2025",
        aside=aside,
    )
    url = "https://news.example/harbour-bridge"
    assert extract_article(html, url, OPTIONS)["published_at"] == "2017-03-01"
    # A <time> only in the sidebar is not the header's (htmldate may still pick it later).
    assert page_meta(load_html(html)).header_time == "2017-03-01"
    bare = dated_page(header="By Ana Silva", aside=aside)
    assert page_meta(load_html(bare)).header_time is None


def test_meta_date_is_a_publication_date() -> None:
    html = dated_page(head="<meta name='date' content='2022-11-09'>")
    assert extract_article(html, "https://news.example/x", OPTIONS)["published_at"] == "2022-11-09"


def test_an_earlier_shown_date_beats_the_markups() -> None:
    # The markup's datePublished is the day the CMS re-imported the post; the byline shows
    # the day it was written.
    ld = {"@type": "BlogPosting", "datePublished": "2025-11-20T16:02:46Z"}
    head = f"<script type='application/ld+json'>{json.dumps(ld)}</script>"
    html = dated_page(head=head, header="By Ana Silva · May 14, 2025")
    url = "https://news.example/harbour-bridge"
    assert extract_article(html, url, OPTIONS)["published_at"] == "2025-05-14"
    # One day earlier is a time zone, not a migration: the markup's day stands.
    html = dated_page(head=head, header="By Ana Silva · November 19, 2025")
    assert extract_article(html, url, OPTIONS)["published_at"] == "2025-11-20"


def test_a_date_labelled_published_dates_the_page() -> None:
    # No markup date; the byline shows when the post was last updated, the end of the
    # article says when it was first published.
    html = page(
        head="<title>Harbour bridge to be rebuilt</title>",
        body="<article><h1>Harbour bridge to be rebuilt</h1>"
        "<p class='byline'>Updated December 10, 2025</p>"
        + "".join(f"<p>{p}</p>" for p in ARTICLE)
        + "<p>This article was originally published on 26 September 2019.</p></article>",
    )
    url = "https://news.example/harbour-bridge"
    assert extract_article(html, url, OPTIONS)["published_at"] == "2019-09-26"
    # Without the label, the byline's "Updated" date is all the page gives.
    unlabelled = html.replace("This article was originally published on", "It opened on")
    assert extract_article(unlabelled, url, OPTIONS)["published_at"] == "2025-12-10"


@pytest.mark.parametrize(
    ("byline", "day"),
    [
        ("By Ana Silva · 17.05.2021", "2021-05-17"),  # day first: 17 is no month
        ("By Ana Silva · 2/24/2026", "2026-02-24"),  # month first: 24 is no month
        ("By Ana Silva · 12.12.2025", "2025-12-12"),  # both readings agree
        ("By Ana Silva · 03/04/2024", None),  # March or April, by country: no date
    ],
)
def test_a_byline_date_in_figures_counts_when_it_reads_one_way(
    byline: str, day: str | None
) -> None:
    assert page_meta(load_html(dated_page(header=byline))).byline_date == day


@pytest.mark.parametrize(
    ("byline", "name"),
    [
        ("Rachel MacDonald Writer", "Rachel MacDonald"),
        ("Linda Rosencrance Contributing Writer", "Linda Rosencrance"),
        ("Luke Kim December", "Luke Kim"),
        ("Haley Hoekstra • March", "Haley Hoekstra"),
        ("Cazzy Magennis Last Updated August 1", "Cazzy Magennis"),
        ("Recipe by PJ Hamel", "PJ Hamel"),
        ("Read more about The Upwork Team", "The Upwork Team"),
        ("Tom May", "Tom May"),  # a name that is also a month
        ("Podium Staff", "Podium Staff"),  # no name would be left without the role
        ("October", None),
        ("Updated January", None),
    ],
)
def test_heuristic_bylines_lose_lead_ins_roles_and_dates(byline: str, name: str | None) -> None:
    assert byline_name(byline) == name


def byline_page(*, head: str = "", byline: str) -> str:
    return page(
        head=f"<title>Harbour bridge to be rebuilt | The Daily Tide</title>{head}",
        body="<article><h1>Harbour bridge to be rebuilt</h1>"
        f"<div class='byline'>{byline}</div>"
        + "".join(f"<p>{p}</p>" for p in ARTICLE)
        + "</article>",
    )


def test_a_byline_running_into_the_role_is_tidied() -> None:
    html = byline_page(byline="<span class='author'>Rachel MacDonald Writer</span>")
    url = "https://news.example/harbour-bridge"
    assert extract_article(html, url, OPTIONS)["authors"] == ["Rachel MacDonald"]


def test_a_shown_person_beats_a_markup_author_that_is_the_publisher() -> None:
    ld = {
        "@type": "NewsArticle",
        "author": {"@type": "Organization", "name": "The Daily Tide"},
        "publisher": {"@type": "Organization", "name": "The Daily Tide"},
    }
    head = f"<script type='application/ld+json'>{json.dumps(ld)}</script>"
    html = byline_page(head=head, byline="By <span class='author'>Ana Silva</span>")
    url = "https://news.example/harbour-bridge"
    assert extract_article(html, url, OPTIONS)["authors"] == ["Ana Silva"]


def test_an_organisation_author_the_byline_does_not_credit_is_no_author() -> None:
    ld = {"@type": "NewsArticle", "author": {"@type": "Organization", "name": "Tide Media Inc"}}
    head = f"<script type='application/ld+json'>{json.dumps(ld)}</script>"
    url = "https://news.example/harbour-bridge"
    html = byline_page(head=head, byline="")
    assert extract_article(html, url, OPTIONS)["authors"] == []
    # Credited in the byline ("By Tide Media Inc"), the organisation is the author.
    credited = byline_page(head=head, byline="By Tide Media Inc")
    assert extract_article(credited, url, OPTIONS)["authors"] == ["Tide Media Inc"]


def test_an_organisation_after_a_person_is_an_affiliation() -> None:
    ld = {"@type": "NewsArticle", "author": "Ana Silva, The Daily Tide"}
    site = "<meta property='og:site_name' content='The Daily Tide'>"
    head = f"{site}<script type='application/ld+json'>{json.dumps(ld)}</script>"
    html = byline_page(head=head, byline="")
    assert extract_article(html, "https://news.example/a", OPTIONS)["authors"] == ["Ana Silva"]


def test_a_by_line_after_the_headline_names_the_author() -> None:
    byline = "Harbour desk. By Ana Silva and Tom May on 3 March 2024"
    html = byline_page(byline=byline)
    url = "https://news.example/harbour-bridge"
    assert extract_article(html, url, OPTIONS)["authors"] == ["Ana Silva", "Tom May"]


@pytest.mark.parametrize(
    "byline",
    [
        "The mayor can be reached by Phone or email.",
        "Photo by Reuters",
        "Costs (By Type) were published in March.",
    ],
)
def test_by_inside_a_sentence_or_a_credit_is_no_byline(byline: str) -> None:
    html = byline_page(byline=byline)
    assert extract_article(html, "https://news.example/a", OPTIONS)["authors"] == []


def test_a_heuristic_byline_mixing_menu_words_is_no_name() -> None:
    assert byline_name("Board Actions Open submenu LSC Code") is None
    assert byline_name("Ludwig van Beethoven") == "Ludwig van Beethoven"


def test_an_account_name_counts_only_when_the_page_shows_it() -> None:
    # trafilatura turns the meta tag's "ana.silva" into "Ana Silva", which the page never
    # shows; the account name itself is what the byline shows.
    head = "<meta name='author' content='ana.silva'>"
    url = "https://news.example/harbour-bridge"
    shown = byline_page(head=head, byline="Posted by ana.silva")
    assert extract_article(shown, url, OPTIONS)["authors"] == ["ana.silva"]
    hidden = byline_page(head=head, byline="")
    assert extract_article(hidden, url, OPTIONS)["authors"] == []


@pytest.mark.parametrize(
    "body",
    [
        "<script>window.app = {};</script><div id='root'></div>",
        "<ul>"
        + "".join(f"<li><a href='/n/{i}'>Story {i}</a></li>" for i in range(12))
        + "</ul><p>Page 2</p>",
    ],
    ids=["empty-shell", "index-page"],
)
def test_non_articles_are_dead_letters_not_garbage(body: str) -> None:
    with pytest.raises(StageError) as caught:
        run(page(head="<title>News</title>", body=body))
    assert caught.value.reason == "not_an_article"


POEM = [
    "I wander often from the way,",
    "And sin afflicts me every day:",
    "Oh, when shall I be pure?",
    "Christ leads me to the path again,",
    "And washes me from every stain,",
    "A cleansing full and sure.",
]
SHORT_POST = "British designer Jake Phipps has made a video showing how his Loveseat is built."


def test_a_poem_is_prose_though_its_lines_are_short() -> None:
    # Each verse ends as a sentence does; link labels of an index page do not.
    body = "<article><h1>A hymn</h1>" + "".join(f"<p>{v}</p>" for v in POEM * 2) + "</article>"
    assert run(page(head="<title>A hymn</title>", body=body))["text"].count("pure?") == 2


@pytest.mark.parametrize(
    "head",
    [
        "<meta property='og:type' content='article'>",
        '<script type="application/ld+json">{"@type": "BlogPosting", "headline": "Loveseat"}'
        "</script>",
    ],
    ids=["og-type", "json-ld"],
)
def test_a_page_declared_an_article_passes_with_one_sentence(head: str) -> None:
    body = f"<article><h1>Making of the Loveseat</h1><p>{SHORT_POST}</p></article>"
    assert SHORT_POST in run(page(head=f"<title>Loveseat</title>{head}", body=body))["text"]
    # Undeclared, the same sentence is a stub; declared as a website, too.
    for other in ("", "<meta property='og:type' content='website'>"):
        with pytest.raises(StageError) as caught:
            run(page(head=f"<title>Loveseat</title>{other}", body=body))
        assert caught.value.reason == "not_an_article"


def test_a_declared_index_page_is_still_no_article() -> None:
    links = "".join(f"<li><a href='/n/{i}'>Story {i}</a></li>" for i in range(12))
    head = "<title>News</title><meta property='og:type' content='article'>"
    with pytest.raises(StageError) as caught:
        run(page(head=head, body=f"<ul>{links}</ul><p>Page 2</p>"))
    assert caught.value.reason == "not_an_article"


def test_min_article_words_is_a_setting() -> None:
    html = page(body="<article><p>" + " ".join(["word"] * 30) + "</p></article>")
    assert run(html, min_article_words=30)["text"]
    with pytest.raises(StageError) as caught:
        run(html, min_article_words=31)
    assert caught.value.reason == "not_an_article"


@pytest.mark.parametrize("entry", MANIFEST, ids=[e["file"] for e in MANIFEST])
def test_sample_pages_match_their_manifest(entry: dict) -> None:
    record = raw_record(
        (SAMPLES / entry["file"]).read_bytes(),
        entry["url"],
        content_type=entry["content_type"],
        fetched_at=entry["fetched_at"],
    )
    out = clean_message(InputMessage(value=orjson.dumps(record)), SETTINGS)
    assert out["title"] == entry["title"]
    assert out["authors"] == ([entry["author"]] if entry["author"] else [])
    assert out["published_at"] == entry["published"]
    assert out["text"].startswith(entry["text_starts_with"])
    for sentence in entry["must_contain"]:
        assert sentence in out["text"]
    for clutter in entry["must_not_contain"]:
        assert clutter not in out["text"]


def test_dead_letter_reasons_agree_with_the_schema() -> None:
    schema = orjson.loads((REPO / "schemas" / "dead-letter.v1.json").read_bytes())
    reason = schema["properties"]["reason"]
    assert list(reason["enum"]) == list(Reason.__args__)
    for name in Reason.__args__:
        assert f"{name} (" in reason["description"], name


def test_recall_retry_rescues_a_page_the_default_pass_finds_empty(monkeypatch) -> None:
    # trafilatura's default pass returns None for some real pages (WCXB 4111) while its
    # recall-favouring pass finds the article: the retry's text is kept, metadata is None.
    import trafilatura

    real = trafilatura.bare_extraction
    calls = []

    def fake(tree, **kwargs):
        calls.append(kwargs.get("favor_recall", False))
        return real(tree, **kwargs) if kwargs.get("favor_recall") else None

    monkeypatch.setattr(trafilatura, "bare_extraction", fake)
    html = page(body="<article>" + "".join(f"<p>{p}</p>" for p in ARTICLE) + "</article>")
    article = extract_article(html, "https://news.example/", replace(OPTIONS, min_words=25))
    assert calls == [False, True]
    assert article["text"].split("\n\n") == ARTICLE
    assert article["published_at"] is None and article["authors"] == []


def test_a_nav_wrapping_the_article_is_not_pruned_as_a_menu() -> None:
    # Sloppy templates (or an unclosed <nav>) put the whole article inside the nav element;
    # pruning it as a menu emptied such pages (7 of the 711 WCXB dev pages).
    html = page(
        body="<nav><ul><li><a href='/'>Home</a></li><li><a href='/world'>World</a></li></ul>"
        "<article><h1>Harbour bridge to be rebuilt</h1>"
        + "".join(f"<p>{p}</p>" for p in ARTICLE)
        + "</article></nav>"
    )
    text = extract_article(html, "https://news.example/x", replace(OPTIONS, min_words=25))["text"]
    assert ARTICLE[0] in text and ARTICLE[-1] in text
    assert "World" not in text.split("\n\n")


def test_visible_text_is_what_a_reader_sees() -> None:
    # lxml's own parser keeps comments (trafilatura's load_html drops them).
    tree = lxml_html.fromstring(
        "<html><head><title>T</title></head><body><p>Updated<!-- react -->July 9, 2025"
        "<script>var date = '2001-01-01';</script> by Ana</p><style>p {}</style>"
        "<noscript>Enable JavaScript</noscript><template><p>Hidden</p></template>"
        "<div>Tail <b>bold</b> end</div></body></html>"
    )
    assert visible_text(tree) == "updated july 9, 2025 by ana tail bold end"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Ana Silva & Tom May", ["Ana Silva", "Tom May"]),
        ("Ana Silva and Tom May; Li Wei", ["Ana Silva", "Tom May", "Li Wei"]),
        ("Ernst & Young", ["Ernst & Young"]),
        ("Johnson & Johnson Inc", ["Johnson & Johnson Inc"]),
    ],
)
def test_an_ampersand_joins_a_firm_and_separates_people(text: str, names: list[str]) -> None:
    assert split_names(text) == names


@pytest.mark.parametrize(
    ("after_headline", "names"),
    [
        ("Last updated Aug 04, 2025 Written by Edzel Tabing Table of contents", ["Edzel Tabing"]),
        ("By A. J. Neal View In Digital Edition", ["A. J. Neal"]),
        ("Photo : BSS By Md Aynal Haque RAJSHAHI, Dec 3 (BSS)", ["Md Aynal Haque"]),
        ("16 December 2025 by Sam O'Brien Table of contents", ["Sam O'Brien"]),
        ("Reviewed by a Student. Written by: Elise Nass $ 4 1", ["Elise Nass"]),
        ("By Preetam Jinka Co-founder, Chief Architect", ["Preetam Jinka"]),
        ("The council can be reached by Phone", []),
    ],
)
def test_a_shown_byline_is_read_up_to_the_name(after_headline: str, names: list[str]) -> None:
    headline = "Harbour bridge to be rebuilt"
    assert shown_byline(f"Menu {headline} {after_headline}", headline) == names


def test_no_page_reaches_dateparser(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clean stage runs htmldate without its extensive search, so dateparser (200
    locales, 1.3 s of CPU to compile on first use) is never called and no worker prepares
    it. The page's date is one only the extensive search reads, through dateparser."""
    from dateparser.date import DateDataParser
    from htmldate.core import find_date

    calls: list[str] = []
    real = DateDataParser.get_date_data

    def counted(self: DateDataParser, date_string: str, *args: object, **kwargs: object):
        calls.append(date_string)
        return real(self, date_string, *args, **kwargs)

    monkeypatch.setattr(DateDataParser, "get_date_data", counted)
    page = (
        "<html><body><article><h1>El pleno aprueba el presupuesto</h1>"
        '<p class="date">Publicado el 12 de marzo de 2024</p>'
        "<p>El pleno del ayuntamiento aprobó el presupuesto tras un largo debate sobre "
        "carreteras, escuelas y la nueva biblioteca municipal del barrio norte.</p>"
        "</article></body></html>"
    )
    article = extract_article(page, "https://example.org/a", OPTIONS)
    assert article["text"] and calls == []
    find_date(load_html(page), extensive_search=True, original_date=True)
    assert calls  # the page's date does take dateparser's path when the search is on
