"""A real Prometheus scrapes a real clean and enrich worker and the lag exporter while pages
and dead letters flow through the pipeline; then every PromQL expression of the Grafana
dashboard and of the alert rules is evaluated through Prometheus's HTTP API and checked against
what was sent."""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
import urllib.request
from pathlib import Path
from typing import get_args

import pytest

from tests.support.metrics import alert_rules, lag_rows
from tests.support.paths import REPO
from tests.support.prometheus_server import PrometheusServer
from tests.support.samples import raw_for_sample
from tests.support.waiting import eventually
from tests.support.worker_process import LagExporterProcess, http_get
from workers.errors import Reason
from workers.kafka.produce import AIOKafkaProducer, produce
from workers.settings import Settings

DASHBOARD = REPO / "deploy" / "grafana" / "newsflow.json"
SCRAPE_S = 1  # 15 s in deploy/prometheus/prometheus.yml
RATE_WINDOW_S = 60  # the throughput panel's rate(...[1m])
# Dead letters that are not JSON: with the 404 page, the 20 NewsflowDeadLetterRateHigh needs.
BROKEN = 19
GOOD = [
    "03-ecb-first-rate-cut.html",
    "05-almenara-ascenso-primera-federacion.html",
    "09-hip-knee-waiting-lists-north-east.html",
    "12-rotterdam-marathon-course-record.html",
]
# The throughput panel's legends and the counters behind them.
THROUGHPUT_LEGENDS = {
    "in": "newsflow_messages_in_total",
    "out": "newsflow_messages_out_total",
    "failed": "newsflow_messages_failed_total",
}


def panels() -> list[dict]:
    return json.loads(DASHBOARD.read_text())["panels"]


def legend_labels(legend: str) -> set[str]:
    return set(re.findall(r"\{\{\s*(\w+)\s*\}\}", legend))


@pytest.fixture
def prometheus(tmp_path: Path):
    servers: list[PrometheusServer] = []

    def start(targets: dict[str, list[str]]) -> PrometheusServer:
        servers.append(PrometheusServer(tmp_path, targets, SCRAPE_S))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


async def send_pages_and_dead_letters(pipeline: Settings) -> None:
    """Four good pages, a 404 page and BROKEN messages that are not JSON (dead letters)."""
    summary = await produce(pipeline, [raw_for_sample(name) for name in GOOD])
    not_found = {**raw_for_sample("06-port-harlow-bike-lanes.html"), "status": 404}
    bad = await produce(pipeline, [not_found], validate=False)
    assert summary.sent == len(GOOD) and bad.sent == 1
    producer = AIOKafkaProducer(**pipeline.kafka_client_kwargs())
    await producer.start()
    for n in range(BROKEN):
        await producer.send_and_wait(pipeline.topic_raw, b"{not json", key=b"broken%d" % n)
    await producer.stop()


