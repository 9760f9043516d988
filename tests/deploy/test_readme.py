"""The README documents what the code does: settings, and the commands CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.paths import REPO
from workers.settings import Settings

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


def _layout_modules() -> set[str]:
    """Every Python file the README's Layout tree names, as a path."""
    block = README.split("## Layout", 1)[1].split("```", 2)[1]
    folders: list[tuple[int, str]] = []  # (indent, folder path) of the open folders
    named = set()
    for line in block.splitlines():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        names = re.split(r"\s{2,}", line.strip())[0].split()
        while folders and folders[-1][0] >= indent:
            folders.pop()
        parent = folders[-1][1] if folders else ""
        for name in names:
            if name.endswith("/"):
                folders.append((indent, parent + name))
            elif name.endswith(".py"):
                named.add(parent + name)
    return named


def test_readme_layout_names_every_module_of_the_package_and_the_tests() -> None:
    on_disk = {
        path.relative_to(REPO).as_posix()
        for folder in ("workers", "tests")
        for path in (REPO / folder).rglob("*.py")
        if path.name != "__init__.py" and "node_modules" not in path.parts
    }
    named = {path for path in _layout_modules() if path.startswith(("workers/", "tests/"))}
    assert not on_disk - named, f"modules missing from README's Layout: {sorted(on_disk - named)}"
    assert not named - on_disk, (
        f"README's Layout names modules that do not exist: {sorted(named - on_disk)}"
    )


def _anchors(document: Path) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown file."""
    headings = re.findall(r"^#+ (.+)$", document.read_text(), re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_relative_links_of_the_readme_and_the_bench_results_resolve() -> None:
    documents = [REPO / "README.md", REPO / "bench" / "RESULTS.md"]
    documents += sorted((REPO / "bench" / "results").glob("*.md"))
    broken = []
    for document in documents:
        for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text()):
            if re.match(r"[a-z]+:", target):
                continue  # a web address
            path, _, anchor = target.partition("#")
            linked = (document.parent / path).resolve() if path else document
            if not linked.exists() or (anchor and anchor not in _anchors(linked)):
                broken.append(f"{document.relative_to(REPO)}: {target}")
    assert broken == []
