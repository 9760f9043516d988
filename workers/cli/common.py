"""What every command shares: the settings object and running a Kafka coroutine."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from workers.settings import Settings

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
