"""Reading crawls from WARC files (ISO 28500; ``.warc`` or ``.warc.gz``) with warcio.

Each ``response`` record whose HTTP payload is an HTML page becomes one raw-html.v1 record:
the URL from ``WARC-Target-URI``, the fetch time from ``WARC-Date``, the status and headers
from the recorded HTTP response (so the charset is the one the server declared), and the body
exactly as the server sent it once transfer- and content-encoding (chunked, gzip) are undone.

Responses that are not HTML (images, PDFs, scripts, ...) are skipped and counted, never sent:
they are not pages, and sending them only to dead-letter them as ``not_html`` would bury the
real failures. So are responses whose status carries no page: redirects and other 3xx
(crawlers record the hop; the target is its own response record), 1xx and 204. A response
without a content-type is sent: the cleaner sniffs it. Error statuses (4xx, 5xx) are sent and
become ``http_error`` dead letters, as from any crawler. Records of other types (``request``,
``metadata``, ``warcinfo``, ``revisit``, ...) carry no page and are passed over uncounted.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

HTML_TYPES = {"text/html", "application/xhtml+xml"}
# Headers that describe the bytes on the wire, not the body we forward (already decoded).
WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}
WARC_SUFFIXES = (".warc", ".warc.gz")


@dataclass(frozen=True)
class Skipped:
    """A WARC response deliberately not sent (counted in the produce summary)."""

    url: str
    reason: str


def is_warc(path: Path) -> bool:
    return path.name.lower().endswith(WARC_SUFFIXES)


def media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.split(";", 1)[0].strip().lower() or None


def http_headers(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """HTTP response headers as the raw contract wants them: names in lower case, repeated
    headers joined with ", " (RFC 9110 5.3), wire-only headers left out."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.strip().lower()
        if key in WIRE_HEADERS:
            continue
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return headers


def iter_warc(
    path: Path, progress: Callable[[int], None] | None = None
) -> Iterator[dict[str, Any] | Skipped | ValueError]:
    """raw-html.v1 records (with ``crawler`` = the WARC file name) and Skipped markers, in
    file order. A response that cannot be read yields a ValueError and reading goes on; a
    damaged or truncated file yields a ValueError and ends there. ``progress`` gets the
    number of file bytes consumed since its last call."""
    with path.open("rb") as stream:
        done = 0
        try:
            for record in ArchiveIterator(stream):
                if record.rec_type == "response" and record.http_headers is not None:
                    try:
                        yield _response(record, path)
                    except (ValueError, OSError, EOFError, zlib.error) as exc:
                        uri = record.rec_headers.get_header("WARC-Target-URI")
                        yield ValueError(f"{path}: {uri}: unreadable response: {exc!r}")
                if progress is not None:
                    position = stream.tell()
                    progress(position - done)
                    done = position
        except ArchiveLoadFailed as exc:
            yield ValueError(f"{path}: not a readable WARC file: {exc}")
        except Exception as exc:  # warcio fails in many ways on truncated or corrupt input
            yield ValueError(f"{path}: damaged WARC file after byte {done}: {exc!r}")


def _response(record: Any, path: Path) -> dict[str, Any] | Skipped:
    url = record.rec_headers.get_header("WARC-Target-URI", "").strip().strip("<>")
    http = record.http_headers
    headers = http_headers(http.headers)
    status = int(http.get_statuscode() or 200)
    if status < 200 or status == 204 or 300 <= status < 400:
        return Skipped(url, f"no page (HTTP {status})")
    kind = media_type(headers.get("content-type"))
    if kind is not None and kind not in HTML_TYPES:
        return Skipped(url, f"not HTML ({kind})")
    body = record.content_stream().read()
    return {
        "url": url,
        "fetched_at": record.rec_headers.get_header("WARC-Date"),
        "status": status,
        "headers": headers,
        "html_base64": base64.b64encode(body).decode("ascii"),
        "crawler": f"warc:{path.name}",
    }
