"""Only who belongs gets in: the pipeline and the CLI on Apache Kafka with a SASL_SSL listener,
SCRAM-SHA-512 users and the ACLs of deploy/kafka-acls.sh (tests/support/kafka_security.py).

Each role works with its own principal; a wrong password, an unknown CA, a host name the
broker's certificate does not hold and a principal without the ACL it needs each give an
error of their own naming the setting to fix (a CLI exit status of 1, a worker's not-ready
``/readyz``), touch nothing, and no password shows up in anything the run produced. Every
role is refused, by the broker, each operation the script does not grant it; a Write ACL
taken away under a running worker stops it without acking what it could not deliver.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import GroupCoordinatorNotAvailableError

from tests.support.acl_grants import (
    Operation,
    allowed,
    attempt,
    groups_ready,
    operations,
    refusal,
    script_grants,
)
from tests.support.delivery import caught_up, committed_offsets, pages, read_all, record_count
from tests.support.kafka_security import ACL_SCRIPT, ROLES, SecureKafkaCluster
from tests.support.metrics import scrape, value
from tests.support.paths import REPO
from tests.support.tls import make_certificate_authority
from tests.support.waiting import eventually, eventually_async
from tests.support.worker_process import LagExporterProcess, WorkerProcess, http_get
from workers.kafka.access import ACL_HINT
from workers.kafka.lag import consumer_lag, log_ends
from workers.kafka.topics import create_topics
from workers.local.broker import isolated_settings
from workers.ops.health import WorkerHealth
from workers.pipeline import consumer_groups
from workers.settings import Settings

pytestmark = pytest.mark.broker
WRONG_PASSWORD = "not-the-" + uuid.uuid4().hex
# A gate recheck every 30 s: this long in the gate may log one attempt only.
WATCH_S = 8.0


@pytest.fixture(scope="module")
def secure_kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafkaCluster]:
    """One SASL_SSL Kafka for the module, its ACLs for ``acl_settings``' topics and groups."""
    acl_settings = isolated_settings(
        "unset", tag="sec", partitions=3, commit_interval_s=0.5, idempotent_producer=True
    )
    with SecureKafkaCluster(tmp_path_factory.mktemp("secure-kafka"), acl_settings) as kafka:
        yield kafka


def as_user(kafka: SecureKafkaCluster, user: str, redis_prefix: str = "") -> Settings:
    settings = kafka.settings_for(user, kafka.acl_settings)
    return settings.model_copy(update={"dedup_key_prefix": redis_prefix or "unused:"})


def as_role(kafka: SecureKafkaCluster, role: str, redis_prefix: str = "") -> Settings:
    return as_user(kafka, f"newsflow-{role}", redis_prefix)


