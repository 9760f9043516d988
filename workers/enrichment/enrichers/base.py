"""What every enricher declares, and the base class that takes the declaration.

An enricher states who it is on its class line::

    class ToneEnricher(Enricher, name="tone", version="1.0", languages=ENGLISH): ...

- ``name``: its member of ``enrichment`` and its key in ``enrichers``;
- ``version``: written to ``enrichers`` beside every result;
- ``languages``: the ISO 639-1 codes it can read, or :data:`ANY_LANGUAGE`: only those it
  has a model, a stop-word list, a lexicon or a formula for (VADER's English lexicon on
  German text is garbage, so tone declares :data:`ENGLISH`); the stage gives an enricher
  ``{"skipped": reason}`` for any other article instead of calling it;
- ``shared_state``: True when a call writes state other replicas see (the near-duplicate
  index): warm-up must not call it with its synthetic page.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar, Final

from workers.settings import Settings

ENGLISH: Final = frozenset({"en"})
ANY_LANGUAGE: Final = None


class Enricher(ABC):
    """One member of ``enrichment``: built once per worker from the settings, then called
    with each articles-clean.v1 record."""

    name: ClassVar[str]
    version: ClassVar[str]
    languages: ClassVar[frozenset[str] | None]
    shared_state: ClassVar[bool]

    def __init_subclass__(
        cls,
        *,
        name: str,
        version: str,
        languages: frozenset[str] | None,
        shared_state: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = name
        cls.version = version
        cls.languages = languages
        cls.shared_state = shared_state

    def __init__(self, settings: Settings) -> None:  # noqa: B027 (optional to override)
        """Read what the enricher needs from ``settings`` and load its models now, at
        start-up, not on the first message; the default reads nothing."""

    @abstractmethod
    def __call__(self, article: dict[str, Any]) -> dict[str, Any]:
        """The enricher's member of ``enrichment`` for ``article``."""
