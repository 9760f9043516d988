"""Per-site boilerplate memory: lines that recur across many pages of one site are clutter.

Every short line of a cleaned text is hashed (normalised: NFKC, case-folded, whitespace
collapsed) and counted per site (the registered domain of the URL) once per distinct document:
a redelivery of the same document never counts twice. A line that other pages of the site
carried at least ``min_pages`` times is the site's boilerplate ("Sign up for our newsletter",
the author box, the standing disclaimer) and is dropped from the page. The decision for a
document is made once, the first time it is seen, and kept with its marker: a redelivered page
loses exactly the lines it lost the first time, however many pages of the site came since, so
a redelivery gives the same record. Long lines (more than
``max_words`` words) are never counted nor dropped: a standard paragraph or a quote repeated
across articles is still part of each article. Nor are the short lines that belong to each
article even when the site's template repeats them word for word: a line holding a date or a
figure (a dateline "LONDON 1996-12-06", "Updated 3 March 2024": the same on every story of
that day, different on the next) and a heading inside the body (a short title-like line
followed by a paragraph: "Conclusion", "Key takeaways").

:class:`RedisSiteMemory` keeps the counts in Redis, shared by every clean replica: per site one
sorted set of line hashes scored by page count, trimmed to ``max_lines`` entries (the rarest
go first), and one marker key per counted document holding the hashes it dropped; every key
expires after ``ttl_s``. One Lua script per page counts, decides and keeps the decision in a
single atomic step.
:class:`InProcessSiteMemory` does the same in one process (the embedded demo only). An unreachable
Redis raises :class:`~workers.state.connection.StateUnavailable`, a transient error: the worker
retries the message.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Collection
from typing import Protocol
from urllib.parse import urlsplit

from courlan import extract_domain

from workers.cleaning.metadata.dates import written_date
from workers.settings import Settings
from workers.state.backend import open_store
from workers.state.connection import RedisConnection, unavailable_as

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_FIGURE = re.compile(r"\d")
# A heading inside the body: a few words, no sentence punctuation, and a paragraph after it.
_HEADING_WORDS, _PARAGRAPH_WORDS = 6, 15
_SENTENCE_END = re.compile(r"[.!…»\u203a>|]$")
# What a promo says and a heading does not: a call to act or to go elsewhere.
_CALL_TO_ACT = re.compile(
    r"^(?:sign|subscribe|follow|join|download|get|read|listen|watch|share|click|tap|"
    r"register|log|try|support|donate|become|see|view|find|more|also|related|advertisement|"
    r"sponsored|recommended|most|trending|popular|latest)\b",
    re.I,
)


def site_of(url: str) -> str:
    """The site a page belongs to: its registered domain (news.bbc.co.uk → bbc.co.uk), or
    the host name when there is none (an IP address, localhost)."""
    return extract_domain(url) or (urlsplit(url).hostname or "").lower()


def line_hash(line: str) -> str:
    text = _SPACE.sub(" ", unicodedata.normalize("NFKC", line)).strip().casefold()
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def counted_lines(lines: list[str], max_words: int) -> dict[str, str]:
    """Hash → line for the lines that may be boilerplate (each hash once): short, and not
    one of the article's own (:func:`per_article`)."""
    counted = {}
    for at, line in enumerate(lines):
        if 0 < len(_WORD.findall(line)) <= max_words and not per_article(lines, at):
            counted[line_hash(line)] = line
    return counted


def per_article(lines: list[str], at: int) -> bool:
    """True when ``lines[at]`` belongs to its article however often the site repeats it: it
    holds a date or a figure (a dateline, an "Updated" line), or it is a heading inside the
    body (a few title-like words followed by a paragraph)."""
    line = lines[at].strip()
    if _FIGURE.search(line) or written_date(line):
        return True
    following = lines[at + 1] if at + 1 < len(lines) else ""
    return (
        0 < len(_WORD.findall(line)) <= _HEADING_WORDS
        and line[:1].isupper()
        and not _SENTENCE_END.search(line)
        and not _CALL_TO_ACT.match(line)
        and len(_WORD.findall(following)) >= _PARAGRAPH_WORDS
    )


class SiteMemory(Protocol):
    backend: str

    def filter(self, site: str, document_id: str, lines: list[str]) -> list[str]:
        """Count this document's lines for ``site`` (once per document) and return
        ``lines`` without those that at least ``min_pages`` other pages carried when the
        document was first seen."""
        ...


def without(lines: list[str], dropped: Collection[str]) -> list[str]:
    """``lines`` less those whose hash is in ``dropped``."""
    if not dropped:
        return lines
    return [line for line in lines if line_hash(line) not in dropped]


