"""``knit dask start|status|stop``: a Dask cluster whose scheduler and workers both
run in YARN (``DaskYARNCluster(deploy_mode='remote')``), made and ended from a shell.

``start`` prints the scheduler's address and returns; the cluster lives on until
``knit dask stop`` (or ``yarn application -kill``). The application id printed is the
scheduler's, which names the whole cluster for ``status`` and ``stop``.

``knit dask submit SCRIPT`` is ``dask-yarn submit`` (:mod:`knit.dask_yarn_cli`): the
script runs on a cluster of its own, one application of services.
"""

from __future__ import annotations

import argparse
import json

from .exceptions import KnitError
from .progress import say


def _cluster_class():
    try:
        from .dask_yarn import DaskYARNCluster
    except ImportError as exc:
        raise KnitError(f"knit dask needs Dask ({exc.name} is missing): "
                        "pip install 'knit[dask]'") from exc
    return DaskYARNCluster


def start(args: argparse.Namespace) -> int:
    """Start a remote-mode Dask cluster; print its scheduler address and application."""
    cluster = _cluster_class()(
        deploy_mode="remote", env=args.env, packages=args.package or None,
        cpus=args.cpus, memory=args.memory, queue=args.queue, app_name=args.name,
        scheduler_memory=args.scheduler_memory, dashboard_address=":0",
        progress=False if args.json else say)
    cluster.start(args.workers, cpus=args.cpus, memory=args.memory)
    info = {"application": cluster.scheduler_knit.app_id, "scheduler": cluster.scheduler_address,
            "dashboard": cluster.dashboard_link, "workers_application": cluster.knit.app_id,
            "workers": len(cluster.observed)}
    _print(args, info)
    return 0


def status(args: argparse.Namespace) -> int:
    """Show a cluster's scheduler, dashboard, applications and connected workers;
    exit 3 if its scheduler's application has ended."""
    from .core import Knit
    from .dask_scheduler import DASHBOARD_KEY, SCHEDULER_KEY
    from .yarn_api import FINAL_STATES

    scheduler = Knit(progress=False)
    state = scheduler.yarn_api.state(args.app)
    if state in FINAL_STATES:
        _print(args, {"application": args.app, "state": state})
        return 3
    scheduler.attach(args.app)
    workers_app = (scheduler.record.get("workers") or {}).get("app")
    address = scheduler.get_value(SCHEDULER_KEY)
    info = {"application": args.app, "state": state, "scheduler": address,
            "dashboard": _value_or_none(scheduler, DASHBOARD_KEY),
            "workers_application": workers_app,
            "workers_state": scheduler.yarn_api.state(workers_app) if workers_app else None,
            "workers": _connected_workers(address)}
    _print(args, info)
    return 0


def stop(args: argparse.Namespace) -> int:
    """Kill the cluster's workers and scheduler; exit 3 if it had already ended."""
    from .core import Knit
    from .yarn_api import FINAL_STATES

    state = Knit(progress=False).yarn_api.state(args.app)
    if state in FINAL_STATES:
        _print(args, {"application": args.app, "state": state, "stopped": False})
        return 3
    cluster = _cluster_class()(deploy_mode="remote", application=args.app,
                               dashboard_address=":0", progress=False)
    workers_app = cluster.knit.app_id
    cluster.close()
    _print(args, {"application": args.app, "workers_application": workers_app, "stopped": True})
    return 0


def _value_or_none(knit, key: str) -> str | None:
    try:
        return knit.get_value(key)
    except KnitError:
        return None


def _connected_workers(address: str) -> int | None:
    """Workers the scheduler knows, or None if Dask is missing or it does not answer."""
    try:
        from distributed import Client
    except ImportError:
        return None
    try:
        with Client(address, timeout=10) as client:
            return len(client.scheduler_info()["workers"])
    except OSError:
        return None


def _print(args: argparse.Namespace, info: dict) -> None:
    if args.json:
        print(json.dumps(info, indent=2, sort_keys=True))
    else:
        print("\n".join(f"{key:<20} {value}" for key, value in info.items()))


def add_parser(commands) -> None:
    """Add ``knit dask`` and its actions to the ``knit`` parser's sub-commands."""
    dask = commands.add_parser("dask", help="a Dask cluster with its scheduler in YARN",
                               description=__doc__.split("\n\n")[0])
    actions = dask.add_subparsers(dest="action", required=True)
    starter = actions.add_parser("start", help="start a cluster; prints its scheduler address")
    starter.set_defaults(handler=start)
    starter.add_argument("-n", "--workers", type=int, default=2, help="default: %(default)s")
    starter.add_argument("--cpus", type=int, default=1, help="vcores (threads) per worker")
    starter.add_argument("--memory", type=int, default=2048, help="MB per worker")
    starter.add_argument("--scheduler-memory", type=int, default=1024, help="MB of the scheduler")
    starter.add_argument("--env", help="packed environment (zip, tar.gz) or environment folder "
                                       "(default: one matching this Python's dask, cached)")
    starter.add_argument("--package", action="append",
                         help="make the environment with this package (repeatable)")
    starter.add_argument("--queue", default="default")
    starter.add_argument("--name", default="dask", help="application name")
    for name, handler, text in (
        ("status", status, "show the scheduler, dashboard and workers (exit 3 if it ended)"),
        ("stop", stop, "stop the workers and the scheduler (exit 3 if it had ended)"),
    ):
        action = actions.add_parser(name, help=text, description=text)
        action.set_defaults(handler=handler)
        action.add_argument("app", help="the scheduler's application id (from `knit dask start`)")
    for action in actions.choices.values():
        action.add_argument("--json", action="store_true", help="print JSON for scripts")
    from .dask_yarn_cli import add_submit_arguments, submit

    submitter = actions.add_parser("submit", help="run a Dask script on a cluster of its own "
                                                  "(as `dask-yarn submit`)")
    add_submit_arguments(submitter)
    submitter.set_defaults(handler=submit)
