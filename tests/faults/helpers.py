"""What the fault tests share: finding and killing the processes of an application."""

from __future__ import annotations

import os
import signal
from pathlib import Path


def am_pids(app_id: str) -> list[int]:
    """Pids of the ApplicationMaster JVM(s) of ``app_id`` (their working folder is the
    container's, which names the application); the NodeManagers run them as us."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if b"knit.am.ApplicationMaster" in cmdline and app_id in cwd and cmdline[0].endswith(b"java"):
            found.append(int(proc.name))
    return found


def kill_9(pids: list[int]) -> None:
    for pid in pids:
        os.kill(pid, signal.SIGKILL)


def running_ids(knit) -> set[str]:
    """Ids of the application's RUNNING worker containers, as its AM reports them."""
    return {c["id"] for c in knit.worker_containers() if c["state"] == "RUNNING"}


def wait_running(knit, count: int, timeout: float = 120) -> set[str]:
    """Wait until ``count`` worker containers run; return their ids."""
    from ..integration.waiting import wait_for

    return wait_for(lambda: len(ids := running_ids(knit)) == count and ids, timeout=timeout,
                    what=f"{count} running containers")
