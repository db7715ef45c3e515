"""The ``knit`` command line: ``knit run``, the application verbs of
:mod:`knit.commands` (``submit``, ``status``, ``ls``, ``logs``, ``kill``, ``scale``),
``knit env`` (:mod:`knit.env_commands`), ``knit dask`` (:mod:`knit.dask_commands`),
``knit cluster up|down|status|restart|env|failover`` and ``knit completion bash|zsh``."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import shlex
import sys
import time

from .cluster import LocalCluster, default_directory
from .cluster.config import impersonation
from . import dask_commands, env_commands
from .commands import add_parsers as add_application_verbs
from .exceptions import KnitError
from .progress import say
from .yarn_logs import client_jvm_reader, format_logs


def _port_override(text: str) -> tuple[str, int]:
    name, sep, value = text.partition("=")
    if not sep or not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected NAME=PORT, e.g. rm_webapp=18088, not {text!r}")
    return name, int(value)


def _cluster(args: argparse.Namespace) -> LocalCluster:
    ports = "free" if getattr(args, "free_ports", False) else dict(getattr(args, "port", None) or [])
    return LocalCluster(
        directory=args.dir,
        nodemanagers=getattr(args, "nodemanagers", 2),
        ports=ports,
        network=getattr(args, "network", "loopback"),
        secure=getattr(args, "secure", False),
        https=getattr(args, "https", False),
        ha=getattr(args, "ha", False),
        extra_conf=_impersonation(args),
        progress=say,
    )


def _impersonation(args) -> dict | None:
    """``--proxy-users``/``--proxy-groups``: whom the cluster's owner may act as."""
    users, groups = getattr(args, "proxy_users", None), getattr(args, "proxy_groups", None)
    if not (users or groups):
        return None
    return impersonation(getpass.getuser(), users.split(",") if users else (),
                         groups.split(",") if groups else ())


ROOT_WARNING = ("warning: started by root, this local cluster runs every user's containers "
                "as root (YARN's default container executor runs them as the NodeManager's "
                "user): on a machine others use, start it as an ordinary user")


def cluster_up(args: argparse.Namespace) -> int:
    if os.geteuid() == 0:
        say(ROOT_WARNING)
    cluster = _cluster(args).up(timeout=args.timeout)
    status = cluster.status()
    print(f"ResourceManager  {status['resourcemanager']}")
    print(f"HDFS             {status['namenode']}  (WebHDFS {status['webhdfs']})")
    print(f"configuration    {status['conf_dir']}")
    print(f"logs             {cluster.directory / 'logs'}")
    print(f"NodeManagers     {', '.join(cluster.network.nodes)} ({cluster.network.mode} network)")
    for name, daemon in status["daemons"].items():
        print(f"  {name:<18} pid {daemon['pid']}")
    realm = cluster.realm
    if realm is not None:
        user = getpass.getuser()
        print(f"secure           Kerberos realm {status['realm']} (KDC {realm.host}:{realm.port}, "
              f"config {realm.krb5_conf})")
        print(f"you are          {realm.user_principal(user)} (keytab {realm.keytab(user)}, "
              f"tickets in {realm.ccache(user)})")
    if status["ha"]:
        print(f"high availability {_ha_line(status['ha'])}")
    if cluster.ca_certificate is not None:
        print(f"HTTPS            web endpoints need the cluster's CA: {cluster.ca_certificate} "
              "(e.g. SSL_CERT_FILE, or YARNAPI(verify=...))")
    print(f"Use it from a shell with: eval \"$(knit cluster env --dir {shlex.quote(str(cluster.directory))})\"")
    return 0


def _ha_line(states: dict[str, dict[str, str]]) -> str:
    return "; ".join(", ".join(f"{daemon_id} {state}" for daemon_id, state in group.items())
                     for group in states.values())


def cluster_failover(args: argparse.Namespace) -> int:
    result = _cluster(args).failover(args.kind, restart=not args.keep_dead)
    say(f"killed {result['killed']}; {result['active']} active {result['seconds']} s later"
        + ("" if args.keep_dead else f"; {result['killed']} restarted, standing by"))
    return 0


