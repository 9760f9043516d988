"""Kafka tools: produce pages, tail a topic, consumer lag, the pipeline's topics."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click
import orjson

from workers.cli.common import pass_settings, run
from workers.pipeline import consumer_groups
from workers.settings import Settings


@click.command()
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
                iter_records(paths, url_prefix, bar.update, max_body_bytes=settings.max_html_bytes),
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


@click.command()
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


@click.command()
@click.option("-g", "--group", "groups", multiple=True, help="GROUP=TOPIC (default: both stages).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per partition.")
@click.option(
    "--serve",
    "port",
    type=click.IntRange(1, 65535),
    help="Run as a Prometheus exporter on this port (/metrics) instead of printing once.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=1.0),
    default=15.0,
    show_default=True,
    help="With --serve: seconds between two reads of the groups' offsets.",
)
@pass_settings
def lag(
    settings: Settings, groups: tuple[str, ...], as_json: bool, port: int | None, interval: float
) -> None:
    """Show consumer lag per group and partition: committed, end, lag, lag in seconds.

    With --serve PORT, publish the same as Prometheus series, read from the brokers every
    --interval seconds: the lag stays visible when no worker of a stage runs."""
    from workers.kafka.lag import consumer_lag, format_table

    wanted = dict(g.split("=", 1) for g in groups) if groups else consumer_groups(settings)
    if port is not None:
        from workers.ops import logs
        from workers.ops.lag_exporter import serve

        logs.configure(settings.log_level, settings.log_format)
        try:
            asyncio.run(serve(settings, wanted, port, interval))
        except OSError as exc:
            raise click.ClickException(
                f"cannot serve on {settings.web_host}:{port}: {exc.strerror} "
                "(choose another --serve PORT, or NEWSFLOW_WEB_HOST)"
            ) from exc
        return
    rows = run(consumer_lag(settings, wanted), settings)
    if as_json:
        for row in rows:
            click.echo(orjson.dumps(row.as_dict()).decode())
    else:
        click.echo(format_table(rows))


@click.group()
def topics() -> None:
    """Create or list the pipeline's topics."""


@topics.command("create")
@click.option("-p", "--partitions", type=int, help="Partitions (default NEWSFLOW_PARTITIONS).")
@click.option(
    "-r",
    "--replication-factor",
    type=click.IntRange(min=1),
    help="Replicas of each topic (default NEWSFLOW_REPLICATION_FACTOR, 3).",
)
@click.option(
    "--min-insync-replicas",
    type=click.IntRange(min=1),
    help="The topics' min.insync.replicas (default NEWSFLOW_MIN_INSYNC_REPLICAS, "
    "replication factor - 1).",
)
@pass_settings
def topics_create(
    settings: Settings,
    partitions: int | None,
    replication_factor: int | None,
    min_insync_replicas: int | None,
) -> None:
    """Create the raw, clean, enriched and dead-letter topics (existing ones are kept, and
    shown with how they differ from the settings); returns once every partition has a leader."""
    from workers.kafka.topics import TopicSettingsError, create_topics

    overrides = {
        "replication_factor": replication_factor,
        "min_insync_replicas": min_insync_replicas,
    }
    try:
        settings = Settings.model_validate(
            {**settings.model_dump(), **{k: v for k, v in overrides.items() if v is not None}}
        )
        created = run(create_topics(settings, partitions, warn=_warn), settings)
    except (ValueError, TopicSettingsError) as exc:
        raise click.ClickException(_first_line(exc)) from exc
    for name, state in created.items():
        click.echo(f"{name}\t{state}")


def _warn(warning: str) -> None:
    click.echo(f"warning: {warning}", err=True)


def _first_line(exc: Exception) -> str:
    # pydantic's ValidationError wraps the validator's message in a report of several lines.
    errors = getattr(exc, "errors", None)
    return errors()[0]["msg"].removeprefix("Value error, ") if callable(errors) else str(exc)


@topics.command("list")
@pass_settings
def topics_list(settings: Settings) -> None:
    """List the broker's topics."""
    from workers.kafka.topics import list_topics

    for name in run(list_topics(settings), settings):
        click.echo(name)
