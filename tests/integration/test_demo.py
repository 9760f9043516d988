"""`newsflow demo` (what `make demo` runs) works as a newcomer runs it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.support.paths import SAMPLES

pytestmark = pytest.mark.broker


def test_demo_enriches_every_sample_and_exits_zero() -> None:
    newsflow = Path(sys.executable).parent / "newsflow"
    result = subprocess.run(
        [str(newsflow), "demo", "--timeout", "150"],
        capture_output=True,
        text=True,
        timeout=240,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    manifest = orjson.loads((SAMPLES / "manifest.json").read_bytes())
    assert f"{len(manifest)}/{len(manifest)} articles enriched, 0 dead letters" in result.stdout
    for entry in manifest:
        assert entry["title"] in result.stdout
    assert "(None)" not in result.stdout  # a place in no country (a sea) shows its name alone
    # Beyond English too: each German, French and Spanish sample names somebody and a place.
    blocks = re.split(r"\n  (?=\S)", result.stdout)  # one block an article
    for entry in (e for e in manifest if e["language"] != "en"):
        block = next(b for b in blocks if entry["title"] in b)
        names, _, places = block.partition("names: ")[2].partition(" · places: ")
        assert names.strip() not in ("", "-"), f"no entities for {entry['file']}:\n{block}"
        assert places.split("\n")[0].strip() not in ("", "-"), f"no places: {entry['file']}"
