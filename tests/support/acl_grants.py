"""deploy/kafka-acls.sh read as data, and each operation a principal may or may not do, tried
as the one broker request that does it.

:func:`script_grants` parses the script's ``acls`` lines (principals, operations, topics,
groups, prefixed patterns), with its topic and group variables resolved from a
:class:`~workers.settings.Settings`; an option it does not know fails the parse, so a new
kind of grant in the script cannot go untested. :func:`operations` lists what the tests try
(produce, fetch, commit offsets, create a topic, describe a topic or a group) and
:func:`allowed` whether the grants allow one, with Kafka's rule that Read and Write imply
Describe. :func:`attempt` sends the operation's request itself (not a client's metadata
look-up before it) and returns the error codes the broker answered.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiokafka.client import AIOKafkaClient, CoordinationType
from aiokafka.errors import (
    CoordinatorLoadInProgressError,
    CoordinatorNotAvailableError,
    GroupAuthorizationFailedError,
    NotCoordinatorError,
    TopicAuthorizationFailedError,
)
from aiokafka.protocol.admin import CreateTopicsRequest, DescribeGroupsRequest
from aiokafka.protocol.commit import OffsetCommitRequest
from aiokafka.protocol.fetch import FetchRequest
from aiokafka.protocol.metadata import MetadataRequest
from aiokafka.protocol.produce import ProduceRequest
from aiokafka.protocol.struct import Struct
from aiokafka.protocol.types import Array, Schema
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from tests.support.waiting import eventually_async
from workers.settings import Settings

TOPIC_DENIED = TopicAuthorizationFailedError.errno
GROUP_DENIED = GroupAuthorizationFailedError.errno
# What a broker answers while its group coordinator is still loading (the first group request
# creates __consumer_offsets): not an answer about rights, so the request is sent again.
COORDINATOR_NOT_YET = {
    CoordinatorLoadInProgressError.errno,
    CoordinatorNotAvailableError.errno,
    NotCoordinatorError.errno,
}
_VARIABLE = re.compile(r'^(\w+)="\$\{(\w+):-([^}]*)\}"$')


@dataclass(frozen=True)
class Grant:
    principal: str  # without "User:"
    operation: str  # Read, Write, Describe...
    kind: str  # "topic" or "group"
    name: str
    prefixed: bool = False

    def covers(self, operation: str, kind: str, name: str) -> bool:
        implied = operation == "Describe" and self.operation in ("Read", "Write")
        named = name.startswith(self.name) if self.prefixed else name == self.name
        return self.kind == kind and named and (self.operation in (operation, "All") or implied)


@dataclass(frozen=True)
class Operation:
    """One thing a client may try: ``action`` on ``kind`` ``name`` (a commit names the group
    and the topic it commits for)."""

    action: str  # produce, fetch, commit, create, describe
    kind: str
    name: str
    topic: str = ""

    def __str__(self) -> str:
        on = f" for {self.topic}" if self.topic else ""
        return f"{self.action} {self.kind} {self.name}{on}"


def _commands(text: str) -> list[str]:
    return text.replace("\\\n", " ").splitlines()


def script_grants(script: Path, settings: Settings) -> list[Grant]:
    """Every grant ``script`` adds, for ``settings``' topic and group names."""
    env = settings.as_env()
    values: dict[str, str] = {}
    grants: list[Grant] = []
    for line in _commands(script.read_text()):
        line = line.strip()
        variable = _VARIABLE.match(line)
        if variable:
            name, setting, default = variable.groups()
            values[name] = env.get(setting, default)
            continue
        if not line.startswith("acls "):
            continue
        words = shlex.split(line)[1:]
        options: dict[str, list[str]] = {}
        for option, value in zip(words[::2], words[1::2], strict=True):
            options.setdefault(option, []).append(
                re.sub(r"\$(\w+)", lambda m: values[m.group(1)], value)
            )
        unknown = set(options) - {
            "--allow-principal",
            "--operation",
            "--topic",
            "--group",
            "--resource-pattern-type",
        }
        assert not unknown, f"{script.name}: the tests do not know {sorted(unknown)}"
        prefixed = options.get("--resource-pattern-type", ["literal"]) == ["prefixed"]
        resources = [("topic", t) for t in options.get("--topic", [])]
        resources += [("group", g) for g in options.get("--group", [])]
        for principal in options["--allow-principal"]:
            for operation in options["--operation"]:
                for kind, name in resources:
                    user = principal.removeprefix("User:")
                    grants.append(Grant(user, operation, kind, name, prefixed))
    return grants


