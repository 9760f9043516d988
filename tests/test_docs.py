"""The README documents what the code does: settings, and the commands CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from workers.settings import Settings

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


def test_every_setting_is_in_the_readme_table_with_its_default() -> None:
    rows = dict(re.findall(r"^\| `(NEWSFLOW_[A-Z_0-9]+)` \| ([^|]+) \|", README, re.M))
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no description"
        variable = f"NEWSFLOW_{name.upper()}"
        assert variable in rows, f"{variable} missing from README's configuration table"
        default = field.default_factory() if field.default_factory else field.default
        shown = ",".join(default) if isinstance(default, list) else default
        expected = "\u2013" if shown is None else f"`{shown}`"  # an en dash: "none"
        assert rows[variable].strip() == expected, variable


def test_ci_runs_the_readme_test_command() -> None:
    assert "make test " in README
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
