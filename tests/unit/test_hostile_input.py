"""Hostile input: every bad message becomes exactly one dead letter with a useful reason;
no worker crashes, memory stays bounded, and HTML processing touches neither the network
nor the filesystem."""

from __future__ import annotations

import base64
import gzip
import importlib.util
import socket
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from workers.errors import Reason
from workers.records import contracts
from workers.records.message import InputMessage
from workers.runtime.processor import StageProcessor
from workers.settings import Settings

REASONS = set(Reason.__args__)
PROCESSOR = StageProcessor("clean", Settings())
GOOD_FIELDS = {"url": "https://news.example/a", "fetched_at": "2024-06-19T10:00:00Z"}


def html_page(body: str) -> bytes:
    return orjson.dumps({**GOOD_FIELDS, "html": body})


def bytes_page(body: bytes, content_type: str = "text/html") -> bytes:
    return orjson.dumps(
        {
            **GOOD_FIELDS,
            "headers": {"content-type": content_type},
            "html_base64": base64.b64encode(body).decode(),
        }
    )


LAUGHS = "".join(
    f'<!ENTITY lol{i} "{(f"&lol{i - 1};" if i > 1 else "lol") * 10}">' for i in range(1, 10)
)
HOSTILE: dict[str, tuple[bytes, set[str]]] = {
    "empty value": (b"", {"invalid_json"}),
    "binary value": (bytes(range(256)) * 40, {"invalid_json"}),
    "truncated utf-8": (b'{"url": "https://x.example/\xe2\x82', {"invalid_json"}),
    "json null": (b"null", {"schema_violation"}),
    "json string": (b'"<html></html>"', {"schema_violation"}),
    "missing html": (orjson.dumps(GOOD_FIELDS), {"schema_violation"}),
    "missing url": (
        orjson.dumps({"fetched_at": GOOD_FIELDS["fetched_at"], "html": "<p>x"}),
        {"schema_violation"},
    ),
    "not a date": (
        orjson.dumps({**GOOD_FIELDS, "fetched_at": "yesterday", "html": "<p>x"}),
        {"schema_violation"},
    ),
    "huge headers object": (
        orjson.dumps(
            {
                **GOOD_FIELDS,
                "headers": {f"x-h{i}": "v" * 100 for i in range(5000)},
                "html": "<p>hi</p>",
            }
        ),
        {"not_html", "not_an_article"},
    ),
    "binary body": (bytes_page(bytes(range(256)) * 100), {"not_html"}),
    "pdf": (bytes_page(b"%PDF-1.7 ...", "application/pdf"), {"not_html"}),
    "empty body": (bytes_page(b""), {"empty_content"}),
    "scripts only": (
        html_page("<html><script>var a=1;</script><style>p{}</style></html>"),
        {"not_an_article"},
    ),
    "wrong declared charset": (
        bytes_page("<p>caf\u00e9</p>".encode("utf-16-le"), "text/html; charset=utf-8"),
        {"not_html"},
    ),
    "deep nesting": (
        html_page("<html><body>" + "<div>" * 10_000 + "x" + "</div>" * 10_000),
        {"not_an_article"},
    ),
    "entity bomb": (
        html_page(
            f'<?xml version="1.0"?><!DOCTYPE lolz [{LAUGHS}]>'
            "<html><body><p>&lol9;</p></body></html>"
        ),
        {"not_html", "not_an_article"},
    ),
    "external entity": (
        html_page(
            '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><html><body><p>&e;</p></body></html>'
        ),
        {"not_html", "not_an_article"},
    ),
    "http 500": (
        orjson.dumps({**GOOD_FIELDS, "status": 500, "html": "<p>error</p>"}),
        {"http_error"},
    ),
    "oversize page": (html_page("<p>" + "x" * (6 * 1024 * 1024) + "</p>"), {"oversize"}),
}


def dead_letter_of(value: bytes) -> dict[str, Any]:
    outgoing = PROCESSOR.process(InputMessage(value, topic="raw", partition=0, offset=7))
    assert outgoing.outcome != "ok", "a hostile input was accepted"
    record = orjson.loads(outgoing.value)
    assert contracts.schema_errors(record, "dead-letter.v1") == []
    return record


@pytest.mark.parametrize("name", list(HOSTILE))
def test_each_hostile_input_is_one_dead_letter_with_a_useful_reason(name: str) -> None:
    value, reasons = HOSTILE[name]
    record = dead_letter_of(value)
    assert record["reason"] in reasons, (name, record["error"])
    assert len(record["error"]["message"]) > 10
    assert base64.b64decode(record["original"]["value_base64"]) == value[: 1024 * 1024]


