"""The ``knit`` verbs for applications, as ``yarn application`` and Skein users know
them: ``submit``, ``status``, ``ls``, ``logs``, ``kill`` and ``scale``.

Each prints text for people, or JSON with ``--json`` for scripts. Exit codes: 0 done,
1 an error (said on stderr), 2 bad usage (argparse), 3 the application had already
ended (``kill``, ``scale``) or, with ``submit --wait`` and ``logs --follow``, did not
succeed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from . import spec_commands
from .exceptions import KnitTimeoutError, KnitValueError
from .progress import say
from .yarn_api import FINAL_STATES, KNIT_APPLICATION_TYPE
from .yarn_logs import client_jvm_reader, container_log_files, format_logs

#: The columns of ``knit ls``.
LS_FIELDS = ("id", "name", "state", "finalStatus", "containers", "elapsed_s", "queue")


def _knit(progress: bool = False):
    from .core import Knit

    return Knit(progress=say if progress else False)


def _emit(args: argparse.Namespace, data, text: str) -> None:
    print(json.dumps(data, indent=2, sort_keys=True) if args.json else text)


def _envvar(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text!r}")
    return name, value


def submit(args: argparse.Namespace) -> int:
    """Submit CMD, or the spec file SPEC (an existing .yaml/.yml/.json); print the
    application id (and wait for its end with ``--wait``)."""
    if spec_commands.is_spec_file(args.cmd):
        spec_commands.refuse_command_options(args)
        knit = _knit(progress=not args.json)
        spec_commands.submit_spec(args, knit)
        return _waited(args, knit) if args.wait else 0
    knit = _knit(progress=not args.json)
    app_id = knit.start(args.cmd, num_containers=args.num_containers, memory=args.memory,
                        virtual_cores=args.vcores, files=args.file or None,
                        envvars=dict(args.envvar or []), env=args.env, queue=args.queue,
                        app_name=args.name, keep_alive=args.keep_alive,
                        max_restarts=args.max_restarts)
    if not args.wait:
        _emit(args, {"id": app_id}, app_id)
        return 0
    return _waited(args, knit)


def _waited(args: argparse.Namespace, knit) -> int:
    """Wait for the submitted application's end; exit 3 unless it succeeded."""
    succeeded = knit.wait_for_completion(args.timeout)
    status = knit.status()
    _emit(args, {"id": knit.app_id, "state": status["state"], "finalStatus": status["finalStatus"]},
          f"{knit.app_id} {status['state']} {status['finalStatus']}")
    return 0 if succeeded else 3


def summary(app: dict) -> dict:
    """The fields of one application that ``status`` and ``ls`` show."""
    return {
        "id": app["id"], "name": app.get("name", ""), "state": app["state"],
        "finalStatus": app.get("finalStatus", ""), "queue": app.get("queue", ""),
        "user": app.get("user", ""), "containers": app.get("runningContainers", 0),
        "elapsed_s": round(app.get("elapsedTime", 0) / 1000, 1),
        "trackingUrl": app.get("trackingUrl", ""), "diagnostics": app.get("diagnostics", ""),
    }


def status(args: argparse.Namespace) -> int:
    """Show one application's state, containers and diagnostics."""
    info = summary(_knit().yarn_api.status(args.app))
    text = "\n".join(f"{key:<12} {info[key]}" for key in
                     ("id", "name", "state", "finalStatus", "queue", "user", "containers",
                      "elapsed_s", "trackingUrl", "diagnostics"))
    _emit(args, info, text)
    return 0


def ls(args: argparse.Namespace) -> int:
    """List your knit applications: the unfinished ones, or all with ``--all``;
    everyone's with ``--all-users``."""
    knit = _knit()
    filters = {"applicationTypes": KNIT_APPLICATION_TYPE}
    if not args.all:
        filters["states"] = "NEW,NEW_SAVING,SUBMITTED,ACCEPTED,RUNNING"
    if not args.all_users:
        filters["user"] = knit.conf["user"]
    if args.tag:
        filters["applicationTags"] = ",".join(args.tag)
    apps = sorted((summary(a) for a in knit.yarn_api.apps_info(**filters)),
                  key=lambda a: a["id"])
    fields = LS_FIELDS + (("user",) if args.all_users else ())
    widths = [max([len(field)] + [len(str(a[field])) for a in apps]) for field in fields]
    lines = ["  ".join(f"{field:<{w}}" for field, w in zip(fields, widths))]
    lines += ["  ".join(f"{str(a[field]):<{w}}" for field, w in zip(fields, widths)) for a in apps]
    _emit(args, apps, "\n".join(line.rstrip() for line in lines))
    return 0


