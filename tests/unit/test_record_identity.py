"""workers.records.identity: event ids from the document and its page bytes, not positions."""

from __future__ import annotations

import base64
import hashlib

from workers.records.cloudevents import event_id
from workers.records.identity import (
    dead_letter_event_id,
    lineage_sha256,
    output_event_id,
    page_sha256,
)
from workers.records.message import InputMessage

PAGE = "<html><body><p>Café prices rose again.</p></body></html>"
LATIN1 = PAGE.encode("latin-1")
DOC = "d0" * 16


def record(content: str | None, **position: object) -> dict:
    first = {"stage": "clean", "topic": "raw", "partition": 0, "offset": 7, **position}
    if content is not None:
        first["content_sha256"] = content
    return {
        "document_id": DOC,
        "lineage": [first, {"stage": "enrich", "topic": "c", "partition": 1, "offset": 3}],
    }


def test_the_page_hash_is_of_the_bytes_as_fetched() -> None:
    as_fetched = {"html_base64": base64.b64encode(LATIN1).decode()}
    assert page_sha256(as_fetched) == hashlib.sha256(LATIN1).hexdigest()
    # Decoded text is hashed as UTF-8: other bytes than the Latin-1 page, another hash.
    assert page_sha256({"html": PAGE}) == hashlib.sha256(PAGE.encode()).hexdigest()
    assert page_sha256({"html": PAGE}) != page_sha256(as_fetched)
    for no_page in ({"html_base64": "not base64!"}, {"url": "x"}, [PAGE], None, {"html": 3}):
        assert page_sha256(no_page) is None


def test_only_a_well_formed_hash_on_the_first_lineage_entry_counts() -> None:
    good = hashlib.sha256(LATIN1).hexdigest()
    assert lineage_sha256(record(good)) == good
    for bad in ("", good.upper(), good[:-1], "sha256:" + good):
        assert lineage_sha256(record(bad)) is None
    assert lineage_sha256(record(None)) is None
    assert lineage_sha256({"lineage": []}) is None
    assert lineage_sha256("not a record") is None


def test_an_output_id_ignores_every_position() -> None:
    content = hashlib.sha256(LATIN1).hexdigest()
    here = InputMessage(b"", topic="clean", partition=1, offset=3)
    there = InputMessage(b"", topic="clean-mirror", partition=5, offset=900)
    ids = {
        output_event_id("enrich", record(content), here),
        output_event_id("enrich", record(content, topic="raw-recreated", offset=0), there),
    }
    assert ids == {event_id("enrich", DOC, content)}
    assert output_event_id("clean", record(content), here) not in ids  # one id per stage
    other = hashlib.sha256(LATIN1 + b" ").hexdigest()
    assert output_event_id("enrich", record(other), here) not in ids


def test_an_output_from_before_page_hashes_keeps_its_positional_id() -> None:
    here = InputMessage(b"", topic="clean", partition=1, offset=3)
    assert output_event_id("enrich", record(None), here) == event_id("enrich", "raw", 0, 7)


def test_a_dead_letter_id_is_the_stage_the_reason_the_document_and_the_bytes() -> None:
    raw = {"url": "https://example.com/a", "html_base64": base64.b64encode(LATIN1).decode()}
    content = hashlib.sha256(LATIN1).hexdigest()
    at = [InputMessage(b"{}", topic=t, offset=o) for t, o in (("raw", 1), ("mirror", 99))]

    def dead(message: InputMessage, reason: str = "http_error", **kw: object) -> str:
        args = {"parsed": raw, "document": DOC, "input_has_lineage": False, **kw}
        return dead_letter_event_id("clean", reason, message, **args)

    assert {dead(m) for m in at} == {event_id("dead-letter", "clean", "http_error", DOC, content)}
    assert dead(at[0], "not_html") != dead(at[0])
    assert dead(at[0], document=None) != dead(at[0])
    # A clean record's dead letter takes the hash from its lineage.
    assert dead_letter_event_id(
        "enrich", "schema_violation", at[0], record(content), DOC, input_has_lineage=True
    ) == event_id("dead-letter", "enrich", "schema_violation", DOC, content)
    # Nothing to hash but the failed value itself: equal values, one id, wherever they sit.
    unparsed = [InputMessage(b"{broken", topic=t, offset=o) for t, o in (("raw", 1), ("m", 2))]
    ids = {dead(m, "invalid_json", parsed=None, document=None) for m in unparsed}
    assert ids == {
        event_id("dead-letter", "clean", "invalid_json", "", hashlib.sha256(b"{broken").hexdigest())
    }