def _png(raw: bytes, width: int = 256) -> bytes:
    """A real PNG file (signature, IHDR, zlib-compressed IDAT, IEND) of ``raw`` as grey pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    rows = [raw[i : i + width].ljust(width, b"\0") for i in range(0, len(raw), width)]
    header = width.to_bytes(4, "big") + len(rows).to_bytes(4, "big") + bytes([8, 0, 0, 0, 0])
    pixels = zlib.compress(b"".join(b"\0" + row for row in rows))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _binaries() -> dict[str, bytes]:
    """Real binary content from this system: an executable, a Python extension module, a
    gzip stream and a PNG image (of a news page), 256 KiB at most each."""
    article = Path(__file__).parents[2] / "workers" / "samples" / "03-ecb-first-rate-cut.html"
    extension = importlib.util.find_spec("_json") or importlib.util.find_spec("_ssl")
    found = {
        "ELF executable /bin/ls": Path("/bin/ls").read_bytes(),
        "gzip of a news page": gzip.compress(article.read_bytes()),
        "PNG image": _png(gzip.compress(article.read_bytes() * 4)),
    }
    if extension is not None and extension.origin and extension.origin.endswith(".so"):
        found["Python extension module"] = Path(extension.origin).read_bytes()
    return {name: data[: 256 * 1024] for name, data in found.items()}


@pytest.mark.parametrize("name", list(_binaries()))
def test_binary_content_inside_html_markup_is_a_dead_letter(name: str) -> None:
    """Markup around a binary blob passed as an article before (its bytes spell "words");
    now it is not_html, whether sent as bytes or as text."""
    blob = _binaries()[name]
    wrapped = b"<!doctype html><html><head><title>News</title></head><body><p>" + blob
    wrapped += b"</p></body></html>"
    as_bytes = dead_letter_of(bytes_page(wrapped))
    as_text = dead_letter_of(html_page(wrapped.decode("latin-1")))
    for record in (as_bytes, as_text):
        assert record["reason"] == "not_html", (name, record["error"])
        assert "binary" in record["error"]["message"]


@pytest.fixture
def no_network_no_files(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and refuse) every socket connection and file open while the stage runs."""
    attempts: list[str] = []

    def refuse_connect(self: socket.socket, address: Any) -> None:
        attempts.append(f"connect {address}")
        raise OSError("network access from HTML processing")

    real_open = open

    def refuse_open(file: Any, *args: Any, **kwargs: Any) -> Any:
        attempts.append(f"open {file}")
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", refuse_connect)
    monkeypatch.setattr("builtins.open", refuse_open)
    return attempts


def test_html_processing_touches_neither_network_nor_files(no_network_no_files: list[str]) -> None:
    page = (
        '<!DOCTYPE html><html><head><link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
        '<script src="http://127.0.0.1:9/x.js"></script></head><body><article>'
        '<img src="http://127.0.0.1:9/p.png"><iframe src="file:///etc/passwd"></iframe>'
        "<p>" + "A paragraph of a perfectly ordinary article about the harbour. " * 5 + "</p>"
        '<p><a href="http://127.0.0.1:9/">link</a></p></article></body></html>'
    )
    outgoing = PROCESSOR.process(InputMessage(html_page(page)))
    assert outgoing.outcome == "ok"
    assert "root:" not in orjson.loads(outgoing.value)["text"]
    for name in ("external entity", "entity bomb"):
        dead_letter_of(HOSTILE[name][0])
    assert no_network_no_files == []


# Envelope fuzzing: any JSON value, any bytes, any raw-like object with wrong field types.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)  # JSON numbers orjson can write
    | st.floats(allow_nan=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
raw_like = st.fixed_dictionaries(
    {},
    optional={
        "url": json_values | st.text(),
        "fetched_at": json_values | st.just("2024-06-19T10:00:00Z"),
        "status": json_values | st.integers(-5, 1000),
        "headers": json_values | st.dictionaries(st.text(max_size=20), st.text(max_size=40)),
        "html": json_values | st.text(max_size=300),
        "html_base64": json_values
        | st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode()),
    },
)
envelopes = st.one_of(
    st.binary(max_size=500),
    json_values.map(orjson.dumps),
    raw_like.map(orjson.dumps),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=envelopes)
def test_fuzzed_envelopes_never_crash_and_always_route(value: bytes) -> None:
    outgoing = PROCESSOR.process(InputMessage(value, topic="raw", partition=1, offset=3))
    record = orjson.loads(outgoing.value)
    if outgoing.outcome == "ok":
        assert contracts.schema_errors(record, "articles-clean.v1") == []
    else:
        assert outgoing.outcome in REASONS - {"internal_error", "output_contract_violation"}
        assert contracts.schema_errors(record, "dead-letter.v1") == []
        assert base64.b64decode(record["original"]["value_base64"]) == value
