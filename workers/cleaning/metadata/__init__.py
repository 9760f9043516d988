"""Article metadata the page states itself: headline, authors, publication date.

Structured markup comes first (JSON-LD ``Article`` objects, OpenGraph / ``article:*`` and
``<meta name=author>`` tags) because a publisher writes it on purpose; the visible ``<h1>``
is the headline readers see. The cleaning stage falls back to trafilatura's heuristics only
where these say nothing, and never guesses a date or an author the page does not give.

- :mod:`.markup`: JSON-LD objects, meta tags, the visible text;
- :mod:`.headline`: the headline;
- :mod:`.names`: author names;
- :mod:`.organisations`: authors that are organisations;
- :mod:`.byline`: a "By …" byline in the shown text;
- :mod:`.dates`: dates (the one month table);
- :mod:`.page`: :class:`PageMeta`, all of the above read from one page;
- :mod:`.choice`: the page's statements chosen over trafilatura's guesses.
"""

from workers.cleaning.metadata.choice import chosen_metadata
from workers.cleaning.metadata.page import PageMeta, page_meta

__all__ = ["PageMeta", "chosen_metadata", "page_meta"]
