"""``LocalCluster``: a real single-machine YARN + HDFS made of separate daemons."""

from __future__ import annotations

import getpass
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Callable


from .. import jarset
from ..exceptions import ClusterError
from ..waiting import wait_until
from ..java import java_executable
from . import config as cluster_config
from .config import ClusterConfig, NodePorts
from . import network as net
from . import tls as cluster_tls
from .daemons import (KERBEROS_FOLDER, Daemon, listening, raise_if_died, start_plain, stop_all,
                      stop_group, stray_processes)
from .kdc import REALM, Realm
from .hadoop_home import ensure_hadoop_home, ensure_secure_shims
from .network import Network
from .ports import ClusterPorts, check_ports_free, free_ports, wait_ports_free
from . import addresses, failover, web
from .ha import NAMESERVICE, SECOND_MASTER, HaLayout
from .state import ClusterFolder, daemon_entries, default_directory, ports_in_use

logger = logging.getLogger(__name__)

class LocalCluster:
    """A pseudo-distributed Hadoop cluster on this machine, for trying and testing knit.

    NameNode, DataNode, ResourceManager and ``nodemanagers`` NodeManagers run as
    separate JVMs from Hadoop jars resolved through Maven, with configuration in
    ``directory/conf`` and a Hadoop-home layout in ``directory/hadoop``.

    Parameters
    ----------
    directory : str or Path, optional
        Where configuration, data, logs and state live (default: :func:`default_directory`).
    nodemanagers : int
        Number of NodeManagers (default 2).
    ports : dict or "free", optional
        Overrides of :class:`~knit.cluster.ports.ClusterPorts` fields, e.g.
        ``{"rm_webapp": 18088}``, or ``"free"``: every port picked free at start
        (so the cluster never collides with another Hadoop on the machine; a
        running cluster in ``directory`` is adopted whatever its ports).
    network : {'loopback', 'separated'}
        Host identities of the NodeManagers (see :mod:`knit.cluster.network`):
        a loopback address each (default), or a network namespace each.
    nodemanager_memory_mb, nodemanager_vcores : int
        Resources each NodeManager offers.
    extra_conf : dict, optional
        ``{"yarn-site.xml": {"key": "value"}, ...}`` added to the generated files.
    secure : bool
        Kerberos everywhere (see :mod:`knit.cluster.kdc`): a KDC of its own, RPC
        authentication and service-level authorization, SASL on data transfer,
        SPNEGO on every web endpoint. The user running it gets principal
        ``USER@KNIT.LOCAL``, a keytab and a ticket cache (:meth:`env` names them).
        Loopback network only.
    https : bool
        The ResourceManager's and NodeManagers' web endpoints (REST APIs, web UI, the
        ApplicationMaster proxy) serve HTTPS only (``yarn.http.policy=HTTPS_ONLY``),
        with a certificate from a CA of the cluster's own: :attr:`ca_certificate`, the
        file to give clients (``SSL_CERT_FILE``, or ``verify=`` of
        :class:`~knit.yarn_api.YARNAPI`). See :mod:`knit.cluster.tls`.
    ha : bool
        High availability, as production clusters run (see :mod:`knit.cluster.ha`):
        ZooKeeper, two ResourceManagers with automatic failover, and two NameNodes
        behind the nameservice ``hdfs://knit`` with three JournalNodes and failover
        controllers. Loopback network only (with ``secure`` too).
    progress : callable, optional
        Receives one-line progress messages (default: the module logger).

    Examples
    --------
    >>> with LocalCluster(nodemanagers=2) as cluster:    # doctest: +SKIP
    ...     print(cluster.rm_url)
    http://127.0.0.1:8088
    """

    def __init__(
        self,
        directory: str | Path | None = None,
        nodemanagers: int = 2,
        ports: dict[str, int] | str | None = None,
        network: str = "loopback",
        nodemanager_memory_mb: int = 4096,
        nodemanager_vcores: int = 32,
        extra_conf: dict[str, dict[str, str]] | None = None,
        secure: bool = False,
        https: bool = False,
        ha: bool = False,
        progress: Callable[[str], None] | None = None,
    ):
        if not isinstance(nodemanagers, int) or nodemanagers < 1:
            raise ValueError(f"nodemanagers must be a whole number >= 1, not {nodemanagers!r}")
        if nodemanager_memory_mb < 256 or nodemanager_vcores < 1:
            raise ValueError("each NodeManager needs at least 256 MB and 1 vcore")
        if network not in net.MODES:
            raise ValueError(f"network must be one of {', '.join(net.MODES)}, not {network!r}")
        if secure and network != "loopback":
            raise ValueError("a secure local cluster runs on the loopback network only "
                             "(its KDC listens on the master's loopback address)")
        if ha and network != "loopback":
            raise ValueError("an HA local cluster runs on the loopback network only: drop "
                             "--network or --ha")
        self.secure = bool(secure)
        self._https = bool(https)
        self._ha = bool(ha)
        self.directory = Path(directory or default_directory()).expanduser().resolve()
        self.nodemanagers = nodemanagers
        self.ports_picked_free = ports == "free"
        self._port_overrides = {} if ports in (None, "free") else dict(ports)
        self.ports = self._requested_ports()
        self.network = net.loopback(nodemanagers)
        self.network_mode = network
        state = self._read_state()
        if state and "network" in state:
            # A cluster of this folder: every verb acts on its real addresses and ports,
            # whatever this object was asked for (status, restart, env of a --free-ports
            # cluster used the default ports: audit item 6).
            self.network = Network.from_dict(state["network"])
            self.ports = ClusterPorts(**state["ports"])
        self.nodemanager_memory_mb = nodemanager_memory_mb
        self.nodemanager_vcores = nodemanager_vcores
        self.extra_conf = tuple(
            (file_name, key, str(value))
            for file_name, props in (extra_conf or {}).items()
            for key, value in props.items()
        )
        self._progress = progress or logger.info
        self._show_bars = progress is not None  # a person asked to be told
        self._started_here = False

    def _requested_ports(self) -> ClusterPorts:
        return ClusterPorts() if self.ports_picked_free else ClusterPorts.from_overrides(
            self._port_overrides)

    # ----------------------------------------------------------------- where
    @property
    def conf_dir(self) -> Path:
        return self.directory / "conf"

    @property
    def hadoop_home(self) -> Path:
        return self.directory / "hadoop"

    @property
    def host(self) -> str:
        """The master's address: ResourceManager, NameNode and DataNode."""
        return self.network.master

    @property
    def https(self) -> bool:
        """Whether YARN's web endpoints serve HTTPS only (asked for, or the running
        cluster of this folder does)."""
        return self._https or bool((self._read_state() or {}).get("https"))

    @property
    def ca_certificate(self) -> Path | None:
        """The PEM certificate of the cluster's CA (with ``https``), else None."""
        return self.directory / cluster_tls.FOLDER / cluster_tls.CA_FILE if self.https else None

    @property
    def ha_layout(self) -> HaLayout | None:
        """Where the HA daemons listen, if this folder's cluster is an HA one."""
        data = (self._read_state() or {}).get("ha")
        return HaLayout.from_dict(data) if data else None

    @property
    def resourcemanagers(self) -> dict[str, str]:
        """Web address of each ResourceManager, by id (``rm1``, ``rm2``; ``rm`` alone
        on a cluster without HA)."""
        return addresses.resourcemanager_urls(self.host, self.ports, self.https, self.ha_layout)

    @property
    def namenodes(self) -> dict[str, str]:
        """Web address of each NameNode, by id (``nn1``, ``nn2``; ``nn`` alone)."""
        return addresses.namenode_urls(self.host, self.ports, self.ha_layout)

    @property
    def rm_url(self) -> str:
        """The ResourceManager's web address; on an HA cluster the active one's (asked
        each time), or the first one's while none is."""
        urls = self.resourcemanagers
        active = failover.active(web.ha_states(self)["resourcemanagers"]) if len(urls) > 1 else None
        return addresses.active_url(urls, active)

    @property
    def webhdfs_url(self) -> str:
        """WebHDFS of the NameNode (on an HA cluster, the active one's)."""
        urls = self.namenodes
        active = failover.active(web.ha_states(self)["namenodes"]) if len(urls) > 1 else None
        return f"{addresses.active_url(urls, active)}/webhdfs/v1"

    @property
    def fs_default(self) -> str:
        if self.ha_layout is not None:
            return f"hdfs://{NAMESERVICE}"
        return f"hdfs://{self.host}:{self.ports.namenode}"

    @property
    def realm(self) -> Realm | None:
        """The Kerberos realm of a secure cluster (None otherwise)."""
        state = self._read_state() or {}
        if not (self.secure or state.get("kdc_port")):
            return None
        return Realm(self.directory / KERBEROS_FOLDER, self.host, int(state.get("kdc_port") or 0))

    def env(self) -> dict[str, str]:
        """Variables that point Hadoop tools and knit at this cluster (and, when it is
        secure, MIT Kerberos at its realm and at the user's ticket cache)."""
        env = {
            "HADOOP_CONF_DIR": str(self.conf_dir),
            "HADOOP_HOME": str(self.hadoop_home),
            "PATH": f"{self.hadoop_home / 'bin'}:{os.environ.get('PATH', '')}",
        }
        realm = self.realm
        if realm is not None:
            env["KRB5_CONFIG"] = str(realm.krb5_conf)
            env["KRB5CCNAME"] = realm.ccache(getpass.getuser())
        return env

    def __repr__(self) -> str:
        secure = f", secure realm {REALM}" if self.secure else ""
        return (f"LocalCluster<{self.directory}, {self.nodemanagers} NodeManagers "
                f"({self.network_mode}){secure}, rm={self.rm_url}>")

    # ----------------------------------------------------------------- state
    @property
    def folder(self) -> ClusterFolder:
        """The cluster's folder: its state file, and who may read what in it."""
        return ClusterFolder(self.directory)

    def _read_state(self) -> dict | None:
        return self.folder.read_state()

    def _daemons_from_state(self, state: dict | None) -> list[Daemon]:
        return self.folder.daemons(state)

    def holds_cluster(self) -> bool:
        """Whether the folder is a local cluster's: its state file, or the layout
        ``up`` writes (``conf/yarn-site.xml`` and ``hadoop/``)."""
        return self.folder.holds_cluster()

    def _refuse_foreign_folder(self, action: str, empty_is_fine: bool = False) -> None:
        self.folder.refuse_foreign(action, empty_is_fine)

    def is_running(self) -> bool:
        """Whether every daemon of this folder's cluster is alive."""
        daemons = self._daemons_from_state(self._read_state())
        return bool(daemons) and all(daemon.is_alive() for daemon in daemons)

    # ------------------------------------------------------------------- up
    def up(self, timeout: float = 180.0) -> "LocalCluster":
        """Start the cluster and wait until YARN and HDFS serve requests.

        Returns at once if this folder's cluster is already running.

        Raises
        ------
        PortInUseError
            A port is taken; nothing was started.
        ToolNotFoundError
            No Java.
        JarDownloadError
            A Hadoop jar was neither local nor downloadable.
        DaemonDiedError
            A daemon exited while starting; its log tail is in the message.
        KnitTimeoutError
            The cluster was not ready within ``timeout`` seconds.
        """
        state = self._read_state()
        if state and self.is_running():
            self._adopt(state)
            self._progress(f"cluster in {self.directory} is already running")
            return self
        self._refuse_foreign_folder("start a cluster in it", empty_is_fine=True)
        if state or stray_processes(self.directory):
            self._progress("cleaning up what is left of an earlier cluster")
            self.down()
        self.ports = self._requested_ports()  # not the ports of the cluster that was here
        java_executable()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.folder.make_private(self.nodemanagers)
        started = time.monotonic()
        daemons: list[Daemon] = []
        try:
            self.network = self._make_network()
            # One pick for every master port (a second pick could hand out one again).
            picked = free_ports(7 + 3 + 1, self.host)
            if self.ports_picked_free:
                self.ports = ClusterPorts(*picked[:7])
            check_ports_free(self.ports, self.host)
            layout = HaLayout.pick(self.host) if self._ha else None
            if layout is not None:
                check_ports_free(self.ports, layout.masters[1])
            config = self._config(self._make_realm(picked[-1]), NodePorts(*picked[7:10]),
                                  self._make_tls(), layout)
            ensure_hadoop_home(self.hadoop_home, self.conf_dir,
                               lambda: jarset.hadoop_jars(progress=self._progress))
            if config.realm is not None:
                ensure_secure_shims(self.hadoop_home)
            cluster_config.write_all(config)
            # A new cluster starts with no application: only restart() recovers them.
            shutil.rmtree(self.directory / "rm-state", ignore_errors=True)
            self.folder.make_private(self.nodemanagers)
            daemons = self._daemons(config)
            if config.realm is not None:
                self._start_kdc(daemons[0], config.realm)
            self._start(daemons[1:] if config.realm else daemons, config)
            self.folder.write_state({
                "nodemanagers": self.nodemanagers, "network": config.network.as_dict(),
                "ports": self.ports.as_dict(), "datanode_ports": vars(config.datanode),
                "nodemanager_ports": [vars(ports) for ports in config.nodemanagers],
                "secure": config.realm is not None, "https": config.tls is not None,
                "kdc_port": config.realm.port if config.realm else None,
                "ha": layout.as_dict() if layout else None,
                "daemons": daemon_entries(daemons)})
            self._wait_ready(daemons, timeout)
            self._prepare_hdfs()
            web.label_nodes(self, cluster_config.NODE_LABELS, {
                config.network.nodes[index]: label
                for index, label in cluster_config.node_labels_of(self.nodemanagers).items()})
        except BaseException:
            stop_all(daemons, self.directory)
            net.destroy(self.network)
            self.folder.forget_state()
            raise
        self._started_here = True
        self._progress(f"cluster up in {time.monotonic() - started:.1f} s")
        return self

    def _make_network(self) -> Network:
        if self.network_mode == "separated":
            self._progress("creating the network namespaces of the NodeManagers")
            return net.separated(self.directory, self.nodemanagers)
        return net.loopback(self.nodemanagers)

    def _make_realm(self, port: int) -> Realm | None:
        """A fresh realm for a secure cluster (principals and keytabs); None otherwise."""
        folder = self.directory / KERBEROS_FOLDER
        if not self.secure:
            shutil.rmtree(folder, ignore_errors=True)  # daemons must not think they are secure
            return None
        self._progress(f"creating Kerberos realm {REALM} (KDC, principals, keytabs)")
        realm = Realm(folder, self.host, port)
        masters = [self.host, *([SECOND_MASTER] if self._ha else [])]
        realm.create(http_hosts=["localhost", *masters, *self.network.nodes],
                     users=[getpass.getuser()])
        return realm

    def _make_tls(self) -> cluster_tls.ClusterTls | None:
        """A fresh CA and server certificate for an ``https`` cluster; None otherwise."""
        folder = self.directory / cluster_tls.FOLDER
        if not self._https:
            shutil.rmtree(folder, ignore_errors=True)
            return None
        self._progress("creating the cluster's CA and HTTPS certificate (keytool)")
        return cluster_tls.create(folder, [self.host, *self.network.nodes, "localhost"])

    def _start_kdc(self, kdc: Daemon, realm: Realm) -> None:
        kdc.start()
        wait_until(lambda: listening(realm.host, realm.port) or raise_if_died(kdc), 30,
                   interval=0.1, what=f"the KDC to listen on {realm.host}:{realm.port}")
        realm.kinit(getpass.getuser())

    def _adopt(self, state: dict) -> None:
        """Refuse a running cluster that is not the one this object asks for."""
        self.folder.refuse_different(state, {
            "nodemanagers": self.nodemanagers, "mode": self.network_mode,
            "secure": self.secure, "https": self._https, "ha": self._ha,
            # Hadoop's usual ports (or some overrides) find another cluster if those are
            # not the running one's; "free" takes whatever it has.
            "ports": None if self.ports_picked_free else self._requested_ports().as_dict()})

    def _config(self, realm: Realm | None, datanode: NodePorts,
                tls: cluster_tls.ClusterTls | None = None,
                layout: HaLayout | None = None) -> ClusterConfig:
        return ClusterConfig(
            directory=self.directory,
            ports=self.ports,
            datanode=datanode,
            nodemanagers=tuple(self._nodemanager_ports(host) for host in self.network.nodes),
            network=self.network,
            owner=getpass.getuser(),
            nodemanager_memory_mb=self.nodemanager_memory_mb,
            nodemanager_vcores=self.nodemanager_vcores,
            extra=self.extra_conf,
            realm=realm,
            tls=tls,
            ha=layout,
        )

    def _nodemanager_ports(self, host: str) -> NodePorts:
        if self.network.mode == "separated":  # a host of its own: YARN's usual ports
            return NodePorts(rpc=8041, http=8042, extra=8040)
        return NodePorts(*free_ports(3, host))

    def _daemons(self, config: ClusterConfig) -> list[Daemon]:
        conf = config.conf_dir
        kdc = [Daemon("kdc", "kdc", self.directory, conf)] if config.realm else []
        if config.ha is not None:
            masters = failover.ha_daemons(self.directory, config.ha)
        else:
            masters = [Daemon("resourcemanager", "resourcemanager", self.directory, conf),
                       Daemon("namenode", "namenode", self.directory, conf)]
        daemons = kdc + masters + [Daemon("datanode", "datanode", self.directory, conf)]
        for index in range(self.nodemanagers):
            nm_conf = config.nodemanager_dir(index) / "conf"
            daemons.append(Daemon(f"nodemanager-{index}", "nodemanager", self.directory, nm_conf,
                                  prefix=self.network.node_command_prefix(index)))
        return daemons

    def _start(self, daemons: list[Daemon], config: ClusterConfig) -> None:
        if config.ha is not None:
            failover.start(daemons, self.directory, config.ha, self._progress)
        else:
            start_plain(daemons, self.directory, self._progress)

    def _wait_ready(self, daemons: list[Daemon], timeout: float) -> None:
        web.wait_ready(self, daemons, timeout, progress=self._progress, bars=self._show_bars)

    def _webhdfs(self, method: str, path: str, **params: str) -> dict:
        return web.webhdfs(self, method, path, **params)

    def _prepare_hdfs(self) -> None:
        """Create the folders an ordinary install has: /tmp (1777) and the user's home."""
        self._webhdfs("PUT", "/tmp", op="MKDIRS", permission="1777")
        self.add_user(getpass.getuser())

    def add_user(self, name: str) -> str:
        """Give another user of this machine a home in HDFS (``/user/NAME``, 755,
        owned by them), as an administrator does for each user of a real cluster.

        Returns
        -------
        str
            The home folder.
        """
        if not name or "/" in name:
            raise ValueError(f"not a user name: {name!r}")
        home = f"/user/{name}"
        self._webhdfs("PUT", home, op="MKDIRS", permission="755")
        self._webhdfs("PUT", home, op="SETOWNER", owner=name)
        return home

    def add_principal(self, name: str) -> Path:
        """On a secure cluster, create principal ``NAME@KNIT.LOCAL`` with a keytab
        (mode 600, owned by the cluster's owner, who hands it to the user).

        Returns
        -------
        Path
            The keytab.
        """
        realm = self.realm
        if realm is None:
            raise ClusterError(f"the cluster in {self.directory} is not secure: no principals")
        if not name or "/" in name or "@" in name:
            raise ValueError(f"not a user name: {name!r}")
        return realm.add_user(name)

    # ----------------------------------------------------------------- down
    def down(self) -> list[int]:
        """Stop every process of this folder's cluster and wait for its ports to free.

        Works after a daemon was killed (``kill -9``) or the state file was lost:
        processes are found by the folder they belong to.

        Returns
        -------
        list of int
            Pids that did not stop on SIGTERM and were killed.
        """
        if not self.directory.exists():
            return []
        self._refuse_foreign_folder("stop anything")
        state = self._read_state()
        daemons = self._daemons_from_state(state)
        killed = stop_all(daemons, self.directory)
        network = Network.from_dict(state["network"]) if state and "network" in state else None
        if network is not None:
            net.destroy(network)
        if network is None or network.mode == "loopback":  # namespaces took their ports along
            wait_ports_free(ports_in_use(state, self.host, self.ports))
        self.folder.forget_state()
        self._started_here = False
        return killed

    # ------------------------------------------------------------- restart
    def kill(self, name: str) -> None:
        """SIGKILL one daemon, as a crash would (its children left as they are).

        Raises
        ------
        ClusterError
            No daemon ``name`` in this folder's cluster.
        """
        self._daemon(self._read_state(), name).kill()

    def _daemon(self, state: dict | None, name: str) -> Daemon:
        daemons = self._daemons_from_state(state)
        for daemon in daemons:
            if daemon.name == name:
                return daemon
        raise ClusterError(f"no daemon {name!r} in the cluster of {self.directory}; it has "
                           f"{', '.join(d.name for d in daemons) or 'none (is it up?)'}")

    def restart(self, name: str, timeout: float = 120.0) -> None:
        """Stop one daemon (``resourcemanager``, ``nodemanager-0``, ...) and start it
        again with the same configuration, then wait until the cluster serves again.

        The ResourceManager recovers its applications (work-preserving recovery is
        on): running containers carry on and ApplicationMasters re-register.

        Raises
        ------
        ClusterError
            No cluster runs in this folder, or it has no daemon ``name``.
        """
        state = self._read_state()
        daemons = self._daemons_from_state(state)
        daemon = self._daemon(state, name)
        stop_group([daemon])
        if daemon.role == "resourcemanager":  # its new JVM binds the same ports
            master = state.get("network", {}).get("master", self.host)
            if state.get("ha"):
                master = HaLayout.from_dict(state["ha"]).master_of(name)
            wait_ports_free([(master, port) for key, port in state["ports"].items()
                             if key in ("resourcemanager", "scheduler", "resource_tracker",
                                        "rm_admin", "rm_webapp")])
        self._progress(f"restarting {name}")
        daemon.start()
        config_daemons = [daemon if d.name == name else d for d in daemons]
        state["daemons"] = daemon_entries(config_daemons)
        self.folder.write_state(state)
        self._wait_ready(config_daemons, timeout)
        if state.get("ha") and daemon.role in ("resourcemanager", "namenode"):
            failover.wait_answering(daemon, lambda: web.ha_states(self), timeout)

    # --------------------------------------------------------------- status
    def status(self) -> dict:
        """What runs: each daemon's pid and liveness, and where to reach the cluster."""
        state = self._read_state()
        daemons = self._daemons_from_state(state)
        return {
            "directory": str(self.directory),
            "running": bool(daemons) and all(d.is_alive() for d in daemons),
            "daemons": {d.name: {"pid": d.pid, "alive": d.is_alive(), "log": str(d.log_path)}
                        for d in daemons},
            "network": self.network.as_dict(),
            "resourcemanager": self.rm_url,
            "namenode": self.fs_default,
            "webhdfs": self.webhdfs_url,
            "conf_dir": str(self.conf_dir),
            "secure": bool(state and state.get("secure")),
            "realm": REALM if state and state.get("secure") else None,
            "ha": web.ha_states(self) if state and state.get("ha") and daemons else None,
        }

    # ------------------------------------------------------------- failover
    def failover(self, kind: str, restart: bool = True, timeout: float = 90.0) -> dict:
        """Force a failover of an HA cluster: SIGKILL the active ResourceManager
        (``kind='rm'``) or NameNode (``'nn'``), as a crash would, and wait until the
        other one is active; then (with ``restart``) start the killed one again, to
        stand by. Returns ``killed`` and ``active`` (ids) and ``seconds`` from the kill
        until the other one was active; see :func:`knit.cluster.failover.force`."""
        if kind not in failover.KINDS:
            raise ValueError(f"kind must be 'rm' or 'nn', not {kind!r}")
        if self.ha_layout is None:
            raise ClusterError(f"the cluster in {self.directory} is not an HA cluster "
                               "(start one with `knit cluster up --ha`)")
        key, role = failover.KINDS[kind]
        state = self._read_state()
        result = failover.force(kind, lambda: web.ha_states(self)[key],
                                lambda daemon_id: self._daemon(state, f"{role}-{daemon_id}"),
                                timeout)
        if restart:
            self.restart(f"{role}-{result['killed']}")
        return result

    def __enter__(self) -> "LocalCluster":
        return self.up()

    def __exit__(self, *exc_info) -> None:
        if self._started_here:
            self.down()


