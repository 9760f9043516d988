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

Decompression is bounded, so a gzip bomb costs neither the memory nor the hours it asks for:
a response body is read up to ``max_body_bytes`` once decoded (the cleaner refuses a larger
page anyway), and the file's own gzip may inflate each member, and the file as a whole, to
at most ``MAX_INFLATION_RATIO`` times its compressed size beyond ``INFLATION_ALLOWANCE_BYTES``.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import DecompressingBufferedReader
from warcio.exceptions import ArchiveLoadFailed

from workers.settings import Settings

HTML_TYPES = {"text/html", "application/xhtml+xml"}
# Headers that describe the bytes on the wire, not the body we forward (already decoded).
WIRE_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}
WARC_SUFFIXES = (".warc", ".warc.gz")

# Real pages in WARC members inflate 4.4 times (median), 12.6 at most (1,401 pages,
# bench/warc_inflation.py); even a page of one repeated block of markup stays under 100. Only
# long runs of one byte (what a bomb is made of) reach deflate's ceiling of 1032. A bound of
# 100 leaves real crawls an eightfold margin and stops a bomb after a hundred times its own
# size, at most (a 10 MB file: 1 GB streamed, never held).
MAX_INFLATION_RATIO = 100
# Below this much output a member is not judged by its ratio: a small record of blank or
# repeated bytes (a solid-colour image stored uncompressed) may legitimately exceed it.
INFLATION_ALLOWANCE_BYTES = 64 * 1024 * 1024
# The cleaner refuses a larger page (NEWSFLOW_MAX_HTML_BYTES): reading more of a body is waste.
DEFAULT_MAX_BODY_BYTES: int = Settings.model_fields["max_html_bytes"].default


class InflationBomb(ValueError):
    """The WARC file's gzip inflates beyond the stated ratio."""


class _BoundedReader(DecompressingBufferedReader):
    """warcio's reader of the file's gzip members, refusing to inflate a member (or the
    file) beyond MAX_INFLATION_RATIO times the compressed bytes that produced it."""

    def __init__(self, stream: Any, block_size: int) -> None:
        super().__init__(stream, block_size=block_size)
        self.total_out = 0

    def _init_decomp(self, decomp_type: str | None) -> None:
        # Called at the start of every gzip member: its own counts start at zero.
        super()._init_decomp(decomp_type)
        self.member_in = self.member_out = 0

    def _decompress(self, data: bytes) -> bytes:
        out = super()._decompress(data)
        self.member_in += len(data)
        self.member_out += len(out)
        self.total_out += len(out)
        member_cap = max(INFLATION_ALLOWANCE_BYTES, MAX_INFLATION_RATIO * self.member_in)
        file_cap = max(INFLATION_ALLOWANCE_BYTES, MAX_INFLATION_RATIO * self.stream.tell())
        if self.member_out > member_cap or self.total_out > file_cap:
            raise InflationBomb(
                f"gzip inflates beyond {MAX_INFLATION_RATIO}x its compressed size "
                f"({self.member_out} bytes from {self.member_in} in this member; "
                f"gzip bomb?)"
            )
        return out


class _BoundedArchiveIterator(ArchiveIterator):
    def __init__(self, fileobj: Any) -> None:
        super().__init__(fileobj)
        # Replaced before the first read: the iterator only builds its reader in __init__.
        self.reader = _BoundedReader(self.fh, block_size=self.reader.block_size)


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
    path: Path,
    progress: Callable[[int], None] | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> Iterator[dict[str, Any] | Skipped | ValueError]:
    """raw-html.v1 records (with ``crawler`` = the WARC file name) and Skipped markers, in
    file order. A response that cannot be read, or whose body decodes to more than
    ``max_body_bytes``, yields a ValueError and reading goes on; a damaged or truncated file,
    or one whose gzip inflates beyond MAX_INFLATION_RATIO, yields a ValueError and ends
    there. ``progress`` gets the number of file bytes consumed since its last call."""
    with path.open("rb") as stream:
        done = 0
        records = _BoundedArchiveIterator(stream)
        try:
            for record in records:
                if record.rec_type == "response" and record.http_headers is not None:
                    uri = record.rec_headers.get_header("WARC-Target-URI")
                    try:
                        yield _response(record, path, max_body_bytes)
                    except InflationBomb:
                        raise
                    except (ValueError, OSError, EOFError, zlib.error) as exc:
                        yield ValueError(
                            f"{path}: record at byte {records.offset} ({uri}): "
                            f"unreadable response: {exc}"
                        )
                if progress is not None:
                    position = stream.tell()
                    progress(position - done)
                    done = position
        except InflationBomb as exc:
            yield ValueError(
                f"{path}: record at byte {records.offset}: {exc}; rest of the file not read"
            )
        except ArchiveLoadFailed as exc:
            yield ValueError(f"{path}: not a readable WARC file: {exc}")
        except Exception as exc:  # warcio fails in many ways on truncated or corrupt input
            yield ValueError(f"{path}: damaged WARC file after byte {done}: {exc!r}")


def _response(record: Any, path: Path, max_body_bytes: int) -> dict[str, Any] | Skipped:
    url = record.rec_headers.get_header("WARC-Target-URI", "").strip().strip("<>")
    http = record.http_headers
    headers = http_headers(http.headers)
    status = int(http.get_statuscode() or 200)
    if status < 200 or status == 204 or 300 <= status < 400:
        return Skipped(url, f"no page (HTTP {status})")
    kind = media_type(headers.get("content-type"))
    if kind is not None and kind not in HTML_TYPES:
        return Skipped(url, f"not HTML ({kind})")
    # One byte past the bound tells a page at the limit from a larger one; no more is
    # decoded (a Content-Encoding gzip bomb stops here).
    body = record.content_stream().read(max_body_bytes + 1)
    if len(body) > max_body_bytes:
        raise ValueError(
            f"body decodes to more than {max_body_bytes} bytes (NEWSFLOW_MAX_HTML_BYTES), not sent"
        )
    return {
        "url": url,
        "fetched_at": record.rec_headers.get_header("WARC-Date"),
        "status": status,
        "headers": headers,
        "html_base64": base64.b64encode(body).decode("ascii"),
        "crawler": f"warc:{path.name}",
    }
