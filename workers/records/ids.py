"""Document ids: a stable hash of the normalised URL, used as the Kafka key of every stage."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit, urlunsplit

from courlan import normalize_url


def normalise_url(url: str) -> str:
    """Lower-case scheme and host, drop default port, fragment and tracking parameters, sort
    the query. Two fetches of one article through different tracking links get one id."""
    try:
        normal = normalize_url(url.strip(), strict=False)
    except ValueError:
        normal = url.strip()
    # courlan keeps the fragment; a fragment never names a different document.
    return urlunsplit(urlsplit(normal)._replace(fragment=""))


def document_id(url: str) -> str:
    """First 32 hex digits of SHA-256 over the normalised URL."""
    return hashlib.sha256(normalise_url(url).encode("utf-8")).hexdigest()[:32]
