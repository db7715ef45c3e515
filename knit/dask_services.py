"""What runs in the containers of a Dask cluster (``dask-yarn services ROLE``): the
scheduler publishes its addresses in the application's key-value store, workers wait
for it there, and the client runs the submitted script and ends the application
with its outcome."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys

from .application import current
from .dask_tls import role_config, role_security, role_settings
from .dask_spec import DASHBOARD_KEY, SCHEDULER_KEY
from .dask_workers import worker_memory_limit

#: How long a worker waits for its scheduler's address (the scheduler's container
#: starts first; this bounds a scheduler that never comes up).
SCHEDULER_WAIT = 600.0


def _node_host() -> str:
    return os.environ.get("NM_HOST", "")


def run_scheduler() -> None:
    """A Dask scheduler on this node (its port and dashboard's fixed if asked),
    publishing its dashboard's and then its own address."""
    import asyncio

    from distributed import Scheduler

    app = current()
    host = _node_host()
    port = int(os.environ.get("KNIT_DASK_PORT", "0"))
    dashboard = os.environ.get("KNIT_DASK_DASHBOARD", ":0")
    if dashboard.startswith(":"):
        dashboard = f"{host}{dashboard}"

    security = role_security("scheduler")
    protocol = "tls" if security is not None else None

    async def serve() -> None:
        async with Scheduler(host=host, port=port, dashboard_address=dashboard, security=security,
                             protocol=protocol) as scheduler:
            board = scheduler.services.get("dashboard")
            if board is not None:
                # before dask.scheduler: whoever waits for that one finds this too
                app.kv[DASHBOARD_KEY] = f"http://{host}:{board.port}"
            app.kv[SCHEDULER_KEY] = scheduler.address
            await scheduler.finished()

    asyncio.run(serve())


def worker_spec(environ: dict | None = None) -> dict:
    """distributed's ``dask spec`` of this container's worker: its class and options
    (from dask-yarn's ``worker_class``/``worker_options`` variables), named after the
    container, with the container's vcores as threads and its memory (less the
    nanny's and the interpreter's share) as limit, listening on the node's address."""
    env = os.environ if environ is None else environ
    options = {"name": env.get("CONTAINER_ID", ""), "host": env.get("NM_HOST", "")}
    vcores, memory = int(env.get("KNIT_RESOURCE_VCORES", "0")), int(env.get("KNIT_RESOURCE_MEMORY_MB", "0"))
    if vcores:
        options["nthreads"] = vcores
    if memory:
        options["memory_limit"] = f"{worker_memory_limit(memory)}MiB"
    encoded = env.get("worker_options")
    if encoded:
        options.update(json.loads(base64.b64decode(encoded)))
    return {"cls": env.get("worker_class", "dask.distributed.Nanny"), "opts": options}


def worker_settings() -> dict:
    """dask.config for this container's worker: distributed's ``worker.preload`` with
    :mod:`knit.dask_guard` added, and the cluster's TLS (a nanny passes them on to
    its worker process)."""
    import dask

    from .dask_guard import MODULE

    preload = list(dask.config.get("distributed.worker.preload", None) or [])
    return {"distributed.worker.preload": preload if MODULE in preload else [*preload, MODULE],
            **role_settings("worker")}


def run_worker() -> None:
    """A worker of the class asked for, connected to the published scheduler, run in
    this process by distributed's ``dask spec`` (which handles signals)."""
    import dask
    from distributed.cli.dask_spec import main

    address = current().kv.wait(SCHEDULER_KEY, timeout=SCHEDULER_WAIT)
    dask.config.set(worker_settings())
    main([address, "--spec", json.dumps(worker_spec())])


def run_client(script: str, args: list[str]) -> int:
    """Run ``script args`` with this Python, then end the application: SUCCEEDED if
    it exited 0, else FAILED with its exit code in the diagnostics."""
    if not os.path.isfile(script):
        print(f"dask-yarn: {script!r} is not in this container", file=sys.stderr)
        return 2
    app = current()
    code = subprocess.call([sys.executable, script, *args], env={**os.environ, **role_config("client")})
    if code == 0:
        app.shutdown("SUCCEEDED", f"{script} exited 0")
    else:
        print(f"dask-yarn: {script} exited with code {code}; the application fails",
              file=sys.stderr)
        app.shutdown("FAILED", f"{script} exited with code {code}; read its log (the "
                               "dask.client container's stderr) for why")
    return code
