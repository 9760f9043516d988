"""The Grafana dashboard against Grafana's published dashboard schema (the ``Dashboard``
type of the @grafana/schema npm package, the version of the compose file's Grafana), and
what every panel must carry for an on-call reader: a unit and a description."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.paths import REPO

DASHBOARD = REPO / "deploy" / "grafana" / "newsflow.json"
VALIDATOR = Path(__file__).with_name("crd-validate")


def schema_errors(*dashboards: Path) -> dict[str, list[str]]:
    node = shutil.which("node")
    assert node, "node is needed to validate the dashboard (see README, Development)"
    if not (VALIDATOR / "node_modules" / "@grafana" / "schema").is_dir():
        pytest.fail("run `npm ci --prefix tests/deploy/crd-validate` (make test does)")
    result = subprocess.run(
        [node, "grafana-dashboard.mjs", *map(str, dashboards)],
        cwd=VALIDATOR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_dashboard_matches_grafanas_schema_and_the_schema_bites(tmp_path: Path) -> None:
    broken = json.loads(DASHBOARD.read_text())
    broken["panels"][0]["gridPos"]["h"] = "8"
    broken["panels"][1]["fieldConfig"]["defaults"]["unit"] = 3
    broken["templating"]["list"][0]["current"] = {}
    broken_path = tmp_path / "broken.json"
    broken_path.write_text(json.dumps(broken))

    errors = schema_errors(DASHBOARD, broken_path)
    assert errors[str(DASHBOARD)] == []
    found = " | ".join(errors[str(broken_path)])
    assert "/panels/0/gridPos/h must be number" in found
    assert "/panels/1/fieldConfig/defaults/unit must be string" in found
    assert "/templating/list/0/current must have required property 'text'" in found


def test_every_panel_has_a_unit_and_a_description() -> None:
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        assert panel["fieldConfig"]["defaults"]["unit"], panel["title"]
        assert len(panel["description"]) > 20, panel["title"]
