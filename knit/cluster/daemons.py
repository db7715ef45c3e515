"""One Hadoop daemon as its own JVM process: start, watch, stop, find strays."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..exceptions import DaemonDiedError
from ..java import LEAN_FLAGS, installed_jar, java_executable, java_opens_flags
from ..waiting import poll
from .hadoop_home import classpath_entries, shim_classes
from .kdc import Realm

#: Sub-folder of a secure cluster holding its realm (see :mod:`knit.cluster.kdc`).
KERBEROS_FOLDER = "kerberos"

#: Main classes of the daemons, by role.
MAIN_CLASSES = {
    "namenode": "org.apache.hadoop.hdfs.server.namenode.NameNode",
    "datanode": "org.apache.hadoop.hdfs.server.datanode.DataNode",
    "resourcemanager": "org.apache.hadoop.yarn.server.resourcemanager.ResourceManager",
    "nodemanager": "org.apache.hadoop.yarn.server.nodemanager.NodeManager",
    # High availability (knit.cluster.ha)
    "zookeeper": "org.apache.zookeeper.server.ZooKeeperServerMain",
    "journalnode": "org.apache.hadoop.hdfs.qjournal.server.JournalNode",
    "zkfc": "org.apache.hadoop.hdfs.tools.DFSZKFailoverController",
    "kdc": "krb5kdc",  # the secure cluster's MIT KDC, not a JVM
}

#: Maximum heap per role, in MB: enough for a test cluster, lean on a 2-core machine.
HEAP_MB = {"namenode": 384, "datanode": 256, "resourcemanager": 512, "nodemanager": 384,
           "zookeeper": 128, "journalnode": 128, "zkfc": 128}

#: The system property that tags every process of a cluster with its folder.
TAG_PROPERTY = "knit.cluster.dir"

#: A node's PATH: the system's, as on an ordinary Hadoop node (not the user's shell).
NODE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass
class Daemon:
    """A Hadoop daemon of the local cluster.

    Parameters
    ----------
    name : str
        Unique name in the cluster (``namenode``, ``nodemanager-0``, ...).
    role : str
        Key of :data:`MAIN_CLASSES`.
    cluster_dir : Path
        The cluster's folder; logs go to ``cluster_dir/logs/NAME.log``.
    conf_dir : Path
        The ``HADOOP_CONF_DIR`` of this daemon.
    args : list of str
        Arguments after the main class.
    pid : int or None
        Set once started (or when read back from the cluster state).
    prefix : list of str
        What the command runs under, e.g. the helper that enters a NodeManager's
        network namespace (see :mod:`knit.cluster.network`).
    """

    name: str
    role: str
    cluster_dir: Path
    conf_dir: Path
    args: list[str] = field(default_factory=list)
    pid: int | None = None
    prefix: list[str] = field(default_factory=list)

    @property
    def log_path(self) -> Path:
        return self.cluster_dir / "logs" / f"{self.name}.log"

    @property
    def hadoop_home(self) -> Path:
        return self.cluster_dir / "hadoop"

    @property
    def realm(self) -> Realm | None:
        """The cluster's Kerberos realm if it is secure."""
        folder = self.cluster_dir / KERBEROS_FOLDER
        return Realm(folder, "", 0) if (folder / "krb5.conf").is_file() else None

    def command(self) -> list[str]:
        """The full command line of the daemon (``java ...``, or the KDC)."""
        if self.role == "kdc":
            return self.realm.kdc_command()
        entries = [str(self.conf_dir), *classpath_entries(self.hadoop_home)]
        if self.role == "nodemanager" and self.realm is not None:
            entries.insert(0, str(shim_classes(self.hadoop_home)))  # before Hadoop's jars
        jar = installed_jar() if self.role == "nodemanager" else None
        if jar is not None:
            entries.append(str(jar))  # for NIO_LOCAL_FS (see config.write_all)
        classpath = os.pathsep.join(entries)
        # A prefix (sudo) may not pass the environment on: the command carries it.
        carried = ["env", "-i", *(f"{k}={v}" for k, v in self.environment().items())]
        return [
            *(self.prefix + carried if self.prefix else []),
            java_executable(),
            f"-Xmx{HEAP_MB[self.role]}m",
            *LEAN_FLAGS,
            *java_opens_flags(),
            "-Djava.net.preferIPv4Stack=true",
            f"-D{TAG_PROPERTY}={self.cluster_dir}",
            f"-Dhadoop.home.dir={self.hadoop_home}",
            f"-Dhadoop.log.dir={self.cluster_dir / 'logs'}",
            f"-Dyarn.log.dir={self.cluster_dir / 'logs'}",
            f"-Dhadoop.log.file={self.name}.log",
            f"-Dyarn.log.file={self.name}.log",
            f"-Dhadoop.id.str={self.name}",
            f"-Dlog4j.configuration=file:{self.conf_dir / 'log4j.properties'}",
            *self._kerberos_flags(),
            "-cp",
            classpath,
            MAIN_CLASSES[self.role],
            *self.args,
        ]

    def _kerberos_flags(self) -> list[str]:
        if self.realm is None:
            return []
        return [f"-Djava.security.krb5.conf={self.realm.krb5_conf}",
                # Many daemons share a principal (every NodeManager is nm/localhost) and
                # one host: the JVM's replay cache would refuse their fast repeat logins.
                "-Dsun.security.krb5.rcache=none"]

    def environment(self) -> dict[str, str]:
        """The daemon's environment: what an init script of a real node would set."""
        if self.role == "kdc":
            return {"PATH": NODE_PATH, **self.realm.environment()}
        home = str(self.hadoop_home)
        java_home = str(Path(java_executable()).parent.parent)
        env = {
            "HOME": os.environ.get("HOME", "/"),
            "USER": os.environ.get("USER", ""),
            "PATH": f"{home}/bin:{java_home}/bin:{NODE_PATH}",
            "LANG": "C.UTF-8",
            "JAVA_HOME": java_home,
            "HADOOP_HOME": home,
            "HADOOP_COMMON_HOME": home,
            "HADOOP_HDFS_HOME": home,
            "HADOOP_YARN_HOME": home,
            "HADOOP_CONF_DIR": str(self.conf_dir.parent.parent / "conf")
            if self.role == "nodemanager"
            else str(self.conf_dir),
            "HADOOP_USER_NAME": os.environ.get("USER", ""),
            "KRB5_CONFIG": str(self.realm.krb5_conf) if self.realm else "",
        }
        return {key: value for key, value in env.items() if value}

    def start(self) -> "Daemon":
        """Start the JVM in its own session, its output appended to its log."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.cluster_dir,
                env=self.environment(),
                start_new_session=True,
            )
        self.pid = process.pid
        # The daemon outlives this Python process when started from the CLI; while
        # we live, its Popen tells liveness (even before exec) and reaps it.
        _children[process.pid] = process
        return self

    def run_to_end(self, what: str, timeout: float = 120.0) -> None:
        """Run the command to its end (a format step), its output appended to its log.

        Raises
        ------
        DaemonDiedError
            It exited with an error; the end of its log is in the message.
        """
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            result = subprocess.run(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                    env=self.environment(), cwd=self.cluster_dir,
                                    timeout=timeout, check=False)
        if result.returncode != 0:
            raise DaemonDiedError(f"{what} failed (exit {result.returncode}); end of "
                                  f"{self.log_path}:\n{self.log_tail()}", self.name, self.log_tail())

    def is_alive(self) -> bool:
        """Whether our process still runs (and the pid was not reused by another)."""
        if self.pid is None:
            return False
        child = _children.get(self.pid)
        if child is not None:
            return child.poll() is None
        return is_cluster_process(self.pid, self.cluster_dir, MAIN_CLASSES[self.role])

    def exit_code(self) -> int | None:
        """The exit status of a process this Python process started (None while it
        runs, or if another process started it)."""
        child = _children.get(self.pid) if self.pid is not None else None
        return child.poll() if child is not None else None

    def log_tail(self, lines: int = 25) -> str:
        """The last ``lines`` lines of the daemon's log."""
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no log written)"
        return "\n".join(text.splitlines()[-lines:])

    def terminate(self) -> None:
        """Send SIGTERM to the daemon's process group."""
        if self.is_alive():
            _signal_group(self.pid, signal.SIGTERM)

    def kill(self) -> None:
        """Send SIGKILL to the daemon's process group."""
        if self.pid is not None and self.is_alive():
            _signal_group(self.pid, signal.SIGKILL)


