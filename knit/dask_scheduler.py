"""A Dask scheduler in a YARN container of its own (``deploy_mode='remote'``), so a
Dask cluster outlives the Python process that made it."""

from __future__ import annotations

from pathlib import Path

from .core import Knit
from .exceptions import KnitError, NotFoundError
from .waiting import wait_until

#: The keys the scheduler's preload (knit/dask_publish.py) sets.
SCHEDULER_KEY = "dask.scheduler"
DASHBOARD_KEY = "dask.dashboard"
PUBLISHER = Path(__file__).with_name("dask_publish.py")


def scheduler_command(dashboard: bool = True) -> str:
    """The scheduler container's command: it listens on its node's YARN address, on
    any free port (its dashboard too, unless ``dashboard`` is False), and publishes its
    address through the preload."""
    board = '--dashboard-address "$NM_HOST:0"' if dashboard else "--no-dashboard"
    return ('exec "$PYTHON_BIN" -m distributed.cli.dask_scheduler --host "$NM_HOST" '
            f'--port 0 {board} --preload {PUBLISHER.name}')


def start_remote_scheduler(knit: Knit, env: str, memory: int, cpus: int, queue: str,
                           app_name: str, timeout: float, dashboard: bool = True) -> str:
    """Run the scheduler as a keep-alive YARN application; return its address.

    Raises
    ------
    ApplicationError
        The application ended before the scheduler came up.
    KnitError
        The scheduler's container exited (with the end of its log).
    KnitTimeoutError
        No address published within ``timeout`` seconds (the application is killed).
    """
    knit.start(scheduler_command(dashboard), num_containers=1, virtual_cores=cpus, memory=memory,
               env=env, queue=queue, app_name=app_name, keep_alive=True, files=[str(PUBLISHER)],
               worker_kv=True)

    def published() -> str | None:
        try:
            return knit.get_value(SCHEDULER_KEY, wait=2)
        except NotFoundError:
            failed = [c for c in knit.worker_containers() if c["state"] == "COMPLETE"]
            if failed:
                message = (f"the scheduler container {failed[0]['id']} of {knit.app_id} exited "
                           f"with code {failed[0]['exitStatus']}: {_stderr_tail(knit)}")
                knit.kill()
                raise KnitError(message) from None
            return None

    try:
        return wait_until(published, timeout, interval=0,
                          what=f"the Dask scheduler of {knit.app_id} publishing its address")
    except KnitError:
        knit.kill()
        raise


def _stderr_tail(knit: Knit) -> str:
    try:
        logs = knit.logs()
        masters = knit.yarn_api.am_container_ids(knit.app_id)
    except KnitError:
        return "no output; read the logs with `yarn logs`"
    files = next((f for cid, f in logs.items() if cid not in masters), {})
    lines = files.get("stderr", "").strip().splitlines()
    return "\n".join(lines[-15:]) or "no output; read the logs with `yarn logs`"
