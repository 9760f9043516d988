"""Hostile input: every bad message becomes exactly one dead letter with a useful reason;
no worker crashes, memory stays bounded, and HTML processing touches neither the network
nor the filesystem: a real HTTP server and a real file on disk watch for it."""

from __future__ import annotations

import base64
import gzip
import http.server
import importlib.util
import threading
import tracemalloc
import zlib
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.bombs import MIB, gzip_zeros
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


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every GET with a secret (a DTD declaring it, where a DTD is asked for, so a
    parser that fetched one goes on to expand the rest) and remembers that it was asked."""

    def do_GET(self) -> None:
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        dtd = self.path.endswith(("/dtd", "/parameter"))
        body = (f'<!ENTITY served "{HTTP_SECRET}">' if dtd else HTTP_SECRET).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


HTTP_SECRET = "served-by-the-test-http-server"
FILE_SECRET = "read-from-the-test-secret-file"


@pytest.fixture
def http_server() -> Any:
    """A real HTTP server on loopback; its ``requests`` list is every path anyone fetched
    (libxml2 reads in C: only a server, not a patched Python function, sees its requests)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


ARTICLE = "<p>" + "A paragraph of a perfectly ordinary article about the harbour. " * 5 + "</p>"
# Words around the references: where an expanded entity's text would land in the output.
QUOTED, REPORT = "The harbour master said:", "The port report adds:"
# An XML prolog with an internal subset leaves the HTML parser no document: a dead letter.
NO_DOCUMENT = {"xhtml entities", "xml entities"}


def entity_pages(base: str, secret: Path) -> dict[str, tuple[str, str]]:
    """(content-type, page) for each way a page can ask the parser to fetch something: external
    general and parameter entities, an external DTD, XInclude, and plain HTML resources."""
    external = (
        f'<!DOCTYPE html [<!ENTITY web SYSTEM "{base}/entity">'
        f'<!ENTITY disk SYSTEM "{secret.as_uri()}">'
        f'<!ENTITY % remote SYSTEM "{base}/parameter"> %remote;]>'
    )
    body = f"<body><article><h1>Harbour</h1>{ARTICLE}<p>{QUOTED} &web; {REPORT} &disk; "
    body += f"{ARTICLE[3:-4]}</p>{ARTICLE}</article></body></html>"
    xml = '<?xml version="1.0" encoding="utf-8"?>'
    xhtml = '<html xmlns="http://www.w3.org/1999/xhtml" xmlns:xi="http://www.w3.org/2001/XInclude">'
    resources = (
        f'<head><link rel="stylesheet" href="{base}/x.css"><script src="{base}/x.js"></script>'
        f'</head><body><article><img src="{base}/p.png"><iframe src="{secret.as_uri()}"></iframe>'
        f'{ARTICLE}<p><a href="{base}/">link</a></p>{ARTICLE}</article></body></html>'
    )
    return {
        "html entities": ("text/html", external + "<html>" + body),
        "xhtml entities": ("application/xhtml+xml", xml + external + xhtml + body),
        "xml entities": ("text/xml", xml + external + "<html>" + body),
        "external dtd": (
            "application/xhtml+xml",
            f'{xml}<!DOCTYPE html SYSTEM "{base}/dtd">{xhtml}{body.replace("&web;", "&nbsp;")}',
        ),
        "xinclude": (
            "application/xhtml+xml",
            xml
            + xhtml
            + body.replace("&web;", f'<xi:include href="{base}/xi" parse="text"/>').replace(
                "&disk;", f'<xi:include href="{secret.as_uri()}" parse="text"/>'
            ),
        ),
        "resources": ("text/html", "<!DOCTYPE html><html>" + resources),
    }


def test_html_processing_fetches_nothing_and_reads_no_file(
    http_server: Any, tmp_path: Path
) -> None:
    """Pages that name a server and a file the test controls, sent as bytes and as text
    through the real clean stage: the server is never asked, the file's text never shows,
    and the article around the references is still extracted."""
    secret = tmp_path / "secret.txt"
    secret.write_text(FILE_SECRET)
    base = f"http://127.0.0.1:{http_server.server_address[1]}"
    for name, (content_type, page) in entity_pages(base, secret).items():
        for value in (bytes_page(page.encode(), content_type), html_page(page)):
            outgoing = PROCESSOR.process(InputMessage(value))
            output = orjson.loads(outgoing.value)
            assert http_server.requests == [], name
            assert FILE_SECRET not in outgoing.value.decode(), name
            assert HTTP_SECRET not in outgoing.value.decode(), name
            if name in NO_DOCUMENT:
                assert outgoing.outcome == "not_html", (name, outgoing.outcome)
            else:
                assert outgoing.outcome == "ok", (name, output.get("error"))
                assert "perfectly ordinary article about the harbour" in output["text"], name
                if name != "resources":
                    assert QUOTED in output["text"] and REPORT in output["text"], name


@pytest.mark.parametrize("depth", [5, 9])
def test_an_entity_bomb_is_not_expanded(depth: int) -> None:
    """Laughs around a real article: &lol9; is 3 GB once expanded (libxml2's own
    amplification limit would stop that one), &lol5; 300 KB (within that limit: only not
    expanding at all keeps it out). The output stays the size of the page, as text and as
    bytes, whatever the content type."""
    page = (
        f'<?xml version="1.0"?><!DOCTYPE html [{LAUGHS}]><html><body><article><h1>Laughs</h1>'
        f"{ARTICLE}<p>&lol{depth};</p>{ARTICLE}</article></body></html>"
    )
    for content_type in ("text/html", "application/xhtml+xml", "text/xml"):
        for value in (bytes_page(page.encode(), content_type), html_page(page)):
            outgoing = PROCESSOR.process(InputMessage(value))
            assert outgoing.outcome == "ok", orjson.loads(outgoing.value).get("error")
            assert len(outgoing.value) < 8 * len(value), content_type
            assert "lollollol" not in outgoing.value.decode()


def test_a_compressed_bomb_body_is_a_dead_letter_and_never_inflated() -> None:
    """html_base64 holding a gzip bomb (256 KiB inflating to 256 MiB) under a gzip
    Content-Encoding: one not_html dead letter saying so, and no allocation near the
    inflated size (tracemalloc sees every bytes object, whoever inflates it)."""
    bomb = gzip_zeros(256, b"<!doctype html><html><body><p>")
    value = orjson.dumps(
        {
            **GOOD_FIELDS,
            "headers": {"content-type": "text/html", "content-encoding": "gzip"},
            "html_base64": base64.b64encode(bomb).decode(),
        }
    )
    tracemalloc.start()
    try:
        record = dead_letter_of(value)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 32 * MIB, f"{peak / MIB:.0f} MiB allocated for a {len(bomb) / MIB:.2f} MiB body"
    assert record["reason"] == "not_html"
    assert "gzip-compressed (content-encoding: gzip)" in record["error"]["message"]


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
