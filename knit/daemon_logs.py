"""The ResourceManager's and NodeManagers' processes and log files on this machine, for
:meth:`knit.yarn_api.YARNAPI.system_logs`: only the daemons of the cluster a YARNAPI
talks to, found by the ports they listen on (Linux ``/proc``)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

#: ``/proc/net/tcp`` state of a listening socket.
_LISTEN = "0A"


def _listening_inodes(port: int) -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def listening_pid(port: int) -> int | None:
    """The pid of a process of this user (or any, for root) listening on TCP ``port``."""
    wanted = {f"socket:[{inode}]" for inode in _listening_inodes(port)}
    if not wanted:
        return None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            for fd in (entry / "fd").iterdir():
                if os.readlink(fd) in wanted:
                    return int(entry.name)
        except OSError:
            continue
    return None


def log_file(pid: int) -> str | None:
    """The log file a Hadoop daemon writes, from its ``-Dyarn.log.dir``/``-Dyarn.log.file``
    (or the ``hadoop.log.*`` ones)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None
    props = dict(arg[2:].split("=", 1) for arg in args if arg.startswith("-D") and "=" in arg)
    folder = props.get("yarn.log.dir") or props.get("hadoop.log.dir")
    name = props.get("yarn.log.file") or props.get("hadoop.log.file")
    return os.path.join(folder, name) if folder and name else None


def local_addresses() -> set[str]:
    """The IPv4 addresses of this machine's names (and 127.0.0.0/8's usual ones)."""
    found = {"127.0.0.1"}
    for name in (socket.gethostname(), "localhost"):
        try:
            found.update(socket.gethostbyname_ex(name)[2])
        except OSError:
            pass
    return found


def is_local(host: str, addresses: set[str]) -> bool:
    try:
        address = socket.gethostbyname(host)
    except OSError:
        return False
    return address in addresses or address.startswith("127.")


def process(pid: int):
    """A ``psutil.Process`` where psutil is installed (what knit 0.2.4 returned), else the pid."""
    try:
        import psutil
    except ImportError:
        return pid
    return psutil.Process(pid)