def listening(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on ``host:port``."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0


def raise_if_died(daemon: Daemon) -> bool:
    """False while ``daemon`` runs (for :func:`~knit.waiting.wait_until`); raise once it exited."""
    if not daemon.is_alive():
        raise DaemonDiedError(f"{daemon.name} exited while starting; end of {daemon.log_path}:\n"
                              f"{daemon.log_tail()}", daemon.name, daemon.log_tail())
    return False


#: Daemons started by this process, by pid.
_children: dict[int, subprocess.Popen] = {}


def _reap() -> None:
    for pid, process in list(_children.items()):
        if process.poll() is not None:
            del _children[pid]


def _signal_group(pid: int, sig: signal.Signals) -> None:
    """Signal ``pid``'s process group; if that is not ours to signal (a daemon run
    through ``sudo`` in a network namespace), the processes below it that are."""
    try:
        os.killpg(pid, sig)
        return
    except ProcessLookupError:
        return
    except PermissionError:
        pass
    for child in [pid, *_descendants(pid)]:
        try:
            os.kill(child, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            children.setdefault(_parent(int(entry.name)), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _mentions(arg: str, folder: str) -> bool:
    return arg == folder or f"{folder}/" in arg or arg.endswith(f"={folder}")


def is_cluster_process(pid: int, cluster_dir: Path, main_class: str | None = None) -> bool:
    """Whether ``pid`` is a live process of the cluster in ``cluster_dir``."""
    args = _cmdline(pid)
    if not args or _is_zombie(pid):
        return False
    if main_class == MAIN_CLASSES["kdc"]:  # named by its pid file in the folder
        return Path(args[0]).name == main_class and any(_mentions(a, str(cluster_dir)) for a in args)
    tagged = f"-D{TAG_PROPERTY}={cluster_dir}" in args
    return tagged and (main_class is None or main_class in args)


#: Main class of the client JVM that knit's Python side starts (knit.jvm).
CLIENT_JVM_CLASS = "knit.client.GatewayMain"


def _parent(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[-1].split()[1])


def _ancestors() -> set[int]:
    pids, pid = set(), os.getpid()
    while pid > 1:
        pids.add(pid)
        pid = _parent(pid)
    return pids


def _uid(pid: int) -> int | None:
    try:
        return Path(f"/proc/{pid}").stat().st_uid
    except OSError:
        return None


def _belongs(pid: int, folder: str, container_roots: tuple[str, ...]) -> bool:
    """Whether ``pid`` is one of the cluster's: a daemon tagged with its folder, its
    KDC, or a container running in one of its NodeManagers' folders."""
    args = _cmdline(pid)
    if f"-D{TAG_PROPERTY}={folder}" in args:
        return True
    if args and Path(args[0]).name == MAIN_CLASSES["kdc"] and any(_mentions(a, folder) for a in args):
        return True
    try:
        cwd = os.readlink(f"/proc/{pid}/cwd") + "/"
    except OSError:
        return False
    return cwd.startswith(container_roots)


def stray_processes(cluster_dir: Path) -> list[int]:
    """Processes that belong to the cluster: daemons, and containers they launched.

    Only processes of the folder's owner count, and of those only the daemons (tagged
    ``-Dknit.cluster.dir=DIR`` on their command line), the secure cluster's KDC, and
    processes whose working directory is inside a NodeManager's folder
    (``DIR/nodemanager-N/``: containers). Anything else that merely runs in ``DIR``
    or names it (a shell, a Jupyter server) is never listed. This process, its
    ancestors and its own knit client JVM are never listed either.
    """
    folder_path = cluster_dir.resolve()
    try:
        owner = folder_path.stat().st_uid
    except OSError:
        return []
    folder = str(folder_path)
    roots = tuple(f"{path}/" for path in folder_path.glob("nodemanager-*") if path.is_dir())
    mine = _ancestors()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) in mine:
            continue
        pid = int(entry.name)
        if _uid(pid) != owner or _is_zombie(pid):
            continue
        if _parent(pid) == os.getpid() and CLIENT_JVM_CLASS in _cmdline(pid):
            continue
        if _belongs(pid, folder, roots):
            found.append(pid)
    return found


#: Stop order: NodeManagers while the RM (to unregister) and HDFS (to aggregate
#: logs) still answer, then the RM, then HDFS (an HA cluster's failover controllers
#: first, its JournalNodes last), then ZooKeeper, then the KDC they all log in with. Daemons within a step stop together.
STOP_ORDER = ["nodemanager", "resourcemanager", "datanode", "zkfc", "namenode", "journalnode",
              "zookeeper", "kdc"]


def stop_group(daemons: list[Daemon], timeout: float = 15.0) -> list[int]:
    """SIGTERM the daemons, SIGKILL those alive after ``timeout`` s; returns their pids."""
    for daemon in daemons:
        daemon.terminate()
    stuck = poll(lambda: [d for d in daemons if d.is_alive()], timeout, until=lambda alive: not alive)
    for daemon in stuck:
        daemon.kill()
    return [d.pid for d in stuck if d.pid is not None]


def stop_all(daemons: list[Daemon], cluster_dir: Path, timeout: float = 15.0) -> list[int]:
    """Stop the daemons in :data:`STOP_ORDER`, then every stray process of the cluster.

    SIGTERM first, so NodeManagers stop their containers and logs are flushed;
    SIGKILL for a daemon still alive after ``timeout`` seconds.

    Returns
    -------
    list of int
        The pids that had to be killed with SIGKILL.
    """
    killed = []
    for role in STOP_ORDER:
        group = [d for d in daemons if d.role == role]
        if group:
            killed += stop_group(group, timeout)
    strays = stray_processes(cluster_dir)
    for pid in strays:
        _signal_group(pid, signal.SIGTERM)
    if strays:
        strays = poll(lambda: stray_processes(cluster_dir), 2.0, until=lambda left: not left)
    for _ in range(20):
        if not strays:
            break
        for pid in strays:
            _signal_group(pid, signal.SIGKILL)
            killed.append(pid)
        time.sleep(0.1)
        strays = stray_processes(cluster_dir)
    _reap()
    return sorted(set(killed))


def start_plain(daemons: list[Daemon], directory: Path, progress: Callable[[str], None]) -> None:
    """Start the daemons of a cluster without HA: YARN at once; HDFS formatted (first
    start only) meanwhile, then started."""
    yarn = [d for d in daemons if d.role in ("resourcemanager", "nodemanager")]
    hdfs = [d for d in daemons if d.role in ("namenode", "datanode")]
    for daemon in yarn:
        daemon.start()
    progress(f"started ResourceManager and {len(yarn) - 1} NodeManager(s)")
    namenode = next(d for d in hdfs if d.role == "namenode")
    if not (directory / "data" / "namenode" / "current").is_dir():
        progress("formatting HDFS (first start only)")
        Daemon("namenode-format", "namenode", directory, namenode.conf_dir,
               args=["-format", "-nonInteractive", "-force"]).run_to_end("formatting HDFS")
    for daemon in hdfs:
        daemon.start()
    progress("started NameNode and DataNode")
