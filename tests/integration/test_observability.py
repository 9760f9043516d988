"""What ops sees: metrics after real traffic, probes, lag, and the dashboard and alert rules
checked against a real scrape of running workers."""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path

import orjson
import pytest

from tests.support.metrics import alert_rules, lag_rows, scrape, value
from tests.support.paths import REPO
from tests.support.samples import raw_for_sample
from tests.support.waiting import eventually
from tests.support.worker_process import LagExporterProcess, http_get
from workers.kafka.produce import encode_raw, produce
from workers.kafka.tail import tail
from workers.ops.health import WorkerHealth
from workers.pipeline import EXTRACTION_PATHS
from workers.settings import Settings

DASHBOARD = REPO / "deploy" / "grafana" / "newsflow.json"

# Series Prometheus itself adds to every scrape target.
SYNTHETIC = {"up"}
PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless",
    "bool", "offset", "le", "inf", "nan",
}  # fmt: skip


# --- PromQL and rule files (pure) --------------------------------------------------------


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression reads (label matchers, strings, grouping labels,
    durations and function names removed)."""
    expr = re.sub(r'"[^"]*"', "", expr)
    expr = re.sub(r"\{[^}]*\}", "", expr)
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)
    names = set()
    for match in re.finditer(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr):
        following = expr[match.end() :].lstrip()
        if following.startswith("("):
            continue  # a function
        if match.group(0).lower() in PROMQL_WORDS:
            continue
        names.add(match.group(0))
    return names


def test_metric_names_parser() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le, stage) (rate(newsflow_x_bucket{stage="a"}[5m])))'
        " / on (instance) group_left (stage) up > 0 and time() - last_ts > 300"
    )
    assert metric_names(expr) == {"newsflow_x_bucket", "up", "last_ts"}


def dashboard_exprs() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]


def test_alert_rules_are_complete() -> None:
    rules = alert_rules()
    names = {rule["alert"] for rule in rules}
    # The four conditions ops asked for, at least.
    assert {
        "NewsflowLagGrowing",
        "NewsflowPartitionStalled",
        "NewsflowDeadLetterRateHigh",
        "NewsflowWorkerDown",
    } <= names
    for rule in rules:
        assert set(rule) >= {"alert", "expr", "for", "labels", "annotations"}, rule["alert"]
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        assert re.fullmatch(r"\d+[smh]", rule["for"])
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
    lag_growing = next(r for r in rules if r["alert"] == "NewsflowLagGrowing")
    assert lag_growing["for"] == "10m"


def test_dashboard_is_importable_and_covers_the_asked_panels() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["schemaVersion"] >= 36
    assert [v["type"] for v in dashboard["templating"]["list"]] == ["datasource"]
    titles = " | ".join(panel["title"].lower() for panel in dashboard["panels"])
    for wanted in ("throughput", "lag", "seconds", "dead letters", "p99", "workers", "outcomes"):
        assert wanted in titles, wanted
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"
        assert panel["targets"], panel["title"]


# --- health verdicts (pure) --------------------------------------------------------------


def test_health_fails_when_a_partition_with_waiting_messages_stops_moving() -> None:
    health = WorkerHealth("clean", stall_after_s=30)
    health.on_assigned({("raw", 0), ("raw", 1)})
    health.on_processed(("raw", 0), offset=9, timestamp_s=time.time())
    health.update_lag(highwater=lambda tp: 10, committed=lambda tp: 10)
    assert health.healthy() == (True, [])  # caught up on 0; 1 has nothing waiting

    health.update_lag(highwater=lambda tp: 25, committed=lambda tp: 10)
    assert health.partitions[("raw", 0)].lag == 15
    assert health.healthy()[0]  # waiting, but progress is recent
    health.partitions[("raw", 0)].last_progress -= 31
    healthy, problems = health.healthy()
    assert not healthy
    assert problems == ["no progress for 30 s on raw/0"]

    health.partitions[("raw", 1)].last_progress -= 31
    health.update_lag(highwater=lambda tp: 10, committed=lambda tp: 10)  # caught up again
    assert health.healthy() == (True, [])


def test_ready_needs_the_broker_and_an_assignment() -> None:
    health = WorkerHealth("enrich", stall_after_s=30)
    assert health.ready() == (False, ["not connected to the broker", "no partition assignment yet"])
    health.broker_connected = True
    health.on_assigned(set())  # an idle standby replica is ready
    assert health.ready() == (True, [])
    health.broker_connected = False
    assert not health.ready()[0]


def test_not_ready_while_leaders_are_unreachable_or_outputs_wait_too_long() -> None:
    # What a cluster without its quorum looks like: metadata answers, the work does not move.
    health = WorkerHealth("enrich", stall_after_s=30, ready_max_ack_wait_s=15)
    health.broker_connected = True
    health.on_assigned({("clean", 0)})
    health.on_output_sent(1)
    assert health.ready() == (True, [])  # an output under way, not for long
    health.outputs_waiting[1] -= 16
    ready, problems = health.ready()
    assert not ready and problems[0].startswith("an output has waited 16 s")
    health.on_output_done(1)
    assert health.ready() == (True, [])
    health.unreachable_leaders = ["clean/0"]
    assert health.ready() == (False, ["no connection to the leader of clean/0"])


# --- a real scrape after real traffic ----------------------------------------------------


@pytest.mark.broker
async def test_metrics_probes_and_lag_after_real_traffic(
    pipeline: Settings, start_worker, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    clean = start_worker("clean", pipeline)
    enrich = start_worker("enrich", pipeline)
    # The lag exporter: the lag series of the dashboard and the alert rules are its own.
    exporter = LagExporterProcess(pipeline, tmp_path / "lag-exporter.log", interval_s=1.0)
    request.addfinalizer(exporter.stop)
    good = ["03-ecb-first-rate-cut.html", "05-almenara-ascenso-primera-federacion.html",
            "12-rotterdam-marathon-course-record.html"]  # fmt: skip
    summary = await produce(pipeline, [raw_for_sample(name) for name in good])
    bad_404 = {**raw_for_sample("06-port-harlow-bike-lanes.html"), "status": 404}
    bad = await produce(pipeline, [bad_404], validate=False)
    assert summary.sent == 3 and bad.sent == 1
    from workers.kafka.produce import AIOKafkaProducer

    producer = AIOKafkaProducer(**pipeline.kafka_client_kwargs())
    await producer.start()
    await producer.send_and_wait(pipeline.topic_raw, b"{not json", key=b"broken")
    await producer.stop()

    sink = [
        r async for r in tail(pipeline, pipeline.topic_enriched, idle_timeout_s=60, max_messages=3)
    ]
    dead = [
        r
        async for r in tail(pipeline, pipeline.topic_dead_letter, idle_timeout_s=60, max_messages=2)
    ]
    assert len(sink) == 3 and len(dead) == 2

    def counters_settled() -> bool:
        return value(scrape(enrich), "newsflow_messages_out_total", stage="enrich") == 3

    await eventually(counters_settled, 30, "enrich counters")
    c, e = scrape(clean), scrape(enrich)
    assert value(c, "newsflow_messages_in_total", stage="clean") == 5
    assert value(c, "newsflow_messages_out_total", stage="clean") == 3
    assert value(c, "newsflow_messages_failed_total", stage="clean") == 2
    assert value(c, "newsflow_dead_letters_total", stage="clean", reason="invalid_json") == 1
    assert value(c, "newsflow_dead_letters_total", stage="clean", reason="http_error") == 1
    ok_by_path = {
        dict(labels)["path"]: n
        for (name, labels), n in c.items()
        if name == "newsflow_extraction_outcomes_total" and dict(labels)["outcome"] == "ok"
    }
    assert sum(ok_by_path.values()) == 3 and set(ok_by_path) <= set(EXTRACTION_PATHS), ok_by_path
    assert value(c, "newsflow_extraction_outcomes_total", outcome="http_error", path="none") == 1
    assert value(c, "newsflow_stage_duration_seconds_count", stage="clean") == 5
    assert value(c, "newsflow_delivery_duration_seconds_count", stage="clean") == 5
    assert value(c, "newsflow_assigned_partitions", stage="clean") == pipeline.partitions
    assert value(e, "newsflow_messages_in_total", stage="enrich") == 3
    assert value(e, "newsflow_messages_failed_total", stage="enrich") == 0
    assert value(e, "newsflow_end_to_end_latency_seconds_count") == 3
    assert value(e, "newsflow_pipeline_latency_seconds_count") == 3
    for enricher in pipeline.enrichers:  # warm-up runs are not counted as traffic
        assert value(e, "newsflow_enricher_duration_seconds_count", enricher=enricher) == 3
    assert value(e, "newsflow_in_flight_messages", stage="enrich") == 0

    def caught_up_and_ready() -> bool:
        for worker in (clean, enrich):
            samples = scrape(worker)
            lags = [
                v for (name, _), v in samples.items() if name == "newsflow_consumer_lag_messages"
            ]
            if len(lags) != pipeline.partitions or any(lags):
                return False
            if value(samples, "newsflow_worker_ready", stage=worker.stage) != 1:
                return False
        return True

    await eventually(caught_up_and_ready, 30, "lag gauges at 0 and ready")
    for worker in (clean, enrich):
        status, body = await asyncio.to_thread(http_get, worker.web_port, "/healthz")
        assert status == 200 and orjson.loads(body)["healthy"] is True
        status, body = await asyncio.to_thread(http_get, worker.web_port, "/readyz")
        assert status == 200 and orjson.loads(body)["ready"] is True

    # Logs: one JSON event a line, with the fields ops filter on.
    processed = clean.events("processed")
    assert len(processed) == 3
    assert set(processed[0]) >= {"ts", "level", "stage", "document_id", "tpo", "outcome", "ms"}
    failed = clean.events("dead-lettered")
    assert sorted(e["outcome"] for e in failed) == ["http_error", "invalid_json"]
    assert all(e["level"] == "warning" for e in failed)

    # Every series the dashboard and the alert rules read exists in a real scrape.
    await eventually(
        lambda: value(scrape(exporter), "newsflow_lag_exporter_up") == 1, 30, "the lag exporter"
    )
    scraped = {**scrape(clean), **scrape(enrich), **scrape(exporter)}
    exposed = {name for name, _ in scraped} | SYNTHETIC
    families = {re.sub(r"_(bucket|count|sum|total|info)$", "", n) for n in exposed}
    wanted = set()
    for expr in dashboard_exprs() + [rule["expr"] for rule in alert_rules()]:
        wanted |= metric_names(expr)
    missing = {n for n in wanted if n not in exposed and n not in families}
    assert not missing, f"queried but never exposed: {sorted(missing)}"

    # `newsflow lag`: nothing waits while the workers run; new input waits once they stop.
    await eventually(
        lambda: all(row["lag"] == 0 and row["committed"] is not None
                    for row in lag_rows(pipeline) if row["end"]),
        30, "committed offsets at the log end",
    )  # fmt: skip
    clean.stop()
    enrich.stop()
    key, value_bytes, headers = encode_raw(
        raw_for_sample("09-hip-knee-waiting-lists-north-east.html")
    )
    producer = AIOKafkaProducer(**pipeline.kafka_client_kwargs())
    await producer.start()
    await producer.send_and_wait(pipeline.topic_raw, value_bytes, key=key, headers=headers)
    await producer.stop()
    rows = [r for r in lag_rows(pipeline) if r["group"] == pipeline.clean_group]
    assert sum(r["lag"] for r in rows) == 1
    waiting = next(r for r in rows if r["lag"])
    assert waiting["lag_seconds"] is not None and waiting["lag_seconds"] >= 0
    assert waiting["end"] == waiting["committed"] + 1 if waiting["committed"] else True
