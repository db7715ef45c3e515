"""Loaded in every worker of a knit Dask cluster (distributed's ``preload``): a task
the worker cannot even unpickle (a module missing there, a class moved between
versions) fails at once, naming what is missing and how to fix it.

Without it distributed hangs: the unpickling error breaks the worker's connection
while decoding the message, the worker reconnects, and the task waits forever
("Received heartbeat from unregistered worker" on the scheduler). With it, the
task's spec is replaced by one that raises that error when run, so the client's
``result()`` raises it within a second, and the worker stays healthy. Only task
specs are replaced (a payload naming ``dask._task_spec``); any other payload fails
as before.
"""

from __future__ import annotations

import os

from distributed.protocol import pickle as dask_pickle

#: The name distributed's ``preload`` option takes.
MODULE = __name__
_TASK_SPEC_MARK = b"_task_spec"
_original_loads = dask_pickle.loads


def missing_message(error: BaseException, where: str | None = None) -> str:
    """What a user reads: the error, on which worker, and how to fix it."""
    where = where or os.environ.get("CONTAINER_ID") or "this worker"
    return (f"{error} (on the Dask worker in {where}): the workers' environment lacks what "
            "this task needs; install it in the environment the cluster ships (environment=, "
            "or the default, your own environment packed), or ship the module with "
            "worker_files=")


def _raise_missing(message: str):
    raise ModuleNotFoundError(message)


def loads(payload, *, buffers=()):
    """distributed's ``pickle.loads``, with task specs that cannot load made to fail
    when run."""
    try:
        return _original_loads(payload, buffers=buffers)
    except (ImportError, AttributeError) as exc:
        if _TASK_SPEC_MARK not in bytes(payload):
            raise
        from dask._task_spec import Task

        return Task("knit-unloadable-task", _raise_missing, missing_message(exc))


def dask_setup(worker) -> None:
    """distributed's preload hook, run as the worker starts: put :func:`loads` in place."""
    dask_pickle.loads = loads
