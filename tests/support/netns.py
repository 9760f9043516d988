"""A private test network for Kafka nodes that can be cut off while they keep running.

One Linux bridge in the root namespace holds ``10.231.N.1/24`` (a /24 of 10.231.0.0/16 no
address or route of this machine touches); each node gets a network namespace of its own
with one end of a veth pair and the address ``10.231.N.(10 + i)``, the other end plugged into
the bridge. Clients stay in the root namespace and reach the nodes through the bridge.
:meth:`TestNetwork.isolate` sets a node's bridge-side veth down: from then on no frame passes
between that node and anything else (the other nodes, the clients), in either direction,
while its process runs on; :meth:`TestNetwork.heal` sets it up again. Real packets dropped,
no connection reset, no signal.

Needs root and ``ip`` (iproute2). Names carry the creating process's id (``nfnet<pid>-<i>``,
``nfbr<pid>``, ``nfv<pid>-<i>``), so parallel runs never meet; :meth:`TestNetwork.close`
removes everything it made (also on a failed test), and :func:`remove_leftovers` removes
what a crashed run of a process no longer alive left behind. Nothing else is touched.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import shutil
import signal
import subprocess

SUPERNET = ipaddress.ip_network("10.231.0.0/16")
NETNS_PREFIX = "nfnet"
BRIDGE_PREFIX = "nfbr"
VETH_PREFIX = "nfv"


class NetworkUnavailable(RuntimeError):
    pass


def ip(*args: str, netns: str | None = None) -> str:
    command = ["ip", *args] if netns is None else ["ip", "-n", netns, *args]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise NetworkUnavailable(f"{' '.join(command)}: {done.stderr.strip()}")
    return done.stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers() -> list[str]:
    """Remove namespaces, bridges and veths of ours whose creating process is gone (a run
    that was SIGKILLed never reached its teardown). Returns their names."""
    removed = []
    for line in ip("netns", "list").splitlines():
        name = line.split()[0] if line.strip() else ""
        found = re.fullmatch(rf"{NETNS_PREFIX}(\d+)-\d+", name)
        if found and not _alive(int(found[1])):
            _kill_inside(name)
            subprocess.run(["ip", "netns", "del", name], capture_output=True)
            removed.append(name)
    for line in ip("-o", "link", "show").splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        found = re.fullmatch(rf"(?:{BRIDGE_PREFIX}|{VETH_PREFIX})(\d+)(?:-\d+)?", name)
        if found and not _alive(int(found[1])):
            subprocess.run(["ip", "link", "del", name], capture_output=True)
            removed.append(name)
    return removed


def _kill_inside(netns: str) -> None:
    """SIGKILL what still runs in one of our namespaces (our own nodes: the namespace is
    ours), so deleting it frees it for good."""
    done = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True)
    for pid in done.stdout.split():
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)


def free_subnet() -> ipaddress.IPv4Network:
    """A /24 of 10.231.0.0/16 that no address or route of this machine overlaps, starting
    from one picked by the process id (so parallel runs start apart)."""
    used = []
    for line in ip("-4", "-o", "addr", "show").splitlines():
        used.append(ipaddress.ip_interface(line.split()[3]).network)
    for line in ip("-4", "route", "show", "table", "all").splitlines():
        target = line.split()[0]
        if target == "default":
            continue
        if target in ("local", "broadcast", "unicast", "multicast"):
            target = line.split()[1]
        try:
            used.append(ipaddress.ip_network(target, strict=False))
        except ValueError:
            continue
    subnets = list(SUPERNET.subnets(new_prefix=24))[1:]
    start = os.getpid() % len(subnets)
    for subnet in subnets[start:] + subnets[:start]:
        if not any(subnet.overlaps(other) for other in used):
            return subnet
    raise NetworkUnavailable(f"no free /24 left in {SUPERNET}")


class TestNetwork:
    """``with TestNetwork(3) as net: net.hosts[0], net.prefix(0), net.isolate(0)``."""

    __test__ = False  # not a pytest test class

    def __init__(self, nodes: int):
        self.count = nodes
        pid = os.getpid()
        self.bridge = f"{BRIDGE_PREFIX}{pid}"
        self.namespaces = [f"{NETNS_PREFIX}{pid}-{i}" for i in range(nodes)]
        self.veths = [f"{VETH_PREFIX}{pid}-{i}" for i in range(nodes)]
        self.subnet: ipaddress.IPv4Network | None = None
        self.hosts: list[str] = []

    def open(self) -> TestNetwork:
        if shutil.which("ip") is None:
            raise NetworkUnavailable(
                "the partition tests need iproute2's ip (apt-get install iproute2)"
            )
        if os.geteuid() != 0:
            raise NetworkUnavailable("the partition tests need root (network namespaces)")
        remove_leftovers()
        self.close()  # a previous network of this very process, if any
        try:
            self._build()
        except BaseException:
            self.close()
            raise
        return self

    def _build(self) -> None:
        self.subnet = free_subnet()
        gateway = self.subnet.network_address + 1
        ip("link", "add", self.bridge, "type", "bridge")
        ip("addr", "add", f"{gateway}/24", "dev", self.bridge)
        ip("link", "set", self.bridge, "up")
        for i, (netns, veth) in enumerate(zip(self.namespaces, self.veths, strict=True)):
            host = str(self.subnet.network_address + 10 + i)
            inside = f"{veth}i"
            ip("netns", "add", netns)
            ip("link", "add", veth, "type", "veth", "peer", "name", inside)
            ip("link", "set", inside, "netns", netns)
            ip("link", "set", veth, "master", self.bridge)
            ip("link", "set", veth, "up")
            ip("addr", "add", f"{host}/24", "dev", inside, netns=netns)
            ip("link", "set", inside, "up", netns=netns)
            ip("link", "set", "lo", "up", netns=netns)
            self.hosts.append(host)

    def prefix(self, i: int) -> list[str]:
        """The command prefix that runs a program inside node ``i``'s namespace."""
        return ["ip", "netns", "exec", self.namespaces[i]]

    def isolate(self, i: int) -> None:
        """Cut node ``i`` off: its bridge-side veth goes down, so nothing it sends reaches
        the bridge and nothing reaches it; the node itself runs on."""
        ip("link", "set", self.veths[i], "down")

    def heal(self, i: int) -> None:
        ip("link", "set", self.veths[i], "up")

    def isolated(self, i: int) -> bool:
        return "state DOWN" in ip("link", "show", self.veths[i])

    def close(self) -> None:
        """Remove every namespace, veth and the bridge this network made (what is already
        gone is skipped): safe to call twice, and after a half-built network."""
        for netns in self.namespaces:
            if subprocess.run(["ip", "netns", "pids", netns], capture_output=True).returncode:
                continue  # no such namespace
            _kill_inside(netns)
            subprocess.run(["ip", "netns", "del", netns], capture_output=True)
        for name in [*self.veths, self.bridge]:
            subprocess.run(["ip", "link", "del", name], capture_output=True)
        self.hosts = []

    def __enter__(self) -> TestNetwork:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
