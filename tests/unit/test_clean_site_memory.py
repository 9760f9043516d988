"""The clean stage's per-site boilerplate memory (workers.cleaning.site_memory): lines a site
repeats on many pages are dropped, counted once per document, long lines never; Redis shared
by replicas (tested against the real Redis under the test's own key prefix), in-process for
the demo; an unreachable Redis is a transient failure."""

from __future__ import annotations

import orjson
import pytest
import redis

from tests.unit.test_clean_clutter_metadata_non_articles import ARTICLE, page
from workers.cleaning.site_memory import (
    InProcessSiteMemory,
    RedisSiteMemory,
    counted_lines,
    create_memory,
    line_hash,
    site_of,
)
from workers.errors import TransientError
from workers.kafka.produce import raw_record
from workers.records.message import InputMessage
from workers.runtime.processor import StageProcessor
from workers.settings import Settings
from workers.state.connection import StateUnavailable, connect

PROMO = "Sign up for the Daily Tide morning briefing, free every weekday."
LONG = (
    "The Daily Tide is an independent newspaper owned by its readers, and every article we "
    "publish is checked by two editors before it appears on this website or in print."
)  # 31 words: a standing paragraph, never dropped


def lines_of(n: int) -> list[str]:
    return [f"Story {n} says something only this page says.", PROMO, LONG]


def site_pages(count: int) -> list[dict]:
    """Raw records of ``count`` stories of one site, each ending with the site's promo."""
    return [
        raw_record(
            page(
                body=f"<article><h1>Harbour story {n}</h1>"
                + "".join(f"<p>{p} (Part {n}.)</p>" for p in ARTICLE)
                + f"<p>{PROMO}</p></article>"
            ).encode(),
            f"https://www.tide.example/news/story-{n}",
        )
        for n in range(count)
    ]


def redis_memory(prefix: str, **overrides: object) -> RedisSiteMemory:
    settings = Settings(boilerplate_backend="redis", boilerplate_key_prefix=prefix, **overrides)
    memory = create_memory(settings)
    assert isinstance(memory, RedisSiteMemory)
    return memory


def test_site_is_the_registered_domain() -> None:
    assert site_of("https://news.bbc.co.uk/a/b") == "bbc.co.uk"
    assert site_of("https://www.example.com/x") == "example.com"
    assert site_of("http://127.0.0.1:8000/a") == "127.0.0.1"
    assert line_hash("Sign  up\u00a0NOW") == line_hash("sign up now")


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_a_line_on_n_other_pages_is_dropped_long_lines_never(
    backend: str, redis_prefix: str
) -> None:
    memory = (
        redis_memory(redis_prefix, boilerplate_min_pages=3)
        if backend == "redis"
        else InProcessSiteMemory(min_pages=3, max_words=25, max_lines=100, max_documents=100)
    )
    kept = [memory.filter("tide.example", f"doc{n}", lines_of(n)) for n in range(5)]
    # Pages 0-2: the promo was on fewer than 3 other pages; from page 3 on it is boilerplate.
    assert [PROMO in k for k in kept] == [True, True, True, False, False]
    assert all(LONG in k and f"Story {n} says" in k[0] for n, k in enumerate(kept))
    # Another site has its own counts.
    assert memory.filter("other.example", "doc0", lines_of(0)) == lines_of(0)


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_a_redelivered_page_counts_once(backend: str, redis_prefix: str) -> None:
    memory = (
        redis_memory(redis_prefix, boilerplate_min_pages=2)
        if backend == "redis"
        else InProcessSiteMemory(min_pages=2, max_words=25, max_lines=100, max_documents=100)
    )
    for _ in range(5):  # the same document five times: one page
        assert PROMO in memory.filter("tide.example", "doc0", lines_of(0))
    assert PROMO in memory.filter("tide.example", "doc1", lines_of(1))  # 1 other page
    assert PROMO not in memory.filter("tide.example", "doc2", lines_of(2))  # 2 others


