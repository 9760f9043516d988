"""Per-site boilerplate memory: lines that recur across many pages of one site are clutter.

Every short line of a cleaned text is hashed (normalised: NFKC, case-folded, whitespace
collapsed) and counted per site (the registered domain of the URL) once per distinct document:
a redelivery of the same document never counts twice. A line that other pages of the site
carried at least ``min_pages`` times is the site's boilerplate ("Sign up for our newsletter",
the author box, the standing disclaimer) and is dropped from the page. Long lines (more than
``max_words`` words) are never counted nor dropped: a standard paragraph or a quote repeated
across articles is still part of each article.

:class:`RedisMemory` keeps the counts in Redis, shared by every clean replica: per site one
sorted set of line hashes scored by page count, trimmed to ``max_lines`` entries (the rarest
go first), and one marker key per counted document; every key expires after ``ttl_s``.
:class:`InProcessMemory` does the same in one process (the embedded demo only). An unreachable
Redis raises :class:`MemoryUnavailable`, a transient error: the worker retries the message.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import OrderedDict
from typing import Protocol
from urllib.parse import urlsplit

import redis
from courlan import extract_domain

from workers.errors import TransientError
from workers.redis_state import connect
from workers.settings import Settings

_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")


class MemoryUnavailable(TransientError):
    """The shared boilerplate memory cannot be reached; the page cannot be cleaned now (the
    worker retries it with backoff until Redis is back)."""


def site_of(url: str) -> str:
    """The site a page belongs to: its registered domain (news.bbc.co.uk → bbc.co.uk), or
    the host name when there is none (an IP address, localhost)."""
    return extract_domain(url) or (urlsplit(url).hostname or "").lower()


def line_hash(line: str) -> str:
    text = _SPACE.sub(" ", unicodedata.normalize("NFKC", line)).strip().casefold()
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def counted_lines(lines: list[str], max_words: int) -> dict[str, str]:
    """Hash → line for the lines short enough to be boilerplate (each hash once)."""
    return {line_hash(line): line for line in lines if 0 < len(_WORD.findall(line)) <= max_words}


class SiteMemory(Protocol):
    backend: str

    def filter(self, site: str, document_id: str, lines: list[str]) -> list[str]:
        """Count this document's lines for ``site`` (once per document) and return
        ``lines`` without those that at least ``min_pages`` other pages carried."""
        ...


class InProcessMemory:
    """The memory in this process only: replicas do not share it (the demo only)."""

    backend = "memory"

    def __init__(self, min_pages: int, max_words: int, max_lines: int, max_documents: int):
        self.min_pages, self.max_words, self.max_lines = min_pages, max_words, max_lines
        self.max_documents = max_documents
        self.counts: dict[str, dict[str, int]] = {}
        self.documents: OrderedDict[tuple[str, str], None] = OrderedDict()

    def filter(self, site: str, document_id: str, lines: list[str]) -> list[str]:
        hashes = counted_lines(lines, self.max_words)
        counts = self.counts.setdefault(site, {})
        if (site, document_id) not in self.documents:
            self.documents[(site, document_id)] = None
            if len(self.documents) > self.max_documents:
                self.documents.popitem(last=False)
            for h in hashes:
                counts[h] = counts.get(h, 0) + 1
            if len(counts) > self.max_lines:  # the rarest lines go first
                for h in sorted(counts, key=counts.__getitem__)[: len(counts) - self.max_lines]:
                    del counts[h]
        # This page's own sighting is in the count: "other pages" is one less.
        dropped = {h for h in hashes if counts.get(h, 0) - 1 >= self.min_pages}
        return [line for line in lines if not (dropped and line_hash(line) in dropped)]


class RedisMemory:
    """The memory in Redis, shared by every replica of the clean worker."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        prefix: str,
        min_pages: int,
        max_words: int,
        max_lines: int,
        ttl_s: int,
        timeout_s: float,
    ):
        self.client, self.where = connect(url, timeout_s)
        self.prefix = prefix
        self.min_pages, self.max_words, self.max_lines = min_pages, max_words, max_lines
        self.ttl_s = ttl_s

    def filter(self, site: str, document_id: str, lines: list[str]) -> list[str]:
        try:
            return self._filter(site, document_id, lines)
        except redis.RedisError as exc:
            raise MemoryUnavailable(
                f"boilerplate memory in Redis ({self.where}) unavailable: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def _filter(self, site: str, document_id: str, lines: list[str]) -> list[str]:
        hashes = counted_lines(lines, self.max_words)
        if not hashes:
            return lines
        lines_key = f"{self.prefix}lines:{site}"
        # A redelivery finds its marker and counts nothing (SET NX).
        first = self.client.set(f"{self.prefix}doc:{site}:{document_id}", 1, nx=True, ex=self.ttl_s)
        with self.client.pipeline(transaction=False) as pipe:
            if first:
                for h in hashes:
                    pipe.zincrby(lines_key, 1, h)
                # Bounded: keep the max_lines most frequent lines of the site.
                pipe.zremrangebyrank(lines_key, 0, -self.max_lines - 1)
                pipe.expire(lines_key, self.ttl_s)
            pipe.zmscore(lines_key, list(hashes))
            scores = pipe.execute()[-1]
        dropped = {
            h
            for h, score in zip(hashes, scores, strict=True)
            if score and score - 1 >= self.min_pages
        }
        return [line for line in lines if not (dropped and line_hash(line) in dropped)]


def create_memory(settings: Settings) -> SiteMemory | None:
    """The memory the settings ask for (None when it is off)."""
    if settings.boilerplate_backend == "off":
        return None
    args = (
        settings.boilerplate_min_pages,
        settings.boilerplate_max_words,
        settings.boilerplate_max_lines,
    )
    if settings.boilerplate_backend == "memory":
        return InProcessMemory(*args, max_documents=100_000)
    return RedisMemory(
        settings.redis_url,
        settings.boilerplate_key_prefix,
        *args,
        ttl_s=settings.boilerplate_ttl_s,
        timeout_s=settings.redis_timeout_s,
    )
