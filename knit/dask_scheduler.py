"""A Dask scheduler in a YARN container of its own (``deploy_mode='remote'``), so a
Dask cluster outlives the Python process that made it."""

from __future__ import annotations

import re
import time

from .core import Knit
from .exceptions import ApplicationError, KnitError, KnitTimeoutError, NotFoundError
from .yarn_api import FINAL_STATES

_ADDRESS = re.compile(r"Scheduler at:\s+(\S+)")


def scheduler_command() -> str:
    """The scheduler container's command: it listens on its node's address, on any
    free port, and prints ``Scheduler at: ADDRESS`` to its log."""
    return ('exec "$PYTHON_BIN" -m distributed.cli.dask_scheduler --host "$NM_HOST" '
            "--port 0 --dashboard-address :0")


def start_remote_scheduler(knit: Knit, env: str, memory: int, cpus: int, queue: str,
                           app_name: str, timeout: float) -> str:
    """Run the scheduler as a keep-alive YARN application; return its address.

    Raises
    ------
    ApplicationError
        The application ended before the scheduler came up.
    KnitTimeoutError
        No address in the scheduler's log within ``timeout`` seconds (the
        application is killed).
    """
    knit.start(scheduler_command(), num_containers=1, virtual_cores=cpus, memory=memory,
               env=env, queue=queue, app_name=app_name, keep_alive=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        address = _address_in_logs(knit)
        if address:
            return address
        state = knit.status()
        if state["state"] in FINAL_STATES:
            raise ApplicationError(knit.app_id, state["state"], state.get("diagnostics", ""))
        failed = [c for c in knit.get_containers() if c["state"] == "COMPLETE"]
        if failed:
            message = (f"the scheduler container {failed[0]['id']} of {knit.app_id} exited "
                       f"with code {failed[0]['exitStatus']}: {_stderr_tail(knit)}")
            knit.kill()
            raise KnitError(message)
        time.sleep(0.5)
    knit.kill()
    raise KnitTimeoutError(f"the Dask scheduler of {knit.app_id} printed no address within "
                           f"{timeout:.0f} s; the application was killed")


def _scheduler_logs(knit: Knit) -> dict[str, str]:
    try:
        logs = knit.logs()
    except (NotFoundError, KnitError):
        return {}
    return next((files for cid, files in logs.items() if not cid.endswith("_000001")), {})


def _address_in_logs(knit: Knit) -> str | None:
    match = _ADDRESS.search(_scheduler_logs(knit).get("stderr", ""))
    return match.group(1) if match else None


def _stderr_tail(knit: Knit) -> str:
    lines = _scheduler_logs(knit).get("stderr", "").strip().splitlines()
    return "\n".join(lines[-15:]) or "no output; read the logs with `yarn logs`"
