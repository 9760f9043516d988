"""How far real pages inflate inside a WARC file: the ground for ``MAX_INFLATION_RATIO``.

Each page of the dragnet and WCXB sets (``../shared/data``, or ``$NEWSFLOW_SHARED_DATA``) is
written as a WARC response record the way crawlers write ``.warc.gz`` files (one gzip member
per record, warcio's writer), and its member's ratio is the record's size over the member's.
Pages are split into two halves (even and odd positions in each set's sorted order)."""

from __future__ import annotations

import io
import os
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from bench import dragnet, wcxb
from workers.kafka.warc import MAX_INFLATION_RATIO

SHARED_DATA = Path(
    os.environ.get("NEWSFLOW_SHARED_DATA")
    or Path(__file__).resolve().parents[2] / "shared" / "data"
)
SETS = {"dragnet": (dragnet, "dragnet-dev"), "wcxb": (wcxb, "wcxb-dev-articles")}


def record_size(body: bytes, compressed: bool) -> int:
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=compressed)
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
    record = writer.create_warc_record(
        "https://example.invalid/", "response", payload=io.BytesIO(body), http_headers=http
    )
    writer.write_record(record)
    return len(buffer.getvalue())


def ratios(pages: list[bytes]) -> list[float]:
    return sorted(record_size(page, False) / record_size(page, True) for page in pages)


def main() -> None:
    halves: dict[str, list[bytes]] = {"A (even)": [], "B (odd)": []}
    for module, folder in SETS.values():
        data = SHARED_DATA / folder
        for position, page_id in enumerate(module.page_ids(data)):
            body, _ = module.read_page(data, page_id)
            halves["A (even)" if position % 2 == 0 else "B (odd)"].append(body)
    print(f"\n### WARC member inflation of real pages (bound: {MAX_INFLATION_RATIO}x)\n")
    print("| half | pages | median | 99th percentile | largest | largest page |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, pages in halves.items():
        found = ratios(pages)
        largest_page = max(map(len, pages)) / 1024
        print(
            f"| {name} | {len(found)} | {found[len(found) // 2]:.1f} | "
            f"{found[int(len(found) * 0.99)]:.1f} | {found[-1]:.1f} | {largest_page:.0f} KiB |"
        )


if __name__ == "__main__":
    main()
