"""A redis-server of a test's own: a free loopback port, a folder of its own, the options the
deployment runs Redis with (docker-compose.yml), and a restart on the same folder. Never the
shared Redis on 6379."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from tests.support.paths import REPO
from workers.local.broker import free_port, wait_for_port


def deployed_options() -> list[str]:
    """The options docker-compose.yml gives redis-server, but for its data folder."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    command = compose["services"]["redis"]["command"]
    options = dict(zip(command[1::2], command[2::2], strict=True))
    options.pop("--dir", None)
    return [word for pair in options.items() for word in pair]


class RedisServer:
    def __init__(self, folder: Path, options: list[str]):
        self.folder = folder
        self.options = options
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), *self.options],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        log.close()
        wait_for_port("127.0.0.1", self.port, 30)

    def kill(self) -> None:
        """SIGKILL: no save on the way out; only what it wrote to its files is left."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()
