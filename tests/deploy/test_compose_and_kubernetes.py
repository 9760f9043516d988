"""The deployment files, checked offline: docker-compose.yml against the Compose
Specification schema and against the settings object, the Kubernetes manifests (rendered
with tests/support/kustomize.py) against the Kubernetes schemas (kubernetes-validate) and the KEDA
and prometheus-operator schemas (kubernetes-models validators, run with node), and all of
them against each other: topics, groups, partitions, ports, job names, memory."""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.support.kustomize import KustomizeError, build, json_patch
from tests.support.paths import REPO
from workers.kafka.topics import check_replication
from workers.pipeline import STAGES
from workers.settings import Settings

COMPOSE = yaml.safe_load((REPO / "docker-compose.yml").read_text())
K8S = REPO / "deploy" / "k8s"
OVERLAYS = {"base": K8S / "base", "example": K8S / "overlays" / "example"}
CRD_VALIDATOR = Path(__file__).with_name("crd-validate")
KUBERNETES_VERSION = "1.33.0"  # the oldest Kubernetes minor release still supported upstream
JOBS = {"clean": "newsflow-clean", "enrich": "newsflow-enrich"}
# The lag exporter (`newsflow lag --serve`): its scrape job, its port in compose and k8s.
LAG_JOB, LAG_PORT = "newsflow-lag", 9308
# NEWSFLOW_SASL_MECHANISM → the KEDA kafka scaler's `sasl` value.
KEDA_SASL = {"PLAIN": "plaintext", "SCRAM-SHA-256": "scram_sha256", "SCRAM-SHA-512": "scram_sha512"}
SAMPLE = REPO / "workers" / "samples" / "07-rechenzentren-frankfurt-strom.html"


def settings_from(env: dict[str, Any]) -> Settings:
    """The Settings object a worker with these NEWSFLOW_* variables builds (strict: every
    variable must be a field, every value must parse)."""
    fields = {}
    for name, value in env.items():
        assert name.startswith("NEWSFLOW_"), name
        field = name.removeprefix("NEWSFLOW_").lower()
        assert field in Settings.model_fields, f"{name} is not a setting of workers/settings.py"
        fields[field] = value
    return Settings(_env_file=None, **fields)


def alert_job_names() -> set[str]:
    return set(re.findall(r'job="([^"]+)"', (REPO / "deploy/prometheus/alerts.yml").read_text()))


# --- docker-compose.yml ------------------------------------------------------------------


def compose_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads((Path(__file__).with_name("vendor") / "compose-spec.json").read_text())
    validator = jsonschema.Draft201909Validator(schema)
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(document)
    ]


def test_compose_file_matches_the_compose_specification() -> None:
    assert compose_errors(COMPOSE) == []


def test_compose_schema_check_catches_mistakes() -> None:
    broken = copy.deepcopy(COMPOSE)
    broken["services"]["clean"]["deploy"] = {"replica": 3}  # typo
    broken["services"]["enrich"]["environment"] = 5
    errors = compose_errors(broken)
    assert any(e.startswith("services/clean/deploy") and "replica" in e for e in errors), errors
    assert any(e.startswith("services/enrich/environment") for e in errors), errors


def newsflow_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in COMPOSE["services"].items()
        if any(k.startswith("NEWSFLOW_") for k in service.get("environment", {}))
    }


def test_compose_environment_is_made_of_real_settings() -> None:
    services = newsflow_services()
    assert set(services) == {"topics", "clean", "enrich", "lag-exporter", "produce", "tail"}
    envs = [service["environment"] for service in services.values()]
    assert all(env == envs[0] for env in envs), "all newsflow services share one environment"
    settings = settings_from(envs[0])
    defaults = Settings(_env_file=None)
    # The stack runs the documented default contract: topic names and groups.
    assert settings.all_topics() == defaults.all_topics()
    assert (settings.clean_group, settings.enrich_group) == (JOBS["clean"], JOBS["enrich"])


