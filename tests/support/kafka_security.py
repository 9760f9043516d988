"""Apache Kafka with a SASL_SSL listener, SCRAM-SHA-512 users and ACLs, for the tests.

:class:`SecureKafkaCluster` is the launcher's one-node cluster with, made at start:

- a throwaway CA and a broker certificate for 127.0.0.1/localhost
  (:mod:`tests.support.tls`; Kafka reads them as PEM, no keystore tool needed);
- SCRAM-SHA-512 users written at format time by Kafka's own storage tool: ``admin`` (super
  user, and the broker's own inter-broker login) and one ``newsflow-<role>`` principal per
  role, each with a random password;
- the KRaft ``StandardAuthorizer`` with ``allow.everyone.if.no.acl.found=false``, and the
  recommended ACLs: deploy/kafka-acls.sh as shipped, run with Kafka's ``kafka-acls`` tool.

The controller listener stays PLAINTEXT on loopback; its principal (ANONYMOUS) is a super
user so that the node's broker half can talk to its controller half.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from tests.support.kafka import KafkaCluster, KafkaUnavailable, kafka_jars
from tests.support.paths import REPO
from tests.support.tls import make_broker_keystore, make_certificate_authority
from workers.local.broker import free_port
from workers.settings import Settings

ACL_SCRIPT = REPO / "deploy" / "kafka-acls.sh"
# One principal per role, as deploy/kafka-acls.sh names them.
ROLES = ("crawler", "clean", "enrich", "consumer", "ops", "lag-exporter", "replay")
MECHANISM = "SCRAM-SHA-512"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"


def _jaas(user: str, password: str) -> str:
    module = "org.apache.kafka.common.security.scram.ScramLoginModule"
    return f'{module} required username="{user}" password="{password}";'


class SecureKafkaCluster(KafkaCluster):
    """``with SecureKafkaCluster(folder) as kafka: kafka.settings_for("clean", base)``.

    One node. ``passwords`` holds every user's password (``admin`` and the role
    principals ``newsflow-<role>``); ``ca_file`` is the CA the clients must trust. The ACLs
    of deploy/kafka-acls.sh are applied for ``acl_settings`` (its topics and groups).
    """

    def __init__(
        self,
        folder: Path,
        acl_settings: Settings,
        *,
        heap_mb: int = 384,
        plaintext_listener: bool = False,
    ):
        super().__init__(1, folder=folder, heap_mb=heap_mb)
        self.acl_settings = acl_settings
        self.passwords = {"admin": secrets.token_urlsafe(18)}
        for role in ROLES:
            self.passwords[f"newsflow-{role}"] = secrets.token_urlsafe(18)
        self.tls_folder = folder / "tls"
        self.tls_folder.mkdir(parents=True, exist_ok=True)
        self.ca_file, ca_key = make_certificate_authority(self.tls_folder, "newsflow-test-ca")
        keystore = make_broker_keystore(self.tls_folder, self.ca_file, ca_key)
        self.admin_config = self._client_properties("admin")
        node = self.nodes[0]
        # For benchmarks only: a PLAINTEXT listener beside it, whose clients are ANONYMOUS.
        self.plaintext_bootstrap = f"127.0.0.1:{free_port()}" if plaintext_listener else None
        plain = f",PLAIN://{self.plaintext_bootstrap}" if plaintext_listener else ""
        self.config.update(
            {
                "listeners": f"SASL_SSL://{node.bootstrap},CONTROLLER://127.0.0.1:"
                f"{node.controller_port}{plain}",
                "advertised.listeners": f"SASL_SSL://{node.bootstrap}{plain}",
                "inter.broker.listener.name": "SASL_SSL",
                "listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT"
                + (",PLAIN:PLAINTEXT" if plaintext_listener else ""),
                "sasl.enabled.mechanisms": MECHANISM,
                "sasl.mechanism.inter.broker.protocol": MECHANISM,
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": _jaas(
                    "admin", self.passwords["admin"]
                ),
                "ssl.keystore.type": "PEM",
                "ssl.keystore.location": str(keystore),
                "ssl.truststore.type": "PEM",
                "ssl.truststore.location": str(self.ca_file),
                "authorizer.class.name": AUTHORIZER,
                "allow.everyone.if.no.acl.found": "false",
                "super.users": "User:admin;User:ANONYMOUS",
            }
        )

    def _client_properties(self, user: str) -> Path:
        """A Kafka client config file (for the command-line tools) logging in as ``user``."""
        path = self.tls_folder / f"{user}.properties"
        path.write_text(
            "security.protocol=SASL_SSL\n"
            f"sasl.mechanism={MECHANISM}\n"
            f"sasl.jaas.config={_jaas(user, self.passwords[user])}\n"
            "ssl.truststore.type=PEM\n"
            f"ssl.truststore.location={self.ca_file}\n"
        )
        path.chmod(0o600)
        return path

    def settings_for(self, user: str, base: Settings) -> Settings:
        """``base`` logging in as ``user`` (a role's principal, or ``admin``) over SASL_SSL."""
        return base.model_copy(
            update={
                "bootstrap_servers": self.bootstrap,
                "security_protocol": "SASL_SSL",
                "sasl_mechanism": MECHANISM,
                "sasl_username": user,
                "sasl_password": self.passwords[user],
                "ssl_cafile": str(self.ca_file),
            }
        )

    def start(self, timeout_s: float = 120.0) -> SecureKafkaCluster:
        self._format_with_users()
        super().start(timeout_s)
        self.apply_acls()
        return self

    def apply_acls(self) -> None:
        """Run deploy/kafka-acls.sh, as shipped, for ``acl_settings``' topics and groups."""
        node = self.nodes[0]
        tool = self.tls_folder / "kafka-acls"
        command = node.java(kafka_jars(), "kafka.admin.AclCommand", log4j="tools-log4j.properties")
        tool.write_text("#!/bin/sh\nexec " + shlex.join(command) + ' "$@"\n')
        tool.chmod(0o700)
        env = {
            **os.environ,
            **self.acl_settings.as_env(),
            "KAFKA_ACLS": str(tool),
            "BOOTSTRAP": self.bootstrap,
            "ADMIN_CONFIG": str(self.admin_config),
        }
        done = subprocess.run(["sh", str(ACL_SCRIPT)], env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise KafkaUnavailable(f"deploy/kafka-acls.sh failed:\n{done.stderr[-3000:]}")

    def _format_with_users(self) -> None:
        """Format the data dir with every SCRAM user (the launcher then skips formatting)."""
        node = self.nodes[0]
        if (node.folder / "data" / "meta.properties").exists():
            return
        jars = kafka_jars()
        node.folder.mkdir(parents=True, exist_ok=True)
        config = node.folder / "server.properties"
        config.write_text(node.properties(self.voters, self.config))
        users = [f"{MECHANISM}=[name={u},password={p}]" for u, p in self.passwords.items()]
        command = node.java(jars, "kafka.tools.StorageTool", "format", "-t", self.cluster_id)
        command += ["-c", str(config)]
        for user in users:
            command += ["--add-scram", user]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise KafkaUnavailable(f"formatting the SASL_SSL node failed (exit {done.returncode})")

    def wait_ready(self, timeout_s: float) -> None:
        """Until the admin, logged in over SASL_SSL, sees the broker."""
        deadline = time.monotonic() + timeout_s
        admin = self.settings_for("admin", Settings())
        while True:
            node = self.nodes[0]
            if not node.running():
                tail = node.log_path.read_text(errors="replace")[-3000:]
                raise KafkaUnavailable(f"Kafka node {node.node_id} exited:\n{tail}")
            if _broker_count(admin) >= 1:
                return
            if time.monotonic() > deadline:
                raise KafkaUnavailable(f"Kafka did not come up in {timeout_s} s ({self.folder})")
            time.sleep(0.5)

    def tool(self, main: str, *args: str, timeout_s: float = 120) -> str:
        """One of Kafka's command-line tools, logged in as admin."""
        return super().tool(
            main, "--command-config", str(self.admin_config), *args, timeout_s=timeout_s
        )


def _broker_count(settings: Settings) -> int:
    async def describe() -> int:
        admin = AIOKafkaAdminClient(**settings.kafka_client_kwargs(), request_timeout_ms=5000)
        try:
            await admin.start()
            return len((await admin.describe_cluster())["brokers"])
        except Exception:  # not up yet, whatever the client says
            return 0
        finally:
            await admin.close()

    seen = [0]

    def run() -> None:
        seen[0] = asyncio.run(describe())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(30)
    return seen[0]


def write_env_files(kafka: SecureKafkaCluster, folder: Path) -> list[Path]:
    """One ``<role>.env`` per principal (and ``admin.env``): the NEWSFLOW_* connection
    settings that log in as it (and the replication factor the cluster allows), readable by
    the owner only."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for user in kafka.passwords:
        settings = kafka.settings_for(user, kafka.acl_settings)
        keys = ("bootstrap_servers", "security_protocol", "sasl_mechanism", "sasl_username")
        lines = [f"NEWSFLOW_{key.upper()}={getattr(settings, key)}" for key in keys]
        lines += [f"NEWSFLOW_SASL_PASSWORD={settings.sasl_password}"]
        lines += [f"NEWSFLOW_SSL_CAFILE={settings.ssl_cafile}"]
        lines += [f"NEWSFLOW_REPLICATION_FACTOR={min(3, len(kafka.nodes))}"]  # topics create
        path = folder / f"{user.removeprefix('newsflow-')}.env"
        path.touch(mode=0o600)
        path.write_text("\n".join(lines) + "\n")
        written.append(path)
    return written


def main(folder: Path) -> None:
    """Run a SASL_SSL Kafka with the default topic and group names' ACLs until Ctrl-C or
    SIGTERM; the role's settings are in ``FOLDER/<role>.env``."""
    for stale in folder.glob("*.env"):  # a previous run's: they appear once this one is up
        stale.unlink()
    kafka = SecureKafkaCluster(folder / "kafka", Settings())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with kafka:
        env_files = write_env_files(kafka, folder)
        print(f"SASL_SSL Kafka at {kafka.bootstrap}; settings per role in:", flush=True)
        for path in env_files:
            print(f"  {path}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main(
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(tempfile.mkdtemp(prefix="newsflow-secure-"))
    )
