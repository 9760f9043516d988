"""Before a worker loads its models: the start-up failures a user can cause, each told as one
line naming the setting to change (the command prints it and exits 1).

- the web port already taken (``NEWSFLOW_WEB_PORT``: another worker on the same host);
- Kafka not answering within ``NEWSFLOW_STARTUP_WAIT_S`` (``NEWSFLOW_BOOTSTRAP_SERVERS``);
- a topic of the stage missing (``newsflow topics create``, or the ``NEWSFLOW_TOPIC_*``
  setting naming it): workers never create topics;
- ``NEWSFLOW_PROCESSING_GUARANTEE=exactly_once`` on a broker without transactions.

Access problems (a refused login, a missing ACL) are left to
:mod:`workers.ops.access_gate`, which waits for a fix while serving the reason on
``/readyz``; so is Redis, which a worker waits for (``/readyz`` names ``NEWSFLOW_REDIS_URL``).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import time

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError, TopicAuthorizationFailedError

from workers.kafka import clients
from workers.kafka.access import login_problem
from workers.kafka.tail import topic_partitions
from workers.pipeline import STAGES
from workers.settings import Settings

log = logging.getLogger("newsflow.startup")
# Between two attempts to reach Kafka.
_RETRY_S = 2.0


class StartupError(Exception):
    """A worker cannot start; ``str()`` is one line naming the setting to change."""


def check_web_port(stage: str, settings: Settings) -> None:
    """Fail now, not after the models loaded, when the web port is taken."""
    probe = socket.socket(socket.AF_INET6 if ":" in settings.web_host else socket.AF_INET)
    # As the web server binds: SO_REUSEADDR lets a port in TIME_WAIT go, not one listened on.
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((settings.web_host, settings.web_port))
        probe.listen()
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise StartupError(
                f"cannot serve /metrics on {settings.web_host}:{settings.web_port} "
                f"({exc.strerror}): check NEWSFLOW_WEB_HOST and NEWSFLOW_WEB_PORT"
            ) from exc
        raise StartupError(
            f"port {settings.web_port} ({settings.web_host}) is in use, by another worker on "
            f"this host?: give each worker its own NEWSFLOW_WEB_PORT "
            f"(e.g. NEWSFLOW_WEB_PORT={settings.web_port + 1} newsflow worker {stage})"
        ) from exc
    finally:
        probe.close()


def _topic_settings(settings: Settings) -> dict[str, str]:
    return {
        settings.topic_raw: "NEWSFLOW_TOPIC_RAW",
        settings.topic_clean: "NEWSFLOW_TOPIC_CLEAN",
        settings.topic_enriched: "NEWSFLOW_TOPIC_ENRICHED",
        settings.topic_dead_letter: "NEWSFLOW_TOPIC_DEAD_LETTER",
    }


async def _missing_topics(settings: Settings, topics: list[str]) -> list[str]:
    """The topics of ``topics`` the cluster does not have (one the principal may not see is
    the access gate's to report)."""
    missing = []
    async with clients.admin(settings) as admin:
        for topic in topics:
            try:
                await topic_partitions(admin, topic)
            except LookupError:
                missing.append(topic)
            except TopicAuthorizationFailedError:
                continue
    return missing


async def _check_kafka(stage: str, settings: Settings) -> None:
    spec = STAGES[stage]
    topics = [spec.input_topic(settings), spec.output_topic(settings), settings.topic_dead_letter]
    deadline = time.monotonic() + settings.startup_wait_s
    while True:
        try:
            missing = await _missing_topics(settings, topics)
            break
        except KafkaConnectionError:
            if await login_problem(settings) is not None:
                return  # reachable, but it refuses us: the access gate's to report
            if time.monotonic() >= deadline:
                raise StartupError(
                    f"cannot reach Kafka at {settings.bootstrap_servers} after "
                    f"{settings.startup_wait_s:g} s: check NEWSFLOW_BOOTSTRAP_SERVERS (or wait "
                    "longer with NEWSFLOW_STARTUP_WAIT_S)"
                ) from None
            log.warning(
                "Kafka not reachable yet; waiting",
                extra={"stage": stage, "bootstrap": settings.bootstrap_servers},
            )
            await asyncio.sleep(_RETRY_S)
    if missing:
        names = _topic_settings(settings)
        listed = ", ".join(f"{topic} ({names[topic]})" for topic in missing)
        verb = "does not exist" if len(missing) == 1 else "do not exist"
        raise StartupError(
            f"{'topic' if len(missing) == 1 else 'topics'} {listed} {verb} and workers never "
            "create topics: run `newsflow topics create`, or set the setting named to the "
            "topic's name"
        )


# How long the start-up probe of transactions may take (a broker without them may retry).
_TRANSACTIONS_PROBE_S = 20.0


async def _check_transactions(stage: str, settings: Settings) -> None:
    """With exactly_once, a transactional producer must start (InitProducerId): a broker
    without transactions (the embedded one) fails here rather than mid-stream."""
    probe = AIOKafkaProducer(
        **settings.kafka_client_kwargs(),
        transactional_id=f"{STAGES[stage].group(settings)}-startup-probe",
        enable_idempotence=True,
        acks="all",
    )
    try:
        await asyncio.wait_for(probe.start(), _TRANSACTIONS_PROBE_S)
    except (KafkaError, TimeoutError) as exc:
        reason = (
            type(exc).__name__ if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
        )
        raise StartupError(
            f"the broker at {settings.bootstrap_servers} does not support Kafka transactions "
            f"({reason}): NEWSFLOW_PROCESSING_GUARANTEE=exactly_once needs a broker with "
            "them (Apache Kafka); set NEWSFLOW_PROCESSING_GUARANTEE=at_least_once"
        ) from None
    finally:
        await probe.stop()


def check_kafka(stage: str, settings: Settings) -> None:
    """Wait up to NEWSFLOW_STARTUP_WAIT_S for Kafka to answer, then check that the stage's
    topics exist (blocking; on a loop of its own, so faust later starts on a fresh one)."""
    # aiokafka logs every refused connection at ERROR: one line of ours says it instead.
    quiet = logging.getLogger("aiokafka")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(_check_kafka(stage, settings))
        if settings.processing_guarantee == "exactly_once":
            loop.run_until_complete(_check_transactions(stage, settings))
    finally:
        loop.close()
        quiet.setLevel(level)
