"""The ``knit`` command line: ``knit cluster up|down|status|env``."""

from __future__ import annotations

import argparse
import json
import shlex
import sys

from .cluster import LocalCluster, default_directory
from .exceptions import KnitError


def _port_override(text: str) -> tuple[str, int]:
    name, sep, value = text.partition("=")
    if not sep or not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=PORT, e.g. rm_webapp=18088, not {text!r}")
    return name, int(value)


def _say(message: str) -> None:
    print(f"knit: {message}", file=sys.stderr, flush=True)


def _cluster(args: argparse.Namespace) -> LocalCluster:
    return LocalCluster(
        directory=args.dir,
        nodemanagers=getattr(args, "nodemanagers", 2),
        ports=dict(getattr(args, "port", None) or []),
        progress=_say,
    )


def cluster_up(args: argparse.Namespace) -> int:
    cluster = _cluster(args).up(timeout=args.timeout)
    status = cluster.status()
    print(f"ResourceManager  {status['resourcemanager']}")
    print(f"HDFS             {status['namenode']}  (WebHDFS {status['webhdfs']})")
    print(f"configuration    {status['conf_dir']}")
    print(f"logs             {cluster.directory / 'logs'}")
    for name, daemon in status["daemons"].items():
        print(f"  {name:<18} pid {daemon['pid']}")
    print(f"Use it from a shell with: eval \"$(knit cluster env --dir {shlex.quote(str(cluster.directory))})\"")
    return 0


def cluster_down(args: argparse.Namespace) -> int:
    killed = _cluster(args).down()
    _say("cluster stopped" + (f" (killed stragglers {killed})" if killed else ""))
    return 0


def cluster_status(args: argparse.Namespace) -> int:
    status = _cluster(args).status()
    print(json.dumps(status, indent=2))
    return 0 if status["running"] else 3


def cluster_env(args: argparse.Namespace) -> int:
    for key, value in _cluster(args).env().items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="knit", description="Run distributed commands on YARN.")
    commands = parser.add_subparsers(dest="command", required=True)
    cluster = commands.add_parser("cluster", help="a real local YARN + HDFS cluster")
    actions = cluster.add_subparsers(dest="action", required=True)
    for name, handler, text in (
        ("up", cluster_up, "start the cluster and wait until it serves"),
        ("down", cluster_down, "stop every process of the cluster"),
        ("status", cluster_status, "show the daemons and addresses (exit 3 if not running)"),
        ("env", cluster_env, "print `export` lines for eval"),
    ):
        action = actions.add_parser(name, help=text)
        action.set_defaults(handler=handler)
        action.add_argument("--dir", default=str(default_directory()),
                            help="cluster folder (default: %(default)s)")
        action.add_argument("--port", action="append", type=_port_override, metavar="NAME=PORT",
                            help="override a port (namenode, namenode_http, resourcemanager, "
                                 "scheduler, resource_tracker, rm_admin, rm_webapp)")
        if name == "up":
            action.add_argument("--nodemanagers", type=int, default=2, help="default: %(default)s")
            action.add_argument("--timeout", type=float, default=180.0,
                                help="seconds to wait for readiness (default: %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (KnitError, ValueError) as exc:
        _say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