def logs(args: argparse.Namespace) -> int:
    """Print the containers' logs: live while the application runs, aggregated after;
    with ``--follow``, new lines as they come until the application ends."""
    knit = _knit()
    reader = client_jvm_reader(knit.client, knit.yarn_api)
    if args.follow:
        return follow(knit.yarn_api, args.app, args.container, args.timeout,
                      as_json=args.json, read_aggregated=reader)
    found = knit.yarn_api.logs(args.app, tail=args.tail, read_aggregated=reader)
    if args.container:
        if args.container not in found:
            raise KnitValueError(f"{args.app} has no container {args.container}; it has "
                           f"{', '.join(sorted(found)) or 'none with logs yet'}")
        found = {args.container: found[args.container]}
    if args.json:
        _emit(args, found, "")
        return 0
    print(format_logs(found))
    return 0


#: Bytes of each file's end that ``--follow`` reads at each look (more when it grew more).
FOLLOW_WINDOW = 64 * 1024


def follow(api, app_id: str, container: str | None = None, timeout: float = 3600,
           interval: float = 1.0, as_json: bool = False, out=None,
           read_aggregated=None) -> int:
    """Print each container's new ``stdout``/``stderr`` lines, prefixed with the
    container and file (or as JSON lines), until the application ends; exit 0 if it
    succeeded, else 3.

    Lines come from the NodeManagers while the application runs (each look reads
    only the end of each file, :data:`FOLLOW_WINDOW` bytes or what is new), and the
    rest from the aggregated logs once it has ended, so nothing written at the end is
    lost.
    """
    out = out or sys.stdout
    printed: dict[tuple[str, str], int] = {}  # bytes printed, up to a line's end
    deadline = time.monotonic() + timeout
    while True:
        info = api.apps_info(app_id)
        ended = info["state"] in FINAL_STATES
        for cid, name, new in _new_output(api, app_id, ended, printed, read_aggregated):
            if container and cid != container:
                continue
            for line in new.decode("utf-8", "replace").splitlines():
                text_line = (json.dumps({"container": cid, "file": name, "line": line})
                             if as_json else f"{cid} {name}: {line}")
                print(text_line, file=out, flush=True)
        if ended:
            say(f"{app_id} {info['state']} {info.get('finalStatus', '')}")
            return 0 if info.get("finalStatus") == "SUCCEEDED" else 3
        if time.monotonic() > deadline:
            raise KnitTimeoutError(f"{app_id} still runs after {timeout:.0f} s of following "
                                   "its logs; it goes on running (`knit kill` stops it)")
        time.sleep(interval)


def _new_output(api, app_id: str, ended: bool, printed: dict, read_aggregated):
    """(container, file, bytes) not printed yet, ``printed`` moved on past them: whole
    lines from the NodeManagers while the application runs, everything after."""
    if ended:
        found = {cid: {name: text.encode("utf-8", "surrogateescape") for name, text in files.items()
                       if name in ("stdout", "stderr")}
                 for cid, files in api.logs(app_id, read_aggregated=read_aggregated).items()}
    else:
        found = {c["id"]: {name: _tail_from(api, c, name, printed.get((c["id"], name), 0))
                           for name in ("stdout", "stderr")}
                 for c in api.app_containers(app_id)}
    for cid, files in sorted(found.items()):
        for name, (start, data) in sorted((n, d if isinstance(d, tuple) else (0, d))
                                          for n, d in files.items()):
            seen = printed.get((cid, name), 0)
            new = data[max(0, seen - start):]
            if not ended:
                new = new[:new.rfind(b"\n") + 1]
            if new:
                printed[(cid, name)] = seen + len(new)
                yield cid, name, new


