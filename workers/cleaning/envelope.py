"""The raw record's envelope: a raw-html.v1 message to a decoded HTML page, or a refusal.

``open_envelope`` checks everything that can be judged before extraction (size, schema,
HTTP status, content type, base64, charset, whether the body is HTML at all) and raises
:class:`~workers.errors.StageError` with a bounded reason for each way it can fail.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

from workers.cleaning.charset import Decoded, decode_html
from workers.errors import StageError
from workers.records import contracts
from workers.records.identity import body_sha256
from workers.records.message import InputMessage
from workers.settings import Settings

_HTML_TYPES = ("text/html", "application/xhtml+xml", "text/xml", "application/xml")
_LOOKS_LIKE_HTML = re.compile(r"<\s*(!doctype|html|head|body|div|p|article|meta|title)\b", re.I)
# Characters no text holds: C0/C1 controls other than whitespace, undecodable bytes (U+FFFD),
# lone surrogates, private use. Binary data (images, archives, executables) decodes to a
# fifth to two thirds of them whatever the charset; news pages hold at most a few per mille.
_NON_TEXT = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd\ud800-\udfff\ue000-\uf8ff]")
_MAX_NON_TEXT_SHARE = 0.10
# A compressed body (a crawler that forwarded Content-Encoding undone) is refused by its magic
# number, never inflated: the raw contract carries the decoded page, so the cleaner has no
# decompression to bound. The header alone decides nothing: HTTP clients keep it after they
# decode the body.
_COMPRESSED_MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd"}


@dataclass(frozen=True, slots=True)
class Envelope:
    """A raw record that passed the checks: the record itself, its page as Unicode, and the
    SHA-256 of the page bytes as crawled (with the document id, what every event id of the
    page derives from: :mod:`workers.records.identity`)."""

    raw: dict[str, Any]
    page: Decoded
    content_sha256: str

    @property
    def url(self) -> str:
        return self.raw["url"]

    @property
    def status(self) -> int:
        return self.raw.get("status", 200)


def open_envelope(message: InputMessage, settings: Settings) -> Envelope:
    """The raw-html.v1 record in ``message`` and its decoded page; a StageError otherwise."""
    value = message.value or b""
    if len(value) > settings.max_message_bytes:
        raise StageError(
            "oversize",
            f"raw message is {len(value)} bytes; limit is {settings.max_message_bytes} "
            "(NEWSFLOW_MAX_MESSAGE_BYTES)",
        )
    raw = contracts.decode(message.value, "raw-html.v1")
    status = raw.get("status", 200)
    if status >= 400:
        raise StageError("http_error", f"fetch returned HTTP {status}")
    headers = {k.lower(): v for k, v in raw.get("headers", {}).items()}
    content_type = headers.get("content-type")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type and media_type not in _HTML_TYPES:
        raise StageError("not_html", f"content-type is {media_type!r}, not HTML")

    decoded, content_sha256 = _page_text(raw, content_type, settings.max_html_bytes, headers)
    if not _LOOKS_LIKE_HTML.search(decoded.text[:65536]):
        raise StageError("not_html", "body has no HTML markup in its first 64 KiB")
    _refuse_binary(decoded.text)
    return Envelope(raw, decoded, content_sha256)


def _refuse_binary(text: str) -> None:
    """A page whose markup wraps mostly binary data (a misrouted download, a compressed body
    stored as is) is not an article, however many words its bytes happen to spell."""
    non_text = len(text) - len(_NON_TEXT.sub("", text))
    if text and non_text / len(text) > _MAX_NON_TEXT_SHARE:
        raise StageError(
            "not_html",
            f"body is binary: {non_text / len(text):.0%} of its characters are control "
            "characters or undecodable bytes",
        )


def _page_text(
    raw: dict[str, Any], content_type: str | None, max_bytes: int, headers: dict[str, str]
) -> tuple[Decoded, str]:
    """The page as Unicode and the SHA-256 of its bytes (``html`` as UTF-8, the same bytes
    :func:`workers.records.identity.page_sha256` hashes)."""
    if "html" in raw:
        text = raw["html"]
        # Only encode when the character count alone cannot settle it (UTF-8: ≤ 4 bytes each).
        size = len(text) if len(text) * 4 <= max_bytes else len(text.encode("utf-8"))
        if size > max_bytes:
            raise StageError(
                "oversize", f"html is {size} bytes; limit is {max_bytes} (NEWSFLOW_MAX_HTML_BYTES)"
            )
        return Decoded(text, "utf-8", "text"), body_sha256(text.encode("utf-8", "surrogatepass"))
    try:
        body = base64.b64decode(raw["html_base64"], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StageError("schema_violation", f"html_base64 is not valid base64: {exc}") from exc
    if len(body) > max_bytes:
        raise StageError(
            "oversize",
            f"page is {len(body)} bytes; limit is {max_bytes} (NEWSFLOW_MAX_HTML_BYTES)",
        )
    if not body.strip():
        raise StageError("empty_content", "page body is empty")
    _refuse_compressed(body, headers.get("content-encoding"))
    return decode_html(body, content_type), body_sha256(body)


def _refuse_compressed(body: bytes, encoding: str | None) -> None:
    for magic, kind in _COMPRESSED_MAGIC.items():
        if body.startswith(magic):
            declared = f" (content-encoding: {encoding})" if encoding else ""
            raise StageError(
                "not_html",
                f"body is {kind}-compressed{declared}; html_base64 must carry the decoded "
                "page, and the cleaner inflates nothing",
            )