@pytest.mark.broker
@pytest.mark.timeout(480)  # two waits of a rate window (1 m) for Prometheus's data
async def test_dashboard_and_alert_queries_on_a_real_prometheus(
    pipeline: Settings, start_worker, prometheus, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    clean = start_worker("clean", pipeline)
    enrich = start_worker("enrich", pipeline)
    exporter = LagExporterProcess(pipeline, tmp_path / "lag-exporter.log", interval_s=1.0)
    request.addfinalizer(exporter.stop)
    # Started while the workers load their models: scrapes fail until their ports open.
    server = prometheus(
        {
            "newsflow-clean": [f"127.0.0.1:{clean.web_port}"],
            "newsflow-enrich": [f"127.0.0.1:{enrich.web_port}"],
            "newsflow-lag": [f"127.0.0.1:{exporter.port}"],
        }
    )
    for worker in (clean, enrich):
        await eventually(lambda w=worker: http_get(w.web_port, "/readyz")[0] == 200, 120, "ready")
    # Prometheus 3 fails a scrape whose Content-Type it does not know (2.42 guesses).
    with urllib.request.urlopen(f"http://127.0.0.1:{clean.web_port}/metrics") as answer:
        assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    await eventually(
        lambda: (
            server.values("up", "job")
            == {("newsflow-clean",): 1, ("newsflow-enrich",): 1, ("newsflow-lag",): 1}
        ),
        60,
        "both workers and the lag exporter scraped",
    )
    # rate() sees an increase only from a sample before it, and extrapolates a window's
    # increase by up to a scrape interval at each end: with less than a window of samples
    # behind it that is a large share. So the counters get a full window at 0 first.
    await eventually(
        lambda: len(server.query("newsflow_messages_in_total")) == 2, 30, "counters at 0"
    )
    await asyncio.sleep(RATE_WINDOW_S + 2 * SCRAPE_S)

    await send_pages_and_dead_letters(pipeline)
    sent = {
        ("clean", "in"): len(GOOD) + 1 + BROKEN,
        ("clean", "out"): len(GOOD),
        ("clean", "failed"): 1 + BROKEN,
        ("enrich", "in"): len(GOOD),
        ("enrich", "out"): len(GOOD),
        ("enrich", "failed"): 0,
    }

    def scraped_all() -> bool:
        return all(
            server.values(f"sum by (stage) ({metric})", "stage").get((stage,)) == count
            for (stage, legend), count in sent.items()
            for metric in [THROUGHPUT_LEGENDS[legend]]
        )

    await eventually(scraped_all, 120, "Prometheus holding the final counters")
    traffic_done = time.time()

    # Caught up: the lag panels agree with `newsflow lag`, partition by partition.
    stage_of = {pipeline.clean_group: "clean", pipeline.enrich_group: "enrich"}
    (lag_panel,) = [p for p in panels() if p["title"].startswith("Consumer lag per group")]
    (lag_seconds_panel,) = [p for p in panels() if p["title"].startswith("Consumer lag in sec")]

    def lag_agrees() -> bool:
        cli = {
            (stage_of[row["group"]], row["topic"], str(row["partition"])): float(row["lag"])
            for row in lag_rows(pipeline)
        }
        panel = server.values(lag_panel["targets"][0]["expr"], "stage", "topic", "partition")
        return len(cli) == 2 * pipeline.partitions and panel == cli

    await eventually(lag_agrees, 60, "lag panel equal to `newsflow lag`")
    idle_since = time.time()

    # Every panel's query answers, with the labels its legend names.
    for panel in panels():
        for target in panel["targets"]:
            result = server.query(target["expr"])
            assert result, f"{panel['title']}: {target['expr']} is empty"
            for series in result:
                assert legend_labels(target["legendFormat"]) <= set(series["metric"]), (
                    panel["title"],
                    series["metric"],
                )
                assert math.isfinite(float(series["value"][1])), (panel["title"], series)

    (workers_panel,) = [p for p in panels() if p["title"] == "Workers"]
    for target in workers_panel["targets"]:
        assert server.values(target["expr"], "stage") == {("clean",): 1, ("enrich",): 1}

    (dead_panel,) = [p for p in panels() if p["title"].startswith("Dead letters by reason")]
    rates = server.values(dead_panel["targets"][0]["expr"], "stage", "reason")
    produced = {key for key, rate in rates.items() if rate > 0}
    assert produced == {("clean", "http_error"), ("clean", "invalid_json")}
    assert {reason for _, reason in rates} == set(get_args(Reason))  # the others at 0

    # Alerts: every rule evaluates on this Prometheus; on this traffic (20 of 24 clean inputs
    # dead, the minimum volume) only the dead-letter rate holds, and waits out its for:.
    rules = [rule for group in server.api("rules")["groups"] for rule in group["rules"]]
    assert {r["name"] for r in rules} == {r["alert"] for r in alert_rules()}
    assert all(r["health"] == "ok" for r in rules), [r.get("lastError") for r in rules]
    holding = {rule["alert"] for rule in alert_rules() if server.query(rule["expr"])}
    assert holding == {"NewsflowDeadLetterRateHigh"}
    await eventually(lambda: server.api("alerts")["alerts"], 30, "a pending alert")
    (alert,) = server.api("alerts")["alerts"]
    assert alert["state"] == "pending"
    assert alert["labels"]["alertname"] == "NewsflowDeadLetterRateHigh"
    assert alert["labels"]["stage"] == "clean"
    assert float(alert["value"]) == pytest.approx((1 + BROKEN) / (len(GOOD) + 1 + BROKEN))

    # Throughput: the panel's per-second rates, summed over time, give back the messages
    # sent, within the scrape resolution: a window may see a step of counts one scrape
    # early or late, and rate() extrapolates by up to one interval at each end of it.
    # Needs the whole rate window past the last increase.
    await asyncio.sleep(max(0.0, traffic_done + RATE_WINDOW_S + 3 * SCRAPE_S - time.time()))
    span_s = math.ceil(time.time() - server.started_at)
    (throughput_panel,) = [p for p in panels() if p["title"].startswith("Throughput")]
    for target in throughput_panel["targets"]:
        legend = target["legendFormat"].split()[-1]
        integral = server.values(
            f"sum_over_time(({target['expr']})[{span_s}s:{SCRAPE_S}s]) * {SCRAPE_S}", "stage"
        )
        for stage in ("clean", "enrich"):
            expected = sent[(stage, legend)]
            tolerance = expected * 3 * SCRAPE_S / RATE_WINDOW_S + 1e-9
            assert integral[(stage,)] == pytest.approx(expected, abs=tolerance), (stage, legend)

    # An idle partition's age stays 0 the whole time nothing waits.
    ages = server.api(
        "query_range",
        query=lag_seconds_panel["targets"][0]["expr"],
        start=idle_since,
        end=time.time(),
        step=SCRAPE_S,
    )["result"]
    assert len(ages) == 2 * pipeline.partitions
    assert {float(v) for series in ages for _, v in series["values"]} == {0.0}

    # A worker that stops answering is what NewsflowWorkerDown watches, with its stage.
    enrich.stop()

    def alerts_named(name: str) -> list[dict]:
        return [a for a in server.api("alerts")["alerts"] if a["labels"]["alertname"] == name]

    await eventually(lambda: alerts_named("NewsflowWorkerDown"), 30, "NewsflowWorkerDown pending")
    (down,) = alerts_named("NewsflowWorkerDown")
    assert (down["state"], down["labels"]["stage"]) == ("pending", "enrich")
    assert down["labels"]["instance"] == f"127.0.0.1:{enrich.web_port}"

    # The whole enrich stage gone while a page waits for it: NewsflowStageDown, from the
    # exporter's lag and the absence of any healthy enrich worker.
    assert (await produce(pipeline, [raw_for_sample(GOOD[0])])).sent == 1

    await eventually(lambda: alerts_named("NewsflowStageDown"), 60, "NewsflowStageDown pending")
    (gone,) = alerts_named("NewsflowStageDown")
    assert (gone["state"], gone["labels"]["stage"]) == ("pending", "enrich")
    assert exporter.stop() == 0
