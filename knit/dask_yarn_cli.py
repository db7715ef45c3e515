"""The ``dask-yarn`` command, as dask-yarn 0.9's: ``submit SCRIPT [ARGS]``, ``status
APP``, ``kill APP``, and the ``services scheduler|worker|client`` the containers run.
``knit dask submit`` is the same ``submit``.

``submit`` in remote mode (the default) runs the script in a ``dask.client``
container, which finds its cluster with :meth:`YarnCluster.from_current`; the
application ends when the script does, SUCCEEDED if it exits 0, else FAILED.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from .exceptions import KnitError

_SUBMIT_FLAGS = (
    ("--name", {"help": "the application's name"}),
    ("--queue", {"help": "the YARN queue"}),
    ("--user", {"help": "submit for this user (a proxy user; not supported yet)"}),
    ("--tags", {"help": "comma-separated application tags"}),
    ("--environment", {"help": "the Python environment: an archive, conda:///path, "
                                "venv:///path or python:///path/to/python"}),
    ("--deploy-mode", {"help": "remote (the default): scheduler and script run in YARN "
                                "containers; local: here"}),
    ("--worker-count", {"type": int, "help": "workers to start with"}),
    ("--worker-vcores", {"type": int, "help": "vcores of each worker"}),
    ("--worker-memory", {"help": "memory of each worker, such as '2 GiB'"}),
    ("--worker-gpus", {"type": int, "help": "YARN GPUs of each worker"}),
    ("--worker-restarts", {"type": int, "help": "failed workers replaced (-1: always)"}),
    ("--worker-env", {"action": "append", "metavar": "KEY=VALUE",
                      "help": "a variable of the workers (repeatable)"}),
    ("--worker-class", {"help": "the worker class, such as dask_cuda.CUDAWorker"}),
    ("--worker-file", {"action": "append", "metavar": "PATH",
                       "help": "a file localized beside each worker (repeatable)"}),
    ("--worker-archive", {"action": "append", "metavar": "PATH",
                          "help": "an archive unpacked beside each worker (repeatable)"}),
    ("--client-vcores", {"type": int, "help": "vcores of the script's container"}),
    ("--client-memory", {"help": "memory of the script's container, such as '2 GiB'"}),
    ("--client-env", {"action": "append", "metavar": "KEY=VALUE",
                      "help": "a variable of the script's container (repeatable)"}),
    ("--scheduler-vcores", {"type": int, "help": "vcores of the scheduler's container"}),
    ("--scheduler-memory", {"help": "memory of the scheduler's container, such as '2 GiB'"}),
    ("--temporary-security-credentials", {"action": "store_true",
                                          "help": "TLS for Dask's traffic, with credentials "
                                                  "made for this application"}),
    ("--wait", {"action": "store_true",
                "help": "knit's: wait for the application to end, and exit 0 only if it "
                        "SUCCEEDED"}),
    ("--wait-timeout", {"type": float, "default": 86400.0, "metavar": "SECONDS",
                        "help": "with --wait: give up after this long (default a day)"}),
)


def parse_env(flag: str, items: list[str] | None) -> dict[str, str] | None:
    """``KEY=VALUE`` items as a mapping (None if none were given)."""
    if items is None:
        return None
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise KnitError(f"{flag} {item!r}: write KEY=VALUE")
        out[key.strip()] = value
    return out


def _worker_files(args: argparse.Namespace) -> dict | None:
    from .spec_parts import File

    files = {}
    for path, kind in [(p, "FILE") for p in args.worker_file or []] + \
                      [(p, "ARCHIVE") for p in args.worker_archive or []]:
        name = os.path.basename(path.rstrip("/"))
        if kind == "ARCHIVE":
            for suffix in (".tar.gz", ".tgz", ".tar", ".zip"):
                name = name[:-len(suffix)] if name.endswith(suffix) else name
        files[name] = File(os.path.abspath(path) if "://" not in path else path, type=kind)
    return files or None


def cluster_options(args: argparse.Namespace) -> dict:
    """YarnCluster's options from ``submit``'s flags (None where not given)."""
    tags = None if args.tags is None else sorted({t.strip() for t in args.tags.split(",") if t.strip()})
    return dict(environment=args.environment, n_workers=args.worker_count,
                worker_vcores=args.worker_vcores, worker_memory=args.worker_memory,
                worker_gpus=args.worker_gpus, worker_restarts=args.worker_restarts,
                worker_env=parse_env("--worker-env", args.worker_env),
                worker_class=args.worker_class, worker_files=_worker_files(args),
                scheduler_vcores=args.scheduler_vcores, scheduler_memory=args.scheduler_memory,
                deploy_mode=args.deploy_mode, name=args.name, queue=args.queue, tags=tags,
                user=args.user)


def submit(args: argparse.Namespace) -> int:
    """Run a Dask script on a cluster of its own (see the module's doc)."""
    from .core import Knit
    from .dask_config import lookup
    from .dask_spec import cluster_spec, deploy_mode_of, with_client
    from .own_env import default_environment

    options = cluster_options(args)
    if lookup(options["environment"], "yarn.environment") is None:
        options["environment"] = default_environment(progress=_say)
    if deploy_mode_of(options["deploy_mode"]) == "local":
        return _submit_local(args, options)
    spec = with_client(cluster_spec(**options), args.script, args.args,
                       environment=options["environment"], client_vcores=args.client_vcores,
                       client_memory=args.client_memory,
                       client_env=parse_env("--client-env", args.client_env))
    knit = Knit(progress=False)
    if args.temporary_security_credentials:
        from . import dask_tls

        spec = dask_tls.with_tls(spec, dask_tls.ship(knit, dask_tls.temporary_security()))
    app = knit.submit(spec, keep_alive=True)
    print(app.id, flush=True)
    if not args.wait:
        return 0
    succeeded = knit.wait_for_completion(timeout=args.wait_timeout)
    final = knit.yarn_api.status(app.id)
    _say(f"{app.id} {final['state']} {final['finalStatus']}: {final.get('diagnostics', '')}")
    return 0 if succeeded else 1


def _submit_local(args: argparse.Namespace, options: dict) -> int:
    """Scheduler and script here, workers in YARN; the script's exit code is ours."""
    from .yarn_cluster import YarnCluster

    if not os.path.isfile(args.script):
        raise KnitError(f"{args.script!r}: no such script here")
    with YarnCluster(**options, security=args.temporary_security_credentials or None) as cluster:
        env = {**os.environ, "DASK_APPLICATION_ID": cluster.app_id}
        code = subprocess.call([sys.executable, args.script, *args.args], env=env)
        if code == 0:
            cluster.shutdown("SUCCEEDED")
        else:
            cluster.shutdown("FAILED", f"{args.script} exited with code {code}")
    return code


def status(args: argparse.Namespace) -> int:
    """One line per field of the application, as dask-yarn's table."""
    from .core import Knit

    info = Knit(progress=False).yarn_api.status(args.app_id)
    header = ("application_id", "name", "state", "status", "containers", "vcores", "memory",
              "runtime")
    row = (info.get("id", args.app_id), info.get("name", ""), info.get("state", ""),
           info.get("finalStatus", ""), str(info.get("runningContainers", 0)),
           str(info.get("allocatedVCores", 0)), str(info.get("allocatedMB", 0)),
           f"{int(info.get('elapsedTime', 0)) // 1000}s")
    widths = [max(len(h), len(v)) for h, v in zip(header, row)]
    for line in ([h.upper() for h in header], row):
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())
    return 0