def _tail_from(api, container: dict, name: str, seen: int) -> tuple[int, bytes]:
    """The end of a live container's file that holds every byte from ``seen`` on, as
    (its offset in the file, bytes)."""
    want = FOLLOW_WINDOW
    while True:
        length, data = container_log_files(api, container["id"], container["nodeHttpAddress"],
                                           (name,), -want)[name]
        start = length - len(data)
        if start <= seen:
            return start, data
        want = length - seen + FOLLOW_WINDOW  # it grew past the window since the last look


def kill(args: argparse.Namespace) -> int:
    """Kill an application; exit 3 if it had already ended."""
    api = _knit().yarn_api
    state = api.state(args.app)
    killed = state not in FINAL_STATES and api.kill(args.app)
    _emit(args, {"id": args.app, "killed": killed},
          f"{args.app} killed" if killed else f"{args.app} had already ended ({state})")
    return 0 if killed else 3


def scale(args: argparse.Namespace) -> int:
    """Set how many worker containers a running knit application keeps."""
    knit = _knit()
    if knit.yarn_api.state(args.app) in FINAL_STATES:
        _emit(args, {"id": args.app, "ended": True}, f"{args.app} has ended")
        return 3
    target = knit.attach(args.app).scale(args.count)
    _emit(args, {"id": args.app, "target": target}, f"{args.app} target {target}")
    return 0


def add_parsers(commands) -> None:
    """Add the application verbs to the ``knit`` parser's sub-commands."""
    def verb(name: str, handler, help_text: str, app: bool = True):
        parser = commands.add_parser(name, help=help_text, description=help_text)
        parser.set_defaults(handler=handler)
        if app:
            parser.add_argument("app", help="the application id, e.g. application_1700000000000_0001")
        parser.add_argument("--json", action="store_true", help="print JSON for scripts")
        return parser

    sub = verb("submit", submit, "submit a command to run in YARN containers, or a spec file "
                                 "of services (Skein's format reads as is); prints the "
                                 "application id", app=False)
    sub.add_argument("cmd", help="shell command for each container, or SPEC: an application "
                                 "spec file (.yaml, .yml, .json); the other options are then "
                                 "the spec's")
    sub.add_argument("-n", "--num-containers", type=int, default=1)
    sub.add_argument("--memory", type=int, default=128, help="MB per container")
    sub.add_argument("--vcores", type=int, default=1, help="virtual cores per container")
    sub.add_argument("--file", action="append", help="file to ship (repeatable)")
    sub.add_argument("--envvar", action="append", type=_envvar, metavar="NAME=VALUE",
                     help="environment variable of the containers (repeatable)")
    sub.add_argument("--env", help="packed environment (zip, tar.gz) or environment folder")
    sub.add_argument("--queue", default="default")
    sub.add_argument("--name", default="knit", help="application name")
    sub.add_argument("--keep-alive", action="store_true",
                     help="a service: runs until killed, however many containers are left")
    sub.add_argument("--max-restarts", type=int, default=0,
                     help="failed containers replaced (-1: always)")
    sub.add_argument("--wait", action="store_true", help="wait for the end; exit 3 unless it "
                                                         "succeeded")
    sub.add_argument("--timeout", type=float, default=3600, help="seconds --wait waits")
    verb("status", status, "show an application's state, containers and diagnostics")
    listing = verb("ls", ls, "list your unfinished knit applications", app=False)
    listing.add_argument("--all", action="store_true", help="finished ones too")
    listing.add_argument("--all-users", action="store_true",
                         help="every user's (that YARN's ACLs let you see)")
    listing.add_argument("--tag", action="append", help="only those with this application tag "
                                                        "(repeatable: any of them)")
    logs_parser = verb("logs", logs, "print an application's container logs (live while it "
                                     "runs, aggregated after)")
    logs_parser.add_argument("--container", help="only this container")
    logs_parser.add_argument("-f", "--follow", action="store_true",
                             help="print new lines as they come until the application ends; "
                                  "exit 3 unless it succeeded")
    logs_parser.add_argument("--timeout", type=float, default=24 * 3600,
                             help="seconds --follow follows at most")
    logs_parser.add_argument("--tail", type=int, metavar="BYTES",
                             help="only the last BYTES bytes of each file")
    verb("kill", kill, "kill an application (exit 3 if it had already ended)")
    scaler = verb("scale", scale, "set how many worker containers a running application keeps")
    scaler.add_argument("count", type=int, help="the new number of worker containers")
    spec_commands.add_parsers(commands)