def test_compose_services_are_wired_together() -> None:
    services = COMPOSE["services"]
    settings = settings_from(services["clean"]["environment"])
    kafka = services["kafka"]["environment"]
    # The workers reach the broker at the address it advertises on its PLAINTEXT listener.
    advertised = dict(
        item.split("://", 1) for item in kafka["KAFKA_ADVERTISED_LISTENERS"].split(",")
    )
    assert settings.bootstrap_servers == advertised["PLAINTEXT"]
    assert services["topics"]["command"] == ["topics", "create"]
    assert services["topics"]["restart"] == "no"
    for stage in STAGES:
        service = services[stage]
        assert service["command"] == ["worker", stage]
        # Static membership: the container's hostname is its group.instance.id ($$ is a
        # literal $ to compose); the command goes through to `newsflow` unchanged.
        shell, flag, script, name = service["entrypoint"]
        assert (shell, flag, name) == ("sh", "-c", "newsflow")
        assert script == 'NEWSFLOW_INSTANCE_ID="$$HOSTNAME" exec newsflow "$$@"'
        # A replica asked to stop leaves; its hostname does not come back after a scale-in.
        assert service["environment"]["NEWSFLOW_LEAVE_GROUP_ON_SHUTDOWN"] == "true"
        assert service["depends_on"]["topics"] == {"condition": "service_completed_successfully"}
        replicas = service["deploy"]["replicas"]
        assert 2 <= replicas <= settings.partitions, "several replicas, at most one a partition"
        assert service["expose"] == [str(settings.web_port)]
    image = f"newsflow:{tomllib.loads((REPO / 'pyproject.toml').read_text())['project']['version']}"
    for name in newsflow_services():
        assert services[name]["image"] == image, name
    assert any(service.get("build") == "." for service in services.values())
    assert settings.redis_url == "redis://redis:6379/0" and "redis" in services
    for name, service in services.items():  # every dependency is a service of the file
        assert set(service.get("depends_on", [])) <= set(services), name
        assert not service.get("image", "x:y").endswith(":latest"), f"{name}: pin the image"


def test_compose_kafka_is_a_single_kraft_node() -> None:
    kafka = COMPOSE["services"]["kafka"]
    env = kafka["environment"]
    assert kafka["image"].startswith("apache/kafka:")
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == f"{env['KAFKA_NODE_ID']}@kafka:9093"
    assert "CONTROLLER://:9093" in env["KAFKA_LISTENERS"]
    for name in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert env[name] == 1, name
    assert env["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == 0
    assert env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    settings = settings_from(COMPOSE["services"]["topics"]["environment"])
    assert settings.replication_factor == 1  # one broker
    assert check_replication(settings, brokers=1) == []  # topics create: no error, no warning


def mounts(service: str) -> dict[str, Path]:
    """Container path → repository file of a service's bind mounts (which must exist)."""
    found = {}
    for volume in COMPOSE["services"][service].get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./"):
            path = REPO / source
            assert path.exists(), f"{service}: {source} does not exist"
            found[target] = path
    return found


def test_compose_prometheus_scrapes_both_worker_kinds_with_the_alert_rules() -> None:
    files = mounts("prometheus")
    command = COMPOSE["services"]["prometheus"]["command"]
    (config_path,) = [c.split("=", 1)[1] for c in command if c.startswith("--config.file=")]
    config = yaml.safe_load(files[config_path].read_text())
    (rule_file,) = config["rule_files"]
    assert files[rule_file] == REPO / "deploy" / "prometheus" / "alerts.yml"
    settings = settings_from(COMPOSE["services"]["clean"]["environment"])
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {*JOBS.values(), LAG_JOB}
    assert alert_job_names() <= set(jobs), "alerts.yml names a job Prometheus does not scrape"
    (discovery,) = jobs[LAG_JOB]["dns_sd_configs"]
    exporter = COMPOSE["services"]["lag-exporter"]
    assert discovery["names"] == ["lag-exporter"] and discovery["port"] == LAG_PORT
    assert exporter["command"][:3] == ["lag", "--serve", str(LAG_PORT)]
    assert exporter["expose"] == [str(LAG_PORT)]
    for stage, job_name in JOBS.items():
        job = jobs[job_name]
        assert job.get("metrics_path", "/metrics") == "/metrics"
        (discovery,) = job["dns_sd_configs"]
        assert discovery["names"] == [stage]  # the compose service: one A record per replica
        assert discovery["port"] == settings.web_port


def test_compose_grafana_provisions_the_dashboard_on_prometheus() -> None:
    files = mounts("grafana")
    datasources = files["/etc/grafana/provisioning/datasources"] / "prometheus.yml"
    (datasource,) = yaml.safe_load(datasources.read_text())["datasources"]
    assert datasource["type"] == "prometheus"
    assert datasource["isDefault"] is True
    assert datasource["url"] == "http://prometheus:9090"
    assert "prometheus" in COMPOSE["services"]
    providers = files["/etc/grafana/provisioning/dashboards"] / "newsflow.yml"
    (provider,) = yaml.safe_load(providers.read_text())["providers"]
    dashboards = {t: p for t, p in files.items() if t.startswith(provider["options"]["path"])}
    assert list(dashboards.values()) == [REPO / "deploy" / "grafana" / "newsflow.json"]
    dashboard = json.loads((REPO / "deploy" / "grafana" / "newsflow.json").read_text())
    (variable,) = [v for v in dashboard["templating"]["list"] if v["name"] == "datasource"]
    assert (variable["type"], variable["query"]) == ("datasource", "prometheus")
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]


