"""``newsflow``: the one command-line entry point.

Small commands that compose in a shell, in the manner of kcat: records go to stdout as JSON
lines, progress and summaries to stderr, and the exit status says whether everything worked.
Connection and topic settings come from ``NEWSFLOW_*`` environment variables; ``-b`` overrides
the bootstrap servers for one command.
"""

from __future__ import annotations

import click
from pydantic import ValidationError

from workers.cli import dlq, kafka, local, stages
from workers.settings import describe_invalid, get_settings


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
    try:
        settings = get_settings()
    except ValidationError as exc:
        raise click.ClickException(describe_invalid(exc)) from None
    if bootstrap_servers:
        settings = settings.model_copy(update={"bootstrap_servers": bootstrap_servers})
    ctx.obj = settings


for command in (
    stages.worker,
    stages.clean,
    stages.enrich,
    stages.build_data,
    kafka.produce,
    kafka.tail,
    kafka.lag,
    kafka.topics,
    dlq.dlq,
    local.broker,
    local.demo,
):
    main.add_command(command)
