"""The ``knit`` verbs of applications of services, as Skein users know them:
``submit SPEC`` (see :func:`knit.commands.submit`), ``container ls|kill|scale``,
``kv get|put|del|ls``, ``shutdown``, ``move`` and ``spec``; each with ``--json``.

Exit codes as :mod:`knit.commands`: 0 done, 1 an error, 2 bad usage, 3 the
application had already ended.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Callable

from .application import Application
from .exceptions import KnitValueError
from .yarn_api import FINAL_STATES

#: Suffixes that make ``knit submit ARG`` read ARG as a spec file, not a command.
SPEC_SUFFIXES = (".yaml", ".yml", ".json")


def is_spec_file(argument: str) -> bool:
    """Whether ``knit submit ARG`` names a spec file (an existing .yaml/.yml/.json)."""
    return argument.endswith(SPEC_SUFFIXES) and Path(argument).is_file()


def _emit(args: argparse.Namespace, data, text: str) -> None:
    print(json.dumps(data, indent=2, sort_keys=True) if args.json else text)


def on_running(verb: Callable[[argparse.Namespace, Application], None]):
    """The handler of a verb of a running application: it attaches to ``args.app``
    and runs ``verb`` with its handle (exit 0), or says it has ended (exit 3)."""
    def handler(args: argparse.Namespace) -> int:
        from .core import Knit

        knit = Knit(progress=False)
        if knit.yarn_api.state(args.app) in FINAL_STATES:
            _emit(args, {"id": args.app, "ended": True}, f"{args.app} has ended")
            return 3
        verb(args, knit.attach(args.app).application)
        return 0
    handler.__doc__ = verb.__doc__
    return handler


#: ``knit submit`` options of a command, and their defaults: a spec file has its own.
COMMAND_OPTIONS = (("--num-containers", "num_containers", 1), ("--memory", "memory", 128),
                   ("--vcores", "vcores", 1), ("--file", "file", None), ("--envvar", "envvar", None),
                   ("--env", "env", None), ("--queue", "queue", "default"), ("--name", "name", "knit"),
                   ("--keep-alive", "keep_alive", False), ("--max-restarts", "max_restarts", 0))


def refuse_command_options(args: argparse.Namespace) -> None:
    """Refuse ``knit submit SPEC`` with options of a command (the spec sets them).

    Raises
    ------
    KnitValueError
    """
    given = [flag for flag, name, default in COMMAND_OPTIONS if getattr(args, name) != default]
    if given:
        raise KnitValueError(f"{', '.join(given)}: with a spec file these are the spec's; "
                             f"set them in {args.cmd}")


def submit_spec(args: argparse.Namespace, knit) -> int:
    """``knit submit SPEC``: print the application id."""
    app = knit.submit(args.cmd)
    _emit(args, {"id": app.id}, app.id)
    return 0


@on_running
def container_ls(args: argparse.Namespace, app: Application) -> None:
    """List the live containers (or those in ``--state``), of ``--service``."""
    states = args.state or None
    found = app.get_containers(services=args.service or None, states=states)
    rows = [c.as_dict() for c in found]
    text = "\n".join(f"{c.id}  {c.service:<12} {c.state.value:<10} {c.node}" for c in found)
    _emit(args, rows, text or "no containers")


@on_running
def container_kill(args: argparse.Namespace, app: Application) -> None:
    """Stop one container."""
    app.kill_container(args.container)
    _emit(args, {"id": args.app, "killed": args.container}, f"{args.container} stopped")


@on_running
def container_scale(args: argparse.Namespace, app: Application) -> None:
    """Set (``--number``) or change (``--delta``) a service's container count."""
    target = app.scale(args.service, count=args.number, delta=args.delta)
    _emit(args, {"id": args.app, "service": args.service, "target": target},
          f"{args.service} target {target}")