class InProcessSiteMemory:
    """The memory in this process only: replicas do not share it (the demo only)."""

    backend = "memory"

    def __init__(self, min_pages: int, max_words: int, max_lines: int, max_documents: int):
        self.min_pages, self.max_words, self.max_lines = min_pages, max_words, max_lines
        self.max_documents = max_documents
        self.counts: dict[str, dict[str, int]] = {}
        # Each counted document and the line hashes dropped from it when first seen.
        self.documents: OrderedDict[tuple[str, str], frozenset[str]] = OrderedDict()

    def filter(self, site: str, document_id: str, lines: list[str]) -> list[str]:
        decided = self.documents.get((site, document_id))
        if decided is not None:
            return without(lines, decided)
        hashes = counted_lines(lines, self.max_words)
        counts = self.counts.setdefault(site, {})
        for h in hashes:
            counts[h] = counts.get(h, 0) + 1
        if len(counts) > self.max_lines:  # the rarest lines go first
            for h in sorted(counts, key=counts.__getitem__)[: len(counts) - self.max_lines]:
                del counts[h]
        # This page's own sighting is in the count: "other pages" is one less.
        dropped = frozenset(h for h in hashes if counts.get(h, 0) - 1 >= self.min_pages)
        self.documents[(site, document_id)] = dropped
        if len(self.documents) > self.max_documents:
            self.documents.popitem(last=False)
        return without(lines, dropped)


class RedisSiteMemory:
    """The memory in Redis, shared by every replica of the clean worker."""

    backend = "redis"

    def __init__(
        self,
        redis: RedisConnection,
        prefix: str,
        min_pages: int,
        max_words: int,
        max_lines: int,
        ttl_s: int,
    ):
        self.client, self.where = redis
        self.prefix = prefix
        self.min_pages, self.max_words, self.max_lines = min_pages, max_words, max_lines
        self.ttl_s = ttl_s
        # Sent by hash (EVALSHA), loaded again by redis-py when the server has lost it.
        self._count_and_decide = self.client.register_script(_COUNT_AND_DECIDE)

    def filter(self, site: str, document_id: str, lines: list[str]) -> list[str]:
        with unavailable_as("boilerplate memory", self.where):
            return self._filter(site, document_id, lines)

    def _filter(self, site: str, document_id: str, lines: list[str]) -> list[str]:
        hashes = counted_lines(lines, self.max_words)
        if not hashes:
            return lines
        keys = [f"{self.prefix}doc:{site}:{document_id}", f"{self.prefix}lines:{site}"]
        decision = self._count_and_decide(
            keys=keys,
            args=[self.ttl_s, self.max_lines, self.min_pages, *hashes],
            client=self.client,
        )
        return without(lines, decision.decode()[len(_DECIDED) :].split(","))


# What a document's marker holds: this prefix, then the hashes dropped from it, comma-separated.
# Markers written before decisions were kept hold "1"; the first redelivery decides them.
_DECIDED = "d:"

# One script, so the document's marker, its counts and its decision are written together:
# with two calls, a connection lost between them left the marker without the counts, and the
# retry then counted nothing. Redis runs a script whole, before any other client's command.
# KEYS: the document's marker, the site's line counts. ARGV: ttl_s, max_lines, min_pages,
# hashes... Returns the marker: "d:" and the dropped hashes.
_COUNT_AND_DECIDE = """
local ttl, max_lines, min_pages = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local marker = redis.call('GET', KEYS[1])
if marker and string.sub(marker, 1, 2) == 'd:' then
  return marker  -- decided when the document was first seen: a redelivery drops the same
end
if not marker then
  for i = 4, #ARGV do redis.call('ZINCRBY', KEYS[2], 1, ARGV[i]) end
  -- Bounded: keep the max_lines most frequent lines of the site.
  redis.call('ZREMRANGEBYRANK', KEYS[2], 0, -max_lines - 1)
  redis.call('EXPIRE', KEYS[2], ttl)
end
local dropped = {}
for i = 4, #ARGV do
  local score = redis.call('ZSCORE', KEYS[2], ARGV[i])
  -- This page's own sighting is in the count: "other pages" is one less.
  if score and tonumber(score) - 1 >= min_pages then dropped[#dropped + 1] = ARGV[i] end
end
marker = 'd:' .. table.concat(dropped, ',')
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[1], marker, 'KEEPTTL')
else
  redis.call('SET', KEYS[1], marker, 'EX', ttl)
end
return marker
"""


def create_memory(settings: Settings) -> SiteMemory | None:
    """The memory the settings ask for (None when it is off)."""
    if settings.boilerplate_backend == "off":
        return None
    args = (
        settings.boilerplate_min_pages,
        settings.boilerplate_max_words,
        settings.boilerplate_max_lines,
    )
    return open_store(
        settings.boilerplate_backend,
        settings,
        in_process=lambda: InProcessSiteMemory(*args, max_documents=100_000),
        in_redis=lambda redis: RedisSiteMemory(
            redis, settings.boilerplate_key_prefix, *args, ttl_s=settings.boilerplate_ttl_s
        ),
    )
