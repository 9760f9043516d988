"""WARC import bounds its decompression: a gzip bomb, in the file's own gzip or in a
response's Content-Encoding, ends as one error line naming the file and the record (never as
gigabytes in memory or minutes of inflating), while real crawls pass untouched."""

from __future__ import annotations

import base64
import gzip
import io
from pathlib import Path

import orjson
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.support.bombs import MIB, gzip_zeros
from tests.support.paths import SAMPLES
from workers.kafka.produce import iter_records
from workers.kafka.warc import INFLATION_ALLOWANCE_BYTES, MAX_INFLATION_RATIO, Skipped

BOMB_MIB = 256  # four times the allowance: inflating it all would take 256 MiB
GOOD_URL = "https://news.example.org/world/harbour-reopens"
GOOD_BODY = (
    b'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Harbour reopens</title>'
    b"</head><body><article><p>The harbour reopened on Friday after the storm.</p></article>"
    b"</body></html>"
)


def response(writer: WARCWriter, url: str, body: bytes, encoding: str | None = None) -> None:
    headers = [("Content-Type", "text/html; charset=utf-8")]
    if encoding:
        headers.append(("Content-Encoding", encoding))
    http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
    writer.write_record(
        writer.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http)
    )


def warc_headers(kind: str, url: str, length: int) -> bytes:
    return (
        f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {url}\r\n"
        "WARC-Date: 2026-11-20T08:15:30Z\r\n"
        "WARC-Record-ID: <urn:uuid:00000000-0000-4000-8000-000000000000>\r\n"
        f"Content-Type: application/http; msgtype=response\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def bomb_member(kind: str) -> bytes:
    """A gzip member of a WARC file that inflates to BOMB_MIB MiB."""
    if kind == "response body":
        http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html><body><p>"
        head = warc_headers("response", "https://bomb.example/page", len(http) + BOMB_MIB * MIB)
        return gzip_zeros(BOMB_MIB, head + http, b"\r\n\r\n")
    if kind == "header line":  # no line end: a reader that collects a whole line holds it all
        return gzip_zeros(BOMB_MIB, b"WARC/1.0\r\nWARC-Type: response\r\nX-Pad: ")
    raise ValueError(kind)


def write(path: Path, *members: bytes, good_before: bool = True) -> Path:
    """A .warc.gz: a good page, then ``members`` as they are, then another good page."""
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        if good_before:
            response(writer, GOOD_URL, GOOD_BODY)
        for member in members:
            stream.write(member)
        response(writer, GOOD_URL + "-2", GOOD_BODY)
    return path


def items(path: Path, max_body_bytes: int = 5 * MIB) -> list:
    return list(iter_records([path], max_body_bytes=max_body_bytes))


def bomb_error(found: list, path: Path) -> str:
    """The one line that ends the file, after the good page before the bomb."""
    assert isinstance(found[0], dict) and found[0]["url"] == GOOD_URL
    errors = [str(item) for item in found if isinstance(item, ValueError)]
    assert errors and "inflates beyond" in errors[-1], errors
    assert found[-1] is not None and str(found[-1]) == errors[-1], "reading went on after it"
    assert "\n" not in errors[-1] and str(path) in errors[-1] and "record at byte " in errors[-1]
    return errors[-1]


@pytest.mark.parametrize("kind", ["response body", "header line"])
def test_a_gzip_bomb_in_the_warc_file_ends_it_with_one_line(tmp_path: Path, kind: str) -> None:
    member = bomb_member(kind)
    path = write(tmp_path / "bomb.warc.gz", member)
    found = items(path)
    line = bomb_error(found, path)
    assert f"record at byte {path.read_bytes().index(member)}:" in line
    # Nothing of the bomb was sent: the bounded body of its response is refused too.
    assert not any(isinstance(item, dict) and "bomb.example" in item["url"] for item in found)


def test_many_small_bombs_are_bounded_as_a_whole(tmp_path: Path) -> None:
    """Each member stays under the allowance; together they inflate a hundredfold and more."""
    members = []
    for number in range(40):
        url = f"https://bomb.example/blob-{number}"
        members.append(gzip_zeros(8, warc_headers("resource", url, 8 * MIB), b"\r\n\r\n"))
    assert 40 * 8 * MIB > INFLATION_ALLOWANCE_BYTES
    assert MAX_INFLATION_RATIO * sum(map(len, members)) < 40 * 8 * MIB
    path = write(tmp_path / "bombs.warc.gz", *members)
    bomb_error(items(path), path)


def test_a_content_encoding_bomb_is_refused_and_reading_goes_on(tmp_path: Path) -> None:
    """A response whose gzip Content-Encoding inflates past the page bound: its own line,
    and the next page is still read (the file's gzip itself is innocent)."""
    path = tmp_path / "encoded.warc.gz"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        response(writer, "https://bomb.example/encoded", gzip_zeros(64, b"<html><p>"), "gzip")
        response(writer, GOOD_URL, GOOD_BODY)
    found = items(path, max_body_bytes=MIB)
    error, page = found
    assert isinstance(error, ValueError), error
    message = str(error)
    assert str(path) in message and "record at byte 0 (https://bomb.example/encoded)" in message
    assert f"more than {MIB} bytes (NEWSFLOW_MAX_HTML_BYTES)" in message
    assert page["url"] == GOOD_URL


def test_a_page_at_the_bound_passes_and_one_byte_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bound.warc.gz"
    at_bound = GOOD_BODY.ljust(MIB, b" ")
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        response(writer, GOOD_URL, at_bound)
        response(writer, GOOD_URL + "-encoded", gzip.compress(at_bound), "gzip")
        response(writer, GOOD_URL + "-over", at_bound + b" ")
    plain, encoded, over = items(path, max_body_bytes=MIB)
    assert plain["html_base64"] == encoded["html_base64"]
    assert isinstance(over, ValueError) and "-over" in str(over)


def test_a_real_crawl_passes_whole(tmp_path: Path) -> None:
    """The sample pages as a crawler stores them (every other one gzip-encoded on the wire):
    every page comes out byte for byte."""
    manifest = orjson.loads((SAMPLES / "manifest.json").read_bytes())
    path = tmp_path / "crawl.warc.gz"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for number, entry in enumerate(manifest):
            body = (SAMPLES / entry["file"]).read_bytes()
            encoded = number % 2 == 1
            response(
                writer,
                entry["url"],
                gzip.compress(body) if encoded else body,
                "gzip" if encoded else None,
            )
    found = items(path)
    assert not any(isinstance(item, ValueError | Skipped) for item in found), found
    assert [item["url"] for item in found] == [entry["url"] for entry in manifest]
    for item, entry in zip(found, manifest, strict=True):
        assert base64.b64decode(item["html_base64"]) == (SAMPLES / entry["file"]).read_bytes()