@on_running
def kv(args: argparse.Namespace, app: Application) -> None:
    """``kv get|put|del|ls``: the application's key-value store."""
    store = app.kv
    if args.action == "get":
        value = store.wait(args.key, args.wait) if args.wait else store[args.key]
        _emit(args, {args.key: value}, value)
    elif args.action == "put":
        if args.value is None:
            raise KnitValueError("kv put needs --value VALUE")
        store[args.key] = args.value
        _emit(args, {args.key: args.value}, f"{args.key} set")
    elif args.action == "del":
        del store[args.key]
        _emit(args, {"deleted": args.key}, f"{args.key} deleted")
    else:
        items = store.prefix(args.key or "")
        _emit(args, items, "\n".join(f"{k}: {v}" for k, v in items.items()) or "no keys")


@on_running
def shutdown(args: argparse.Namespace, app: Application) -> None:
    """End the application with ``--status`` and ``--diagnostics``."""
    app.shutdown(args.status, args.diagnostics)
    _emit(args, {"id": args.app, "status": args.status.upper()},
          f"{args.app} shutting down {args.status.upper()}")


@on_running
def move(args: argparse.Namespace, app: Application) -> None:
    """Move the application to another queue."""
    app.move(args.queue)
    _emit(args, {"id": args.app, "queue": args.queue}, f"{args.app} moved to {args.queue}")


def spec(args: argparse.Namespace) -> int:
    """Print the spec the application was submitted with."""
    from .core import Knit

    knit = Knit(progress=False)
    knit.app_id = args.app
    found = knit.application.get_specification()
    _emit(args, found.to_dict(), found.to_yaml().rstrip())
    return 0


def add_parsers(commands) -> None:
    """Add the service verbs to the ``knit`` parser's sub-commands."""
    def verb(parent, name: str, handler, help_text: str):
        parser = parent.add_parser(name, help=help_text, description=help_text)
        parser.set_defaults(handler=handler)
        parser.add_argument("app", help="the application id, e.g. application_1700000000000_0001")
        parser.add_argument("--json", action="store_true", help="print JSON for scripts")
        return parser

    containers = commands.add_parser("container", help="list, stop or scale an application's "
                                                       "containers")
    actions = containers.add_subparsers(dest="action", required=True)
    lister = verb(actions, "ls", container_ls, "list the live containers (or those in --state)")
    lister.add_argument("--service", action="append", help="only this service's (repeatable)")
    lister.add_argument("--state", action="append", choices=("ALLOCATED", "RUNNING", "COMPLETE",
                                                              "REMOVED"),
                        help="only those in this state (repeatable; default: live ones)")
    killer = verb(actions, "kill", container_kill, "stop one container")
    killer.add_argument("container", help="its id")
    scaler = verb(actions, "scale", container_scale, "set or change a service's container count")
    scaler.add_argument("service", help="the service")
    how = scaler.add_mutually_exclusive_group(required=True)
    how.add_argument("--number", type=int, help="keep this many")
    how.add_argument("--delta", type=int, help="add (or, negative, remove) this many")

    store = commands.add_parser("kv", help="the key-value store of a running application")
    kv_actions = store.add_subparsers(dest="action", required=True)
    for name, text in (("get", "print a key's value"), ("put", "set a key"),
                       ("del", "delete a key"), ("ls", "list the keys (under a prefix)")):
        parser = verb(kv_actions, name, kv, text)
        parser.add_argument("key", nargs="?" if name == "ls" else None, default="",
                            help="a prefix" if name == "ls" else "the key")
        if name == "get":
            parser.add_argument("--wait", type=float, default=0, help="seconds to wait for it")
        if name == "put":
            parser.add_argument("--value", help="the value")

    ender = verb(commands, "shutdown", shutdown, "end a running application with a final status")
    ender.add_argument("--status", default="SUCCEEDED", type=str.upper,
                       choices=("SUCCEEDED", "FAILED", "KILLED"))
    ender.add_argument("--diagnostics", default="", help="the message YARN shows")
    mover = verb(commands, "move", move, "move a running application to another queue")
    mover.add_argument("queue", help="the queue")
    verb(commands, "spec", spec, "print the specification an application was submitted with")