def cluster_down(args: argparse.Namespace) -> int:
    killed = _cluster(args).down()
    say("cluster stopped" + (f" (killed stragglers {killed})" if killed else ""))
    return 0


def cluster_restart(args: argparse.Namespace) -> int:
    _cluster(args).restart(args.daemon)
    say(f"{args.daemon} restarted")
    return 0


def cluster_status(args: argparse.Namespace) -> int:
    status = _cluster(args).status()
    print(json.dumps(status, indent=2))
    return 0 if status["running"] else 3


def cluster_env(args: argparse.Namespace) -> int:
    for key, value in _cluster(args).env().items():
        print(f"export {key}={shlex.quote(value)}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Run a command in YARN containers and print each container's output."""
    from .conf import find_conf_dir
    from .core import Knit

    if find_conf_dir() is None:
        say("no Hadoop configuration found (HADOOP_CONF_DIR); using the local cluster")
        if os.geteuid() == 0:
            say(ROOT_WARNING)
        cluster = LocalCluster(directory=args.dir, progress=say).up()
        os.environ.update(cluster.env())  # this process only, as `eval "$(knit cluster env)"`
    knit = Knit(progress=say, lang=args.lang)
    knit.start(args.cmd, num_containers=args.num_containers, memory=args.memory,
               virtual_cores=args.virtual_cores, files=args.file or None, env=args.env,
               queue=args.queue, app_name=args.name)
    try:
        started = time.monotonic()
        _show_containers_starting(knit, args.num_containers, args.timeout)
        succeeded = knit.wait_for_completion(max(1.0, args.timeout - (time.monotonic() - started)))
    except KeyboardInterrupt:
        knit.kill()
        raise
    if knit.runtime_status() not in ("FINISHED", "FAILED", "KILLED"):
        say(f"{knit.app_id} still runs after {args.timeout:.0f} s; killing it")
        knit.kill()
    status = knit.status()
    logs = knit.yarn_api.logs(knit.app_id, retries=30,
                              read_aggregated=client_jvm_reader(knit.client, knit.yarn_api))
    am_container = knit.yarn_api.app_attempts(knit.app_id)[0].get("containerId")
    print(format_logs(logs, skip=(am_container,)))
    say(f"{knit.app_id} {status['state']} {status['finalStatus']}: {status['diagnostics']}")
    return 0 if succeeded else 1


def _show_containers_starting(knit, count: int, timeout: float) -> None:
    """On a terminal, a bar of the containers started until all are (or the
    application ended, or ``timeout``); nothing elsewhere."""
    from .progress import count_bar, interactive
    from .yarn_api import FINAL_STATES

    if not interactive():
        return
    deadline = time.monotonic() + timeout
    with count_bar(count, "containers started", "container") as bar:
        while (bar.done < count and time.monotonic() < deadline
               and knit.runtime_status() not in FINAL_STATES):
            try:
                bar.to(sum(c["state"] != "ALLOCATED" for c in knit.worker_containers()))
            except KnitError:  # the ApplicationMaster just ended
                return
            time.sleep(0.25)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="knit", description="Run distributed commands on YARN.")
    commands = parser.add_subparsers(dest="command", required=True)
    runner = commands.add_parser("run", help="run a shell command in YARN containers and print "
                                             "their output (starts the local cluster if no "
                                             "Hadoop configuration is found)")
    runner.set_defaults(handler=run)
    runner.add_argument("cmd", help="shell command for each container")
    runner.add_argument("-n", "--num-containers", type=int, default=1)
    runner.add_argument("--memory", type=int, default=128, help="MB per container")
    runner.add_argument("--virtual-cores", type=int, default=1)
    runner.add_argument("--file", action="append", help="file to ship (repeatable)")
    runner.add_argument("--env", help="zipped environment or environment folder")
    runner.add_argument("--queue", default="default")
    runner.add_argument("--name", default="knit")
    runner.add_argument("--lang", default="C.UTF-8")
    runner.add_argument("--timeout", type=float, default=600, help="seconds to wait for the end")
    runner.add_argument("--dir", default=str(default_directory()),
                        help="local cluster folder, if one is started")
    add_application_verbs(commands)
    env_commands.add_parser(commands)
    dask_commands.add_parser(commands)
    completion = commands.add_parser(
        "completion", help="print the shell code that completes knit's commands",
        description="Print the shell code for tab completion; e.g. in ~/.bashrc: "
                    'eval "$(knit completion bash)"')
    completion.set_defaults(handler=print_completion)
    completion.add_argument("shell", choices=("bash", "zsh"))
    cluster = commands.add_parser("cluster", help="a real local YARN + HDFS cluster")
    actions = cluster.add_subparsers(dest="action", required=True)
    for name, handler, text in (
        ("up", cluster_up, "start the cluster and wait until it serves"),
        ("down", cluster_down, "stop every process of the cluster"),
        ("status", cluster_status, "show the daemons and addresses (exit 3 if not running)"),
        ("restart", cluster_restart, "stop one daemon and start it again (the ResourceManager "
                                     "recovers its applications)"),
        ("env", cluster_env, "print `export` lines for eval"),
        ("failover", cluster_failover, "HA cluster: kill -9 the active ResourceManager (rm) "
                                       "or NameNode (nn), wait for the other, restart it"),
    ):
        action = actions.add_parser(name, help=text)
        action.set_defaults(handler=handler)
        action.add_argument("--dir", default=str(default_directory()),
                            help="cluster folder (default: %(default)s)")
        action.add_argument("--port", action="append", type=_port_override, metavar="NAME=PORT",
                            help="override a port (namenode, namenode_http, resourcemanager, "
                                 "scheduler, resource_tracker, rm_admin, rm_webapp)")
        if name == "failover":
            action.add_argument("kind", choices=("rm", "nn"))
            action.add_argument("--keep-dead", action="store_true",
                                help="leave the killed daemon stopped")
        if name == "restart":
            action.add_argument("daemon", help="resourcemanager, namenode, datanode, nodemanager-N")
        if name == "up":
            action.add_argument("--nodemanagers", type=int, default=2, help="default: %(default)s")
            action.add_argument("--network", choices=("loopback", "separated"), default="loopback",
                                help="NodeManager host identities: a 127.0.0.x address each, "
                                     "or a network namespace each (needs root or the sudo "
                                     "helper; see docs/local_cluster.rst); default: %(default)s")
            action.add_argument("--secure", action="store_true",
                                help="Kerberos: a KDC of its own, RPC, data transfer and web "
                                     "endpoints authenticated (see docs/security.rst)")
            action.add_argument("--https", action="store_true",
                                help="YARN's web endpoints over HTTPS only, with a CA of the "
                                     "cluster's own (DIR/tls/ca.pem)")
            action.add_argument("--ha", action="store_true",
                                help="high availability: ZooKeeper, two ResourceManagers and "
                                     "two NameNodes (nameservice hdfs://knit) with automatic "
                                     "failover")
            action.add_argument("--proxy-users", metavar="USERS",
                                help="users (comma-separated) you may act as through "
                                     "impersonation (Knit(proxy_user=...)): a service's setup")
            action.add_argument("--proxy-groups", metavar="GROUPS",
                                help="groups (comma-separated) whose members you may act as")
            action.add_argument("--free-ports", action="store_true",
                                help="pick every port free instead of Hadoop's usual ones")
            action.add_argument("--timeout", type=float, default=180.0,
                                help="seconds to wait for readiness (default: %(default)s)")
    return parser


def print_completion(args: argparse.Namespace) -> int:
    """Print the code that makes ``args.shell`` complete knit's commands (argcomplete)."""
    import argcomplete

    print(argcomplete.shellcode(["knit"], shell=args.shell))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    if argv is None:
        import argcomplete

        argcomplete.autocomplete(parser)  # answers and exits when the shell asks
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (KnitError, ValueError, FileNotFoundError) as exc:
        say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
