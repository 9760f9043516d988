"""Where the repository's files are, for tests that read them from any folder depth."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "workers" / "samples"
SCHEMAS = REPO / "schemas"
