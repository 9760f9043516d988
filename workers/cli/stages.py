"""The stages from the command line: a worker on Kafka, or one stage over local files."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from workers.cli.common import pass_settings
from workers.kafka.produce import encode_raw, iter_records
from workers.pipeline import STAGES, run_through, stages_through
from workers.records.message import InputMessage
from workers.settings import Settings, get_settings

if TYPE_CHECKING:
    from workers.runtime.processor import StageProcessor


@click.command()
@click.argument("stage", type=click.Choice(list(STAGES)))
@pass_settings
def worker(settings: Settings, stage: str) -> None:
    """Run a STAGE worker (one consumer-group member) until SIGTERM."""
    from workers.nlp.pipelines import PipelineError
    from workers.runtime.app import run_worker
    from workers.runtime.startup import StartupError

    try:
        run_worker(stage, settings)  # type: ignore[arg-type]
    except (StartupError, PipelineError) as exc:  # one line naming the setting, no trace
        raise click.ClickException(str(exc)) from None


@click.command("build-data")
@click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to build into (default: NEWSFLOW_DATA_DIR, else ~/.cache/newsflow).",
)
def build_data(into: Path | None) -> None:
    """Build the data workers read at start (the gazetteer's file) once, now: at install or
    image build time, so no worker builds it. Prints the file's path."""
    from workers.nlp import gazetteer_store

    folder = into or gazetteer_store.default_folder()
    path = folder / gazetteer_store.file_name()
    click.echo(path if path.exists() else gazetteer_store.build(folder))


# --- one stage on local files, no broker -----------------------------------------------


def _local_messages(files: tuple[Path, ...], url: str | None) -> list[tuple[Path, InputMessage]]:

    messages = []
    for path in files:
        for record in iter_records([path]):
            if isinstance(record, ValueError):
                raise click.ClickException(str(record))
            if url:
                record["url"] = url
            key, value, headers = encode_raw(record, validate=False)
            messages.append((path, InputMessage(value, key=key, headers=tuple(headers))))
    return messages


def _run_local(stage: str, files: tuple[Path, ...], url: str | None, text_only: bool) -> None:
    from workers.errors import StageError, TransientError
    from workers.nlp.pipelines import PipelineError
    from workers.runtime.processor import StageProcessor

    settings = get_settings()
    # Each stage as its worker runs it (output checked, dead letters built), one after the
    # other: a dead letter ends the page's run with its reason.
    try:
        stages = [_as_worker(StageProcessor(spec.name, settings)) for spec in stages_through(stage)]
    except PipelineError as exc:  # a bad NEWSFLOW_NER_PIPELINES entry: one line, no trace
        raise click.ClickException(str(exc)) from exc
    failed = 0
    for path, message in _local_messages(files, url):
        try:
            *_, record = run_through(message, stages)
        except StageError as error:
            # stdout carries only records of the requested kind; failures go to stderr.
            failed += 1
            click.echo(f"{path}: {error.reason}: {error.message}", err=True)
            continue
        except TransientError as exc:
            # A worker would wait and retry; a one-shot command says why it cannot go on.
            raise click.ClickException(
                f"{path}: {exc} (NEWSFLOW_DEDUP_BACKEND=memory and "
                "NEWSFLOW_BOILERPLATE_BACKEND=memory run without Redis)"
            ) from exc
        if text_only:
            click.echo(record["text"] + "\n")
        else:
            click.echo(orjson.dumps(record).decode())
    sys.exit(1 if failed else 0)


def _as_worker(processor: StageProcessor) -> Callable[[InputMessage], dict[str, Any]]:
    """``processor``'s stage as a function of a message: its output record, or its dead
    letter's reason and message raised as a :class:`~workers.errors.StageError`."""
    from workers.errors import StageError

    def run(message: InputMessage) -> dict[str, Any]:
        outgoing = processor.process(message)
        record = orjson.loads(outgoing.value)
        if outgoing.outcome != "ok":
            raise StageError(outgoing.outcome, record["error"]["message"])
        return record

    return run


_URL_OPTION = click.option(
    "--url", help="URL to record for the page (default: from a manifest.json, else file://)."
)
_TEXT_OPTION = click.option("--text", "text_only", is_flag=True, help="Print only the text.")
_FILES = click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)


@click.command()
@_FILES
@_URL_OPTION
@_TEXT_OPTION
def clean(files: tuple[Path, ...], url: str | None, text_only: bool) -> None:
    """Run the cleaning stage on local HTML files; print articles-clean.v1 JSON lines."""
    _run_local("clean", files, url, text_only)


@click.command()
@_FILES
@_URL_OPTION
@_TEXT_OPTION
def enrich(files: tuple[Path, ...], url: str | None, text_only: bool) -> None:
    """Clean then enrich local HTML files; print articles-enriched.v1 JSON lines."""
    _run_local("enrich", files, url, text_only)
