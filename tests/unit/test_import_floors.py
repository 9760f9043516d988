"""Imports inside ``workers/`` point down: a package imports its own modules and those of
lower floors, never a higher floor, and packages on one floor stay independent of each other.

Every ``import`` and ``from ... import`` of ``workers`` is read from the source (function-local
and ``TYPE_CHECKING`` ones too: they are dependencies all the same). A stage class is named in
``pipeline.py`` as a string and imported on first use; that is not an import of the stage.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import workers

PACKAGE = Path(workers.__file__).resolve().parent
ROOT = "workers"  # the package's own __init__ (its version)

# Lowest floor first, each with what it holds.
FLOORS: list[tuple[str, tuple[str, ...]]] = [
    ("the base", ("workers", "workers.errors", "workers.settings")),
    ("records, text tools, shared state", ("workers.records", "workers.nlp", "workers.state")),
    ("the stages described, Kafka tools", ("workers.pipeline", "workers.kafka")),
    # ops read what they need of a stage from pipeline.py or the schemas, never from a stage.
    ("the stages, what ops see", ("workers.cleaning", "workers.enrichment", "workers.ops")),
    ("the runtime around a stage", ("workers.runtime",)),
    ("one machine: brokers, the demo", ("workers.local",)),
    ("the command line", ("workers.cli",)),
    ("python -m workers", ("workers.__main__",)),
]
FLOOR = {unit: level for level, (_, units) in enumerate(FLOORS) for unit in units}

# Imports known to break a rule, each to be removed by the change named; the test below
# fails once the import is gone, so the exception does not outlive it. None today.
PENDING: dict[tuple[str, str], str] = {}


def unit_of(module: str) -> str | None:
    """The package (or top-level module) of FLOORS that ``module`` belongs to; None when
    FLOORS does not place it."""
    for unit in sorted(FLOOR, key=len, reverse=True):
        if module == unit or (unit != ROOT and module.startswith(unit + ".")):
            return unit
    return None


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(tree: ast.AST, package: str) -> Iterator[tuple[int, str]]:
    """(line, module) of every import of a ``workers`` module in ``tree``; for ``from a
    import b`` the module is ``a``, or ``a.b`` when that is a package of FLOORS."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the importing module's package upwards
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in FLOOR else base
                for alias in node.names
            ]
        else:
            continue
        for name in dict.fromkeys(names):  # once per module named
            if name == ROOT or name.startswith(ROOT + "."):
                yield node.lineno, name


def violations(path: str, source: str) -> Iterator[tuple[str, str, str]]:
    """(path:line, imported module, the rule it breaks) for each import of ``source`` (the
    file at ``path`` under workers/) that does not point down."""
    module = module_name(PACKAGE / path)
    package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
    here = unit_of(module)
    if here is None:
        yield path, "", "this module is on no floor: place it in FLOORS"
        return
    for line, target in imported(ast.parse(source, path), package):
        there = unit_of(target)
        where = f"{path}:{line}"
        if there is None:
            yield where, target, "the imported module is on no floor: place it in FLOORS"
        elif there != here and FLOOR[there] > FLOOR[here]:
            yield (
                where,
                target,
                f"{here} ({FLOORS[FLOOR[here]][0]}) imports from a higher floor: "
                f"{there} ({FLOORS[FLOOR[there]][0]})",
            )
        elif there != here and FLOOR[there] == FLOOR[here]:
            yield where, target, f"{here} and {there} share a floor and stay independent"


def all_violations() -> list[tuple[str, str, str]]:
    found = []
    for file in sorted(PACKAGE.rglob("*.py")):
        path = file.relative_to(PACKAGE).as_posix()
        found += violations(path, file.read_text(encoding="utf-8"))
    return found


def test_imports_point_down_and_floor_mates_stay_apart() -> None:
    broken = [
        f"workers/{where}: " + (f"imports {target}: " if target else "") + rule
        for where, target, rule in all_violations()
        if (where.partition(":")[0], target) not in PENDING
    ]
    assert not broken, "\n".join(broken)


def test_each_pending_exception_is_still_needed() -> None:
    found = {(where.partition(":")[0], t) for where, t, _ in all_violations()}
    gone = [
        f"workers/{path} no longer imports {target} ({why}): remove it from PENDING"
        for (path, target), why in PENDING.items()
        if (path, target) not in found
    ]
    assert not gone, "\n".join(gone)


def test_a_function_local_upward_import_is_found_with_its_line() -> None:
    source = "def names():\n    from workers.enrichment.stage import EnrichStage\n"
    assert list(violations("nlp/names.py", source)) == [
        (
            "nlp/names.py:2",
            "workers.enrichment.stage",
            "workers.nlp (records, text tools, shared state) imports from a higher floor: "
            "workers.enrichment (the stages, what ops see)",
        )
    ]
