"""`newsflow produce` as crawlers use it: WARC files, folders, JSON lines, compression, the
summary and the exit status; run as a real process against the real local broker."""

from __future__ import annotations

import base64
import gzip
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from tests.support.bombs import gzip_zeros
from tests.support.delivery import caught_up, read_topic
from tests.support.paths import REPO, SAMPLES
from tests.support.waiting import eventually_async
from workers.kafka.produce import input_files, iter_records
from workers.kafka.warc import Skipped, http_headers, iter_warc, media_type
from workers.pipeline import consumer_groups
from workers.records.ids import document_id
from workers.records.message import InputMessage
from workers.runtime.processor import StageProcessor
from workers.settings import Settings

# A German page whose charset is declared only in the HTTP header (no <meta charset>).
CP1252_URL = "https://www.example.de/wirtschaft/strompreis-rechenzentren.html"
CP1252_BODY = (
    "<html><head><title>Strompreise: Rechenzentren in Frankfurt zahlen mehr</title></head>"
    "<body><article><h1>Strompreise: Rechenzentren in Frankfurt zahlen mehr</h1>"
    + "<p>Die Betreiber großer Rechenzentren in Frankfurt müssen für Strom künftig deutlich "
    "mehr zahlen. Das berichten Verbände, die für die Branche sprechen; Größe und Lage der "
    "Anlagen spielen dabei eine Rolle, heißt es. Die Preise steigen um 12 € je Megawattstunde."
    "</p>" * 4 + "</article></body></html>"
).encode("cp1252")
UTF8_URL = "https://news.example.org/world/2026/11/20/harbour-reopens"
UTF8_BODY = (
    '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Harbour reopens</title>'
    "</head><body><article><h1>Harbour reopens after storm — “a relief”</h1>"
    + "<p>The harbour reopened on Friday after the storm damaged two piers, officials said. "
    "Fishing boats returned to the quay by noon and the ferry service resumes next week.</p>"
    * 4
    + "</article></body></html>"
).encode("utf-8")

PNG_URL = "https://news.example.org/img/harbour.png"
PNG_BODY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"


