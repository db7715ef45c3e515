"""The ports of the local cluster: the well-known ones, checks, and free-port picking."""

from __future__ import annotations

import socket
from dataclasses import asdict, dataclass, fields

from ..exceptions import PortInUseError
from ..waiting import wait_until

HOST = "127.0.0.1"

#: What each well-known port serves, for error messages and `knit cluster status`.
PORT_ROLES = {
    "namenode": "NameNode RPC (fs.defaultFS)",
    "namenode_http": "NameNode web UI / WebHDFS",
    "resourcemanager": "ResourceManager client RPC",
    "scheduler": "ResourceManager scheduler RPC (ApplicationMasters)",
    "resource_tracker": "ResourceManager resource tracker RPC (NodeManagers)",
    "rm_admin": "ResourceManager admin RPC",
    "rm_webapp": "ResourceManager web UI / REST API",
}


@dataclass(frozen=True)
class ClusterPorts:
    """The fixed ports of the local cluster, on 127.0.0.1.

    The defaults are Hadoop's usual ones (NameNode RPC on 9000 as knit has always
    assumed). DataNode and NodeManager ports are picked free at start-up instead.
    """

    namenode: int = 9000
    namenode_http: int = 9870
    resourcemanager: int = 8032
    scheduler: int = 8030
    resource_tracker: int = 8031
    rm_admin: int = 8033
    rm_webapp: int = 8088

    @classmethod
    def from_overrides(cls, overrides: dict[str, int] | None = None) -> "ClusterPorts":
        """Default ports with some replaced; unknown names and bad numbers are refused."""
        overrides = dict(overrides or {})
        known = {field.name for field in fields(cls)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(
                f"unknown port name(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        for name, port in overrides.items():
            if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
                raise ValueError(f"port {name}={port!r} is not a number from 1 to 65535")
        ports = cls(**overrides)
        values = list(asdict(ports).values())
        if len(set(values)) != len(values):
            raise ValueError(f"two roles share one port: {asdict(ports)}")
        return ports

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def is_port_free(port: int, host: str = HOST) -> bool:
    """Whether a TCP server could bind ``host:port`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def check_ports_free(ports: ClusterPorts, host: str = HOST) -> None:
    """Raise :class:`PortInUseError` naming the first port that is taken."""
    for name, port in ports.as_dict().items():
        if not is_port_free(port, host):
            raise PortInUseError(
                f"port {port} ({PORT_ROLES[name]}) on {host} is already in use: stop the "
                f"process holding it (`ss -ltnp 'sport = :{port}'` shows it) or choose "
                f"another port with `knit cluster up --port {name}=PORT` (or "
                "`--free-ports`)"
            )


def free_ports(count: int, host: str = HOST) -> list[int]:
    """``count`` distinct ports that are free now, as the kernel hands them out."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_ports_free(ports: list[tuple[str, int]], timeout: float = 15.0) -> None:
    """Wait until every ``(host, port)`` in ``ports`` can be bound again."""
    wait_until(lambda: [(host, port) for host, port in ports if not is_port_free(port, host)],
               timeout, interval=0.2, until=lambda busy: not busy,
               what=lambda busy: f"ports still bound after stopping: {busy}")
