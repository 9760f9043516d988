"""What TLS and SCRAM cost: publishing and reading raw pages over SASL_SSL versus PLAINTEXT.

    python bench/security.py [--pages 1000] [--rounds 3]

One Apache Kafka node (tests/support/kafka_security.py) with both listeners, so the two are
measured side by side on the same broker, in alternating order per round: ``produce()`` of
``--pages`` sample pages (distinct URLs, idempotent producer, acks=all) to a topic of 3
partitions, then reading them all back with ``tail()`` (no group). SASL_SSL logs in as the
admin (a super user) and PLAINTEXT clients are ANONYMOUS super users, so neither pays for
ACL checks. Prints a Markdown table of medians and the SASL_SSL / PLAINTEXT ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.support.kafka_security import SecureKafkaCluster  # noqa: E402
from workers.kafka.produce import produce, raw_record  # noqa: E402
from workers.kafka.tail import tail  # noqa: E402
from workers.kafka.topics import create_topics  # noqa: E402
from workers.local.broker import isolated_settings  # noqa: E402
from workers.settings import Settings  # noqa: E402

SAMPLES = sorted((REPO / "workers" / "samples").glob("*.html"))


def records(count: int, tag: str) -> list[dict]:
    bodies = [path.read_bytes() for path in SAMPLES]
    return [
        raw_record(bodies[n % len(bodies)], f"https://bench.example/{tag}/{n}")
        for n in range(count)
    ]


async def one_round(settings: Settings, pages: list[dict]) -> tuple[float, float]:
    """(seconds to publish, seconds to read back) on a topic of this round's own."""
    await create_topics(settings)
    started = time.perf_counter()
    summary = await produce(settings, pages)
    published = time.perf_counter() - started
    assert summary.sent == len(pages), summary
    started = time.perf_counter()
    read = [m async for m in tail(settings, settings.topic_raw, max_messages=len(pages))]
    assert len(read) == len(pages)
    return published, time.perf_counter() - started


def table(times: dict[str, list[tuple[float, float]]], pages: int, mib: float) -> str:
    rows = ["| listener | publish pages/s | publish MiB/s | read pages/s | read MiB/s |"]
    rows.append("|---|---:|---:|---:|---:|")
    medians = {}
    for mode, runs in times.items():
        publish = statistics.median(t for t, _ in runs)
        read = statistics.median(t for _, t in runs)
        medians[mode] = (publish, read)
        rows.append(
            f"| {mode} | {pages / publish:.0f} | {mib / publish:.1f} | "
            f"{pages / read:.0f} | {mib / read:.1f} |"
        )
    (plain_p, plain_r), (secure_p, secure_r) = medians["PLAINTEXT"], medians["SASL_SSL"]
    rows.append(
        f"| SASL_SSL / PLAINTEXT | {plain_p / secure_p:.2f} | | {plain_r / secure_r:.2f} | |"
    )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    base = isolated_settings("unset", tag="bench", partitions=3, idempotent_producer=True)
    folder = Path(tempfile.mkdtemp(prefix="newsflow-bench-security-"))
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
        kafka = cleanup.enter_context(SecureKafkaCluster(folder, base, plaintext_listener=True))
        secure = kafka.settings_for("admin", base)
        plain = base.model_copy(update={"bootstrap_servers": kafka.plaintext_bootstrap})
        modes = {"PLAINTEXT": plain, "SASL_SSL": secure}
        times: dict[str, list[tuple[float, float]]] = {mode: [] for mode in modes}
        pages = records(args.pages, "warm")
        mib = sum(len(SAMPLES[n % len(SAMPLES)].read_bytes()) for n in range(args.pages)) / 2**20
        for n in range(args.rounds):
            order = list(modes) if n % 2 == 0 else list(reversed(modes))
            for mode in order:
                uid = f"{mode.lower()}{n}"
                names = ("raw", "clean", "enriched", "dead_letter")
                topics = {f"topic_{name}": f"bench-{uid}.{name}" for name in names}
                settings = modes[mode].model_copy(update=topics)
                times[mode].append(asyncio.run(one_round(settings, pages)))
    print(
        f"security benchmark · {date.today()} · Python {sys.version.split()[0]} · "
        f"{os.cpu_count()} cores · {args.pages} pages ({mib:.1f} MiB of HTML) · "
        f"medians of {args.rounds} rounds\n"
    )
    print(table(times, args.pages, mib))


if __name__ == "__main__":
    main()
