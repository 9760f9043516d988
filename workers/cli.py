"""``newsflow``: the one command-line entry point.

Small commands that compose in a shell, in the manner of kcat: records go to stdout as JSON
lines, progress and summaries to stderr, and the exit status says whether everything worked.
Connection and topic settings come from ``NEWSFLOW_*`` environment variables; ``-b`` overrides
the bootstrap servers for one command.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

from workers.kafka.replay import ReplaySummary, Selection
from workers.records.message import InputMessage
from workers.settings import Settings, get_settings

T = TypeVar("T")

pass_settings = click.make_pass_decorator(Settings)


def run(coroutine: Coroutine[Any, Any, T], settings: Settings) -> T:
    """Run a Kafka coroutine; unreachable brokers, missing topics and access errors (a
    refused login, an untrusted certificate, a missing ACL) are plain errors."""
    from aiokafka.errors import KafkaConnectionError, KafkaError

    from workers.kafka.access import explain, login_problem

    try:
        return asyncio.run(coroutine)
    except KafkaConnectionError as exc:
        reason = asyncio.run(login_problem(settings))
        if reason is not None:
            raise click.ClickException(reason) from exc
        raise click.ClickException(
            f"cannot reach Kafka at {settings.bootstrap_servers} "
            "(set NEWSFLOW_BOOTSTRAP_SERVERS or -b)"
        ) from exc
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    except KafkaError as exc:
        reason = explain(exc, settings)
        if reason is None:
            raise
        raise click.ClickException(reason) from exc


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "-b",
    "--bootstrap-servers",
    envvar="NEWSFLOW_BOOTSTRAP_SERVERS",
    help="Kafka bootstrap servers (host:port,...). [env NEWSFLOW_BOOTSTRAP_SERVERS]",
)
@click.version_option(package_name="newsflow")
@click.pass_context
def main(ctx: click.Context, bootstrap_servers: str | None) -> None:
    """newsflow: streaming ingestion workers for news (raw HTML → clean → enriched)."""
    settings = get_settings()
    if bootstrap_servers:
        settings = settings.model_copy(update={"bootstrap_servers": bootstrap_servers})
    ctx.obj = settings


# --- workers ---------------------------------------------------------------------------


@main.command()
@click.argument("stage", type=click.Choice(["clean", "enrich"]))
@pass_settings
def worker(settings: Settings, stage: str) -> None:
    """Run a STAGE worker (one consumer-group member) until SIGTERM."""
    from workers.runtime.app import run_worker

    run_worker(stage, settings)  # type: ignore[arg-type]


# --- one stage on local files, no broker -----------------------------------------------


def _local_messages(files: tuple[Path, ...], url: str | None) -> list[tuple[Path, InputMessage]]:
    from workers.kafka.produce import encode_raw, iter_records

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
    from workers.errors import TransientError
    from workers.runtime.processor import StageProcessor

    settings = get_settings()
    cleaner = StageProcessor("clean", settings)
    enricher = StageProcessor("enrich", settings) if stage == "enrich" else None
    failed = 0
    for path, message in _local_messages(files, url):
        try:
            outgoing = cleaner.process(message)
            if enricher is not None and outgoing.outcome == "ok":
                outgoing = enricher.process(InputMessage(outgoing.value, key=outgoing.key))
        except TransientError as exc:
            # A worker would wait and retry; a one-shot command says why it cannot go on.
            raise click.ClickException(
                f"{path}: {exc} (NEWSFLOW_DEDUP_BACKEND=memory and "
                "NEWSFLOW_BOILERPLATE_BACKEND=memory run without Redis)"
            ) from exc
        record = orjson.loads(outgoing.value)
        if outgoing.outcome != "ok":
            # stdout carries only records of the requested kind; failures go to stderr.
            failed += 1
            click.echo(f"{path}: {outgoing.outcome}: {record['error']['message']}", err=True)
            continue
        if text_only:
            click.echo(record["text"] + "\n")
        else:
            click.echo(orjson.dumps(record).decode())
    sys.exit(1 if failed else 0)


_URL_OPTION = click.option(
    "--url", help="URL to record for the page (default: from a manifest.json, else file://)."
)
_TEXT_OPTION = click.option("--text", "text_only", is_flag=True, help="Print only the text.")
_FILES = click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path)
)


@main.command()
@_FILES
@_URL_OPTION
@_TEXT_OPTION
def clean(files: tuple[Path, ...], url: str | None, text_only: bool) -> None:
    """Run the cleaning stage on local HTML files; print articles-clean.v1 JSON lines."""
    _run_local("clean", files, url, text_only)


@main.command()
@_FILES
@_URL_OPTION
@_TEXT_OPTION
def enrich(files: tuple[Path, ...], url: str | None, text_only: bool) -> None:
    """Clean then enrich local HTML files; print articles-enriched.v1 JSON lines."""
    _run_local("enrich", files, url, text_only)


# --- Kafka tools -----------------------------------------------------------------------


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--url-prefix", help="Base URL for HTML files without a manifest entry.")
@click.option("-t", "--topic", help="Target topic (default: the raw topic).")
@click.option("--no-validate", is_flag=True, help="Send records even if they break raw-html.v1.")
@click.option("--no-progress", is_flag=True, help="No progress bar on stderr.")
@pass_settings
def produce(
    settings: Settings,
    paths: tuple[Path, ...],
    url_prefix: str | None,
    topic: str | None,
    no_validate: bool,
    no_progress: bool,
) -> None:
    """Publish pages to the raw topic: HTML files, folders (recursively), raw-html.v1
    JSON-lines files (.jsonl, .ndjson) and WARC files (.warc, .warc.gz; HTML responses only,
    other responses are skipped and counted). Exits 1 if any record failed."""
    from workers.kafka.produce import input_files, iter_records
    from workers.kafka.produce import produce as produce_records

    total = sum(path.stat().st_size for path in input_files(paths))
    with click.progressbar(
        length=total,
        label="reading",
        file=sys.stderr,
        hidden=no_progress,
        show_pos=False,
        show_percent=True,
    ) as bar:
        summary = run(
            produce_records(
                settings,
                iter_records(paths, url_prefix, progress=bar.update),
                topic=topic,
                validate=not no_validate,
            ),
            settings,
        )
    for error in summary.errors:
        click.echo(f"error: {error}", err=True)
    skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(summary.skip_reasons.items()))
    click.echo(
        f"sent {summary.sent}, failed {summary.failed}, skipped {summary.skipped}"
        + (f" ({skipped})" if skipped else "")
        + f", {summary.bytes / 1024:.1f} KiB, {summary.rate:.0f} msg/s, "
        f"{summary.bytes / 1024 / summary.seconds if summary.seconds else 0:.0f} KiB/s "
        f"in {summary.seconds:.2f} s",
        err=True,
    )
    sys.exit(1 if summary.failed else 0)


@main.command()
@click.argument("topic")
@click.option("-e", "--exit", "idle", flag_value=2.0, type=float, help="Exit when idle 2 s.")
@click.option("--idle", type=float, help="Exit after this many seconds without a record.")
@click.option("-c", "--count", type=int, help="Exit after this many records.")
@click.option("--from-end", is_flag=True, help="Only records that arrive from now on.")
@click.option("--envelope", is_flag=True, help="Wrap each value with topic, offset, key, headers.")
@pass_settings
def tail(
    settings: Settings,
    topic: str,
    idle: float | None,
    count: int | None,
    from_end: bool,
    envelope: bool,
) -> None:
    """Print a TOPIC's records as JSON lines (aliases: raw, clean, enriched, dead-letter)."""
    from workers.kafka.tail import as_json, resolve_topic
    from workers.kafka.tail import tail as tail_topic

    async def print_records() -> None:
        async for record in tail_topic(
            settings,
            resolve_topic(settings, topic),
            from_beginning=not from_end,
            idle_timeout_s=idle,
            max_messages=count,
        ):
            click.echo(orjson.dumps(as_json(record, envelope)).decode())

    run(print_records(), settings)


