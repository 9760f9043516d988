"""How a Python crawler publishes pages to newsflow's raw topic (contract raw-html.v1).

Two ways, both with the page exactly as fetched (bytes, HTTP status and headers, fetch time),
keyed by the document id, with CloudEvents headers, and validated before sending:

1. plain aiokafka, from any asyncio crawler:

       python examples/crawler_publish.py https://example.com/some/article.html
       python examples/crawler_publish.py file://$PWD/workers/samples/03-ecb-first-rate-cut.html

   fetches the URL and publishes it (``NEWSFLOW_BOOTSTRAP_SERVERS``, ``NEWSFLOW_TOPIC_RAW``).

2. a Scrapy item pipeline: in the Scrapy project's settings,

       ITEM_PIPELINES = {"crawler_publish.NewsflowPipeline": 800}
       TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"

   and in the spider, for every page: ``yield page_item(response)``.

Both need ``pip install newsflow`` (for the contract: document ids, headers, validation);
nothing else of newsflow runs in the crawler.
"""

from __future__ import annotations

import asyncio
import base64
import sys
import urllib.request
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from workers.kafka.produce import encode_raw
from workers.settings import Settings, get_settings


def raw_html_record(
    url: str,
    body: bytes,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    fetched_at: datetime | None = None,
    crawler: str = "example-crawler",
) -> dict[str, Any]:
    """One raw-html.v1 record: header names in lower case, body base64 as fetched."""
    return {
        "url": url,
        "fetched_at": (fetched_at or datetime.now(UTC)).isoformat(),
        "status": status,
        "headers": {name.lower(): value for name, value in (headers or {}).items()},
        "html_base64": base64.b64encode(body).decode("ascii"),
        "crawler": crawler,
    }


def new_producer(settings: Settings) -> AIOKafkaProducer:
    """A producer as newsflow wants it: acks from all replicas, compressed batches."""
    return AIOKafkaProducer(
        **settings.kafka_client_kwargs(),
        acks="all",
        enable_idempotence=settings.idempotent_producer,
        linger_ms=settings.produce_linger_ms,
        compression_type=None if settings.compression == "none" else settings.compression,
        max_request_size=settings.max_message_bytes + 1024 * 1024,
    )


async def publish(producer: AIOKafkaProducer, settings: Settings, record: dict) -> None:
    """Validate one record against raw-html.v1 and send it; returns once the broker has it."""
    key, value, headers = encode_raw(record)  # raises StageError if it breaks the contract
    await producer.send_and_wait(settings.topic_raw, value=value, key=key, headers=headers)


# --- Scrapy --------------------------------------------------------------------------------


def page_item(response: Any) -> dict[str, Any]:
    """The item a Scrapy spider yields for a page: a raw-html.v1 record from a Response."""
    headers = {
        name.decode("latin-1"): b", ".join(values).decode("latin-1")
        for name, values in response.headers.items()
    }
    return raw_html_record(
        response.url, response.body, status=response.status, headers=headers, crawler="scrapy"
    )


class NewsflowPipeline:
    """Scrapy item pipeline: publishes every page item (see page_item) to the raw topic.
    Needs Scrapy's asyncio reactor (TWISTED_REACTOR, see above)."""

    def __init__(self, settings: Settings | None = None):
        self.settings = settings or get_settings()
        self.producer: AIOKafkaProducer | None = None

    async def process_item(self, item: dict[str, Any], spider: Any = None) -> dict[str, Any]:
        if self.producer is None:
            self.producer = new_producer(self.settings)
            await self.producer.start()
        await publish(self.producer, self.settings, dict(item))
        return item

    async def stop(self) -> None:
        if self.producer is not None:
            await self.producer.stop()
            self.producer = None

    def close_spider(self, spider: Any) -> Any:
        from scrapy.utils.defer import deferred_from_coro

        return deferred_from_coro(self.stop())


# --- plain aiokafka --------------------------------------------------------------------------


async def fetch_and_publish(urls: list[str], settings: Settings) -> None:
    producer = new_producer(settings)
    await producer.start()
    try:
        for url in urls:
            # A real crawler uses its own HTTP client; what matters is what it keeps.
            with urllib.request.urlopen(url, timeout=30) as response:
                record = raw_html_record(
                    response.url,
                    response.read(),
                    status=response.status or 200,  # file: URLs have no status
                    headers={
                        name: ", ".join(response.headers.get_all(name))
                        for name in set(response.headers.keys())
                    },
                )
            await publish(producer, settings, record)
            print(f"published {url}", file=sys.stderr)
    finally:
        await producer.stop()


if __name__ == "__main__":
    asyncio.run(fetch_and_publish(sys.argv[1:], get_settings()))
