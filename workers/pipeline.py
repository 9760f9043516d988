"""The pipeline, described once: what each stage reads, writes, is called and fails with.

::

    raw-html.v1 ──▶ clean ──▶ articles-clean.v1 ──▶ enrich ──▶ articles-enriched.v1 (the sink)
                      └──────────────┬───────────────────┘
                                     ▼
                              dead-letter.v1

The runtime (:mod:`workers.runtime`), the CLI, the lag tool and the demo read every
per-stage fact from :data:`STAGES`; nothing else branches on a stage's name. Adding a stage
means one :class:`StageSpec` here and one module with its stage class (see
:class:`StageFunction`). :func:`run_through` is the chain itself, a message through the
stages in a row (the local commands, the benchmark, each stage's warm-up).

This module sits above the stages: it names them, the stages never import it.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Protocol

from workers.errors import Reason
from workers.records import contracts
from workers.records.contracts import SchemaName
from workers.records.message import InputMessage
from workers.settings import Settings

Record = dict[str, Any]

# Every path of the clean stage's extraction chain: the parser whose tree was read, then the
# extractor whose text was kept (the record's extractor.path, the enum of articles-clean.v1).
EXTRACTION_PATHS = tuple(
    f"{parser}+{extractor}"
    for parser in ("lxml", "html5")
    for extractor in (
        "trafilatura",
        "trafilatura-recall",
        # trafilatura's text cut to the span readability's text also has
        "trafilatura-bounded",
        "trafilatura-recall-bounded",
        "readability",
    )
)


class StageFunction(Protocol):
    """A stage as the runtime runs it: one input message in, one output record out (or a
    :class:`~workers.errors.StageError` / :class:`~workers.errors.TransientError`)."""

    # Seconds spent in each named part of the last call (the enrichers); empty otherwise.
    part_seconds: dict[str, float]

    def warm_up(self, sample: InputMessage) -> Record:
        """Load models and fill caches before the first message (seconds, once), on
        ``sample``, the built-in page as this stage reads it (:func:`warm_up`); touches no
        shared state. Returns the sample's record, what the next stage warms up on."""

    def sample_record(self, sample: InputMessage) -> Record:
        """``sample``'s record for the next stage's warm-up, skipping what only a worker of
        this stage needs (a worker of the next stage never runs this one on a page)."""

    def __call__(self, message: InputMessage) -> Record: ...


@dataclass(frozen=True)
class StageSpec:
    """Everything the runtime and the tools need to know about one stage."""

    name: str
    input_topic: Callable[[Settings], str]
    output_topic: Callable[[Settings], str]
    group: Callable[[Settings], str]
    output_schema: SchemaName
    # The dead-letter reason of a call killed for running past NEWSFLOW_STAGE_TIMEOUT_S.
    timeout_reason: Reason
    # The backend of the stage's shared state; "memory" cannot be split over stage processes.
    state_backend: Callable[[Settings], str]
    # "module:Class" of the stage function, imported on first use: the CLI's other commands
    # and the lag tool need the facts above, not spaCy and trafilatura.
    factory: str
    # Its input records carry ``lineage`` back to the raw message: event and dead-letter ids
    # derive from that raw message, so a record the stage before redid keeps its ids.
    input_has_lineage: bool = False
    # The paths its extraction chain may take, each counted per page in
    # newsflow_extraction_outcomes_total (a stage without one counts nothing there).
    extraction_paths: tuple[str, ...] = ()
    # Writes the sink: observes end-to-end and pipeline latency.
    writes_sink: bool = False
    # The named parts whose time the stage reports (``part_seconds``): the enrichers.
    part_names: Callable[[Settings], Sequence[str]] = lambda settings: ()

    def create(self, settings: Settings) -> StageFunction:
        module, _, cls = self.factory.partition(":")
        return getattr(importlib.import_module(module), cls)(settings)


STAGES: dict[str, StageSpec] = {
    spec.name: spec
    for spec in (
        StageSpec(
            name="clean",
            input_topic=attrgetter("topic_raw"),
            output_topic=attrgetter("topic_clean"),
            group=attrgetter("clean_group"),
            output_schema="articles-clean.v1",
            timeout_reason="extraction_timeout",
            state_backend=attrgetter("boilerplate_backend"),
            factory="workers.cleaning.stage:CleanStage",
            extraction_paths=EXTRACTION_PATHS,
        ),
        StageSpec(
            name="enrich",
            input_topic=attrgetter("topic_clean"),
            output_topic=attrgetter("topic_enriched"),
            group=attrgetter("enrich_group"),
            output_schema="articles-enriched.v1",
            timeout_reason="enrichment_failed",
            state_backend=attrgetter("dedup_backend"),
            factory="workers.enrichment.stage:EnrichStage",
            input_has_lineage=True,
            writes_sink=True,
            part_names=attrgetter("enrichers"),
        ),
    )
}


def stages_through(name: str) -> list[StageSpec]:
    """The stages from the first one up to and including ``name`` (``newsflow enrich`` runs
    a page through clean, then enrich)."""
    names = list(STAGES)
    return [STAGES[n] for n in names[: names.index(name) + 1]]


def consumer_groups(settings: Settings) -> dict[str, str]:
    """{consumer group: input topic} of every stage (what ``newsflow lag`` reports)."""
    return {spec.group(settings): spec.input_topic(settings) for spec in STAGES.values()}


def run_through(
    message: InputMessage, stages: Sequence[Callable[[InputMessage], Record]]
) -> Iterator[Record]:
    """Each stage's record for ``message``, in order: the first stage reads ``message``, every
    later one the record of the stage before as its topic carries it (:func:`carried`). A
    stage's :class:`~workers.errors.StageError` (or any other error) ends the run, raised to
    the caller."""
    record = None
    for stage in stages:
        if record is not None:
            message = carried(record)
        record = stage(message)
        yield record


def carried(record: Record) -> InputMessage:
    """``record`` as the next stage reads it: encoded, keyed by its document id."""
    return InputMessage(contracts.encode(record), key=record["document_id"].encode("ascii"))


# The page every stage warms up on: long enough to be an article, with a date to parse.
WARM_UP_PAGE = (
    "<html lang='en'><head><title>Warm-up</title></head><body><article>"
    "<p>Published on 3 March 2024 by the newsflow desk.</p>"
    "<p>This paragraph exists only so that the extractor runs its full path once, from the "
    "parser through the metadata heuristics to the text, before real pages arrive.</p>"
    "<p>A second paragraph makes the page long enough to count as an article rather than "
    "as an index page or an empty shell, which the cleaner would reject.</p>"
    "</article></body></html>"
)


def warm_up_message() -> InputMessage:
    """:data:`WARM_UP_PAGE` as the first stage reads it (a raw-html.v1 message)."""
    raw = {
        "url": "https://warm-up.newsflow.invalid/",
        "fetched_at": "2024-03-03T00:00:00Z",
        "html": WARM_UP_PAGE,
    }
    return InputMessage(contracts.encode(raw))


def warm_up(name: str, stage: StageFunction, settings: Settings) -> Record:
    """Warm ``stage`` (the stage ``name``) up before its first message on the built-in page,
    brought to it through the stages before it (so the enrich stage reads the clean stage's
    record of the page, and none touches shared state or pays its own one-off preparations:
    ``sample_record``); returns the stage's record of the page."""
    earlier = [spec.create(settings).sample_record for spec in stages_through(name)[:-1]]
    *_, record = run_through(warm_up_message(), [*earlier, stage.warm_up])
    return record
