"""``knit env create|ls|rm``: the local cache of environments that
:class:`~knit.conda.CondaCreator` makes and zips for containers (``~/.knit/envs``)."""

from __future__ import annotations

import argparse
import json
import sys

from .progress import say


def _creator(args: argparse.Namespace):
    from .conda import CondaCreator

    return CondaCreator(conda_envs=args.envs_dir, channels=getattr(args, "channel", None),
                        backend=getattr(args, "backend", None),
                        progress=None if args.json else say)


def create(args: argparse.Namespace) -> int:
    """Make (or reuse) an environment and print the path of its zip."""
    zip_path = _creator(args).create_env(args.name, args.packages or None, remove=args.rebuild)
    print(json.dumps({"name": args.name, "zip": zip_path}) if args.json else zip_path)
    return 0


def ls(args: argparse.Namespace) -> int:
    """List the cached environments."""
    envs = _creator(args).local_envs()
    if args.json:
        print(json.dumps(envs, indent=2))
        return 0
    for env in envs:
        packages = " ".join(env["packages"] or ["(not made by knit)"])
        zipped = f"{env['zip_mb']} MB zip" if env["zip"] else "no zip"
        print(f"{env['name']:<24} {zipped:<14} {packages}")
    return 0


def rm(args: argparse.Namespace) -> int:
    """Delete a cached environment and its zip; exit 3 if there is none."""
    from .exceptions import EnvError

    try:
        _creator(args).remove_env(args.name)
    except EnvError as exc:
        print(f"knit: {exc}", file=sys.stderr)
        return 3
    print(json.dumps({"name": args.name, "removed": True}) if args.json
          else f"removed {args.name}")
    return 0


def add_parser(commands) -> None:
    """Add ``knit env`` and its actions to the ``knit`` parser's sub-commands."""
    env = commands.add_parser("env", help="the local cache of packed environments",
                              description="Environments CondaCreator makes (with conda, "
                                          "py-rattler or pip) and zips for containers.")
    actions = env.add_subparsers(dest="action", required=True)
    for name, handler, text in (
        ("create", create, "make (or reuse) an environment; prints its zip, for --env"),
        ("ls", ls, "list the cached environments"),
        ("rm", rm, "delete an environment and its zip (exit 3 if there is none)"),
    ):
        action = actions.add_parser(name, help=text, description=text)
        action.set_defaults(handler=handler)
        action.add_argument("--envs-dir", help="the cache folder (default: ~/.knit/envs or "
                                               "$KNIT_ENVS_DIR)")
        action.add_argument("--json", action="store_true", help="print JSON for scripts")
        if name in ("create", "rm"):
            action.add_argument("name", help="the environment's name")
        if name == "create":
            action.add_argument("packages", nargs="*",
                                help="packages (conda or pip specs); none: zip the existing "
                                     "environment NAME")
            action.add_argument("--channel", action="append",
                                help="conda channel (repeatable; default conda-forge)")
            action.add_argument("--backend", choices=("conda", "rattler", "pip"),
                                help="how to make it (default: conda if installed, else "
                                     "py-rattler, else pip)")
            action.add_argument("--rebuild", action="store_true",
                                help="make it anew even if cached")
