"""Loaded by a Dask scheduler in a knit container (``--preload``): it publishes the
scheduler's and dashboard's addresses in its application's key-value store, where
:func:`knit.dask_scheduler.start_remote_scheduler` (and any process attaching
later) reads them.

It runs in the shipped environment, which need not have knit: standard library only.
The ApplicationMaster's address is in ``$KNIT_AM_ADDRESS``, the application's control
secret in the PRIVATE file ``knit-control.secret`` of the working folder.
"""

import os
import urllib.request

SECRET_FILE = "knit-control.secret"


def publish(key: str, value: str) -> None:
    """Set ``key`` in this application's key-value store."""
    with open(SECRET_FILE) as handle:
        secret = handle.read().strip()
    request = urllib.request.Request(
        f"http://{os.environ['KNIT_AM_ADDRESS']}/kv/{key}", data=value.encode(), method="PUT",
        headers={"X-Knit-Secret": secret})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as reply:
        reply.read()


def dask_setup(scheduler) -> None:
    """distributed's preload hook: called once the scheduler listens."""
    publish("dask.scheduler", scheduler.address)
    dashboard = scheduler.services.get("dashboard")
    if dashboard is not None:
        host = scheduler.address.split("://", 1)[-1].rsplit(":", 1)[0]
        publish("dask.dashboard", f"http://{host}:{dashboard.port}/status")