# --- Dockerfile --------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_dockerfile_is_multi_stage_non_root_with_a_healthcheck() -> None:
    instructions = dockerfile_instructions()
    stages = [i for i, (op, _) in enumerate(instructions) if op == "FROM"]
    assert len(stages) >= 2, "multi-stage"
    runtime = instructions[stages[-1] :]
    assert not any(op == "RUN" and "pip install" in arg for op, arg in runtime)
    assert not any(re.search(r"\b(curl|wget)\b", arg) for _, arg in instructions)
    (user,) = [arg for op, arg in runtime if op == "USER"]
    assert user.isdigit() and int(user) != 0
    (healthcheck,) = [arg for op, arg in runtime if op == "HEALTHCHECK"]
    assert "/healthz" in healthcheck and "NEWSFLOW_WEB_PORT" in healthcheck
    assert ("EXPOSE", str(Settings(_env_file=None).web_port)) in runtime
    assert ("ENTRYPOINT", '["newsflow"]') in runtime
    assert ("COPY", "--from=build /opt/newsflow /opt/newsflow") in runtime
    # Everything the build copies exists and passes .dockerignore (an allow-list).
    allowed = {
        line.lstrip("!").rstrip("/")
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.startswith("!")
    }
    for op, arg in instructions:
        if op == "COPY" and not arg.startswith("--from"):
            for source in arg.split()[:-1]:
                assert (REPO / source).exists(), source
                assert source in allowed, f"{source} is excluded by .dockerignore"


