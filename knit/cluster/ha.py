"""High availability for the local cluster, shaped like a production cluster's.

``knit cluster up --ha`` adds to the ordinary daemons:

- a ZooKeeper server (the ensemble of one that both elections and YARN's state store use);
- a second ResourceManager: ``rm1`` on the first master address and ``rm2`` on the
  second, with the embedded ZooKeeper elector (automatic failover), the ZooKeeper
  state store and work-preserving recovery;
- a second NameNode behind the nameservice ``hdfs://knit``: ``nn1`` and ``nn2`` share
  their edits through three JournalNodes, and a failover controller (ZKFC) beside each
  makes one of them active.

The two masters are distinct host identities (``127.0.0.1`` and ``127.0.0.2``), so
each pair uses the same ports, as on two real hosts. The JournalNodes, ZooKeeper and
the failover controllers listen on ports picked free.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from .ports import ClusterPorts, free_ports, is_port_free

#: The HDFS nameservice: ``fs.defaultFS`` is ``hdfs://knit``.
NAMESERVICE = "knit"
RM_IDS = ("rm1", "rm2")
NN_IDS = ("nn1", "nn2")
JOURNALNODES = 3
#: ``yarn.resourcemanager.cluster-id``: the name both ResourceManagers elect under.
YARN_CLUSTER_ID = "knit-local"
#: The second master's address (the first is the network's master, 127.0.0.1).
SECOND_MASTER = "127.0.0.2"
#: ZooKeeper session timeout of the electors: how soon a dead master's lock lapses.
SESSION_TIMEOUT_MS = 5000

#: Keys of a single-master configuration that name its one ResourceManager or
#: NameNode; an HA configuration names each by its id instead.
SINGLE_MASTER_KEYS = {
    "hdfs-site.xml": ("dfs.namenode.rpc-address", "dfs.namenode.http-address",
                      "dfs.namenode.name.dir"),
    "yarn-site.xml": ("yarn.resourcemanager.hostname", "yarn.resourcemanager.address",
                      "yarn.resourcemanager.scheduler.address",
                      "yarn.resourcemanager.resource-tracker.address",
                      "yarn.resourcemanager.admin.address", "yarn.resourcemanager.webapp.address",
                      "yarn.resourcemanager.webapp.https.address",
                      "yarn.resourcemanager.fs.state-store.uri"),
}


@dataclass(frozen=True)
class HaLayout:
    """Where the HA daemons listen.

    Parameters
    ----------
    masters : tuple of str
        The host of ``rm1`` and ``nn1``, and the host of ``rm2`` and ``nn2``.
    zookeeper : int
        ZooKeeper's client port (on the first master).
    journalnodes : tuple of (int, int)
        Each JournalNode's RPC and HTTP port (on the first master).
    zkfc : int
        The failover controllers' RPC port (each on its NameNode's host).
    """

    masters: tuple[str, str]
    zookeeper: int
    journalnodes: tuple[tuple[int, int], ...]
    zkfc: int

    @classmethod
    def pick(cls, first_master: str) -> "HaLayout":
        """A layout with every port free now on both masters."""
        while True:
            picked = free_ports(2 + 2 * JOURNALNODES, first_master)
            if is_port_free(picked[1], SECOND_MASTER):
                break
        journal = tuple((picked[2 + 2 * i], picked[3 + 2 * i]) for i in range(JOURNALNODES))
        return cls((first_master, SECOND_MASTER), picked[0], journal, picked[1])

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "HaLayout":
        return cls(tuple(data["masters"]), int(data["zookeeper"]),
                   tuple(tuple(ports) for ports in data["journalnodes"]), int(data["zkfc"]))

    @property
    def zookeeper_address(self) -> str:
        return f"{self.masters[0]}:{self.zookeeper}"

    def master_of(self, daemon_id: str) -> str:
        """The host of ``rm1``/``nn1`` (the first master) or ``rm2``/``nn2``."""
        return self.masters[0 if daemon_id.endswith("1") else 1]

    def ports_in_use(self, ports: ClusterPorts) -> list[tuple[str, int]]:
        """(host, port) of every HA daemon, and of the second master's ResourceManager
        and NameNode (the first master's are the cluster's usual ones)."""
        first = self.masters[0]
        found = [(first, self.zookeeper), *((first, self.zkfc), (self.masters[1], self.zkfc))]
        found += [(first, port) for pair in self.journalnodes for port in pair]
        found += [(self.masters[1], port) for port in ports.as_dict().values()]
        return found


def core_site(layout: HaLayout) -> dict[str, str]:
    return {
        "fs.defaultFS": f"hdfs://{NAMESERVICE}",
        "ha.zookeeper.quorum": layout.zookeeper_address,
        "ha.zookeeper.session-timeout.ms": str(SESSION_TIMEOUT_MS),
        "ha.health-monitor.connect-retry-interval.ms": "500",
        "ha.failover-controller.graceful-fence.connection.retries": "0",
    }


def hdfs_site(layout: HaLayout, ports: ClusterPorts) -> dict[str, str]:
    journal = ";".join(f"{layout.masters[0]}:{rpc}" for rpc, _ in layout.journalnodes)
    props = {
        "dfs.nameservices": NAMESERVICE,
        f"dfs.ha.namenodes.{NAMESERVICE}": ",".join(NN_IDS),
        "dfs.namenode.shared.edits.dir": f"qjournal://{journal}/{NAMESERVICE}",
        f"dfs.client.failover.proxy.provider.{NAMESERVICE}":
            "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider",
        "dfs.ha.automatic-failover.enabled": "true",
        # The old active was SIGKILLed or is cut off: nothing to fence on one machine.
        "dfs.ha.fencing.methods": "shell(/bin/true)",
        "dfs.ha.zkfc.port": str(layout.zkfc),
        "dfs.ha.tail-edits.period": "2s",
        # A client tries the other NameNode soon (the default backs off up to 15 s).
        "dfs.client.failover.sleep.base.millis": "200",
        "dfs.client.failover.sleep.max.millis": "2000",
    }
    for nn_id in NN_IDS:
        host = layout.master_of(nn_id)
        props[f"dfs.namenode.rpc-address.{NAMESERVICE}.{nn_id}"] = f"{host}:{ports.namenode}"
        props[f"dfs.namenode.http-address.{NAMESERVICE}.{nn_id}"] = f"{host}:{ports.namenode_http}"
    return props


def yarn_site(layout: HaLayout, ports: ClusterPorts) -> dict[str, str]:
    props = {
        "yarn.resourcemanager.ha.enabled": "true",
        "yarn.resourcemanager.ha.rm-ids": ",".join(RM_IDS),
        "yarn.resourcemanager.cluster-id": YARN_CLUSTER_ID,
        "yarn.resourcemanager.ha.automatic-failover.enabled": "true",
        "yarn.resourcemanager.ha.automatic-failover.embedded": "true",
        "hadoop.zk.address": layout.zookeeper_address,
        "hadoop.zk.timeout-ms": str(SESSION_TIMEOUT_MS),
        "yarn.resourcemanager.store.class":
            "org.apache.hadoop.yarn.server.resourcemanager.recovery.ZKRMStateStore",
        # Clients, ApplicationMasters and NodeManagers try the other one soon.
        "yarn.client.failover-sleep-base-ms": "200",
        "yarn.client.failover-sleep-max-ms": "1000",
    }
    roles = {"address": ports.resourcemanager, "scheduler.address": ports.scheduler,
             "resource-tracker.address": ports.resource_tracker,
             "admin.address": ports.rm_admin, "webapp.address": ports.rm_webapp,
             "webapp.https.address": ports.rm_webapp}
    for rm_id in RM_IDS:
        host = layout.master_of(rm_id)
        props[f"yarn.resourcemanager.hostname.{rm_id}"] = host
        for key, port in roles.items():
            props[f"yarn.resourcemanager.{key}.{rm_id}"] = f"{host}:{port}"
    return props


def apply(sites: dict[str, dict[str, str]], layout: HaLayout, ports: ClusterPorts) -> None:
    """Turn the single-master client configuration ``sites`` into the HA one."""
    for file_name, keys in SINGLE_MASTER_KEYS.items():
        for key in keys:
            sites[file_name].pop(key, None)
    sites["core-site.xml"].update(core_site(layout))
    sites["hdfs-site.xml"].update(hdfs_site(layout, ports))
    sites["yarn-site.xml"].update(yarn_site(layout, ports))


def daemon_sites(directory: Path, layout: HaLayout) -> dict[str, dict[str, dict[str, str]]]:
    """The settings each HA daemon adds to the client configuration: its conf folder's
    name -> file name -> properties. A ResourceManager and a NameNode (with its
    failover controller) know which of the pair they are; a JournalNode its ports."""
    data = directory / "data"
    found: dict[str, dict[str, dict[str, str]]] = {}
    for rm_id in RM_IDS:
        found[f"resourcemanager-{rm_id}"] = {"yarn-site.xml": {"yarn.resourcemanager.ha.id": rm_id}}
    for nn_id in NN_IDS:
        found[f"namenode-{nn_id}"] = {"hdfs-site.xml": {
            "dfs.ha.namenode.id": nn_id, "dfs.namenode.name.dir": str(data / f"namenode-{nn_id}")}}
    for index, (rpc, http) in enumerate(layout.journalnodes):
        host = layout.masters[0]
        found[f"journalnode-{index}"] = {"hdfs-site.xml": {
            "dfs.journalnode.rpc-address": f"{host}:{rpc}",
            "dfs.journalnode.http-address": f"{host}:{http}",
            "dfs.journalnode.edits.dir": str(data / f"journalnode-{index}")},
            # A NameNode fetches edits over HTTP with no user.name, so with anonymous
            # calls refused (the cluster's other web endpoints) a standby NameNode
            # dies at its start with "status code 401". Under simple authentication
            # any caller may name any user anyway; a Kerberized cluster uses SPNEGO.
            "core-site.xml": {"hadoop.http.authentication.simple.anonymous.allowed": "true"}}
    return found


def zookeeper_config(directory: Path, layout: HaLayout) -> str:
    """``zoo.cfg`` of the ZooKeeper server: a short tick (sessions of a few seconds
    are allowed), no admin web server (it would take port 8080)."""
    return "\n".join([
        "tickTime=500",
        f"dataDir={directory / 'data' / 'zookeeper'}",
        f"clientPort={layout.zookeeper}",
        f"clientPortAddress={layout.masters[0]}",
        "admin.enableServer=false",
        "maxClientCnxns=0",
        "minSessionTimeout=1000",
        "maxSessionTimeout=30000",
        "4lw.commands.whitelist=ruok,srvr",
        "",
    ])
