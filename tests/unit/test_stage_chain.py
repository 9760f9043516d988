"""The stage chain of workers.pipeline: a message through the stages in a row (what the local
commands and the benchmark run), and each stage's warm-up on the built-in page."""

from __future__ import annotations

import pytest

from tests.support.samples import entry, message, raw_for
from workers.errors import StageError
from workers.pipeline import STAGES, run_through, stages_through, warm_up
from workers.records import contracts
from workers.settings import Settings

IN_PROCESS = Settings(boilerplate_backend="memory", dedup_backend="memory")


def test_a_page_runs_through_every_stage_as_the_topics_carry_it() -> None:
    stages = [spec.create(IN_PROCESS) for spec in stages_through("enrich")]
    clean, enriched = run_through(message(raw_for(entry("01"))), stages)
    assert contracts.is_valid(clean, "articles-clean.v1")
    assert contracts.is_valid(enriched, "articles-enriched.v1")
    # The enrich stage read the clean stage's record: the same article, one more step.
    assert enriched["document_id"] == clean["document_id"]
    assert enriched["text"] == clean["text"]
    assert [step["stage"] for step in enriched["lineage"]] == ["clean", "enrich"]


def test_a_stage_that_fails_ends_the_run() -> None:
    reached = []

    def enrich(message: object) -> dict:
        reached.append(message)
        return {}

    clean = STAGES["clean"].create(IN_PROCESS)
    records = run_through(message(raw_for(entry("01"), body=b"\x89PNG\r\n\x1a\n")), [clean, enrich])
    with pytest.raises(StageError) as error:
        list(records)
    assert error.value.reason == "not_html"
    assert reached == []


@pytest.mark.parametrize("name", list(STAGES))
def test_each_stage_warms_up_on_the_built_in_page_without_redis(name: str) -> None:
    # Nothing listens on port 1: a warm-up that touched the shared state would fail.
    settings = Settings(redis_url="redis://127.0.0.1:1/0", redis_timeout_s=0.2)
    record = warm_up(name, STAGES[name].create(settings), settings)
    assert contracts.is_valid(record, STAGES[name].output_schema)
    stages = [spec.name for spec in stages_through(name)]
    assert [step["stage"] for step in record["lineage"]] == stages
