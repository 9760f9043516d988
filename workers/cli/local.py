"""Local development: the embedded broker and the demo."""

from __future__ import annotations

import sys

import click


@click.command()
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


@click.command()
@click.option("--timeout", type=float, default=120.0, show_default=True)
@click.option("-p", "--partitions", type=int, default=3, show_default=True)
def demo(timeout: float, partitions: int) -> None:
    """Run the whole pipeline on an embedded broker with the bundled sample pages."""
    from workers.local.demo import run_demo

    sys.exit(run_demo(timeout, partitions))
