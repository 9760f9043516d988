"""The two seed articles as enrichers see them: as clean text (the seed files in
``fixtures/seeds``, copied verbatim from the project's shared seeds) and as the cleaning stage
makes them from the project's sample HTML pages."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson

from tests.support.paths import SAMPLES
from tests.support.samples import clean_sample

HERE = Path(__file__).resolve().parent
SEEDS = HERE / "fixtures" / "seeds"
MANIFEST = {e["file"]: e for e in orjson.loads((SAMPLES / "manifest.json").read_bytes())}

PUTIN_IN_PYONGYANG = "01-putin-arrives-pyongyang.html"
KIM_IN_VLADIVOSTOK = "02-kim-jong-un-arrives-vladivostok.html"
# seed file → (sample page, publication date)
SEED_OF = {
    PUTIN_IN_PYONGYANG: ("000_a98557bdeccf9ffa.txt", "2024-06-19"),
    KIM_IN_VLADIVOSTOK: ("003_3fd20cd49613bf1c.txt", "2023-09-12"),
}


def seed_text(sample: str) -> str:
    return (SEEDS / SEED_OF[sample][0]).read_text(encoding="utf-8")


def seed_article(sample: str, **overrides: Any) -> dict[str, Any]:
    """A clean record whose text is the seed text as given."""
    name, published = SEED_OF[sample]
    article = {
        "document_id": hashlib.sha256(name.encode()).hexdigest()[:32],
        "title": MANIFEST[sample]["title"],
        "text": seed_text(sample),
        "language": "en",
        "published_at": published,
        "timestamps": {"fetched": MANIFEST[sample]["fetched_at"]},
    }
    return {**article, **overrides}


def sample_article(sample: str) -> dict[str, Any]:
    """The clean record the cleaning stage makes from the sample page."""
    return clean_sample(sample)
