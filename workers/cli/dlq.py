"""``newsflow dlq``: inspect and replay dead letters."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click
import orjson

from workers.cli.common import pass_settings, run
from workers.kafka.replay import ReplaySummary, Selection
from workers.settings import Settings


@click.group()
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