@main.command()
@click.option("-g", "--group", "groups", multiple=True, help="GROUP=TOPIC (default: both stages).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per partition.")
@pass_settings
def lag(settings: Settings, groups: tuple[str, ...], as_json: bool) -> None:
    """Show consumer lag per group and partition: committed, end, lag, lag in seconds."""
    from workers.kafka.lag import consumer_lag, format_table, pipeline_groups

    wanted = dict(g.split("=", 1) for g in groups) if groups else pipeline_groups(settings)
    rows = run(consumer_lag(settings, wanted), settings)
    if as_json:
        for row in rows:
            click.echo(orjson.dumps(row.as_dict()).decode())
    else:
        click.echo(format_table(rows))


@main.group()
def dlq() -> None:
    """Inspect and replay dead letters."""


_DLQ_FILTERS = [
    click.option("-r", "--reason", "reasons", multiple=True, help="Only this reason (repeatable)."),
    click.option("-s", "--stage", "stages", multiple=True, help="Only this stage: clean, enrich."),
    click.option("--id", "ids", multiple=True, help="Only this dead-letter id (repeatable)."),
    click.option("--since", type=click.DateTime(), help="Failed at or after (UTC)."),
    click.option("--until", type=click.DateTime(), help="Failed before (UTC)."),
]


