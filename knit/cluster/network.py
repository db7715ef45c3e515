"""Where the local cluster's daemons live on the network: one host identity per NodeManager.

Two layouts:

``loopback`` (the default)
    The ResourceManager, NameNode, DataNode and the client share 127.0.0.1; NodeManager
    *i* is the host ``127.0.0.(10+i)``, a loopback address of its own. Node names differ,
    so locality is real and a container's node is never the client's name. Needs no
    privileges: Linux routes all of 127.0.0.0/8 to the loopback device.

``separated``
    Each NodeManager, and every container it starts, lives in a network namespace of
    its own, joined to the master by a bridge the cluster creates (and removes at
    ``down``) on a small subnet of the RFC 2544 benchmarking range 198.18.0.0/15. The
    master (ResourceManager, NameNode, DataNode, the client) is ``198.18.N.1``, node *i*
    ``198.18.N.(10+i)``. From a container the client machine's 127.0.0.1 is not
    reachable, as on a real cluster. Creating namespaces needs root: as root the
    helper script :data:`HELPER` runs directly; otherwise through ``sudo -n`` at
    :data:`INSTALLED_HELPER` (see docs/local_cluster.rst for the sudoers line).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..exceptions import ClusterError

MODES = ("loopback", "separated")

#: The helper that creates and removes namespaces and runs a command in one.
HELPER = Path(__file__).with_name("knit-netns")
#: Where an administrator installs it (root-owned) for use through sudo.
INSTALLED_HELPER = Path("/usr/local/sbin/knit-netns")

#: First address of a NodeManager in its subnet (.1 is the master).
FIRST_NODE = 10


@dataclass(frozen=True)
class Network:
    """The addresses of one local cluster.

    Parameters
    ----------
    mode : {'loopback', 'separated'}
    master : str
        Address of the ResourceManager, NameNode and DataNode (and of the client).
    nodes : tuple of str
        One address per NodeManager; YARN knows each node by it.
    name : str
        Prefix of the namespaces and links (``separated`` only).
    """

    mode: str
    master: str
    nodes: tuple[str, ...]
    name: str = ""
    namespaces: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Network":
        return cls(mode=data["mode"], master=data["master"], nodes=tuple(data["nodes"]),
                   name=data.get("name", ""), namespaces=tuple(data.get("namespaces", ())))

    def node_command_prefix(self, index: int) -> list[str]:
        """What runs NodeManager ``index``'s command inside its namespace ([] for loopback)."""
        if self.mode != "separated":
            return []
        return [*helper_command(), "exec", self.namespaces[index], "--"]


def loopback(nodemanagers: int) -> Network:
    """The default layout: 127.0.0.1 for the master, 127.0.0.(10+i) for node i."""
    return Network("loopback", "127.0.0.1",
                   tuple(f"127.0.0.{FIRST_NODE + i}" for i in range(nodemanagers)))


def separated(directory: Path, nodemanagers: int) -> Network:
    """Create the namespaces, bridge and addresses of a separated cluster.

    Raises
    ------
    ClusterError
        Namespaces cannot be made here (not root and no usable sudo helper), or the
        helper failed (its output is in the message).
    """
    name = "kn" + hashlib.sha256(str(directory).encode()).hexdigest()[:6]
    subnet = f"198.18.{_free_subnet()}"
    _run_helper("create", name, subnet, str(nodemanagers))
    return Network("separated", f"{subnet}.1",
                   tuple(f"{subnet}.{FIRST_NODE + i}" for i in range(nodemanagers)),
                   name=name, namespaces=tuple(f"{name}-n{i}" for i in range(nodemanagers)))


def destroy(network: Network) -> None:
    """Remove a separated cluster's namespaces, links and addresses (no-op for loopback)."""
    if network.mode == "separated":
        _run_helper("destroy", network.name)


def can_separate() -> str | None:
    """None if namespaces can be made here, else why not (for skips and errors)."""
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    if os.geteuid() == 0:
        return None
    if not INSTALLED_HELPER.exists():
        return f"not root, and no helper at {INSTALLED_HELPER} to run through sudo"
    probe = subprocess.run(["sudo", "-n", str(INSTALLED_HELPER), "check"],
                           capture_output=True, text=True, timeout=30, check=False)
    if probe.returncode != 0:
        return (f"`sudo -n {INSTALLED_HELPER}` is not allowed for this user: "
                f"{probe.stderr.strip() or probe.stdout.strip()}")
    return None


def helper_command() -> list[str]:
    """How to call the helper: directly as root, through ``sudo -n`` otherwise."""
    if os.geteuid() == 0:
        return ["bash", str(HELPER)]
    return ["sudo", "-n", str(INSTALLED_HELPER)]


def _run_helper(*args: str) -> str:
    reason = can_separate()
    if reason is not None:
        raise ClusterError(f"a separated-network cluster needs network namespaces: {reason}. "
                           "See docs/local_cluster.rst, or use the default loopback layout")
    result = subprocess.run([*helper_command(), *args], capture_output=True, text=True,
                            timeout=60, check=False)
    if result.returncode != 0:
        raise ClusterError(f"knit-netns {' '.join(args)} failed (exit {result.returncode}): "
                           f"{result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


_BRIDGE_ADDRESS = re.compile(r"inet 198\.18\.(\d+)\.1/")


def _free_subnet() -> int:
    """The third octet of a 198.18.N.0/24 no bridge on this machine uses yet."""
    shown = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True,
                           timeout=30, check=False).stdout
    used = {int(n) for n in _BRIDGE_ADDRESS.findall(shown)}
    for candidate in range(1, 255):
        if candidate not in used:
            return candidate
    raise ClusterError("every 198.18.N.0/24 subnet is in use by another separated cluster")
