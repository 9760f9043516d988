"""A second pass over the extracted text: drop the clutter lines extractors leave behind.

Extractors judge blocks of HTML; what slips through are short lines whose wording gives them
away: "Skip to main content", affiliate disclosures, "Leave a comment", comment-policy notes,
bare "Click here" links, share prompts, and related-article lists whose entries end in a
byline with a time or date ("Name | 18:57"). Each rule matches a whole line (or a line that is
only that phrase plus punctuation), so a sentence of the article that merely mentions such
words is kept.

Lists of names or figures look like tag lines but are the content of line-ups, results and
tables ("Defenders - Rudi Vata, Saimir Malko, Arjan Xhumba"; "Botes 72 68, Greg Reid 72 68"):
a comma list is a tag line only when it carries no figures, no "Label -" lead-in, fewer than
half of its terms read as people's names, and neither neighbouring line is a list too.
"""

from __future__ import annotations

import re

# A line that is nothing but one of these (case-insensitive, trailing punctuation allowed).
_WHOLE_LINE = re.compile(
    r"^(?:"
    r"skip to (?:the )?(?:main )?(?:content|navigation|article)|jump to (?:content|navigation)"
    r"|click here(?: to [\w ]{1,40})?|read more|continue reading|load more|show more"
    r"|leave a (?:comment|reply)|post a comment|add a comment|write a comment|no comments yet"
    r"|comments?(?: \(\d+\))?|\d+ comments?|join the (?:conversation|discussion)"
    r"|share(?: this(?: article| story| post)?)?(?: on \w+)?|copy link|link copied"
    r"|thanks for sharing|print(?: this)?(?: article)?|email|tweet|pin it"
    r"|related(?: articles| posts| stories| news)?|more (?:stories|articles|news)"
    r"|(?:recommended|trending|popular|most read)(?: for you| now| articles| stories)?"
    r"|advertisement|sponsored(?: content)?|subscribe(?: now)?|sign up(?: now)?"
    r"|accept(?: all)? cookies|cookie settings"
    r"|(?:tags?|topics?|filed under|categories)\s*:.*"
    r")[\s.!:…»\u203a>]*$",
    re.IGNORECASE,
)
# Sentences that only ever occur in disclosures and comment policies.
_CLUTTER_SENTENCE = re.compile(
    r"(?:we|i) (?:may )?(?:receive|earn|get) (?:a )?(?:small )?(?:compensation|commissions?"
    r"|affiliate commissions?)\b"
    r"|\baffiliate (?:links?|partners?|disclosure)\b.*\b(?:commission|compensation|earn)"
    r"|\bas an amazon associate\b"
    r"|\bread our (?:full )?(?:disclosure|affiliate|comment) (?:policy|here)?"
    r"|\bplease share your thoughts about this (?:article|story|post)\b"
    r"|\b(?:do not|don'?t|please do not) (?:send|post|submit) comments\b"
    r"|\bcomments? (?:that|which) (?:include|contain)s? (?:inflammatory|offensive|abusive)"
    r"|\bthe comment was (?:sent|submitted|received) successfully\b"
    r"|\b(?:the |your )?(?:response|comment) will be (?:examined|reviewed|moderated) by\b"
    r"|\bcomments are (?:moderated|closed|reviewed)\b"
    r"|\byour email address will not be published\b"
    r"|\brequired fields are marked\b",
    re.IGNORECASE,
)
# The byline of a related-article teaser: "Gila Isaacson | 18:57", "Avi Woolf | 05.07.24".
_TEASER_BYLINE = re.compile(
    r"^[^\W\d_][\w.'\u2019\- ]{1,60}\s*[|·•]\s*"
    r"(?:\d{1,2}:\d{2}(?:\s*[ap]\.?m\.?)?|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2})$",
    re.IGNORECASE,
)
# A tag line: several short capitalised terms separated by commas, no sentence punctuation.
_TERM = r"[A-Z][\w'\u2019\-]*(?: [\w'\u2019\-]+){0,3}"
_TAG_LINE = re.compile(rf"^(?:{_TERM}, ){{2,}}{_TERM}$")
_TAG_LINE_CHARS = 120
# What makes a comma list content rather than tags: a figure standing alone (a score, a
# price, a vote count), a "Defenders - " lead-in, terms that are people's names.
_FIGURE = re.compile(r"(?<![\w\-])\d")
_LABELLED = re.compile(r"^[^,]+ [-\u2013\u2014] ")
_PERSON = re.compile(r"[A-Z][\w'\u2019.\-]+(?: [A-Z][\w'\u2019.\-]+){1,2}")

# The rules, by the name the benchmark reports them under.
WHOLE_LINE, TEASER_BYLINE, TEASER_HEADLINE = "whole-line", "teaser-byline", "teaser-headline"
SENTENCE, TAG_LINE = "sentence", "tag-line"


def clutter_rule(line: str) -> str | None:
    """The rule by which one extracted line is boilerplate by its wording alone (None when
    it is not): :data:`WHOLE_LINE`, :data:`TEASER_BYLINE`, :data:`SENTENCE` or
    :data:`TAG_LINE`."""
    text = line.strip()
    if not text or (len(text) <= 80 and _WHOLE_LINE.match(text)):
        return WHOLE_LINE
    if _TEASER_BYLINE.match(text):
        return TEASER_BYLINE
    if len(text) <= 400 and _CLUTTER_SENTENCE.search(text):
        return SENTENCE
    return TAG_LINE if _tag_list(text) and not _names_or_figures(text) else None


def is_clutter(line: str) -> bool:
    """True when one extracted line is boilerplate by its wording alone."""
    return clutter_rule(line) is not None


def _tag_list(text: str) -> bool:
    return len(text) <= _TAG_LINE_CHARS and bool(_TAG_LINE.match(text))


def _names_or_figures(text: str) -> bool:
    """True when a comma list is a line-up, a results line or a list of people."""
    if _FIGURE.search(text) or _LABELLED.match(text):
        return True
    terms = text.split(", ")
    return 2 * sum(bool(_PERSON.fullmatch(term)) for term in terms) >= len(terms)


def clutter_rules(lines: list[str]) -> list[str | None]:
    """The rule that drops each line (None for the lines kept). A related-article teaser
    takes the short headline above its byline (:data:`TEASER_HEADLINE`); a tag-like list
    next to another list line is a block of the article (a table, a line-up) and stays."""
    rules = [clutter_rule(line) for line in lines]
    for i in range(len(lines)):
        if rules[i] == TAG_LINE and any(
            0 <= j < len(lines) and _tag_list(lines[j].strip()) for j in (i - 1, i + 1)
        ):
            rules[i] = None
    for i, line in enumerate(lines):
        if not _TEASER_BYLINE.match(line.strip()):
            continue
        # Teaser: "Tags, Tags" / "Headline" / "Name | 18:57": the short line above it goes.
        j = i - 1
        while j >= 0 and rules[j] is not None:
            j -= 1
        if j >= 0 and len(lines[j]) <= 160:
            rules[j] = TEASER_HEADLINE
    return rules


def drop_clutter(lines: list[str]) -> list[str]:
    """The lines that are not clutter (see :func:`clutter_rules`)."""
    return [line for line, rule in zip(lines, clutter_rules(lines), strict=True) if rule is None]
