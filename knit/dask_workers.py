"""What a Dask worker container runs, how big it may be, and the address at which
it finds a scheduler running in the client's process."""

from __future__ import annotations

import socket

from .exceptions import KnitValueError

#: The smallest container a worker process runs in: 128 MB, knit 0.2.4's default.
MIN_WORKER_MEMORY = 128
#: From this size on a worker runs under a nanny (which restarts it if it dies);
#: below it, a lone worker process (about 65 MB before any data, the nanny as much again).
NANNY_FROM_MEMORY = 512
#: MB a worker's nanny process takes, left out of the worker's memory limit.
NANNY_MB = 100


def worker_memory_limit(memory: int) -> int:
    """The ``--memory-limit`` (MB) for a worker in a ``memory`` MB container: the
    nanny's share (if it has one) and 10 % for the interpreter's own overhead are
    left out, so Dask spills and pauses before YARN kills the container for
    exceeding it."""
    nanny = NANNY_MB if memory >= NANNY_FROM_MEMORY else 0
    return memory - nanny - memory // 10


def worker_command(scheduler_address: str, cpus: int, memory: int) -> str:
    """The shell command of a worker container (run in the shipped environment); the
    worker (and its nanny, from :data:`NANNY_FROM_MEMORY` MB) listen on the node's
    YARN address only, the worker's HTTP routes too (distributed serves them, on every
    interface by default, even with ``--no-dashboard``). A lone worker is not
    restarted in place when it dies: its ApplicationMaster replaces the container."""
    nanny = "" if memory >= NANNY_FROM_MEMORY else "--no-nanny "
    return (f'exec "$PYTHON_BIN" -m distributed.cli.dask_worker {scheduler_address} '
            f'--host "$NM_HOST" --name "$CONTAINER_ID" --nthreads {cpus} --nworkers 1 '
            f'{nanny}--memory-limit {worker_memory_limit(memory)}MiB --no-dashboard '
            f'--dashboard-address "$NM_HOST:0" '
            f'--local-directory "$PWD" --death-timeout 60')


def scheduler_ip(node_hosts: list[str], route=None) -> str:
    """The address of this machine that the NodeManagers' hosts can reach.

    127.0.0.1 when every node is this machine; otherwise the address of the
    interface that routes to the first other node (``route(address)`` tells it;
    by default the kernel's routing table is asked), or this host's name's address.
    """
    route = route or _route_to
    remote = False
    for host in node_hosts:
        try:
            address = socket.gethostbyname(host)
        except OSError:
            continue
        if _is_this_machine(address):
            continue
        remote = True
        try:
            return route(address)
        except OSError:
            continue
    return socket.gethostbyname(socket.gethostname()) if remote else "127.0.0.1"


def _route_to(address: str) -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect((address, 9))  # no packet is sent: this only picks a route
        return probe.getsockname()[0]


def _is_this_machine(address: str) -> bool:
    if address.startswith("127."):
        return True
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind((address, 0))
        return True
    except OSError:
        return False


def check_worker_size(cpus: int, memory: int) -> None:
    """Raise ValueError unless a worker of ``cpus`` vcores and ``memory`` MB can run."""
    for name, value in (("cpus", cpus), ("memory", memory)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise KnitValueError(f"{name} must be a whole number >= 1, not {value!r}")
    if memory < MIN_WORKER_MEMORY:
        raise KnitValueError(
            f"memory={memory} MB is too small for a Dask worker: its process alone takes about "
            f"65 MB before any data; pass memory={MIN_WORKER_MEMORY} or more (each worker's "
            f"container; from {NANNY_FROM_MEMORY} MB a nanny restarts a worker that dies)")