def operations(settings: Settings, grants: list[Grant]) -> list[Operation]:
    """What the tests try as each principal: produce to, fetch from and describe each topic;
    describe each group and commit its offsets for its input; create a new topic. The groups
    are the workers' and one under each prefix the script grants."""
    topics = settings.all_topics()
    groups = {settings.clean_group: settings.topic_raw, settings.enrich_group: settings.topic_clean}
    for grant in grants:
        if grant.kind == "group" and grant.prefixed:
            groups[f"{grant.name}-acl-probe"] = settings.topic_enriched
    tried = [Operation(action, "topic", t) for t in topics for action in ("produce", "fetch")]
    tried += [Operation("describe", "topic", t) for t in topics]
    tried += [Operation("describe", "group", g) for g in groups]
    tried += [Operation("commit", "group", g, topic) for g, topic in groups.items()]
    tried.append(Operation("create", "topic", f"{settings.topic_raw}-acl-probe"))
    return tried


def allowed(principal: str, operation: Operation, grants: list[Grant]) -> bool:
    mine = [g for g in grants if g.principal == principal]

    def may(right: str, kind: str, name: str) -> bool:
        return any(g.covers(right, kind, name) for g in mine)

    if operation.action == "produce":
        return may("Write", "topic", operation.name)
    if operation.action == "fetch":
        return may("Read", "topic", operation.name)
    if operation.action == "describe":
        return may("Describe", operation.kind, operation.name)
    if operation.action == "commit":
        return may("Read", "group", operation.name) and may("Read", "topic", operation.topic)
    return may("Create", "topic", operation.name)  # no role has a cluster-wide right


def refusal(operation: Operation, principal: str, grants: list[Grant]) -> int:
    """The error code the broker answers a refused ``operation`` with: a commit is checked
    against its group first, then its topic."""
    if operation.kind != "group":
        return TOPIC_DENIED
    mine = [g for g in grants if g.principal == principal]
    reads_group = any(g.covers("Read", "group", operation.name) for g in mine)
    if operation.action == "commit" and reads_group:
        return TOPIC_DENIED
    return GROUP_DENIED


def _record_batch() -> bytes:
    batch = DefaultRecordBatchBuilder(
        2, 0, 0, producer_id=-1, producer_epoch=-1, base_sequence=-1, batch_size=16384
    )
    batch.append(0, timestamp=None, key=None, value=b"acl probe", headers=[])
    return bytes(batch.build())


def _request(operation: Operation) -> Any:
    if operation.action == "produce":
        return ProduceRequest(None, 1, 10_000, [(operation.name, [(0, _record_batch())])])
    if operation.action == "fetch":
        return FetchRequest(0, 1, 1 << 20, 0, [(operation.name, [(0, 0, 1 << 20)])])
    if operation.action == "commit":
        return OffsetCommitRequest(operation.name, -1, "", -1, [(operation.topic, [(0, 0, "")])])
    if operation.action == "create":
        return CreateTopicsRequest([(operation.name, 1, 1, [], [])], 10_000, False)
    if operation.kind == "group":
        return DescribeGroupsRequest([operation.name])
    return MetadataRequest([operation.name], allow_auto_topic_creation=False)


def _error_codes(schema: Schema, data: Any) -> set[int]:
    """Every ``error_code`` anywhere in a response (a top-level one, per topic, per
    partition, per group); arrays the broker left null hold none."""
    found: set[int] = set()
    for index, (name, kind) in enumerate(zip(schema.names, schema.fields, strict=True)):
        value = data.get_item(name) if isinstance(data, Struct) else data[index]
        if name == "error_code":
            found.add(value)
        elif isinstance(kind, Schema):
            found |= _error_codes(kind, value)
        elif isinstance(kind, Array) and isinstance(kind.array_of, Schema) and value:
            for item in value:
                found |= _error_codes(kind.array_of, item)
    return found


async def groups_ready(client: AIOKafkaClient, group: str) -> None:
    """Look up ``group``'s coordinator (as a principal allowed to): the broker creates
    __consumer_offsets on a first look-up, and until then answers every group request
    NOT_COORDINATOR, whoever asks. COORDINATOR_NOT_AVAILABLE while it is being created."""

    async def found() -> bool:
        try:
            await client.coordinator_lookup(CoordinationType.GROUP, group)
        except CoordinatorNotAvailableError:
            return False
        return True

    await eventually_async(found, 60, f"a coordinator for group {group}")


async def attempt(
    client: AIOKafkaClient, operation: Operation, coordinator_wait_s: float = 30.0
) -> set[int]:
    """Send ``operation``'s request to the (one) broker: the non-zero error codes it
    answered (empty: it was done). An answer that the group coordinator is not loaded yet is
    asked again for up to ``coordinator_wait_s``; after that it is returned as it is."""
    node = next(iter(client.cluster.brokers())).nodeId
    give_up_at = time.monotonic() + coordinator_wait_s
    while True:
        response = await client.send(node, _request(operation))
        codes = _error_codes(response.SCHEMA, response) - {0}
        if not codes & COORDINATOR_NOT_YET or time.monotonic() > give_up_at:
            return codes
        await asyncio.sleep(0.2)
