"""The installed ``newsflow`` console script: on local files (no broker involved), and its
``topics`` and ``tail`` commands against the test session's broker."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.support.brokers import Broker, pipeline_settings
from tests.support.delivery import record_count
from tests.support.paths import SAMPLES
from tests.support.samples import entry, raw_for
from workers.kafka.produce import produce
from workers.records import contracts
from workers.records.ids import document_id
from workers.settings import Settings

NEWSFLOW = str(Path(sys.executable).parent / "newsflow")
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def newsflow(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the console script with no NEWSFLOW_* settings from this process's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    return subprocess.run(
        [NEWSFLOW, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def _lines(stdout: str) -> list[dict]:
    return [orjson.loads(line) for line in stdout.splitlines() if line.strip()]


def test_clean_prints_one_record_per_file(tmp_path: Path) -> None:
    first, second = entry("01"), entry("07")
    result = newsflow(
        "clean", str(SAMPLES / first["file"]), str(SAMPLES / second["file"]), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    records = _lines(result.stdout)
    assert len(records) == 2
    for record, item in zip(records, (first, second), strict=True):
        assert contracts.schema_errors(record, "articles-clean.v1") == []
        # URL and content-type come from the samples' manifest.json
        assert record["url"] == item["url"]
        assert record["document_id"] == document_id(item["url"])
        assert record["title"] == item["title"]
    assert records[1]["encoding"] == {"name": "cp1252", "source": "http-header"}


def test_clean_text_prints_only_the_text(tmp_path: Path) -> None:
    item = entry("02")
    result = newsflow("clean", "--text", str(SAMPLES / item["file"]), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(item["text_starts_with"])
    assert '{"' not in result.stdout
    for needle in item["must_contain"]:
        assert needle in result.stdout


def test_enrich_prints_enriched_records(tmp_path: Path) -> None:
    items = [entry("01"), entry("02")]
    result = newsflow("enrich", *(str(SAMPLES / i["file"]) for i in items), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = _lines(result.stdout)
    assert len(records) == 2
    for record, item in zip(records, items, strict=True):
        assert contracts.schema_errors(record, "articles-enriched.v1") == []
        assert record["title"] == item["title"]
        assert [step["stage"] for step in record["lineage"]] == ["clean", "enrich"]
        assert list(record["enrichment"]) == Settings().enrichers


def test_url_option_sets_the_url(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_bytes((SAMPLES / entry("03")["file"]).read_bytes())
    url = "https://example.org/markets/ecb?utm_source=x"
    result = newsflow("clean", "--url", url, str(page), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (record,) = _lines(result.stdout)
    assert record["url"] == url
    assert record["document_id"] == document_id("https://example.org/markets/ecb")


def test_non_html_files_fail_with_reason_on_stderr(tmp_path: Path) -> None:
    png = tmp_path / "image.html"
    png.write_bytes(PNG)
    text = tmp_path / "notes.html"
    text.write_text("Just a few plain words, nothing that looks like markup.\n", encoding="utf-8")
    good = SAMPLES / entry("01")["file"]
    result = newsflow("clean", str(png), str(good), str(text), cwd=tmp_path)
    assert result.returncode == 1
    assert f"{png}: not_html: " in result.stderr
    assert f"{text}: not_html: " in result.stderr
    assert str(good) not in result.stderr
    cleaned = [r for r in _lines(result.stdout) if "title" in r]
    assert [r["title"] for r in cleaned] == [entry("01")["title"]]  # the good file still cleaned


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = newsflow("--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    listed = result.stdout.split("Commands:", 1)[1].split()
    for command in ("worker", "produce", "tail", "topics", "broker", "demo", "clean", "enrich"):
        assert command in listed


@pytest.mark.broker
async def test_topics_create_list_and_tail(
    broker: Broker, redis_prefix: str, tmp_path: Path
) -> None:
    settings = pipeline_settings(broker.bootstrap, redis_prefix)

    def configured(*args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **settings.as_env()}
        return subprocess.run(
            [NEWSFLOW, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
        )

    created = configured("topics", "create")
    assert created.returncode == 0, created.stderr
    assert created.stdout.splitlines() == [f"{t}\tcreated" for t in settings.all_topics()]
    again = configured("topics", "create")
    assert again.stdout.splitlines() == [f"{t}\texists" for t in settings.all_topics()]
    listed = configured("topics", "list")
    assert set(settings.all_topics()) <= set(listed.stdout.splitlines())

    items = [entry("03"), entry("12")]
    assert (await produce(settings, [raw_for(item) for item in items])).sent == 2
    assert await record_count(settings, settings.topic_raw) == 2
    tailed = configured("tail", "raw", "--count", "2", "--idle", "60", "--envelope")
    assert tailed.returncode == 0, tailed.stderr
    records = _lines(tailed.stdout)
    assert len(records) == 2
    assert {r["key"] for r in records} == {document_id(item["url"]) for item in items}
