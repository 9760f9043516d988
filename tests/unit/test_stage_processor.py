"""workers.runtime.processor.StageProcessor: one message to an output record or a dead letter."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import orjson
import pytest

from tests.support.samples import (
    RAW_TOPIC,
    clean_sample,
    entry,
    message,
    raw_for,
    sample_bytes,
)
from workers.records import contracts
from workers.records.cloudevents import event_id, header
from workers.records.ids import document_id
from workers.records.outgoing import Outgoing
from workers.runtime.processor import StageProcessor
from workers.settings import Settings

SETTINGS = Settings()
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
PARENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{PARENT_TRACE}-00f067aa0ba902b7-01"
INPUT_HEADERS = (("traceparent", PARENT.encode()), ("x-crawl", b"run-7"), ("empty", b""))


def _headers(outgoing: Outgoing) -> dict[str, str]:
    names = [name for name, _ in outgoing.headers]
    assert len(names) == len(set(names)), names
    return {name: value.decode("utf-8") for name, value in outgoing.headers}


def _raw_message(raw: dict[str, Any] | bytes | None, **fields: Any):
    defaults: dict[str, Any] = {
        "topic": RAW_TOPIC,
        "partition": 2,
        "offset": 1234,
        "timestamp_ms": 1718807528123,
        "key": b"raw-key",
        "headers": INPUT_HEADERS,
    }
    return message(raw, **{**defaults, **fields})


@pytest.fixture(scope="module")
def cleaner() -> StageProcessor:
    return StageProcessor("clean", SETTINGS)


# --- ok path -------------------------------------------------------------------------------------


def test_clean_ok(cleaner: StageProcessor) -> None:
    item = entry("01")
    doc_id = document_id(item["url"])
    out = cleaner.process(_raw_message(raw_for(item)))

    assert out.outcome == "ok"
    assert out.topic == SETTINGS.topic_clean == "newsflow.articles-clean.v1"
    assert out.key == doc_id.encode("ascii")
    assert out.document_id == doc_id
    record = orjson.loads(out.value)
    assert contracts.schema_errors(record, "articles-clean.v1") == []
    assert record["document_id"] == doc_id
    assert record["title"] == item["title"]
    page = sample_bytes(item)  # html_base64: the bytes exactly as fetched
    assert record["lineage"] == [
        {
            "stage": "clean",
            "topic": RAW_TOPIC,
            "partition": 2,
            "offset": 1234,
            "content_sha256": hashlib.sha256(page).hexdigest(),
        }
    ]

    headers = _headers(out)
    assert headers["ce_specversion"] == "1.0"
    assert UUID.match(headers["ce_id"])
    assert headers["ce_id"] == event_id("clean", doc_id, hashlib.sha256(page).hexdigest())
    assert headers["ce_source"] == "/newsflow/clean"
    assert headers["ce_type"] == "dev.newsflow.articles-clean.v1"
    assert headers["ce_dataschema"] == "https://newsflow.dev/schemas/articles-clean.v1.json"
    assert RFC3339_UTC.match(headers["ce_time"])
    assert headers["content-type"] == "application/json"
    assert headers["ce_subject"] == doc_id
    trace = TRACEPARENT.match(headers["traceparent"])
    assert trace is not None
    assert trace.group(1) == PARENT_TRACE  # the crawler's trace continues
    assert trace.group(2) != "00f067aa0ba902b7"  # in a new span
    assert trace.group(3) == "01"


def test_event_id_is_the_document_and_its_bytes_not_the_input_position(
    cleaner: StageProcessor,
) -> None:
    item = entry("02")
    raw = raw_for(item)
    first = _headers(cleaner.process(_raw_message(raw)))["ce_id"]
    again = _headers(cleaner.process(_raw_message(raw)))["ce_id"]
    elsewhere = _headers(cleaner.process(_raw_message(raw, offset=1235)))["ce_id"]
    other_partition = _headers(cleaner.process(_raw_message(raw, partition=3)))["ce_id"]
    mirrored = _headers(cleaner.process(_raw_message(raw, topic="mirror.raw-html")))["ce_id"]
    # The same bytes fetched again later are the same page.
    refetched = {**raw, "fetched_at": "2031-01-01T00:00:00Z"}
    later = _headers(cleaner.process(_raw_message(refetched)))["ce_id"]
    assert first == again == elsewhere == other_partition == mirrored == later
    # A new crawl of the same URL whose bytes differ is another event.
    edited = sample_bytes(item).replace(b"</body>", b"<p>Updated.</p></body>", 1)
    assert edited != sample_bytes(item)
    recrawled = _headers(cleaner.process(_raw_message(raw_for(item, body=edited))))["ce_id"]
    assert recrawled != first


def test_without_parent_a_new_trace_starts(cleaner: StageProcessor) -> None:
    raw = raw_for(entry("02"))
    first = _headers(cleaner.process(_raw_message(raw, headers=())))["traceparent"]
    second = _headers(cleaner.process(_raw_message(raw, headers=())))["traceparent"]
    for value in (first, second):
        trace = TRACEPARENT.match(value)
        assert trace is not None
        assert trace.group(1) != PARENT_TRACE
        assert trace.group(3) == "01"
    assert TRACEPARENT.match(first).group(1) != TRACEPARENT.match(second).group(1)


@pytest.mark.parametrize(
    "bad_parent",
    [
        b"garbage",
        b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",  # upper case
        b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",  # no flags
        # W3C trace context: an all-zero trace id or parent id is invalid and must be ignored
        b"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
    ],
)
def test_invalid_parent_traceparent_starts_a_new_trace(
    cleaner: StageProcessor, bad_parent: bytes
) -> None:
    out = cleaner.process(
        _raw_message(raw_for(entry("02")), headers=(("traceparent", bad_parent),))
    )
    trace = TRACEPARENT.match(_headers(out)["traceparent"])
    assert trace is not None
    assert trace.group(1) not in bad_parent.decode().lower()
    assert trace.group(1) != "0" * 32


def test_enrich_ok() -> None:
    article = clean_sample("03")
    enricher = StageProcessor("enrich", SETTINGS)
    msg = message(
        article,
        topic=SETTINGS.topic_clean,
        partition=1,
        offset=9,
        key=article["document_id"].encode(),
        headers=(("traceparent", PARENT.encode()),),
    )
    out = enricher.process(msg)
    assert out.outcome == "ok"
    assert out.topic == SETTINGS.topic_enriched
    assert out.key == article["document_id"].encode("ascii")
    record = orjson.loads(out.value)
    assert contracts.schema_errors(record, "articles-enriched.v1") == []
    headers = _headers(out)
    assert headers["ce_source"] == "/newsflow/enrich"
    assert headers["ce_type"] == "dev.newsflow.articles-enriched.v1"
    assert headers["ce_subject"] == article["document_id"]
    assert TRACEPARENT.match(headers["traceparent"]).group(1) == PARENT_TRACE


def test_enrich_event_ids_come_from_the_raw_message_not_the_clean_offset() -> None:
    """A clean worker killed after sending writes the same page again at a new clean offset;
    both copies must reach the sink with one ce_id (and a dead letter with one id)."""
    article = clean_sample("03")
    enricher = StageProcessor("enrich", SETTINGS)
    copies = [
        message(article, topic=SETTINGS.topic_clean, partition=1, offset=offset)
        for offset in (9, 10)
    ]
    assert len({_headers(enricher.process(m))["ce_id"] for m in copies}) == 1
    first = _headers(enricher.process(copies[0]))["ce_id"]
    content = article["lineage"][0]["content_sha256"]
    assert first == event_id("enrich", article["document_id"], content)
    # The same page read from another raw message (a recreated or mirrored topic): one event.
    moved = {**article, "lineage": [{**article["lineage"][0], "topic": "mirror", "offset": 4242}]}
    other = enricher.process(message(moved, topic=SETTINGS.topic_clean, partition=1, offset=9))
    assert _headers(other)["ce_id"] == first
    # Other bytes under the same URL: another event.
    recrawled = {**article, "lineage": [{**article["lineage"][0], "content_sha256": "0" * 64}]}
    other = enricher.process(message(recrawled, topic=SETTINGS.topic_clean, offset=9))
    assert _headers(other)["ce_id"] != first
    # A clean record from before page hashes keeps the positional id it had then.
    legacy_entry = {k: v for k, v in article["lineage"][0].items() if k != "content_sha256"}
    legacy = {**article, "lineage": [legacy_entry]}
    out = enricher.process(message(legacy, topic=SETTINGS.topic_clean, offset=9))
    position = (legacy_entry["topic"], legacy_entry["partition"], legacy_entry["offset"])
    assert _headers(out)["ce_id"] == event_id("enrich", *position)
    broken = {**article, "text": 17}  # a schema violation: a dead letter of the enrich stage
    dead = [
        orjson.loads(enricher.process(message(broken, topic=m.topic, offset=m.offset)).value)
        for m in copies
    ]
    assert dead[0]["reason"] == "schema_violation"
    assert dead[0]["id"] == dead[1]["id"]


# --- dead letters ---------------------------------------------------------------------------


def _dead_letter(out: Outgoing) -> dict[str, Any]:
    assert out.topic == SETTINGS.topic_dead_letter == "newsflow.dead-letter.v1"
    record = orjson.loads(out.value)
    assert contracts.schema_errors(record, "dead-letter.v1") == []
    headers = _headers(out)
    assert headers["ce_type"] == "dev.newsflow.dead-letter.v1"
    assert headers["ce_source"] == "/newsflow/clean"
    assert headers["ce_id"] == record["id"]
    assert TRACEPARENT.match(headers["traceparent"]).group(1) == PARENT_TRACE
    return record


def test_dead_letter_with_url(cleaner: StageProcessor) -> None:
    item = entry("01")
    raw = raw_for(item, status=500)
    value = orjson.dumps(raw)
    out = cleaner.process(_raw_message(value))

    assert out.outcome == "http_error"
    record = _dead_letter(out)
    doc_id = document_id(item["url"])
    assert out.key == doc_id.encode("ascii")
    assert out.document_id == doc_id
    assert _headers(out)["ce_subject"] == doc_id
    assert record["stage"] == "clean"
    assert record["reason"] == "http_error"
    assert record["error"] == {"class": "StageError", "message": "fetch returned HTTP 500"}
    assert record["attempts"] == 1  # deterministic: one attempt
    assert RFC3339_UTC.match(record["failed_at"])
    assert record["document_id"] == doc_id
    assert record["url"] == item["url"]
    assert record["source"] == {
        "topic": RAW_TOPIC,
        "partition": 2,
        "offset": 1234,
        "timestamp": "2024-06-19T14:32:08.123Z",
        "key_base64": base64.b64encode(b"raw-key").decode(),
    }
    original = record["original"]
    assert base64.b64decode(original["value_base64"]) == value
    assert original["size"] == len(value)
    assert original["sha256"] == hashlib.sha256(value).hexdigest()
    assert original["truncated"] is False
    assert [(h["key"], base64.b64decode(h["value_base64"])) for h in original["headers"]] == list(
        INPUT_HEADERS
    )
    assert record["worker"]["newsflow"]


def test_dead_letter_id_is_the_document_its_bytes_and_the_failure(
    cleaner: StageProcessor,
) -> None:
    item = entry("01")
    value = orjson.dumps(raw_for(item, status=404))
    first = orjson.loads(cleaner.process(_raw_message(value)).value)["id"]
    again = orjson.loads(cleaner.process(_raw_message(value)).value)["id"]
    later = orjson.loads(cleaner.process(_raw_message(value, offset=99)).value)["id"]
    mirrored = orjson.loads(cleaner.process(_raw_message(value, topic="mirror")).value)["id"]
    assert UUID.match(first)
    assert first == again == later == mirrored
    content = hashlib.sha256(sample_bytes(item)).hexdigest()
    assert first == event_id(
        "dead-letter", "clean", "http_error", document_id(item["url"]), content
    )
    other_bytes = raw_for(item, body=sample_bytes(item) + b"<!-- v2 -->", status=404)
    refetched = orjson.loads(cleaner.process(_raw_message(other_bytes)).value)["id"]
    assert refetched != first
    # The same page failing for another reason is another failure.
    other_reason = orjson.loads(cleaner.process(_raw_message(raw_for(item, status=500))).value)
    assert other_reason["reason"] == "http_error"  # same reason, same bytes: same id
    assert other_reason["id"] == first
    not_html = raw_for(item, content_type="image/png")
    assert orjson.loads(cleaner.process(_raw_message(not_html)).value)["id"] != first
    # A value with no page in it (not JSON): its own bytes are its identity.
    broken = [
        orjson.loads(cleaner.process(_raw_message(b"{broken", offset=n)).value) for n in (1, 2)
    ]
    assert broken[0]["reason"] == "invalid_json"
    assert broken[0]["id"] == broken[1]["id"]
    assert broken[0]["id"] == event_id(
        "dead-letter", "clean", "invalid_json", "", hashlib.sha256(b"{broken").hexdigest()
    )


def test_dead_letter_without_url_keys_by_original_key(cleaner: StageProcessor) -> None:
    value = b"\x00\x01 not json at all \xff"
    out = cleaner.process(_raw_message(value, key=b"crawler-key-17"))
    assert out.outcome == "invalid_json"
    record = _dead_letter(out)
    assert out.key == b"crawler-key-17"
    assert record["document_id"] is None and record["url"] is None
    assert out.document_id is None
    assert "ce_subject" not in _headers(out)
    assert record["error"]["class"] == "JSONDecodeError"
    assert base64.b64decode(record["original"]["value_base64"]) == value


def test_dead_letter_without_url_or_key_keys_by_value_hash(cleaner: StageProcessor) -> None:
    value = b'["a", "json", "array"]'
    out = cleaner.process(_raw_message(value, key=None, timestamp_ms=None))
    assert out.outcome == "schema_violation"
    record = _dead_letter(out)
    assert out.key == hashlib.sha256(value).hexdigest().encode("ascii")
    assert record["source"]["key_base64"] is None
    assert record["source"]["timestamp"] is None


def test_tombstone_is_dead_lettered(cleaner: StageProcessor) -> None:
    out = cleaner.process(_raw_message(None, key=None))
    assert out.outcome == "invalid_json"
    record = _dead_letter(out)
    assert record["original"]["size"] == 0
    assert record["original"]["value_base64"] == ""
    assert out.key == hashlib.sha256(b"").hexdigest().encode("ascii")


def test_oversize_original_is_truncated_and_still_names_its_url() -> None:
    limit = 1000
    processor = StageProcessor(
        "clean", Settings(max_message_bytes=4096, dead_letter_max_original_bytes=limit)
    )
    item = entry("01")
    value = orjson.dumps(raw_for(item))
    assert len(value) > 4096
    out = processor.process(_raw_message(value))
    assert out.outcome == "oversize"
    record = _dead_letter(out)
    original = record["original"]
    assert original["truncated"] is True
    assert base64.b64decode(original["value_base64"]) == value[:limit]
    assert original["size"] == len(value)
    assert original["sha256"] == hashlib.sha256(value).hexdigest()
    # Too large to parse whole: the URL is read from the value's leading top-level keys.
    assert record["url"] == item["url"]
    assert record["document_id"] == document_id(item["url"])
    assert out.key == document_id(item["url"]).encode("ascii")


@pytest.mark.parametrize(
    ("value", "url"),
    [
        # The URL after a page too large to parse: not reached, the original key stands.
        (b'{"html": "' + b"x" * 100_000 + b'", "url": "https://news.example/a"}', None),
        # A "url" that is not the record's own (inside meta) is not taken.
        (b'{"meta": {"url": "https://crawler.example/"}, "html": "' + b"x" * 9000, None),
        (b"\x00\x01 not json" + b"x" * 9000, None),
    ],
)
def test_oversize_value_without_a_leading_url_keeps_its_key(value: bytes, url: None) -> None:
    processor = StageProcessor("clean", Settings(max_message_bytes=4096))
    out = processor.process(_raw_message(value))
    assert out.outcome == "oversize"
    assert _dead_letter(out)["url"] is url
    assert out.key == b"raw-key"


def test_a_value_over_the_kept_prefix_is_still_parsed_for_its_url() -> None:
    """Larger than the dead letter keeps but within what the stage parses: parsed whole,
    wherever its url key is."""
    item = entry("01")
    record = {k: v for k, v in raw_for(item).items() if k != "url"}
    value = orjson.dumps(record | {"status": 500, "url": item["url"]})  # url last
    processor = StageProcessor(
        "clean", Settings(max_message_bytes=len(value), dead_letter_max_original_bytes=100)
    )
    out = processor.process(_raw_message(value))
    assert out.outcome == "http_error"
    dead = _dead_letter(out)
    assert dead["original"]["truncated"] is True
    assert dead["url"] == item["url"]


def test_unexpected_exception_is_internal_error(
    cleaner: StageProcessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(message: Any, settings: Settings) -> dict[str, Any]:
        raise RuntimeError("cleaner bug: list index out of range")

    monkeypatch.setattr("workers.cleaning.stage.clean_message", broken)
    item = entry("01")
    out = cleaner.process(_raw_message(raw_for(item)))
    assert out.outcome == "internal_error"
    record = _dead_letter(out)
    assert record["reason"] == "internal_error"
    assert record["attempts"] == cleaner.settings.max_attempts == 3
    assert record["error"] == {
        "class": "RuntimeError",
        "message": "RuntimeError: cleaner bug: list index out of range",
    }
    assert record["document_id"] == document_id(item["url"])


def test_output_breaking_its_schema_is_output_contract_violation(
    cleaner: StageProcessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = clean_sample("01")
    bad = {**good, "text": "", "language": 42}

    monkeypatch.setattr("workers.cleaning.stage.clean_message", lambda message, settings: bad)
    out = cleaner.process(_raw_message(raw_for(entry("01"))))
    assert out.outcome == "output_contract_violation"
    record = _dead_letter(out)
    assert record["reason"] == "output_contract_violation"
    assert record["error"]["message"].startswith("articles-clean.v1: ")
    assert "text" in record["error"]["message"]
    assert "language" in record["error"]["message"]


def test_long_error_message_is_truncated(
    cleaner: StageProcessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(message: Any, settings: Settings) -> dict[str, Any]:
        raise ValueError("x" * 5000)

    monkeypatch.setattr("workers.cleaning.stage.clean_message", broken)
    record = _dead_letter(cleaner.process(_raw_message(raw_for(entry("01")))))
    assert len(record["error"]["message"]) == 2000


def test_header_helper_reads_first_matching_header() -> None:
    assert header(INPUT_HEADERS, "x-crawl") == "run-7"
    assert header(INPUT_HEADERS, "missing") is None
    assert header(None, "traceparent") is None


def test_an_unexpected_error_that_passes_is_retried_quickly(
    cleaner: StageProcessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers.cleaning.stage import clean_message

    calls = []

    def flaky(message: Any, settings: Settings) -> dict[str, Any]:
        calls.append(1)
        if len(calls) < 3:
            raise OSError("a hiccup")
        return clean_message(message, settings)

    monkeypatch.setattr("workers.cleaning.stage.clean_message", flaky)
    out = cleaner.process(_raw_message(raw_for(entry("01"))))
    assert out.outcome == "ok"
    assert len(calls) == 3


def test_a_transient_error_is_not_dead_lettered_but_raised_for_retry(
    cleaner: StageProcessor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers.errors import TransientError

    def redis_away(message: Any, settings: Settings) -> dict[str, Any]:
        raise TransientError("redis: connection refused")

    monkeypatch.setattr("workers.cleaning.stage.clean_message", redis_away)
    with pytest.raises(TransientError):
        cleaner.process(_raw_message(raw_for(entry("01"))))
