"""examples/crawler_publish.py, the crawler integration the README shows, on the real
local broker: plain aiokafka and the Scrapy item pipeline (driven without Scrapy)."""

from __future__ import annotations

import base64
import sys

import orjson
import pytest

from tests.support.delivery import read_topic
from tests.support.paths import REPO
from workers.errors import StageError
from workers.records.ids import document_id
from workers.settings import Settings

sys.path.insert(0, str(REPO / "examples"))
import crawler_publish

pytestmark = pytest.mark.broker

BODY = "<html><body><p>Größe und Wärme</p></body></html>".encode("cp1252")


class FakeScrapyResponse:
    """What the pipeline reads of a scrapy.http.Response: url, status, body, headers (a
    mapping of bytes names to lists of bytes values, as scrapy.http.Headers)."""

    url = "https://example.com/scrapy-page"
    status = 200
    body = BODY

    class headers:
        @staticmethod
        def items() -> list[tuple[bytes, list[bytes]]]:
            return [
                (b"Content-Type", [b"text/html; charset=windows-1252"]),
                (b"Set-Cookie", [b"a=1", b"b=2"]),
            ]


async def read_raw(settings: Settings) -> dict[str, dict]:
    """Every raw record by key; each document once."""
    messages = await read_topic(settings, settings.topic_raw)
    found = {message.key.decode(): orjson.loads(message.value) for message in messages}
    assert len(found) == len(messages), "a document was sent twice"
    return found


async def test_plain_aiokafka_publish(pipeline: Settings) -> None:
    url = "https://example.com/aiokafka-page"
    record = crawler_publish.raw_html_record(
        url, BODY, headers={"Content-Type": "text/html; charset=windows-1252"}
    )
    producer = crawler_publish.new_producer(pipeline)
    await producer.start()
    try:
        await crawler_publish.publish(producer, pipeline, record)
        with pytest.raises(StageError):  # breaks the contract: never sent
            await crawler_publish.publish(producer, pipeline, {**record, "status": 42})
    finally:
        await producer.stop()
    (sent,) = (await read_raw(pipeline)).items()
    assert sent[0] == document_id(url)
    assert sent[1]["headers"] == {"content-type": "text/html; charset=windows-1252"}
    assert base64.b64decode(sent[1]["html_base64"]) == BODY


async def test_scrapy_item_pipeline(pipeline: Settings) -> None:
    item = crawler_publish.page_item(FakeScrapyResponse())
    sink = crawler_publish.NewsflowPipeline(pipeline)
    assert await sink.process_item(item, spider=None) is item
    await sink.stop()
    records = await read_raw(pipeline)
    record = records[document_id(FakeScrapyResponse.url)]
    assert record["headers"] == {
        "content-type": "text/html; charset=windows-1252",
        "set-cookie": "a=1, b=2",
    }
    assert record["status"] == 200 and record["crawler"] == "scrapy"
    assert base64.b64decode(record["html_base64"]) == BODY
