"""The alert rules and the Prometheus config as Prometheus's own promtool sees them: both
pass ``promtool check``, and every alert has ``promtool test rules`` unit tests
(tests/deploy/prometheus/<group>.test.yml) that see it fire with what a pager needs and stay silent
in the normal cases that look like it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.paths import REPO

ALERTS = REPO / "deploy" / "prometheus" / "alerts.yml"
COMPOSE_CONFIG = REPO / "deploy" / "prometheus" / "prometheus.yml"
UNIT_TESTS = Path(__file__).with_name("prometheus")
README = REPO / "README.md"
# Alerts about one partition must say which one.
PER_PARTITION = {"NewsflowLagTooOld", "NewsflowPartitionStalled"}


def promtool(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: `make services` installs Debian's prometheus package")
    return subprocess.run(
        [binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def groups() -> list[dict]:
    return yaml.safe_load(ALERTS.read_text())["groups"]


def test_promtool_checks_the_alert_rules() -> None:
    result = promtool("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    count = sum(len(group["rules"]) for group in groups())
    assert f"SUCCESS: {count} rules found" in result.stdout


def test_promtool_rejects_a_broken_rule(tmp_path: Path) -> None:
    document = yaml.safe_load(ALERTS.read_text())
    document["groups"][0]["rules"][0]["expr"] = "sum by (stage) (rate(newsflow_messages_in_total))"
    broken = tmp_path / "alerts.yml"
    broken.write_text(yaml.safe_dump(document))
    result = promtool("check", "rules", str(broken))
    assert result.returncode != 0
    assert "range vector" in result.stdout + result.stderr


def test_promtool_checks_the_compose_scrape_config(tmp_path: Path) -> None:
    """The compose file mounts alerts.yml at the config's rule path; here it is copied there
    (relative to a copy of the config) so promtool reads the rules the config names."""
    config = yaml.safe_load(COMPOSE_CONFIG.read_text())
    (rule_path,) = config["rule_files"]
    config["rule_files"] = [Path(rule_path).name]
    shutil.copy(ALERTS, tmp_path / Path(rule_path).name)
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    result = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout and "rules found" in result.stdout


def unit_tests_of(group: dict) -> list[dict]:
    path = UNIT_TESTS / f"{group['name']}.test.yml"
    assert path.exists(), f"no unit tests for rule group {group['name']}: {path}"
    document = yaml.safe_load(path.read_text())
    assert document["rule_files"] == ["../../../deploy/prometheus/alerts.yml"]
    return [case for test in document["tests"] for case in test["alert_rule_test"]]


@pytest.mark.parametrize("group", groups(), ids=lambda g: g["name"])
def test_every_alert_is_unit_tested_firing_and_silent(group: dict) -> None:
    cases = unit_tests_of(group)
    for rule in group["rules"]:
        name = rule["alert"]
        mine = [case for case in cases if case["alertname"] == name]
        firing = [alert for case in mine for alert in case["exp_alerts"]]
        assert firing, f"{name}: no test sees it fire"
        assert any(not case["exp_alerts"] for case in mine), f"{name}: no test sees it silent"
        for alert in firing:
            labels, annotations = alert["exp_labels"], alert["exp_annotations"]
            assert labels["stage"] and labels["severity"] == rule["labels"]["severity"]
            if name in PER_PARTITION:
                assert labels["topic"] and labels["partition"], name
            assert set(annotations) == {"summary", "description", "runbook"}, name


def test_alert_unit_tests_pass() -> None:
    files = sorted(p.name for p in UNIT_TESTS.glob("*.test.yml"))
    assert files == sorted(f"{group['name']}.test.yml" for group in groups())
    result = promtool("test", "rules", *files, cwd=UNIT_TESTS)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(files)


def test_promtool_unit_tests_catch_a_missing_guard(tmp_path: Path) -> None:
    """Without the waiting-messages guard, an idle partition whose age grows would page:
    the lag group's unit tests must notice."""
    rules = ALERTS.read_text()
    unguarded = re.sub(r"(newsflow_group_lag_seconds > 900)\s+and\s+[^\n]+\n", r"\1\n", rules)
    assert unguarded != rules
    (tmp_path / "deploy" / "prometheus").mkdir(parents=True)
    (tmp_path / "deploy" / "prometheus" / "alerts.yml").write_text(unguarded)
    # the same depth as here: the unit tests name the rules as ../../../deploy/prometheus/
    unit_tests = tmp_path / UNIT_TESTS.relative_to(REPO)
    unit_tests.mkdir(parents=True)
    shutil.copy(UNIT_TESTS / "newsflow-lag.test.yml", unit_tests)
    result = promtool("test", "rules", "newsflow-lag.test.yml", cwd=unit_tests)
    assert result.returncode != 0
    assert "alertname: NewsflowLagTooOld" in result.stdout + result.stderr


def test_every_alert_has_a_runbook_in_the_readme() -> None:
    headings = set(re.findall(r"^#### (Newsflow\w+)$", README.read_text(), re.M))
    for group in groups():
        for rule in group["rules"]:
            assert rule["alert"] in headings, rule["alert"]
            anchor = rule["alert"].lower()
            assert rule["annotations"]["runbook"] == f"README.md#{anchor}"