def test_workers_need_no_network_at_run_time(tmp_path: Path) -> None:
    """What the image runs, in a network namespace without any network and with no home
    directory: nothing is downloaded at run time (models and data ship in the packages)."""
    unshare = shutil.which("unshare")
    newsflow = shutil.which("newsflow", path=os.path.dirname(sys.executable))
    assert unshare and newsflow
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"no network namespaces here: {probe.stderr.strip()}")
    done = subprocess.run(
        [unshare, "-n", newsflow, "enrich", str(SAMPLE)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        # No network, hence no Redis: the near-duplicate index stays in the process.
        env={**os.environ, "HOME": "/nonexistent", "NEWSFLOW_DEDUP_BACKEND": "memory"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert record["enrichment"]["language"]["code"] == "de"
    assert record["enrichment"]["stats"]["word_count"] > 100


# --- Kubernetes --------------------------------------------------------------------------


@pytest.fixture(scope="module", params=list(OVERLAYS))
def rendered(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    return request.param, build(OVERLAYS[request.param])


def by_kind(resources: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {r["metadata"]["name"]: r for r in resources if r["kind"] == kind}


def test_kustomize_renders_base_and_overlay() -> None:
    base = build(OVERLAYS["base"])
    assert sorted((r["kind"], r["metadata"]["name"]) for r in base) == sorted(
        [
            ("ConfigMap", "newsflow-config"),
            ("Deployment", "newsflow-clean"),
            ("Deployment", "newsflow-enrich"),
            ("Deployment", "newsflow-lag-exporter"),
            ("Service", "newsflow-lag-exporter-metrics"),
            ("StatefulSet", "redis"),
            ("Service", "redis"),
            ("PodDisruptionBudget", "newsflow-clean"),
            ("PodDisruptionBudget", "newsflow-enrich"),
            ("ScaledObject", "newsflow-clean"),
            ("ScaledObject", "newsflow-enrich"),
            ("Service", "newsflow-clean-metrics"),
            ("Service", "newsflow-enrich-metrics"),
            ("ServiceMonitor", "newsflow"),
            ("PrometheusRule", "newsflow"),
        ]
    )
    assert all(r["metadata"]["labels"]["app.kubernetes.io/part-of"] == "newsflow" for r in base)
    assert by_kind(base, "Deployment")["newsflow-clean"]["spec"]["template"]["spec"]["containers"][
        0
    ]["image"] == ("newsflow:0.1.0")

    example = build(OVERLAYS["example"])
    assert {r["metadata"]["namespace"] for r in example} == {"newsflow"}
    assert len(example) == len(base) + 3  # two Secrets and the TriggerAuthentication
    clean = by_kind(example, "Deployment")["newsflow-clean"]["spec"]["template"]["spec"]
    assert clean["containers"][0]["image"] == "registry.example.com/newsflow:0.1.0"
    assert clean["volumes"][-1] == {
        "name": "kafka-ca",
        "secret": {"secretName": "newsflow-kafka-ca"},
    }
    assert by_kind(example, "ConfigMap")["newsflow-config"]["data"]["NEWSFLOW_PARTITIONS"] == "12"


def _options(args: list[str]) -> dict[str, str]:
    return dict(zip(args[0::2], args[1::2], strict=True))


def test_redis_keeps_its_state_over_a_restart_and_never_evicts() -> None:
    # The frozen boilerplate decisions and the near-duplicate index must survive a restart
    # and never be dropped for room (README "Shared state in Redis"); the same options in
    # compose and Kubernetes, and tests/integration/test_redis_restart.py runs them.
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    command = compose["services"]["redis"]["command"]
    assert command[0] == "redis-server"
    (statefulset,) = by_kind(build(OVERLAYS["base"]), "StatefulSet").values()
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    for options in (_options(command[1:]), _options(container["args"])):
        assert options["--appendonly"] == "yes"
        assert options["--appendfsync"] == "everysec"
        assert options["--maxmemory-policy"] == "noeviction"
        assert options["--maxmemory"]  # noeviction means nothing without a limit
        assert options["--dir"] == "/data"
    assert compose["services"]["redis"]["volumes"] == ["redis-data:/data"]
    assert statefulset["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "data"
    config = by_kind(build(OVERLAYS["base"]), "ConfigMap")["newsflow-config"]["data"]
    (service,) = (s for s in by_kind(build(OVERLAYS["base"]), "Service") if s == "redis")
    assert config["NEWSFLOW_REDIS_URL"].startswith(f"redis://{service}.")


def test_kubernetes_topics_are_replicated_for_a_broker_loss(
    rendered: tuple[str, list[dict[str, Any]]],
) -> None:
    """3 replicas, min.insync.replicas 2: one broker may be down with writes going on, and
    `topics create` accepts it on a three-broker cluster without a warning."""
    data = by_kind(rendered[1], "ConfigMap")["newsflow-config"]["data"]
    settings = settings_from(data)
    assert (settings.replication_factor, settings.topic_min_insync_replicas) == (3, 2)
    assert check_replication(settings, brokers=3) == []


def test_kustomize_renderer_is_strict(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
        "resources: [x.yaml]\nconfigMapGenerator: []\n"
    )
    with pytest.raises(KustomizeError, match="configMapGenerator"):
        build(tmp_path)
    document = {"data": {"a": "1"}, "list": [1, 2]}
    json_patch(document, {"op": "add", "path": "/list/-", "value": 3})
    json_patch(document, {"op": "replace", "path": "/data/a", "value": "2"})
    assert document == {"data": {"a": "2"}, "list": [1, 2, 3]}
    with pytest.raises(KustomizeError, match="does not exist"):
        json_patch(document, {"op": "replace", "path": "/data/b", "value": "x"})


CUSTOM_KINDS = {"ScaledObject", "TriggerAuthentication", "ServiceMonitor", "PrometheusRule"}


def test_core_resources_match_the_kubernetes_schemas(rendered: tuple) -> None:
    _, resources = rendered
    core = [r for r in resources if r["kind"] not in CUSTOM_KINDS]
    assert {r["kind"] for r in core} >= {"ConfigMap", "Deployment", "PodDisruptionBudget"}
    for resource in core:
        kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def test_kubernetes_schema_check_catches_mistakes() -> None:
    deployment = copy.deepcopy(by_kind(build(OVERLAYS["base"]), "Deployment")["newsflow-clean"])
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["livenessProbe"]["httpGet"]["pth"] = "/healthz"  # typo: strict mode rejects it
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    del container["livenessProbe"]["httpGet"]["pth"]
    container["resources"]["limits"]["memory"] = ["512Mi"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def validate_custom(resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    assert node, "node is needed to validate the custom resources (see README, Development)"
    assert (CRD_VALIDATOR / "node_modules").is_dir(), (
        "run `npm ci --prefix tests/deploy/crd-validate` (make install does)"
    )
    done = subprocess.run(
        [node, "validate.mjs"],
        input=json.dumps(resources),
        capture_output=True,
        text=True,
        cwd=CRD_VALIDATOR,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_custom_resources_match_the_keda_and_prometheus_operator_schemas(
    rendered: tuple,
) -> None:
    name, resources = rendered
    custom = [r for r in resources if r["kind"] in CUSTOM_KINDS]
    expected = {"ScaledObject", "ServiceMonitor", "PrometheusRule"}
    if name == "example":
        expected.add("TriggerAuthentication")
    assert {r["kind"] for r in custom} == expected
    results = validate_custom(custom)
    assert [r["errors"] for r in results] == [[] for _ in custom], results


def test_custom_resource_check_catches_mistakes() -> None:
    scaled = copy.deepcopy(by_kind(build(OVERLAYS["base"]), "ScaledObject")["newsflow-clean"])
    scaled["spec"]["minReplicaCount"] = "1"
    scaled["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 50
    (result,) = validate_custom([scaled])
    assert sorted(result["errors"]) == [
        "/spec/minReplicaCount must be integer",
        "/spec/triggers/0/metadata/lagThreshold must be string",
    ]


def test_prometheus_rule_holds_the_alert_rules() -> None:
    (rule,) = by_kind(build(OVERLAYS["base"]), "PrometheusRule").values()
    alerts = yaml.safe_load((REPO / "deploy" / "prometheus" / "alerts.yml").read_text())
    assert rule["spec"] == alerts


def measured_peak_rss_mib() -> dict[tuple[str, bool], float]:
    """Largest peak RSS per (worker, with pages near the size limit) in the current tables
    of bench/RESULTS.md's "Worker memory" section (earlier ones are dated records)."""
    results = (REPO / "bench" / "RESULTS.md").read_text()
    section = results.split("\n## Worker memory\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(
        r"^\| (\d+) \| (\d+) \| \d+ \| (clean|enrich) \| [\d.]+ \| [\d.]+ \| ([\d.]+) \|$",
        section,
        re.M,
    )
    peaks: dict[tuple[str, bool], float] = {}
    for _, big, stage, peak in rows:
        key = (stage, int(big) > 0)
        peaks[key] = max(peaks.get(key, 0.0), float(peak))
    assert set(peaks) == {(s, b) for s in STAGES for b in (False, True)}, peaks
    return peaks


def mebibytes(quantity: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(Mi|Gi)", quantity).groups()
    return int(number) * (1024 if unit == "Gi" else 1)


def test_manifests_agree_with_the_settings(rendered: tuple) -> None:
    _, resources = rendered
    (config,) = by_kind(resources, "ConfigMap").values()
    secrets = by_kind(resources, "Secret")
    secret_env = {
        k: v
        for secret in secrets.values()
        for k, v in secret.get("stringData", {}).items()
        if k.startswith("NEWSFLOW_")
    }
    settings = settings_from({**config["data"], **secret_env})
    if settings.security_protocol.startswith("SASL"):
        assert settings.sasl_username and settings.sasl_password, "credentials from a Secret"
        assert "NEWSFLOW_SASL_PASSWORD" not in config["data"], "a password in a ConfigMap"
    deployments = by_kind(resources, "Deployment")
    scaled_objects = by_kind(resources, "ScaledObject")
    services = by_kind(resources, "Service")
    peak = measured_peak_rss_mib()
    for stage in STAGES:
        deployment = deployments[f"newsflow-{stage}"]
        pod = deployment["spec"]["template"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod["metadata"]["labels"].items()
        assert "replicas" not in deployment["spec"], "KEDA owns the replica count"
        (container,) = pod["spec"]["containers"]
        assert container["args"] == ["worker", stage]
        # Static membership: each pod's name is its group.instance.id.
        assert {
            "name": "NEWSFLOW_INSTANCE_ID",
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
        } in container["env"]
        # A deleted pod's name never comes back: it leaves the group on SIGTERM.
        assert {"name": "NEWSFLOW_LEAVE_GROUP_ON_SHUTDOWN", "value": "true"} in container["env"]
        sources = container["envFrom"]
        assert sources[0] == {"configMapRef": {"name": config["metadata"]["name"]}}
        for source in sources[1:]:
            secret_name = source["secretRef"]["name"]
            assert secret_name in secrets or source["secretRef"].get("optional") is True
        (port,) = container["ports"]
        assert (port["name"], port["containerPort"]) == ("metrics", settings.web_port)
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "metrics"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
        mounted = {m["mountPath"] for m in container["volumeMounts"]}
        if settings.ssl_cafile:
            assert any(settings.ssl_cafile.startswith(path + "/") for path in mounted)
        memory = container["resources"]
        assert mebibytes(memory["requests"]["memory"]) >= peak[(stage, False)] * 1.25
        assert mebibytes(memory["limits"]["memory"]) >= peak[(stage, True)] * 1.25

        scaled = scaled_objects[f"newsflow-{stage}"]["spec"]
        assert scaled["scaleTargetRef"] == {"name": deployment["metadata"]["name"]}
        assert scaled["minReplicaCount"] >= 1
        assert scaled["maxReplicaCount"] == settings.partitions
        (trigger,) = scaled["triggers"]
        assert trigger["type"] == "kafka"
        meta = trigger["metadata"]
        assert meta["topic"] == STAGES[stage].input_topic(settings)
        assert meta["consumerGroup"] == STAGES[stage].group(settings)
        assert meta["bootstrapServers"] == settings.bootstrap_servers
        assert int(meta["lagThreshold"]) > 0
        assert meta["offsetResetPolicy"] == "earliest"  # as the workers' auto_offset_reset
        if settings.security_protocol.startswith("SASL"):
            assert meta["sasl"] == KEDA_SASL[settings.sasl_mechanism]
            auth = trigger["authenticationRef"]["name"]
            assert auth in by_kind(resources, "TriggerAuthentication")
        if settings.security_protocol.endswith("SSL"):
            assert meta["tls"] == "enable"

        budget = by_kind(resources, "PodDisruptionBudget")[f"newsflow-{stage}"]["spec"]
        assert budget["selector"]["matchLabels"] == selector
        assert budget["maxUnavailable"] == 1

        service = services[f"newsflow-{stage}-metrics"]
        assert service["spec"]["selector"] == selector
        assert service["spec"]["ports"][0]["targetPort"] == "metrics"
        assert service["metadata"]["labels"]["newsflow.dev/job"] == JOBS[stage]

    # The lag exporter: its Service carries its job label, its container serves the port.
    exporter = deployments["newsflow-lag-exporter"]
    (container,) = exporter["spec"]["template"]["spec"]["containers"]
    assert container["args"][:3] == ["lag", "--serve", str(LAG_PORT)]
    assert container["envFrom"][0] == {"configMapRef": {"name": config["metadata"]["name"]}}
    (port,) = container["ports"]
    assert (port["name"], port["containerPort"]) == ("metrics", LAG_PORT)
    service = services["newsflow-lag-exporter-metrics"]
    assert service["spec"]["selector"] == exporter["spec"]["selector"]["matchLabels"]
    assert service["metadata"]["labels"]["newsflow.dev/job"] == LAG_JOB
    if settings.ssl_cafile:
        mounted = {m["mountPath"] for m in container["volumeMounts"]}
        assert any(settings.ssl_cafile.startswith(path + "/") for path in mounted)

    (monitor,) = by_kind(resources, "ServiceMonitor").values()
    job_label = monitor["spec"]["jobLabel"]
    (expression,) = monitor["spec"]["selector"]["matchExpressions"]
    jobs = sorted({*JOBS.values(), LAG_JOB})
    assert expression == {"key": job_label, "operator": "In", "values": jobs}
    assert monitor["spec"]["endpoints"][0]["port"] == "metrics"
    assert alert_job_names() <= set(jobs)


def test_compose_and_kubernetes_run_the_same_contract() -> None:
    compose = settings_from(COMPOSE["services"]["clean"]["environment"])
    (config,) = by_kind(build(OVERLAYS["base"]), "ConfigMap").values()
    k8s = settings_from(config["data"])
    for field in ("all_topics", "clean_group", "enrich_group", "web_port", "partitions"):
        a, b = getattr(compose, field), getattr(k8s, field)
        assert (a() if callable(a) else a) == (b() if callable(b) else b), field
    deployments = by_kind(build(OVERLAYS["base"]), "Deployment")
    for stage in STAGES:
        (container,) = deployments[f"newsflow-{stage}"]["spec"]["template"]["spec"]["containers"]
        limit = container["resources"]["limits"]["memory"]
        assert COMPOSE["services"][stage]["mem_limit"] == limit.replace("Mi", "m"), stage