def test_redis_keys_are_bounded_and_expire(redis_prefix: str) -> None:
    memory = redis_memory(redis_prefix, boilerplate_max_lines=10, boilerplate_ttl_s=600)
    for n in range(8):
        # Lines without figures: a line holding one is the article's own, never counted.
        lines = [f"Line {'abcdefgh'[n]}{'wxyz'[i]} of a page" for i in range(4)]
        memory.filter("tide.example", f"doc{n}", lines)
        memory.filter("tide.example", f"doc{n}", [PROMO])  # a redelivery: not counted
    client = redis.Redis.from_url(Settings().redis_url)
    key = f"{redis_prefix}lines:tide.example"
    assert client.zcard(key) == 10
    assert 0 < client.ttl(key) <= 600
    assert 0 < client.ttl(f"{redis_prefix}doc:tide.example:doc7") <= 600


@pytest.mark.parametrize("lost", [1, 2, 3])
def test_a_page_is_counted_once_whichever_request_to_redis_is_lost(
    lost: int, redis_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection drops on the ``lost``-th request of a page's first attempt; the retry
    must leave the page counted exactly once (a marker written without its counts would
    make the retry count nothing)."""
    memory = redis_memory(redis_prefix, boilerplate_min_pages=1)
    memory.client.script_flush()  # the first attempt also has to load the script
    send = redis.connection.Connection.send_packed_command
    sent = 0

    def flaky_send(connection: redis.connection.Connection, *args: object, **kw: object) -> None:
        nonlocal sent
        sent += 1
        if sent == lost:
            connection.disconnect()
            raise redis.ConnectionError("connection lost (injected)")
        send(connection, *args, **kw)

    with monkeypatch.context() as patched:
        patched.setattr(redis.connection.Connection, "send_packed_command", flaky_send)
        with pytest.raises(StateUnavailable):
            memory.filter("tide.example", "doc0", lines_of(0))
    assert PROMO in memory.filter("tide.example", "doc0", lines_of(0))  # the retry
    key = f"{redis_prefix}lines:tide.example"
    assert memory.client.zscore(key, line_hash(PROMO)) == 1
    assert PROMO not in memory.filter("tide.example", "doc1", lines_of(1))  # 1 other page


def test_unreachable_redis_is_a_transient_failure() -> None:
    memory = RedisSiteMemory(
        connect("redis://127.0.0.1:1/0", timeout_s=0.5),
        "x:",
        min_pages=2,
        max_words=25,
        max_lines=10,
        ttl_s=60,
    )
    with pytest.raises(StateUnavailable) as caught:
        memory.filter("tide.example", "doc0", [PROMO])
    assert isinstance(caught.value, TransientError)


def test_off_means_no_memory() -> None:
    assert create_memory(Settings(boilerplate_backend="off")) is None
    assert create_memory(Settings(boilerplate_backend="memory")).backend == "memory"


def test_the_clean_worker_drops_a_synthetic_sites_repeated_lines(redis_prefix: str) -> None:
    """Six articles of one site, each with its own text and the site's newsletter promo and
    standing paragraph: from the sixth page on (5 others carried it) the promo is gone."""
    settings = Settings(boilerplate_backend="redis", boilerplate_key_prefix=redis_prefix)
    cleaner = StageProcessor("clean", settings)
    texts = []
    for n in range(7):
        body = (
            f"<article><h1>Harbour story {n}</h1>"
            + "".join(f"<p>{p} (Part {n}.)</p>" for p in ARTICLE)
            + f"<p>{PROMO}</p><p>{LONG}</p></article>"
        )
        raw = raw_record(page(body=body).encode(), f"https://www.tide.example/news/story-{n}")
        texts.append(cleaner.run_stage(InputMessage(value=orjson.dumps(raw)))["text"])
    assert [PROMO in t for t in texts] == [True] * 5 + [False] * 2
    assert all(LONG in t and f"(Part {n}.)" in t for n, t in enumerate(texts))


@pytest.mark.parametrize("backend", ["memory", "redis"])
def test_a_redelivered_page_keeps_the_decision_made_when_first_seen(
    backend: str, redis_prefix: str
) -> None:
    """Decided once: the site's counts grow after a page was first cleaned, but its
    redelivery drops exactly what the first delivery dropped (same record both times)."""
    memory = (
        redis_memory(redis_prefix, boilerplate_min_pages=2)
        if backend == "redis"
        else InProcessSiteMemory(min_pages=2, max_words=25, max_lines=100, max_documents=100)
    )
    first = [memory.filter("tide.example", f"doc{n}", lines_of(n)) for n in range(5)]
    assert [PROMO in kept for kept in first] == [True, True, False, False, False]
    again = [memory.filter("tide.example", f"doc{n}", lines_of(n)) for n in range(5)]
    assert again == first


def test_a_marker_from_before_decisions_were_kept_is_decided_on_its_next_delivery(
    redis_prefix: str,
) -> None:
    memory = redis_memory(redis_prefix, boilerplate_min_pages=1, boilerplate_ttl_s=600)
    memory.filter("tide.example", "doc1", lines_of(1))
    # doc0 as the old script left it: its lines counted, its marker "1", no decision kept.
    lines_key, marker = f"{redis_prefix}lines:tide.example", f"{redis_prefix}doc:tide.example:doc0"
    for h in counted_lines(lines_of(0), max_words=25):
        memory.client.zincrby(lines_key, 1, h)
    memory.client.set(marker, 1, ex=300)
    kept = memory.filter("tide.example", "doc0", lines_of(0))
    assert PROMO not in kept  # decided now, from today's counts (doc1 carried the promo)
    assert memory.client.zscore(lines_key, line_hash(PROMO)) == 2  # not counted again
    assert memory.client.get(marker) == b"d:" + line_hash(PROMO).encode()
    assert 0 < memory.client.ttl(marker) <= 300  # its expiry is kept
    memory.filter("tide.example", "doc2", lines_of(2))
    assert memory.filter("tide.example", "doc0", lines_of(0)) == kept


def test_clean_gives_each_page_the_same_text_however_often_it_comes() -> None:
    """The issue's reproduction without Kafka: three pages of one site, each given three
    times, through the clean stage with the in-process memory."""
    settings = Settings(boilerplate_backend="memory", boilerplate_min_pages=1)
    cleaner = StageProcessor("clean", settings)
    raws = site_pages(3)
    outputs: dict[str, set[bytes]] = {}
    for _ in range(3):
        for raw in raws:
            outgoing = cleaner.process(InputMessage(value=orjson.dumps(raw)))
            record = orjson.loads(outgoing.value)
            record.pop("timestamps")
            outputs.setdefault(raw["url"], set()).add(orjson.dumps(record))
    assert all(len(copies) == 1 for copies in outputs.values()), "a copy changed its record"
    texts = [orjson.loads(next(iter(outputs[raw["url"]])))["text"] for raw in raws]
    assert [PROMO in text for text in texts] == [True, False, False]


def test_a_page_cleaned_again_after_an_aborted_transaction_keeps_its_text(
    redis_prefix: str,
) -> None:
    """An aborted transaction's page is cleaned again, by another replica, after other pages
    of its site made its promo line boilerplate: it must come out as it did the first time
    (same text, same ce_id), while a new page of the site loses the promo."""
    settings = Settings(
        boilerplate_backend="redis", boilerplate_key_prefix=redis_prefix, boilerplate_min_pages=2
    )
    first_replica, second_replica = (
        StageProcessor("clean", settings),
        StageProcessor("clean", settings),
    )
    raws = site_pages(4)

    def cleaned(processor: StageProcessor, n: int) -> tuple[dict, str]:
        out = processor.process(InputMessage(value=orjson.dumps(raws[n]), offset=n))
        assert out.outcome == "ok"
        record = orjson.loads(out.value)
        record.pop("timestamps")
        return record, dict(out.headers)["ce_id"].decode()

    aborted = cleaned(first_replica, 0)  # sent, then its transaction aborted
    assert PROMO in aborted[0]["text"]  # no other page of the site carried it yet
    for n in (1, 2):
        cleaned(first_replica, n)  # committed: the promo is now on two other pages
    assert PROMO not in cleaned(first_replica, 3)[0]["text"]  # the site's boilerplate now
    assert cleaned(second_replica, 0) == aborted  # read again after the abort