def write_warc(path: Path) -> None:
    """A crawl as a crawler writes it: warcinfo, request, three responses (a windows-1252
    page with the charset only in the HTTP header, a gzip-encoded UTF-8 page, a PNG)."""
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        writer.write_record(writer.create_warcinfo_record(path.name, {"software": "test"}))
        request = StatusAndHeaders(
            "GET /wirtschaft/strompreis-rechenzentren.html HTTP/1.1",
            [("Host", "www.example.de"), ("User-Agent", "testcrawler/1.0")],
            is_http_request=True,
        )
        writer.write_record(
            writer.create_warc_record(
                CP1252_URL, "request", payload=io.BytesIO(b""), http_headers=request
            )
        )
        responses = [
            (
                CP1252_URL,
                "2026-11-20T08:15:30Z",
                "200 OK",
                [
                    ("Content-Type", "text/html; charset=windows-1252"),
                    ("Set-Cookie", "a=1"),
                    ("Set-Cookie", "b=2"),
                    ("Server", "nginx"),
                ],
                CP1252_BODY,
            ),
            (
                UTF8_URL,
                "2026-11-20T08:15:31Z",
                "200 OK",
                [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip")],
                gzip.compress(UTF8_BODY),
            ),
            (
                PNG_URL,
                "2026-11-20T08:15:32Z",
                "200 OK",
                [("Content-Type", "image/png")],
                PNG_BODY,
            ),
        ]
        for url, date, status, headers, payload in responses:
            http = StatusAndHeaders(status, headers, protocol="HTTP/1.1")
            writer.write_record(
                writer.create_warc_record(
                    url,
                    "response",
                    payload=io.BytesIO(payload),
                    http_headers=http,
                    warc_headers_dict={"WARC-Date": date},
                )
            )


def newsflow_produce(settings: Settings, *args: str | Path) -> subprocess.CompletedProcess:
    """`newsflow produce ARGS` as a process, configured only through NEWSFLOW_* variables."""
    env = {**os.environ, **settings.as_env()}
    return subprocess.run(
        [sys.executable, "-m", "workers", "produce", "--no-progress", *map(str, args)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def summary_line(stderr: str) -> str:
    (line,) = [line for line in stderr.splitlines() if line.startswith("sent ")]
    return line


async def raw_records(settings: Settings) -> dict[str, dict]:
    """Every record on the raw topic, by key, with its headers; each document once."""
    found = {}
    messages = await read_topic(settings, settings.topic_raw)
    for message in messages:
        record = orjson.loads(message.value)
        found[message.key.decode()] = {"value": record, "headers": dict(message.headers)}
    assert len(found) == len(messages), "a document was sent twice"
    return found


# --- WARC reading (pure) -----------------------------------------------------------------


def test_http_headers_lower_case_joined_and_without_wire_headers() -> None:
    pairs = [
        ("Content-Type", "text/html"),
        ("Set-Cookie", "a=1"),
        ("set-cookie", "b=2"),
        ("Content-Encoding", "gzip"),
        ("Transfer-Encoding", "chunked"),
        ("Content-Length", "10"),
    ]
    assert http_headers(pairs) == {"content-type": "text/html", "set-cookie": "a=1, b=2"}


def test_media_type() -> None:
    assert media_type("Text/HTML; charset=windows-1252") == "text/html"
    assert media_type("image/png") == "image/png"
    assert media_type(None) is None
    assert media_type("") is None


def test_iter_warc_yields_html_responses_and_skips_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    write_warc(path)
    consumed: list[int] = []
    items = list(iter_warc(path, progress=consumed.append))
    assert [type(item).__name__ for item in items] == ["dict", "dict", "Skipped"]
    assert items[2] == Skipped(PNG_URL, "not HTML (image/png)")
    assert base64.b64decode(items[0]["html_base64"]) == CP1252_BODY
    assert base64.b64decode(items[1]["html_base64"]) == UTF8_BODY  # gzip undone
    assert sum(consumed) == path.stat().st_size  # progress covers the whole file


def test_iter_warc_skips_statuses_without_a_page_and_sends_errors(tmp_path: Path) -> None:
    path = tmp_path / "statuses.warc"
    with path.open("wb") as stream:
        writer = WARCWriter(stream, gzip=False)
        for status, body in [
            ("301 Moved Permanently", b"<html>moved</html>"),
            ("304 Not Modified", b""),
            ("404 Not Found", b"<html>gone</html>"),
            ("200 OK", b"<html>page</html>"),
        ]:
            http = StatusAndHeaders(
                status, [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
            )
            writer.write_record(
                writer.create_warc_record(
                    f"https://example.com/{status[:3]}",
                    "response",
                    payload=io.BytesIO(body),
                    http_headers=http,
                )
            )
    items = list(iter_warc(path))
    assert items[:2] == [
        Skipped("https://example.com/301", "no page (HTTP 301)"),
        Skipped("https://example.com/304", "no page (HTTP 304)"),
    ]
    assert [(i["url"], i["status"]) for i in items[2:]] == [
        ("https://example.com/404", 404),  # sent: the cleaner dead-letters it as http_error
        ("https://example.com/200", 200),
    ]


def test_iter_warc_reports_a_file_that_is_no_warc(tmp_path: Path) -> None:
    path = tmp_path / "broken.warc.gz"
    path.write_bytes(b"garbage" * 3)
    (item,) = iter_warc(path)
    assert isinstance(item, ValueError)
    assert "not a readable WARC file" in str(item)


def test_iter_warc_keeps_what_precedes_a_truncation(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    write_warc(path)
    path.write_bytes(path.read_bytes()[:-200])  # cut inside the last response (the PNG)
    items = list(iter_warc(path))
    assert [type(item).__name__ for item in items] == ["dict", "dict", "ValueError"]
    assert "damaged WARC file" in str(items[2])


def test_progress_covers_every_input_byte_of_a_folder(tmp_path: Path) -> None:
    """The progress bar's length is the size of the input files; reading reports exactly
    that many bytes, so the bar ends at 100 % (HTML, JSON lines and WARC alike)."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.html").write_bytes(UTF8_BODY)
    (tmp_path / "sub" / "b.jsonl").write_bytes(b'{"url": "https://x.example/", "html": ""}\n\n')
    write_warc(tmp_path / "sub" / "c.warc.gz")
    (tmp_path / "ignored.txt").write_text("not an input")
    files = input_files([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in files] == [
        "a.html",
        "sub/b.jsonl",
        "sub/c.warc.gz",
    ]
    consumed: list[int] = []
    items = list(iter_records([tmp_path], progress=consumed.append))
    assert sum(consumed) == sum(p.stat().st_size for p in files)
    assert [type(i).__name__ for i in items] == ["dict", "dict", "dict", "dict", "Skipped"]


# --- against the broker ------------------------------------------------------------------


@pytest.mark.broker
async def test_produce_warc_file(pipeline: Settings, tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    write_warc(path)

    done = newsflow_produce(pipeline, path)

    assert done.returncode == 0, done.stderr
    assert re.match(
        r"sent 2, failed 0, skipped 1 \(1 not HTML \(image/png\)\), \d+\.\d KiB, ",
        summary_line(done.stderr),
    ), done.stderr
    found = await raw_records(pipeline)
    assert set(found) == {document_id(CP1252_URL), document_id(UTF8_URL)}

    german = found[document_id(CP1252_URL)]["value"]
    assert german["url"] == CP1252_URL
    assert german["fetched_at"] == "2026-11-20T08:15:30Z"
    assert german["status"] == 200
    assert german["headers"] == {
        "content-type": "text/html; charset=windows-1252",
        "set-cookie": "a=1, b=2",
        "server": "nginx",
    }
    assert base64.b64decode(german["html_base64"]) == CP1252_BODY
    assert german["crawler"] == "warc:crawl.warc.gz"
    headers = found[document_id(CP1252_URL)]["headers"]
    assert headers["ce_type"] == b"dev.newsflow.raw-html.v1"
    assert headers["ce_subject"] == document_id(CP1252_URL).encode()

    english = found[document_id(UTF8_URL)]["value"]
    assert english["url"] == UTF8_URL
    assert english["fetched_at"] == "2026-11-20T08:15:31Z"
    assert english["headers"] == {"content-type": "text/html; charset=utf-8"}
    assert base64.b64decode(english["html_base64"]) == UTF8_BODY

    # The charset from the crawl's HTTP header is what makes the German page right.
    message = InputMessage(
        orjson.dumps(german), key=document_id(CP1252_URL).encode(), topic=pipeline.topic_raw
    )
    cleaned = StageProcessor("clean", Settings()).process(message)
    assert cleaned.outcome == "ok"
    article = orjson.loads(cleaned.value)
    assert article["encoding"] == {"name": "cp1252", "source": "http-header"}
    assert "Die Betreiber großer Rechenzentren in Frankfurt müssen" in article["text"]
    assert "12 € je Megawattstunde" in article["text"]


@pytest.mark.broker
async def test_produce_stops_a_gzip_bomb_with_one_line(pipeline: Settings, tmp_path: Path) -> None:
    """A crawl whose third member inflates past the bound (256 MiB of zeros): the pages
    before it are sent, the bomb is one error line naming the file and the record, exit 1."""
    path = tmp_path / "crawl.warc.gz"
    write_warc(path)
    bomb = gzip_zeros(256, b"WARC/1.0\r\nWARC-Type: response\r\nX-Pad: ")
    offset = path.stat().st_size
    with path.open("ab") as stream:
        stream.write(bomb)

    done = newsflow_produce(pipeline, path)

    assert done.returncode == 1, done.stderr
    (error,) = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert error.startswith(f"error: {path}: record at byte {offset}: gzip inflates beyond")
    assert error.endswith("rest of the file not read")
    assert summary_line(done.stderr).startswith("sent 2, failed 1, skipped 1 ")
    assert set(await raw_records(pipeline)) == {document_id(CP1252_URL), document_id(UTF8_URL)}


@pytest.mark.broker
async def test_produce_folder_recursively_with_failures(pipeline: Settings, tmp_path: Path) -> None:
    crawl = tmp_path / "crawl"
    (crawl / "2026" / "11").mkdir(parents=True)
    (crawl / "a.html").write_bytes((SAMPLES / "03-ecb-first-rate-cut.html").read_bytes())
    (crawl / "2026" / "11" / "b.htm").write_bytes(UTF8_BODY)
    (crawl / "notes.txt").write_text("not a page: ignored")
    write_warc(crawl / "2026" / "crawl.warc.gz")
    good = {
        "url": "https://example.com/jsonl-page",
        "fetched_at": "2026-11-21T10:00:00Z",
        "html": "<html><body><p>hello</p></body></html>",
    }
    (crawl / "2026" / "11" / "pages.jsonl").write_bytes(
        orjson.dumps(good)
        + b"\n{not json\n"
        + orjson.dumps({"url": "https://example.com/no-body", "fetched_at": "2026-11-21"})
        + b"\n\n"
    )

    done = newsflow_produce(pipeline, crawl, "--url-prefix", "https://crawl.example")

    assert done.returncode == 1, done.stderr
    # a.html, b.htm, 2 WARC pages, 1 good JSON line; a bad line and a contract breach fail.
    assert summary_line(done.stderr).startswith("sent 5, failed 2, skipped 1 "), done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2
    assert "pages.jsonl:2: not JSON" in errors[0]
    assert errors[1].startswith("error: https://example.com/no-body: ")
    found = await raw_records(pipeline)
    assert set(found) == {
        document_id("https://crawl.example/a.html"),
        document_id("https://crawl.example/b.htm"),
        document_id(CP1252_URL),
        document_id(UTF8_URL),
        document_id("https://example.com/jsonl-page"),
    }


@pytest.mark.broker
@pytest.mark.parametrize("codec", ["gzip", "lz4", "zstd"])
async def test_produce_compressed(pipeline: Settings, tmp_path: Path, codec: str) -> None:
    settings = pipeline.model_copy(update={"compression": codec})
    page = SAMPLES / "07-rechenzentren-frankfurt-strom.html"

    done = newsflow_produce(settings, page, "--url-prefix", f"https://{codec}.example")

    assert done.returncode == 0, done.stderr
    assert summary_line(done.stderr).startswith("sent 1, failed 0, skipped 0, ")
    (record,) = (await raw_records(pipeline)).values()
    assert base64.b64decode(record["value"]["html_base64"]) == page.read_bytes()


@pytest.mark.broker
def test_produce_unreachable_broker_fails(tmp_path: Path) -> None:
    from workers.local.broker import free_port

    settings = Settings(bootstrap_servers=f"127.0.0.1:{free_port()}")
    done = newsflow_produce(settings, SAMPLES / "03-ecb-first-rate-cut.html")
    assert done.returncode != 0
    assert "cannot reach Kafka" in done.stderr


@pytest.mark.broker
async def test_warc_pages_reach_the_sink_with_zstd_everywhere(
    pipeline: Settings, start_worker, tmp_path: Path
) -> None:
    """The compose configuration (NEWSFLOW_COMPRESSION=zstd for the workers too), end to
    end: a crawl's WARC through both worker kinds to the sink."""
    settings = pipeline.model_copy(update={"compression": "zstd"})
    start_worker("clean", settings)
    start_worker("enrich", settings)
    path = tmp_path / "crawl.warc.gz"
    write_warc(path)

    done = newsflow_produce(settings, path)

    assert done.returncode == 0, done.stderr
    groups = consumer_groups(settings)
    await eventually_async(lambda: caught_up(settings, groups), 120, "both pages through")
    messages = await read_topic(settings, settings.topic_enriched)
    sink = {message.key.decode(): orjson.loads(message.value) for message in messages}
    assert len(messages) == 2
    assert set(sink) == {document_id(CP1252_URL), document_id(UTF8_URL)}
    german = sink[document_id(CP1252_URL)]
    assert german["encoding"] == {"name": "cp1252", "source": "http-header"}
    assert german["language"] == "de"
    assert german["timestamps"]["fetched"] == "2026-11-20T08:15:30Z"
    assert "12 € je Megawattstunde" in german["text"]
    english = sink[document_id(UTF8_URL)]
    assert english["title"] == "Harbour reopens after storm — “a relief”"