def newsflow(settings: Settings, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """``newsflow ARGS`` in its own process, configured only by ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    return subprocess.run(
        [sys.executable, "-m", "workers", *args],
        cwd=cwd,
        env={**env, **settings.as_env(), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def assert_no_password(kafka: SecureKafkaCluster, texts: list[str], files: list[Path]) -> None:
    secrets = [*kafka.passwords.values(), WRONG_PASSWORD]
    everything = texts + [path.read_text(errors="replace") for path in files]
    for secret in secrets:
        leaks = [text[:200] for text in everything if secret in text]
        assert not leaks, f"a password shows up in: {leaks}"


def write_pages(folder: Path, count: int, prefix: str, broken: bool = False) -> Path:
    """A raw-html.v1 JSON-lines file of ``count`` pages (and one record no clean worker can
    read, for a dead letter)."""
    lines = [orjson.dumps(record) for record in pages(count, prefix)]
    if broken:
        lines.append(orjson.dumps({"url": "https://news.example/broken", "html": 42}))
    path = folder / f"{prefix}.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


async def test_every_role_does_its_job_over_sasl_ssl(
    secure_kafka: SecureKafkaCluster, redis_prefix: str, start_worker, tmp_path: Path
) -> None:
    kafka = secure_kafka
    admin = as_user(kafka, "admin")
    out: list[str] = []

    def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
        done = newsflow(settings, *args, cwd=tmp_path)
        out.extend([done.stdout, done.stderr])
        assert done.returncode == 0, f"{settings.sasl_username}: newsflow {args}: {done.stderr}"
        return done

    created = run(admin, "topics", "create")
    # (the command returns once every partition has a leader)
    assert created.stdout.splitlines() == [f"{t}\tcreated" for t in admin.all_topics()]

    clean = start_worker("clean", as_role(kafka, "clean", redis_prefix))
    enrich = start_worker("enrich", as_role(kafka, "enrich", redis_prefix))
    crawler = as_role(kafka, "crawler")
    published = write_pages(tmp_path, 3, "sec", broken=True)
    sent = run(crawler, "produce", "--no-progress", "--no-validate", str(published))
    assert "sent 4, failed 0" in sent.stderr

    tailed = run(as_role(kafka, "consumer"), "tail", "enriched", "--count", "3", "--idle", "120")
    enriched = [orjson.loads(line) for line in tailed.stdout.splitlines()]
    assert sorted(r["url"] for r in enriched) == [f"https://news.example/sec/{n}" for n in range(3)]

    replayer = as_role(kafka, "replay")
    await eventually_async(
        lambda: _has_records(admin, admin.topic_dead_letter), 120, "the broken page's dead letter"
    )
    listed = run(replayer, "dlq", "list")
    dead_letters = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert [d["url"] for d in dead_letters] == ["https://news.example/broken"]
    replayed = run(replayer, "dlq", "replay")
    assert "selected 1, replayed 1, skipped 0" in replayed.stderr

    await eventually_async(
        lambda: caught_up(admin, consumer_groups(admin)), 120, "both groups caught up"
    )
    lag = run(as_role(kafka, "ops"), "lag", "--json")
    rows = [orjson.loads(line) for line in lag.stdout.splitlines()]
    assert {row["group"] for row in rows} == {admin.clean_group, admin.enrich_group}
    assert all(row["lag"] == 0 for row in rows)
    # The lag exporter under its own principal: the groups' series, from the brokers.
    exporter = LagExporterProcess(as_role(kafka, "lag-exporter"), tmp_path / "lag-exporter.log")
    try:
        await eventually(
            lambda: (
                http_get(exporter.port, "/metrics")[0] == 200
                and value(scrape(exporter), "newsflow_lag_exporter_up") == 1
            ),
            60,
            "lag exported",
        )
        exported = scrape(exporter)
    finally:
        exporter.stop()
    assert {
        dict(labels).get("group")
        for name, labels in exported
        if name == "newsflow_group_lag_messages"
    } == {admin.clean_group, admin.enrich_group}

    probes = [http_get(w.web_port, path) for w in (clean, enrich) for path in _PROBES]
    assert [status for status, _ in probes[:2]] == [200, 200]  # the clean worker is ready
    dead = run(replayer, "tail", "dead-letter", "--idle", "3")
    texts = out + [body.decode() for _, body in probes] + [dead.stdout]
    assert_no_password(kafka, texts, [clean.log_path, enrich.log_path, exporter.log_path])


_PROBES = ("/readyz", "/healthz", "/metrics")


async def _has_records(settings: Settings, topic: str) -> bool:
    return await record_count(settings, topic) > 0


def _denied(
    kafka: SecureKafkaCluster, case: str, folder: Path, role: str, stranger: str
) -> Settings:
    """Settings ``role`` cannot get in with (or those of ``stranger``, a principal without
    ``role``'s rights)."""
    if case == "wrong password":
        return as_role(kafka, role).model_copy(update={"sasl_password": WRONG_PASSWORD})
    if case == "unknown CA":
        other_ca, _ = make_certificate_authority(folder, "stranger-ca")
        return as_role(kafka, role).model_copy(update={"ssl_cafile": str(other_ca)})
    if case == "hostname mismatch":
        # 127.1 reaches 127.0.0.1, but as a name, not an address the certificate holds.
        elsewhere = kafka.bootstrap.replace("127.0.0.1:", "127.1:")
        assert elsewhere != kafka.bootstrap
        return as_role(kafka, role).model_copy(update={"bootstrap_servers": elsewhere})
    return as_role(kafka, stranger)


CASES = ["wrong password", "unknown CA", "hostname mismatch", "missing ACL"]


def _reasons(settings: Settings) -> dict[str, str]:
    """Per case, the whole reason ``settings`` must get (a pattern: the TLS library words
    its part): no case's message may pass for another's."""
    return {
        "wrong password": re.escape(
            f"Kafka refused the {settings.sasl_mechanism} login of user "
            f"{settings.sasl_username!r}: check NEWSFLOW_SASL_USERNAME and NEWSFLOW_SASL_PASSWORD"
        ),
        "unknown CA": r"the broker's TLS certificate is not trusted \([^)]+\): set "
        r"NEWSFLOW_SSL_CAFILE to the CA that signed it \(now "
        + re.escape(f"{settings.ssl_cafile})"),
        "hostname mismatch": r"the broker's TLS certificate does not name the host connected to "
        r"\(Hostname mismatch, certificate is not valid for [^)]+\): set "
        r"NEWSFLOW_BOOTSTRAP_SERVERS to a host name or address the certificate holds \(now "
        + re.escape(f"{settings.bootstrap_servers})"),
        "missing ACL": re.escape(f"principal {settings.sasl_username!r} ")
        + r"(lacks an ACL on topic [^:]+|may not write to Kafka \(no Write ACL\)): "
        + re.escape(ACL_HINT),
    }


def assert_reason(case: str, settings: Settings, text: str) -> None:
    """``text`` is ``case``'s reason in full, and no other case's."""
    matching = [c for c, pattern in _reasons(settings).items() if re.fullmatch(pattern, text)]
    assert matching == [case], f"{case}: {text!r} matches {matching}"


@pytest.mark.parametrize("case", CASES)
async def test_cli_kept_out_says_which_setting_to_fix(
    secure_kafka: SecureKafkaCluster, case: str, tmp_path: Path
) -> None:
    kafka = secure_kafka
    admin = as_user(kafka, "admin")
    await create_topics(admin)
    before = await record_count(admin, admin.topic_raw)
    # The consumer principal may not write the raw topic.
    denied = _denied(kafka, case, tmp_path, "crawler", stranger="consumer")
    pages_file = write_pages(tmp_path, 2, "denied")
    done = newsflow(denied, "produce", "--no-progress", str(pages_file), cwd=tmp_path)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, done.stderr
    assert_reason(case, denied, errors[0].removeprefix("Error: "))
    assert "Traceback" not in done.stderr
    assert await record_count(admin, admin.topic_raw) == before  # nothing got in
    assert_no_password(kafka, [done.stdout, done.stderr], [])


@pytest.mark.parametrize("case", CASES)
async def test_worker_kept_out_is_not_ready_and_touches_nothing(
    secure_kafka: SecureKafkaCluster, case: str, start_worker, tmp_path: Path
) -> None:
    kafka = secure_kafka
    admin = as_user(kafka, "admin")
    await create_topics(admin)
    crawler = as_role(kafka, "crawler")
    waiting = write_pages(tmp_path, 2, "waiting")
    assert newsflow(crawler, "produce", "--no-progress", str(waiting), cwd=tmp_path).returncode == 0
    dead_before = await record_count(admin, admin.topic_dead_letter)
    # The enrich principal has no right on the raw topic.
    denied = _denied(kafka, case, tmp_path, "clean", stranger="enrich")
    group = f"{admin.clean_group}-{uuid.uuid4().hex[:6]}"  # a group only this worker could use
    worker = start_worker("clean", denied.model_copy(update={"clean_group": group}))

    readyz: list[tuple[int, bytes]] = []

    def says_why() -> bool:
        readyz[:] = [http_get(worker.web_port, "/readyz")]
        return readyz[0][0] == 503 and b"problems" in readyz[0][1]

    await eventually(says_why, 120, "/readyz saying why")
    reason, *waiting = orjson.loads(readyz[0][1])["problems"]
    assert waiting == ["no partition assignment yet"]
    assert_reason(case, denied, reason)
    assert {e["reason"] for e in worker.events("no access to Kafka; not joining the group")} == {
        reason
    }
    attempts = _gate_attempts(worker)
    await asyncio.sleep(WATCH_S)  # watch it wait
    assert worker.process.poll() is None, "the worker gave up instead of waiting"
    assert _gate_attempts(worker) == attempts == 1, "it retried sooner than its 30 s recheck"
    assert not worker.events("processed") and not worker.events("dead-lettered")
    committed = await _group_offsets(admin, group, admin.topic_raw)
    assert all(row.committed is None for row in committed)  # nothing acked
    assert await record_count(admin, admin.topic_dead_letter) == dead_before
    health = http_get(worker.web_port, "/healthz")
    assert health[0] == 200  # alive: a restart would not fix a setting
    metrics = http_get(worker.web_port, "/metrics")[1]
    texts = [readyz[0][1].decode(), health[1].decode(), metrics.decode()]
    assert_no_password(kafka, texts, [worker.log_path])


async def _group_offsets(settings: Settings, group: str, topic: str) -> list:
    """``consumer_lag``'s rows, once the offsets topic exists (Kafka creates it at the first
    group look-up, which may be this one when the test runs alone)."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        try:
            return await consumer_lag(settings, {group: topic})
        except GroupCoordinatorNotAvailableError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.5)


def _gate_attempts(worker: WorkerProcess) -> int:
    return len(worker.events("no access to Kafka; not joining the group"))


def test_broker_log_holds_no_password(secure_kafka: SecureKafkaCluster) -> None:
    log = secure_kafka.nodes[0].log_path.read_text(errors="replace")
    assert "SASL_SSL" in log
    assert not [user for user, password in secure_kafka.passwords.items() if password in log]


def test_ready_names_what_keeps_the_worker_out() -> None:
    health = WorkerHealth("clean", stall_after_s=30)
    health.access_problem = "Kafka refused the login: check NEWSFLOW_SASL_PASSWORD"
    assert health.ready() == (
        False,
        ["Kafka refused the login: check NEWSFLOW_SASL_PASSWORD", "no partition assignment yet"],
    )
    health.access_problem = None
    health.broker_connected = True
    health.on_assigned([])
    assert health.ready() == (True, [])


async def test_each_role_is_refused_what_the_script_does_not_grant(
    secure_kafka: SecureKafkaCluster,
) -> None:
    """Every principal of deploy/kafka-acls.sh, every operation the tests know (produce,
    fetch, commit, create, describe), sent as the request itself: refused with the
    authorization error where the script grants nothing, done where it grants a read. The
    admin does each on a topic and group of its own first: the requests are sound."""
    kafka = secure_kafka
    grants = script_grants(ACL_SCRIPT, kafka.acl_settings)
    principals = sorted({grant.principal for grant in grants})
    assert principals == sorted(f"newsflow-{role}" for role in ROLES)
    await create_topics(as_user(kafka, "admin"))
    scratch = f"{kafka.acl_settings.topic_raw}-{uuid.uuid4().hex[:6]}"
    controls = [Operation("create", "topic", scratch)]
    controls += [Operation(action, "topic", scratch) for action in ("produce", "fetch", "describe")]
    controls += [Operation("describe", "group", scratch)]
    controls += [Operation("commit", "group", scratch, scratch)]
    tried = operations(kafka.acl_settings, grants)
    expected: dict[tuple[str, str], set[int]] = {}
    answered: dict[tuple[str, str], set[int]] = {}
    for principal in ["admin", *principals]:
        client = AIOKafkaClient(**as_user(kafka, principal).kafka_client_kwargs())
        await client.bootstrap()
        if principal == "admin":
            await groups_ready(client, scratch)
        try:
            for operation in controls if principal == "admin" else tried:
                if principal == "admin":
                    outcome: set[int] = set()
                elif not allowed(principal, operation, grants):
                    outcome = {refusal(operation, principal, grants)}
                elif operation.action in ("fetch", "describe"):
                    outcome = set()  # what a role may read, it reads
                else:
                    continue  # its writes and commits are its jobs, done in the tests above
                expected[principal, str(operation)] = outcome
                answered[principal, str(operation)] = await attempt(client, operation)
        finally:
            await client.close()
    assert answered == expected
    # Each role does a few things only: each kind of operation is refused it somewhere.
    kinds = {operation.action for operation in tried}
    for principal in principals:
        refused = {op.action for op in tried if expected.get((principal, str(op)))}
        assert refused == kinds, f"{principal} is refused only {sorted(refused)}"


def _acl(
    kafka: SecureKafkaCluster, change: str, principal: str, operation: str, topic: str
) -> None:
    """Add or remove one ACL with Kafka's kafka-acls tool, as an admin."""
    kafka.tool(
        "kafka.admin.AclCommand",
        "--bootstrap-server",
        kafka.bootstrap,
        change,
        *(["--force"] if change == "--remove" else []),
        "--allow-principal",
        f"User:{principal}",
        "--operation",
        operation,
        "--topic",
        topic,
    )


async def _urls(settings: Settings, topic: str, prefix: str) -> list[str]:
    """The URL of each record of ``topic`` under ``prefix``, a copy as often as it is there."""
    records = [orjson.loads(m.value) for m in await read_all(settings, topic, idle_s=1.0)]
    return sorted(r["url"] for r in records if r["url"].startswith(prefix))


async def test_a_write_acl_removed_under_a_running_worker_stops_it_unacked(
    secure_kafka: SecureKafkaCluster, redis_prefix: str, start_worker, tmp_path: Path
) -> None:
    """The clean worker's Write on its output topic is taken away while it runs (it keeps
    Describe, so its producer still finds the topic and the broker refuses the Produce
    itself): the worker stops at the first refused output, names the ACL, commits nothing
    past what it delivered; with the ACL back, a new worker delivers each page once."""
    kafka = secure_kafka
    admin = as_user(kafka, "admin")
    await create_topics(admin)
    crawler = as_role(kafka, "crawler")
    clean = as_role(kafka, "clean", redis_prefix)
    prefix = "https://news.example/"
    run_id = uuid.uuid4().hex[:6]
    before = write_pages(tmp_path, 2, f"acl-before-{run_id}")
    after = write_pages(tmp_path, 4, f"acl-after-{run_id}")
    first = start_worker("clean", clean)
    # (each kafka-acls run is a JVM start: the ones not in the way run while a worker loads)
    group = {admin.clean_group: admin.topic_raw}
    _acl(kafka, "--add", "newsflow-clean", "Describe", admin.topic_clean)
    try:
        sent = newsflow(crawler, "produce", "--no-progress", str(before), cwd=tmp_path)
        assert sent.returncode == 0
        await eventually_async(lambda: caught_up(admin, group), 120, "the first pages delivered")
        _acl(kafka, "--remove", "newsflow-clean", "Write", admin.topic_clean)
        try:
            delivered = await log_ends(admin, admin.topic_raw)
            sent = newsflow(crawler, "produce", "--no-progress", str(after), cwd=tmp_path)
            assert sent.returncode == 0
            await eventually(lambda: first.process.poll() is not None, 120, "the worker stopped")
            stopped = first.events("output not acknowledged; stopping the worker")
            assert stopped, "the worker stopped for another reason"
            assert {e["reason"] for e in stopped} == {
                f"principal 'newsflow-clean' lacks an ACL on topic {admin.topic_clean}: {ACL_HINT}"
            }
            assert await committed_offsets(admin, admin.clean_group, admin.topic_raw) == delivered
            for topic in (admin.topic_clean, admin.topic_dead_letter):
                assert await _urls(admin, topic, f"{prefix}acl-after-{run_id}/") == []
        finally:
            _acl(kafka, "--add", "newsflow-clean", "Write", admin.topic_clean)
        start_worker("clean", clean)
    finally:
        _acl(kafka, "--remove", "newsflow-clean", "Describe", admin.topic_clean)
    await eventually_async(lambda: caught_up(admin, group), 180, "the held pages delivered")
    assert await _urls(admin, admin.topic_clean, f"{prefix}acl-") == sorted(
        [f"{prefix}acl-before-{run_id}/{n}" for n in range(2)]
        + [f"{prefix}acl-after-{run_id}/{n}" for n in range(4)]
    )
    assert await _urls(admin, admin.topic_dead_letter, f"{prefix}acl-") == []
