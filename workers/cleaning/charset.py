"""Bytes of a fetched page to correct Unicode.

Order of evidence, as browsers do (WHATWG encoding sniffing): byte-order mark, the charset of
the HTTP content-type, a <meta> declaration in the first bytes, statistical detection
(charset-normalizer). A declared charset that does not decode the bytes is treated as wrong.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_\-:.]+)""", re.IGNORECASE
)
_HEADER_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Browsers decode these labels as windows-1252, and so do pages that declare them.
_WHATWG_ALIASES = {"iso8859-1": "cp1252", "latin-1": "cp1252", "ascii": "cp1252"}
_PRESCAN_BYTES = 4096


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    source: str  # bom | http-header | meta | detected | fallback


def codec_name(label: str | None) -> str | None:
    """Python codec for a charset label, or None when the label is unknown."""
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return _WHATWG_ALIASES.get(name, name)


def charset_from_content_type(content_type: str | None) -> str | None:
    match = _HEADER_CHARSET.search(content_type or "")
    return match.group(1) if match else None


def _try(data: bytes, encoding: str | None) -> str | None:
    if encoding is None:
        return None
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(data: bytes, content_type: str | None = None) -> Decoded:
    for bom, encoding in _BOMS:
        if data.startswith(bom) and (text := _try(data, encoding)) is not None:
            return Decoded(text.lstrip("\ufeff"), encoding.replace("-sig", ""), "bom")

    # Bytes that are valid UTF-8 and not plain ASCII are UTF-8 whatever a header claims:
    # legacy single-byte text almost never forms valid multi-byte UTF-8 sequences.
    utf8 = _try(data, "utf-8")
    mislabelled = utf8 is not None and not data.isascii()

    declared = codec_name(charset_from_content_type(content_type))
    if (text := _try(data, declared)) is not None:
        if mislabelled and declared != "utf-8":
            return Decoded(utf8, "utf-8", "detected")
        return Decoded(text, declared, "http-header")

    meta = _META_CHARSET.search(data[:_PRESCAN_BYTES])
    in_meta = codec_name(meta.group(1).decode("ascii", "ignore")) if meta else None
    # A UTF-16 meta label in an ASCII-compatible prescan is a lie (WHATWG says use UTF-8).
    if in_meta and in_meta.startswith("utf-16"):
        in_meta = "utf-8"
    if (text := _try(data, in_meta)) is not None:
        if mislabelled and in_meta != "utf-8":
            return Decoded(utf8, "utf-8", "detected")
        return Decoded(text, in_meta, "meta")

    if utf8 is not None:
        return Decoded(utf8, "utf-8", "detected")
    best = from_bytes(data[: 256 * 1024]).best()
    detected = codec_name(best.encoding) if best else None
    if (text := _try(data, detected)) is not None:
        return Decoded(text, detected, "detected")
    return Decoded(data.decode("utf-8", "replace"), "utf-8", "fallback")