def _dlq_filters(command: Callable[..., None]) -> Callable[..., None]:
    for option in reversed(_DLQ_FILTERS):
        command = option(command)
    return command


def _selection(
    reasons: tuple[str, ...],
    stages: tuple[str, ...],
    ids: tuple[str, ...],
    since: datetime | None,
    until: datetime | None,
) -> Selection:
    return Selection(
        reasons=frozenset(reasons),
        stages=frozenset(stages),
        ids=frozenset(ids),
        since=since.replace(tzinfo=UTC) if since else None,
        until=until.replace(tzinfo=UTC) if until else None,
    )


@dlq.command("list")
@_dlq_filters
@pass_settings
def dlq_list(settings: Settings, **filters: Any) -> None:
    """Print the matching dead letters, one JSON summary per line."""
    from workers.kafka.replay import select

    for record in run(select(settings, _selection(**filters)), settings):
        summary = {k: record[k] for k in ("id", "stage", "reason", "failed_at", "url")}
        summary["error"] = record["error"]["message"]
        summary["source"] = record["source"]
        click.echo(orjson.dumps(summary).decode())


@dlq.command("replay")
@_dlq_filters
@click.option("-n", "--dry-run", is_flag=True, help="Show what would be replayed.")
@pass_settings
def dlq_replay(settings: Settings, dry_run: bool, **filters: Any) -> None:
    """Re-publish the matching dead letters' original messages to their source topics."""
    from workers.kafka.replay import replay, select

    async def go() -> ReplaySummary:
        return await replay(
            settings, await select(settings, _selection(**filters)), dry_run=dry_run
        )

    summary = run(go(), settings)
    for why in summary.skipped:
        click.echo(f"skipped {why}", err=True)
    verb = "would replay" if dry_run else "replayed"
    count = len(summary.selected) - len(summary.skipped) if dry_run else summary.replayed
    click.echo(
        f"selected {len(summary.selected)}, {verb} {count}, skipped {len(summary.skipped)}",
        err=True,
    )
    sys.exit(1 if summary.skipped else 0)


@main.group()
def topics() -> None:
    """Create or list the pipeline's topics."""


@topics.command("create")
@click.option("-p", "--partitions", type=int, help="Partitions (default NEWSFLOW_PARTITIONS).")
@pass_settings
def topics_create(settings: Settings, partitions: int | None) -> None:
    """Create the raw, clean, enriched and dead-letter topics (existing ones are kept)."""
    from workers.kafka.topics import create_topics

    for name, state in run(create_topics(settings, partitions), settings).items():
        click.echo(f"{name}\t{state}")


@topics.command("list")
@pass_settings
def topics_list(settings: Settings) -> None:
    """List the broker's topics."""
    from workers.kafka.topics import list_topics

    for name in run(list_topics(settings), settings):
        click.echo(name)


# --- local development -----------------------------------------------------------------


@main.command()
@click.option("-p", "--port", type=int, default=9092, show_default=True)
def broker(port: int) -> None:
    """Run the embedded Kafka-protocol broker (Tansu, memory storage) on 127.0.0.1:PORT."""
    import signal

    from workers.local.broker import BrokerUnavailable, LocalBroker

    try:
        local = LocalBroker(port).start()
    except BrokerUnavailable as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"broker listening on {local.bootstrap}; Ctrl-C stops it", err=True)
    click.echo(f"export NEWSFLOW_BOOTSTRAP_SERVERS={local.bootstrap}", err=True)
    click.echo("export NEWSFLOW_IDEMPOTENT_PRODUCER=false", err=True)
    stop_signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    try:
        signal.sigwait(stop_signals)
    finally:
        local.stop()


@main.command()
@click.option("--timeout", type=float, default=120.0, show_default=True)
@click.option("-p", "--partitions", type=int, default=3, show_default=True)
def demo(timeout: float, partitions: int) -> None:
    """Run the whole pipeline on an embedded broker with the bundled sample pages."""
    from workers.local.demo import run_demo

    sys.exit(run_demo(timeout, partitions))