def kill(args: argparse.Namespace) -> int:
    from .core import Knit

    killed = Knit(progress=False).yarn_api.kill(args.app_id)
    _say(f"{args.app_id} killed" if killed else f"{args.app_id} had ended already")
    return 0


def _say(message: str) -> None:
    print(f"dask-yarn: {message}", file=sys.stderr, flush=True)


def service(args: argparse.Namespace) -> int:
    """The role of a container of the cluster (``dask-yarn services ROLE``)."""
    from . import dask_services

    if args.role == "scheduler":
        dask_services.run_scheduler()
        return 0
    if args.role == "worker":
        dask_services.run_worker()
        return 0
    return dask_services.run_client(args.script, args.args)


def add_submit_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("script", help="the Python script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    for flag, options in _SUBMIT_FLAGS:
        parser.add_argument(flag, **options)
    parser.set_defaults(func=submit)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(prog="dask-yarn", description="Deploy Dask on YARN (knit)")
    parser.add_argument("--version", action="version", version=f"%(prog)s (knit {__version__})")
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)
    add_submit_arguments(commands.add_parser("submit", help="run a Dask script on YARN"))
    for name, func, text in (("status", status, "show a Dask application's status"),
                             ("kill", kill, "kill a Dask application")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("app_id", metavar="APP_ID")
        sub.set_defaults(func=func)
    services = commands.add_parser("services", help="what the containers run")
    roles = services.add_subparsers(dest="role", metavar="role", required=True)
    roles.add_parser("scheduler").set_defaults(func=service)
    roles.add_parser("worker").set_defaults(func=service)
    client = roles.add_parser("client")
    client.add_argument("script")
    client.add_argument("args", nargs=argparse.REMAINDER)
    client.set_defaults(func=service)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (KnitError, ValueError, TypeError, FileNotFoundError) as exc:
        _say(f"error: {exc}")
        return 1
