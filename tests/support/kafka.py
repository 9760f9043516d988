"""Apache Kafka in KRaft mode on this machine, for the tests and bench/ (never for production).

The broker comes as the jars Maven resolves from Maven Central for ``kafka-pom.xml`` (the
Kafka version and its logging binding are pinned there, checksums are enforced), cached in
the git-ignored ``.kafka-jars/`` folder. :class:`KafkaCluster` starts one node or N
combined broker+controller nodes (or N broker-only nodes and dedicated controllers) on free
loopback ports, formats their data dirs, waits until the admin client sees every broker, and
stops them. A JVM never outlives the Python process that started it, even when that process
is SIGKILLed (Linux's parent-death signal).

Needs Java 17 and Maven on the PATH (Debian: ``openjdk-17-jre-headless maven``).
"""

from __future__ import annotations

import asyncio
import base64
import ctypes
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from tests.support.paths import REPO
from workers.local.broker import BrokerUnavailable, free_port
from workers.local.processes import stop_process

KAFKA_POM = Path(__file__).with_name("kafka-pom.xml")
JAR_CACHE = REPO / ".kafka-jars"

# Broker settings for a test broker: one copy of the internal topics, groups that form at
# once, and session timeouts as short as the tests' workers ask for (Kafka's floor is 6 s).
TEST_BROKER_CONFIG = {
    "offsets.topic.num.partitions": "1",
    "transaction.state.log.num.partitions": "1",
    "group.initial.rebalance.delay.ms": "0",
    "group.min.session.timeout.ms": "1000",
    "auto.create.topics.enable": "false",
    "num.partitions": "1",
    # Messages as big as the workers' limit allows (the hostile-input test sends 20 MB).
    "message.max.bytes": str(32 * 1024 * 1024),
    "replica.fetch.max.bytes": str(32 * 1024 * 1024),
    "socket.request.max.bytes": str(64 * 1024 * 1024),
}
LOG4J = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
"""
# Command-line tools print their answer on stdout: their own logs go to stderr.
TOOLS_LOG4J = """\
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
"""


class KafkaUnavailable(BrokerUnavailable):
    pass


def kafka_jars(cache: Path = JAR_CACHE) -> Path:
    """The folder holding the broker's jars; Maven resolves them once per pom version."""
    digest = hashlib.sha256(KAFKA_POM.read_bytes()).hexdigest()[:12]
    folder = cache / digest
    if (folder / ".complete").exists():
        return folder
    missing = [tool for tool in ("java", "mvn") if shutil.which(tool) is None]
    if missing:
        raise KafkaUnavailable(
            f"the Kafka test broker needs {' and '.join(missing)} on the PATH "
            "(Debian: apt-get install openjdk-17-jre-headless maven)"
        )
    partial = cache / f"{digest}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    command = ["mvn", "-B", "-q", "--strict-checksums", "-f", str(KAFKA_POM)]
    command += ["dependency:copy-dependencies", "-DincludeScope=runtime"]
    command += [f"-DoutputDirectory={partial}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise KafkaUnavailable(f"Maven could not resolve the Kafka jars:\n{done.stdout[-3000:]}")
    (partial / ".complete").touch()
    try:
        partial.rename(folder)
    except OSError:  # another run got there first
        shutil.rmtree(partial, ignore_errors=True)
    return folder


def cluster_id() -> str:
    """A KRaft cluster id: a UUID in URL-safe base64 without padding (22 characters), never
    starting with '-' (the storage tool would read it as an option; Kafka's own
    ``Uuid.randomUuid`` skips those too)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _die_with_parent() -> None:
    # In the child between fork and exec: SIGKILL when the parent exits, however it exits.
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class KafkaNode:
    """One broker+controller process (or one of the two roles) with its ports, properties
    and data dir."""

    def __init__(
        self,
        node_id: int,
        folder: Path,
        heap_mb: int,
        host: str = "127.0.0.1",
        launcher: Sequence[str] = (),
        roles: str = "broker,controller",
    ):
        self.node_id = node_id
        self.roles = roles
        self.folder = folder
        self.port = free_port()
        self.controller_port = free_port()
        self.heap_mb = heap_mb
        # The address it listens on and advertises, and what its JVM is started under (a
        # network namespace's ``ip netns exec``; nothing by default).
        self.host = host
        self.launcher = list(launcher)
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.folder / "server.log"

    def properties(self, voters: str, overrides: dict[str, str]) -> str:
        config = {
            "process.roles": "broker,controller",
            "node.id": str(self.node_id),
            "controller.quorum.voters": voters,
            "listeners": f"PLAINTEXT://{self.bootstrap},CONTROLLER://{self.host}:"
            f"{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{self.bootstrap}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.folder / "data"),
            **TEST_BROKER_CONFIG,
            **overrides,
        }
        if self.roles != "broker,controller":  # a node of one role listens for that role only
            names = {"broker": "PLAINTEXT", "controller": "CONTROLLER"}[self.roles]
            listeners = config["listeners"].split(",")
            config["process.roles"] = self.roles
            config["listeners"] = ",".join(x for x in listeners if x.startswith(f"{names}://"))
            if self.roles == "controller":
                del config["advertised.listeners"], config["inter.broker.listener.name"]
        return "".join(f"{key}={value}\n" for key, value in config.items())

    def java(self, jars: Path, main: str, *args: str, log4j: str = "log4j.properties") -> list[str]:
        logging = f"-Dlog4j.configuration=file:{self.folder / log4j}"
        heap = f"-Xmx{self.heap_mb}m"
        return ["java", heap, logging, "-cp", f"{jars}/*", main, *args]

    def prepare(self, jars: Path, cluster: str, voters: str, overrides: dict[str, str]) -> None:
        """Write the properties and format the data dir (once: a restart keeps the data)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "log4j.properties").write_text(LOG4J)
        (self.folder / "tools-log4j.properties").write_text(TOOLS_LOG4J)
        config = self.folder / "server.properties"
        config.write_text(self.properties(voters, overrides))
        if (self.folder / "data" / "meta.properties").exists():
            return
        command = self.java(jars, "kafka.tools.StorageTool", "format", "-t", cluster)
        done = subprocess.run([*command, "-c", str(config)], capture_output=True, text=True)
        if done.returncode != 0:
            raise KafkaUnavailable(f"formatting node {self.node_id} failed:\n{done.stdout}")

    def spawn(self, jars: Path) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    *self.launcher,
                    *self.java(jars, "kafka.Kafka", str(self.folder / "server.properties")),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class KafkaCluster:
    """``with KafkaCluster(nodes=1) as kafka: kafka.bootstrap`` -> '127.0.0.1:P1[,...]'.

    ``controllers=C`` makes the ``nodes`` broker-only and adds C controller-only nodes (ids
    after the brokers', in ``self.controllers``): brokers can then die with the quorum alive.

    ``stop()`` then ``start()`` restarts the nodes on the same ports and data; ``kill()``
    SIGKILLs them (a broker outage). Leaving the ``with`` block also deletes the data dir
    when the cluster made it itself.
    """

    def __init__(
        self,
        nodes: int = 1,
        *,
        folder: Path | None = None,
        heap_mb: int = 512,
        config: dict[str, str] | None = None,
        places: Sequence[tuple[str, Sequence[str]]] | None = None,
        controllers: int = 0,
    ):
        """``places``: per node, the address it listens on and advertises and a command
        prefix to start it under (tests/support/netns.py's namespaces); loopback if None."""
        self.own_folder = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="newsflow-kafka-")) if folder is None else folder
        where = list(places) if places is not None else [("127.0.0.1", ())] * nodes
        roles = "broker" if controllers else "broker,controller"
        self.nodes = [
            KafkaNode(n, self.folder / f"node-{n}", heap_mb, *where[n - 1], roles=roles)
            for n in range(1, nodes + 1)
        ]
        self.controllers = [
            KafkaNode(n, self.folder / f"controller-{n}", heap_mb, roles="controller")
            for n in range(nodes + 1, nodes + controllers + 1)
        ]
        # Internal topics (offsets, transactions) as replicated as the node count allows.
        copies = min(3, nodes)
        self.config = {
            "offsets.topic.replication.factor": str(copies),
            "transaction.state.log.replication.factor": str(copies),
            "transaction.state.log.min.isr": str(min(2, copies)),
            **(config or {}),
        }
        self.cluster_id = cluster_id()

    @property
    def bootstrap(self) -> str:
        return ",".join(node.bootstrap for node in self.nodes)

    @property
    def voters(self) -> str:
        voters = self.controllers or self.nodes
        return ",".join(f"{n.node_id}@{n.host}:{n.controller_port}" for n in voters)

    @property
    def every_node(self) -> list[KafkaNode]:
        return [*self.controllers, *self.nodes]

    def start(self, timeout_s: float = 120.0) -> KafkaCluster:
        jars = kafka_jars()
        for node in self.every_node:
            node.prepare(jars, self.cluster_id, self.voters, self.config)
        for node in self.every_node:
            node.spawn(jars)
        try:
            self.wait_ready(timeout_s)
        except BaseException:
            self.kill()
            raise
        return self

    def wait_ready(self, timeout_s: float) -> None:
        """Until every node's cluster metadata lists every node as a broker (each node learns
        the others from the metadata log in its own time: one that saw all three does not
        mean the next one asked does)."""
        want = {node.node_id for node in self.nodes}
        deadline = time.monotonic() + timeout_s
        while True:
            dead = [node for node in self.every_node if not node.running()]
            if dead:
                tail = dead[0].log_path.read_text(errors="replace")[-3000:]
                raise KafkaUnavailable(f"Kafka node {dead[0].node_id} exited:\n{tail}")
            listening = all(_accepts(node.port, node.host) for node in self.nodes)
            if listening and all(brokers_seen(node.bootstrap) >= want for node in self.nodes):
                return
            if time.monotonic() > deadline:
                raise KafkaUnavailable(f"Kafka did not come up in {timeout_s} s ({self.folder})")
            time.sleep(0.2)

    def stop(self, timeout_s: float = 30.0) -> None:
        """SIGTERM every node (a controlled shutdown), SIGKILL those still up after the wait;
        dedicated controllers last (a broker's controlled shutdown asks them)."""
        for nodes in (self.nodes, self.controllers):
            for node in nodes:
                if node.running():
                    assert node.process is not None
                    node.process.terminate()
            for node in nodes:
                if node.process is not None:
                    stop_process(node.process, timeout_s)

    def tool(self, main: str, *args: str, timeout_s: float = 120) -> str:
        """Run one of Kafka's command-line tools (its main class) from the same jars; returns
        what it printed on stdout. Pass ``--bootstrap-server``, ``self.bootstrap`` to those
        that talk to the cluster."""
        node = self.nodes[0]
        command = node.java(kafka_jars(), main, log4j="tools-log4j.properties")
        done = subprocess.run(
            [*command, *args], capture_output=True, text=True, timeout=timeout_s, check=True
        )
        return done.stdout

    def node(self, node_id: int) -> KafkaNode:
        return next(node for node in self.every_node if node.node_id == node_id)

    def kill_node(self, node_id: int) -> None:
        """SIGKILL one node (a crash: no controlled shutdown, its data stays as it was)."""
        node = self.node(node_id)
        if node.running():
            assert node.process is not None
            node.process.kill()
            node.process.wait()

    def stop_node(self, node_id: int, timeout_s: float = 60.0) -> None:
        """SIGTERM one node and wait for its controlled shutdown (it hands its partition
        leaderships over first); SIGKILL if it takes longer than ``timeout_s``."""
        node = self.node(node_id)
        if node.running():
            assert node.process is not None
            stop_process(node.process, timeout_s)

    def freeze_node(self, node_id: int) -> None:
        """SIGSTOP one node (a hung host: a GC pause, a stalled disk). Its sockets stay open
        and the kernel still accepts connections to it, but nothing answers; clients see no
        error until their request timeouts run out."""
        node = self.node(node_id)
        if node.running():
            assert node.process is not None
            node.process.send_signal(signal.SIGSTOP)

    def thaw_node(self, node_id: int) -> None:
        """SIGCONT a frozen node (harmless on one that runs)."""
        node = self.node(node_id)
        if node.running():
            assert node.process is not None
            node.process.send_signal(signal.SIGCONT)

    def start_node(self, node_id: int) -> None:
        """Start a stopped or killed node again, on its ports and data."""
        node = self.node(node_id)
        if not node.running():
            node.spawn(kafka_jars())

    def kill(self) -> None:
        for node in self.every_node:
            if node.process is not None and node.process.poll() is None:
                node.process.kill()
                node.process.wait()

    def __enter__(self) -> KafkaCluster:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        # Test data: no need to wait out a controlled shutdown (30 s seen).
        self.stop(timeout_s=5)
        if self.own_folder:
            shutil.rmtree(self.folder, ignore_errors=True)


def _accepts(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def brokers_seen(bootstrap: str) -> set[int]:
    """Node ids in the cluster metadata (empty while nothing answers). Runs its own event
    loop in a thread, so it works inside a running loop as well."""

    async def describe() -> set[int]:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
            return {broker["node_id"] for broker in cluster["brokers"]}
        except Exception:  # not up yet, whatever the client says
            return set()
        finally:
            await admin.close()

    seen: set[int] = set()

    def run() -> None:
        seen.update(asyncio.run(describe()))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    return seen
