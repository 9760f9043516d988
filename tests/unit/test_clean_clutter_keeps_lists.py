"""Lists that are the article: line-ups, results tables, market and election figures keep
every line through the clutter filter (workers.cleaning.clutter), while real tag and
category lines still go.

The pages are written for this test, one per kind of list-heavy story; each list line has
the form of a tag line (capitalised terms separated by commas), which is what the filter
once dropped.
"""

from __future__ import annotations

import pytest

from workers.cleaning.clutter import TAG_LINE, _tag_list, clutter_rules, drop_clutter
from workers.cleaning.options import CleanOptions
from workers.cleaning.stage import extract_article

STORIES = {
    "football line-up": [
        "Albania named an unchanged side for Wednesday's qualifier against Moldova, "
        "with the coach keeping faith in the back four that kept a clean sheet in Tirana.",
        "Goalkeepers - Blendi Nallbani, Foto Strakosha, Armir Grima",
        "Defenders - Rudi Vata, Saimir Malko, Arjan Xhumba, Ilir Shulku",
        "Midfielders - Sokol Kushta, Altin Haxhi, Edmond Abazi",
        "Forwards - Alban Bushi, Altin Rraklli, Viktor Paco",
        "Moldova will be without their captain, who was sent off in the previous match "
        "and serves a one-match suspension.",
    ],
    "golf results": [
        "South African Wayne Westner shot a final round of 68 to win the Zimbabwe Open "
        "by three strokes on Sunday, his first title of the season.",
        "Botes 72 68, Greg Reid 72 68, Clinton Whitelaw 70",
        "Mark McNulty 71 69, Tony Johnstone 70 70, Retief Goosen 69 71",
        "The leading eight players qualify for next month's championship at the "
        "Royal Harare course, the organisers said.",
    ],
    "cricket scorecard": [
        "Australia closed the second day on 312 for six after a century partnership "
        "between their captain and the wicketkeeper rescued the innings.",
        "Taylor 45, Slater 12, Langer 88, Waugh 102",
        "Healy 61 not out, Warne 4, McGrath 0",
        "Pakistan's bowlers took four wickets in the final session, three of them to "
        "the left-arm spinner who finished with figures of four for 70.",
    ],
    "tennis draw": [
        "The top four seeds all reached the quarter-finals in Rotterdam on Thursday, "
        "although the second seed needed three sets and a tie-break to get through.",
        "Quarter-finals - Goran Ivanisevic, Yevgeny Kafelnikov, Richard Krajicek, Thomas Muster",
        "The organisers moved the evening session forward by an hour to avoid a clash "
        "with the national football team's friendly.",
    ],
    "market report": [
        "European shares ended higher on Friday as banks rallied after the central bank "
        "left interest rates unchanged and signalled no hurry to tighten policy.",
        "Siemens up 3, Allianz up 2, Deutsche Bank down 4, Bayer flat",
        "Unilever 4512, Shell 2830, BP 492, Rio Tinto 5160",
        "Trading volumes were thin ahead of the holiday weekend, with many investors "
        "waiting for next week's inflation figures before taking new positions.",
    ],
    "election results": [
        "The governing coalition lost its majority in the regional assembly, final "
        "results published by the electoral commission on Monday showed.",
        "Social Democrats 41, Christian Democrats 38, Greens 17, Free Democrats 9",
        "Elected - Anna Keller, Jonas Weber, Maria Fischer, Lukas Wagner",
        "Turnout was 71 percent, up four points on the previous election, the highest "
        "figure recorded since the assembly was created.",
    ],
    "jury list": [
        "The festival announced the jury that will award the main prize next month, "
        "chaired for the first time by a documentary film maker.",
        "Agnes Varda, Wim Wenders, Jane Campion, Spike Lee",
        "The jury will watch the twenty films of the main competition over eleven days "
        "and announce its decision at the closing ceremony.",
    ],
}
TAGS = "Politics, Elections, Parliament"
OPTIONS = CleanOptions(timeout_s=10.0, min_words=1)


def story_page(lines: list[str], tail: str = "") -> str:
    paragraphs = "".join(f"<p>{line}</p>" for line in lines)
    return (
        "<!doctype html><html lang='en'><head><title>Results</title></head><body><article>"
        f"<h1>The results of the day</h1>{paragraphs}{tail}</article></body></html>"
    )


def list_lines(lines: list[str]) -> list[str]:
    """The story's list lines (its other lines are sentences)."""
    return [line for line in lines if not line.endswith(".")]


@pytest.mark.parametrize("kind", STORIES)
def test_every_list_line_of_the_story_is_kept(kind: str) -> None:
    lines = STORIES[kind]
    # Each list line has the tag-line form, so the story tests the rule, not its shape.
    assert all(_tag_list(line) for line in list_lines(lines))
    article = extract_article(story_page(lines), "https://sport.example/day", OPTIONS)
    kept = article["text"].split("\n\n")
    for line in lines:
        assert line in kept, line


@pytest.mark.parametrize("kind", STORIES)
def test_a_tag_line_after_the_story_still_goes(kind: str) -> None:
    tail = f"<p>{TAGS}</p>"
    article = extract_article(story_page(STORIES[kind], tail), "https://sport.example/d", OPTIONS)
    assert TAGS not in article["text"]
    assert STORIES[kind][-1] in article["text"]


@pytest.mark.parametrize(
    "line",
    [
        "Harbour, Bridges, City Council, Transport",
        "Posted in Blockchain, Smart Contract, Technologies",
        "Fatherhood, Philosophy, Technology",
        "World News, Europe, Brexit, Trade",
    ],
)
def test_real_tag_lines_are_dropped(line: str) -> None:
    prose = "The talks resumed on Monday after a week in which neither side moved at all."
    assert clutter_rules([prose, line]) == [None, TAG_LINE]
    assert drop_clutter([prose, line]) == [prose]


def test_a_block_of_surname_lists_is_kept_whole() -> None:
    # Surnames alone do not read as people's names; two list lines together are a table.
    block = ["Smith, Warner, Labuschagne, Head", "Starc, Cummins, Hazlewood, Lyon"]
    assert clutter_rules(block) == [None, None]
