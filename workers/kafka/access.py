"""Broker errors that no retry can fix, each told as one sentence naming the setting to fix.

A login the broker refuses (``NEWSFLOW_SASL_*``), a broker certificate the client does not
trust (``NEWSFLOW_SSL_CAFILE``), one that does not name the host the client connected to
(``NEWSFLOW_BOOTSTRAP_SERVERS``) and a principal without the ACL it needs (the principal in
``NEWSFLOW_SASL_USERNAME``, the ACLs of deploy/kafka-acls.sh). aiokafka reports the first three
only as "Unable to bootstrap", so :func:`login_problem` makes one connection of its own to
learn why. No message ever names a password.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.conn import create_conn
from aiokafka.errors import (
    AuthenticationFailedError,
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)
from aiokafka.structs import TopicPartition

from workers.settings import Settings

_TOPIC_AUTHORIZATION_FAILED = TopicAuthorizationFailedError.errno
_TIMEOUT_S = 10.0
# OpenSSL's X509_V_ERR_HOSTNAME_MISMATCH and X509_V_ERR_IP_ADDRESS_MISMATCH.
_NAME_MISMATCH = (62, 64)
ACL_HINT = (
    "grant it as deploy/kafka-acls.sh does, or set NEWSFLOW_SASL_USERNAME to the role's principal"
)


class AccessDenied(Exception):
    """The broker will not let this client in, or not at what it needs; ``str()`` says
    which setting to fix."""


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _who(settings: Settings) -> str:
    if settings.sasl_mechanism:
        return f"principal {settings.sasl_username!r}"
    return f"this client ({settings.security_protocol}, no SASL)"


def explain(exc: BaseException, settings: Settings) -> str | None:
    """The reason, naming the setting to fix, if ``exc`` (or what caused it) is an access
    error; None for anything else (an unreachable broker, a missing topic...)."""
    for cause in _causes(exc):
        if isinstance(cause, SaslAuthenticationFailed | AuthenticationFailedError):
            return (
                f"Kafka refused the {settings.sasl_mechanism} login of user "
                f"{settings.sasl_username!r}: check NEWSFLOW_SASL_USERNAME and "
                "NEWSFLOW_SASL_PASSWORD"
            )
        if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_code in _NAME_MISMATCH:
            # Signed by a trusted CA, but for other names: the CA file is not what to change.
            return (
                f"the broker's TLS certificate does not name the host connected to "
                f"({cause.verify_message}): set NEWSFLOW_BOOTSTRAP_SERVERS to a host name or "
                f"address the certificate holds (now {settings.bootstrap_servers})"
            )
        if isinstance(cause, ssl.SSLCertVerificationError):
            trusted = settings.ssl_cafile or "the system CAs"
            return (
                f"the broker's TLS certificate is not trusted ({cause.verify_message}): set "
                f"NEWSFLOW_SSL_CAFILE to the CA that signed it (now {trusted})"
            )
        if isinstance(cause, ssl.SSLError):
            return (
                f"TLS handshake with Kafka failed ({cause.reason}): check "
                "NEWSFLOW_SECURITY_PROTOCOL and NEWSFLOW_SSL_CAFILE"
            )
        if isinstance(cause, TopicAuthorizationFailedError):
            topics = ", ".join(str(a) for a in cause.args) or "a topic"
            return f"{_who(settings)} lacks an ACL on topic {topics}: {ACL_HINT}"
        if isinstance(cause, GroupAuthorizationFailedError):
            return f"{_who(settings)} lacks an ACL on its consumer group: {ACL_HINT}"
        if isinstance(cause, ClusterAuthorizationFailedError):
            # What a producer without Write on any topic gets for its producer id.
            return f"{_who(settings)} may not write to Kafka (no Write ACL): {ACL_HINT}"
    return None


async def login_problem(settings: Settings) -> str | None:
    """Why no connection to the bootstrap servers succeeds, when it is an access error:
    one connection per server, the first answer wins (None: unreachable or fine)."""
    kwargs = settings.kafka_client_kwargs()
    del kwargs["bootstrap_servers"]
    for server in settings.bootstrap_list:
        host, _, port = server.rpartition(":")
        try:
            conn = await asyncio.wait_for(
                create_conn(host, int(port), request_timeout_ms=int(_TIMEOUT_S * 1000), **kwargs),
                _TIMEOUT_S,
            )
        except Exception as exc:  # refused, timed out, or an access error
            reason = explain(exc, settings)
            if reason is not None:
                return reason
            continue
        conn.close()
        return None
    return None


async def worker_access_problem(
    settings: Settings, read: str, group: str, writes: list[str]
) -> str | None:
    """Whether a worker's principal can log in, see its input, output and dead-letter
    topics (Read and Write imply Describe) and use its group: the reason if not.

    A principal with Describe but not Write on an output is not caught here; its first
    send fails instead (the worker stops without acking, see workers.runtime.app).
    """
    admin = AIOKafkaAdminClient(**settings.kafka_client_kwargs(), request_timeout_ms=10_000)
    try:
        await admin.start()
        topics = await admin.describe_topics([read, *writes])
        denied = [t["topic"] for t in topics if t["error_code"] == _TOPIC_AUTHORIZATION_FAILED]
        if denied:
            return explain(TopicAuthorizationFailedError(*denied), settings)
        await admin.list_consumer_group_offsets(group, partitions=[TopicPartition(read, 0)])
        return None
    except KafkaConnectionError:
        return await login_problem(settings)
    except Exception as exc:  # anything else is the worker's own business, not a gate's
        return explain(exc, settings)
    finally:
        await admin.close()
