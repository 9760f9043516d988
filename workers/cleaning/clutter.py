"""A second pass over the extracted text: drop the clutter lines extractors leave behind.

Extractors judge blocks of HTML; what slips through are short lines whose wording gives them
away: "Skip to main content", affiliate disclosures, "Leave a comment", comment-policy notes,
bare "Click here" links, share prompts, and related-article lists whose entries end in a
byline with a time or date ("Name | 18:57"). Each rule matches a whole line (or a line that is
only that phrase plus punctuation), so a sentence of the article that merely mentions such
words is kept.
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


def is_clutter(line: str) -> bool:
    """True when one extracted line is boilerplate by its wording alone."""
    text = line.strip()
    if not text:
        return True
    if len(text) <= 80 and _WHOLE_LINE.match(text):
        return True
    if _TEASER_BYLINE.match(text):
        return True
    if len(text) <= 400 and _CLUTTER_SENTENCE.search(text):
        return True
    return bool(_TAG_LINE.match(text) and len(text) <= 120)


def drop_clutter(lines: list[str]) -> list[str]:
    """The lines that are not clutter; a related-article teaser is dropped with the short
    headline above its byline and the tag line above that."""
    keep = [not is_clutter(line) for line in lines]
    for i, line in enumerate(lines):
        if not _TEASER_BYLINE.match(line.strip()):
            continue
        # Teaser: "Tags, Tags" / "Headline" / "Name | 18:57": the short line above it goes.
        j = i - 1
        while j >= 0 and not keep[j]:
            j -= 1
        if j >= 0 and len(lines[j]) <= 160:
            keep[j] = False
    return [line for line, k in zip(lines, keep, strict=True) if k]
