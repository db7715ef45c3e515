"""The Hadoop configuration of the local cluster, written as ordinary site files.

``DIR/conf`` is what clients (and ``HADOOP_CONF_DIR``) use; each NodeManager
gets ``DIR/nodemanager-N/conf``, the same files plus its own ports and folders.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from lxml import etree

from ..java import installed_jar
from .hadoop_home import NIO_LOCAL_FS, SHARE_DIRS
from . import ha
from .ha import HaLayout
from .kdc import Realm, auth_to_local
from .network import Network
from .ports import ClusterPorts
from .tls import ClusterTls

#: The HTTP authentication filter's signing secret, in the client conf dir (mode 600).
HTTP_SECRET = "http-signature-secret"

SITE_FILES = ("core-site.xml", "hdfs-site.xml", "yarn-site.xml", "capacity-scheduler.xml",
              "resource-types.xml")

#: Resource types the local cluster declares besides memory and vcores, as production
#: clusters do: a GPU-shaped ``yarn.io/gpu`` (counted, without YARN's GPU plugin:
#: docs/specification.rst says what differs from a real GPU node) and one custom
#: countable resource.
RESOURCE_TYPES = ("yarn.io/gpu", "example.com/license")


#: Node labels (partitions) of the local cluster: name -> exclusive. Containers ask
#: for a label with ``node_label``; an exclusive partition's nodes run nothing else,
#: a non-exclusive one lends its idle room to unlabelled asks (but never to an
#: ApplicationMaster, and only after a delay). Queue ``default`` may use both,
#: ``batch`` neither.
NODE_LABELS = {"fast": False, "dedicated": True}


def node_labels_of(count: int) -> dict[int, str]:
    """Which NodeManager carries which label, of ``count``: ``dedicated`` on the third,
    ``fast`` on the fourth. Two nodes stay unlabelled: either label would change
    where everything else runs (an exclusive node takes the others' room, a
    non-exclusive one takes no ApplicationMaster); label them with
    :func:`knit.cluster.web.label_nodes` for a while."""
    return {index: label for index, label in ((2, "dedicated"), (3, "fast")) if index < count}


def node_resource_counts(index: int) -> dict[str, int]:
    """What NodeManager ``index`` declares of :data:`RESOURCE_TYPES`: no GPU (the
    first node discovers its two through YARN's GPU plugin, :data:`STAND_IN_NVIDIA_SMI`),
    three licenses on every node."""
    return {**({} if index == 0 else {"yarn.io/gpu": 0}), "example.com/license": 3}


#: A stand-in for ``nvidia-smi -x -q``: two GPUs, in the XML YARN's GPU plugin reads
#: (the first NodeManager runs the plugin with it, DIR/gpu/nvidia-smi).
STAND_IN_NVIDIA_SMI = """#!/bin/sh
# knit's local cluster: a stand-in for nvidia-smi -x -q (two GPUs, no devices).
cat <<'XML'
<?xml version="1.0" ?>
<nvidia_smi_log>
  <driver_version>0.0 (knit stand-in)</driver_version>
  <attached_gpus>2</attached_gpus>
""" + "".join(f"""  <gpu id="00000000:0{minor + 4}:00.0">
    <product_name>knit stand-in GPU</product_name>
    <uuid>GPU-00000000-0000-0000-0000-00000000000{minor}</uuid>
    <minor_number>{minor}</minor_number>
    <fb_memory_usage><total>16384 MiB</total><used>0 MiB</used><free>16384 MiB</free></fb_memory_usage>
    <utilization><gpu_util>0 %</gpu_util></utilization>
    <temperature><gpu_temp>30 C</gpu_temp><gpu_temp_max_threshold>90 C</gpu_temp_max_threshold><gpu_temp_slow_threshold>85 C</gpu_temp_slow_threshold></temperature>
  </gpu>
""" for minor in range(2)) + """</nvidia_smi_log>
XML
"""


def gpu_plugin(folder: Path) -> dict[str, str]:
    """yarn-site settings of a NodeManager running YARN's GPU plugin with the stand-in
    discovery executable (written into ``folder``)."""
    folder.mkdir(parents=True, exist_ok=True)
    smi = folder / "nvidia-smi"
    smi.write_text(STAND_IN_NVIDIA_SMI)
    smi.chmod(0o755)
    return {"yarn.nodemanager.resource-plugins": "yarn.io/gpu",
            "yarn.nodemanager.resource-plugins.gpu.allowed-gpu-devices": "auto",
            "yarn.nodemanager.resource-plugins.gpu.path-to-discovery-executables": str(smi)}

#: Queues of the local cluster: name -> (guaranteed capacity %, maximum capacity %).
QUEUES = {"default": (70, 100), "batch": (30, 100)}

#: Variables a container inherits from its NodeManager unless it sets them itself.
CONTAINER_ENV_WHITELIST = [
    "JAVA_HOME",
    "HADOOP_HOME",
    "HADOOP_COMMON_HOME",
    "HADOOP_HDFS_HOME",
    "HADOOP_YARN_HOME",
    "HADOOP_CONF_DIR",
    "CLASSPATH_PREPEND_DISTCACHE",
    "PATH",
    "LANG",
    "KRB5_CONFIG",  # where a node's Kerberos tools and JVMs find the realm (secure only)
]

LOG4J_PROPERTIES = """\
# Logging of the knit local cluster's daemons and of bin/ tools: one console appender,
# which the daemons' launcher sends to DIR/logs/NAME.log.
hadoop.root.logger=INFO,console
log4j.rootLogger=${hadoop.root.logger}
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.target=System.err
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} %p %c{2}: %m%n
log4j.logger.org.apache.hadoop.util.NativeCodeLoader=ERROR
log4j.logger.org.apache.hadoop.conf.Configuration.deprecation=WARN
log4j.logger.org.eclipse.jetty=WARN
"""


@dataclass(frozen=True)
class NodePorts:
    """Ports of one DataNode or NodeManager, picked free at start-up."""

    rpc: int
    http: int
    extra: int


@dataclass(frozen=True)
class ClusterConfig:
    """Everything the site files depend on."""

    directory: Path
    ports: ClusterPorts
    datanode: NodePorts
    nodemanagers: tuple[NodePorts, ...]
    network: Network
    owner: str
    nodemanager_memory_mb: int = 4096
    nodemanager_vcores: int = 32
    extra: tuple[tuple[str, str, str], ...] = ()
    realm: Realm | None = None
    tls: ClusterTls | None = None
    ha: HaLayout | None = None

    @property
    def hadoop_home(self) -> Path:
        return self.directory / "hadoop"

    @property
    def conf_dir(self) -> Path:
        return self.directory / "conf"

    def nodemanager_dir(self, index: int) -> Path:
        return self.directory / f"nodemanager-{index}"

    @property
    def master(self) -> str:
        return self.network.master


def core_site(config: ClusterConfig) -> dict[str, str]:
    return {
        "fs.defaultFS": f"hdfs://{config.master}:{config.ports.namenode}",
        "hadoop.tmp.dir": str(config.directory / "tmp"),
        "hadoop.security.authentication": "simple",
        # Web UIs and REST APIs know who calls (`user.name`, as on a real cluster with
        # simple auth): anonymous calls are refused, so YARN's ACLs apply to logs too.
        # A service may call as another user (`doAs`) where hadoop.proxyuser allows it.
        "hadoop.http.filter.initializers":
            "org.apache.hadoop.security.authentication.server.ProxyUserAuthenticationFilterInitializer",
        "hadoop.http.authentication.type": "simple",
        "hadoop.http.authentication.simple.anonymous.allowed": "false",
        "hadoop.http.authentication.signature.secret.file": str(config.conf_dir / HTTP_SECRET),
        "ipc.client.connect.retry.interval": "250",
    }


def impersonation(service: str, users: Sequence[str] = (),
                  groups: Sequence[str] = ()) -> dict[str, dict[str, str]]:
    """Site properties letting ``service`` act, from any host, as each of ``users``
    and as any member of ``groups`` (Hadoop's ``hadoop.proxyuser.*``), for
    ``LocalCluster(extra_conf=...)``."""
    allowed = {f"hadoop.proxyuser.{service}.hosts": "*"}
    if users:
        allowed[f"hadoop.proxyuser.{service}.users"] = ",".join(users)
    if groups:
        allowed[f"hadoop.proxyuser.{service}.groups"] = ",".join(groups)
    return {"core-site.xml": allowed}


def hdfs_site(config: ClusterConfig) -> dict[str, str]:
    data = config.directory / "data"
    ports, dn, host = config.ports, config.datanode, config.master
    return {
        "dfs.replication": "1",
        "dfs.namenode.name.dir": str(data / "namenode"),
        "dfs.datanode.data.dir": str(data / "datanode"),
        "dfs.namenode.rpc-address": f"{host}:{ports.namenode}",
        "dfs.namenode.http-address": f"{host}:{ports.namenode_http}",
        "dfs.namenode.secondary.http-address": f"{host}:0",
        "dfs.datanode.address": f"{host}:{dn.rpc}",
        "dfs.datanode.http.address": f"{host}:{dn.http}",
        "dfs.datanode.ipc.address": f"{host}:{dn.extra}",
        "dfs.datanode.hostname": host,
        "dfs.namenode.datanode.registration.ip-hostname-check": "false",
        "dfs.namenode.safemode.extension": "0",
        "dfs.heartbeat.interval": "1",
        "dfs.webhdfs.enabled": "true",
        "dfs.permissions.enabled": "true",
    }


def yarn_site(config: ClusterConfig) -> dict[str, str]:
    ports, host = config.ports, config.master
    home = "$HADOOP_COMMON_HOME"
    classpath = ["$HADOOP_CONF_DIR"] + [f"{home}/share/hadoop/{sub}/*" for sub in SHARE_DIRS]
    return {
        "yarn.resourcemanager.hostname": host,
        "yarn.resourcemanager.address": f"{host}:{ports.resourcemanager}",
        "yarn.resourcemanager.scheduler.address": f"{host}:{ports.scheduler}",
        "yarn.resourcemanager.resource-tracker.address": f"{host}:{ports.resource_tracker}",
        "yarn.resourcemanager.admin.address": f"{host}:{ports.rm_admin}",
        "yarn.resourcemanager.webapp.address": f"{host}:{ports.rm_webapp}",
        # With --https the same port serves HTTPS only, as many company clusters do.
        "yarn.resourcemanager.webapp.https.address": f"{host}:{ports.rm_webapp}",
        "yarn.http.policy": "HTTPS_ONLY" if config.tls else "HTTP_ONLY",
        # Applications are protected by their ACLs (view/modify: owner, whom start(acls=)
        # names, and the cluster's owner as administrator), as on a shared cluster.
        "yarn.acl.enable": "true",
        "yarn.admin.acl": config.owner,
        "yarn.resourcemanager.scheduler.class": (
            "org.apache.hadoop.yarn.server.resourcemanager.scheduler.capacity.CapacityScheduler"
        ),
        # Work-preserving ResourceManager restart: applications, their attempts and
        # containers survive the ResourceManager stopping (state under DIR/rm-state).
        "yarn.resourcemanager.recovery.enabled": "true",
        "yarn.resourcemanager.store.class": (
            "org.apache.hadoop.yarn.server.resourcemanager.recovery.FileSystemRMStateStore"
        ),
        "yarn.resourcemanager.fs.state-store.uri": (config.directory / "rm-state").as_uri(),
        "yarn.resourcemanager.work-preserving-recovery.enabled": "true",
        "yarn.resourcemanager.work-preserving-recovery.scheduling-wait-ms": "2000",
        "yarn.resourcemanager.nodemanagers.heartbeat-interval-ms": "250",
        "yarn.resourcemanager.connect.retry-interval.ms": "250",
        "yarn.scheduler.minimum-allocation-mb": "128",
        "yarn.scheduler.maximum-allocation-mb": str(config.nodemanager_memory_mb),
        "yarn.scheduler.minimum-allocation-vcores": "1",
        "yarn.scheduler.maximum-allocation-vcores": str(config.nodemanager_vcores),
        "yarn.nodemanager.resource.memory-mb": str(config.nodemanager_memory_mb),
        "yarn.nodemanager.resource.cpu-vcores": str(config.nodemanager_vcores),
        "yarn.nodemanager.vmem-check-enabled": "false",
        "yarn.nodemanager.disk-health-checker.max-disk-utilization-per-disk-percentage": "99.5",
        "yarn.nodemanager.disk-health-checker.min-free-space-per-disk-mb": "0",
        "yarn.nodemanager.env-whitelist": ",".join(CONTAINER_ENV_WHITELIST),
        # A container's PATH is its node's, as on a node where Hadoop is installed:
        # `hdfs`, `yarn` and `hadoop` first. (The whitelist alone cannot give it: the
        # launch script's shell has a PATH of its own before the whitelist's
        # fallback applies.) A PATH the container sets is kept before this one.
        "yarn.nodemanager.admin-env": "MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX,PATH=$PATH",
        "yarn.application.classpath": ",".join(classpath),
        "yarn.log-aggregation-enable": "true",
        "yarn.nodemanager.remote-app-log-dir": "/tmp/logs",
        "yarn.log-aggregation.retain-seconds": "604800",
        "yarn.nodemanager.log-aggregation.compression-type": "none",
        "yarn.nodemanager.delete.debug-delay-sec": "0",
        # A lost NodeManager is declared dead after 15 s (default 10 min), so its
        # containers are reported lost while a test still waits.
        "yarn.nm.liveness-monitor.expiry-interval-ms": "15000",
        "yarn.resourcemanager.nm.liveness-monitor.interval-ms": "1000",
        # Placement constraints (one container per node), checked by the scheduler.
        "yarn.resourcemanager.placement-constraints.handler": "scheduler",
        # Node labels, set through the REST API once the nodes run (NODE_LABELS).
        "yarn.node-labels.enabled": "true",
        "yarn.node-labels.fs-store.root-dir": (config.directory / "node-labels").as_uri(),
    }


def nodemanager_yarn_site(config: ClusterConfig, index: int) -> dict[str, str]:
    """The settings one NodeManager adds to the shared yarn-site.xml."""
    ports, folder = config.nodemanagers[index], config.nodemanager_dir(index)
    host = config.network.nodes[index]  # the node's own host identity
    return {
        "yarn.nodemanager.hostname": host,
        "yarn.nodemanager.bind-host": host,  # YARN then names the node by this address
        "yarn.nodemanager.address": f"{host}:{ports.rpc}",
        "yarn.nodemanager.webapp.address": f"{host}:{ports.http}",
        "yarn.nodemanager.webapp.https.address": f"{host}:{ports.http}",
        "yarn.nodemanager.localizer.address": f"{host}:{ports.extra}",
        "yarn.nodemanager.local-dirs": str(folder / "local"),
        "yarn.nodemanager.log-dirs": str(folder / "logs"),
        "yarn.nodemanager.recovery.dir": str(folder / "recovery"),
    }


def capacity_scheduler(config: ClusterConfig) -> dict[str, str]:
    props = {
        "yarn.scheduler.capacity.root.queues": ",".join(QUEUES),
        # Let many small applications run at once (the default 0.1 would queue the second).
        "yarn.scheduler.capacity.maximum-am-resource-percent": "0.8",
        "yarn.scheduler.capacity.maximum-applications": "1000",
        # Everyone may submit; only the cluster's owner administers (kills) others' apps
        # (the default, "*", would let every user kill every application).
        "yarn.scheduler.capacity.root.acl_submit_applications": "*",
        "yarn.scheduler.capacity.root.acl_administer_queue": config.owner,
        # Count vcores as well as memory, so virtual_cores= means something.
        "yarn.scheduler.capacity.resource-calculator":
            "org.apache.hadoop.yarn.util.resource.DominantResourceCalculator",
    }
    labels = ",".join(NODE_LABELS)
    props["yarn.scheduler.capacity.root.accessible-node-labels"] = labels
    props["yarn.scheduler.capacity.root.default.accessible-node-labels"] = labels
    props["yarn.scheduler.capacity.root.batch.accessible-node-labels"] = " "  # none
    for label in NODE_LABELS:
        for queue in ("root", "root.default"):
            props[f"yarn.scheduler.capacity.{queue}.accessible-node-labels.{label}.capacity"] = "100"
    for queue, (capacity, maximum) in QUEUES.items():
        prefix = f"yarn.scheduler.capacity.root.{queue}"
        props[f"{prefix}.capacity"] = str(capacity)
        props[f"{prefix}.maximum-capacity"] = str(maximum)
        props[f"{prefix}.user-limit-factor"] = str(100 / capacity)
        props[f"{prefix}.state"] = "RUNNING"
    return props


#: Every web endpoint accepts any ``HTTP/host`` principal of its keytab: a client asks
#: for the host it dials (127.0.0.1, 127.0.0.10, localhost), while Hadoop would expand
#: ``_HOST`` from a reverse lookup for some daemons and from the bind address for others.
HTTP_PRINCIPALS = "*"


def secure_core_site(config: ClusterConfig, realm: Realm) -> dict[str, str]:
    """Kerberos for RPC, service-level authorization, SPNEGO on every web endpoint."""
    return {
        "hadoop.security.authentication": "kerberos",
        "hadoop.security.authorization": "true",
        "hadoop.rpc.protection": "authentication",
        "hadoop.security.auth_to_local": auth_to_local(config.owner),
        # Hadoop's own: the ResourceManager swaps it for its filter, which takes
        # delegation tokens and handles doAs itself.
        "hadoop.http.filter.initializers": "org.apache.hadoop.security.AuthenticationFilterInitializer",
        "hadoop.http.authentication.type": "kerberos",
        "hadoop.http.authentication.kerberos.principal": HTTP_PRINCIPALS,
        "hadoop.http.authentication.kerberos.keytab": str(realm.http_keytab),
    }


def secure_hdfs_site(realm: Realm) -> dict[str, str]:
    """Block access tokens, and SASL on the DataNode's data transfer (no privileged ports)."""
    return {
        "dfs.block.access.token.enable": "true",
        "dfs.namenode.kerberos.principal": realm.service_principal("nn"),
        "dfs.namenode.keytab.file": str(realm.keytab("nn")),
        "dfs.datanode.kerberos.principal": realm.service_principal("dn"),
        "dfs.datanode.keytab.file": str(realm.keytab("dn")),
        "dfs.namenode.kerberos.internal.spnego.principal": HTTP_PRINCIPALS,
        "dfs.web.authentication.kerberos.principal": HTTP_PRINCIPALS,
        "dfs.web.authentication.kerberos.keytab": str(realm.http_keytab),
        "dfs.data.transfer.protection": "authentication",
        "dfs.http.policy": "HTTP_ONLY",
        # SASL instead of privileged ports (which would need root and jsvc).
        "ignore.secure.ports.for.testing": "true",
    }


def secure_journal_site(realm: Realm) -> dict[str, str]:
    """The JournalNodes of an HA cluster log in as the NameNodes do (their RPC
    principal), and take SPNEGO on their web endpoint (edits fetched over HTTP)."""
    return {
        "dfs.journalnode.kerberos.principal": realm.service_principal("nn"),
        "dfs.journalnode.keytab.file": str(realm.keytab("nn")),
        "dfs.journalnode.kerberos.internal.spnego.principal": HTTP_PRINCIPALS,
    }


def secure_yarn_site(realm: Realm) -> dict[str, str]:
    return {
        "yarn.resourcemanager.principal": realm.service_principal("rm"),
        "yarn.resourcemanager.keytab": str(realm.keytab("rm")),
        "yarn.nodemanager.principal": realm.service_principal("nm"),
        "yarn.nodemanager.keytab": str(realm.keytab("nm")),
        "yarn.resourcemanager.webapp.spnego-principal": HTTP_PRINCIPALS,
        "yarn.resourcemanager.webapp.spnego-keytab-file": str(realm.http_keytab),
        "yarn.nodemanager.webapp.spnego-principal": HTTP_PRINCIPALS,
        "yarn.nodemanager.webapp.spnego-keytab-file": str(realm.http_keytab),
    }


def site_properties(config: ClusterConfig) -> dict[str, dict[str, str]]:
    """The client configuration: file name -> properties, with user extras applied."""
    sites = {
        "core-site.xml": core_site(config),
        "hdfs-site.xml": hdfs_site(config),
        "yarn-site.xml": yarn_site(config),
        "capacity-scheduler.xml": capacity_scheduler(config),
        "resource-types.xml": {"yarn.resource-types": ",".join(RESOURCE_TYPES)},
    }
    if config.realm is not None:
        sites["core-site.xml"].update(secure_core_site(config, config.realm))
        sites["hdfs-site.xml"].update(secure_hdfs_site(config.realm))
        sites["yarn-site.xml"].update(secure_yarn_site(config.realm))
    if config.ha is not None:
        ha.apply(sites, config.ha, config.ports)
        if config.realm is not None:
            sites["hdfs-site.xml"].update(secure_journal_site(config.realm))
    if config.tls is not None:
        sites["ssl-server.xml"] = config.tls.ssl_server()
        sites["ssl-client.xml"] = config.tls.ssl_client()
    for file_name, key, value in config.extra:
        sites.setdefault(file_name, {})[key] = value
    return sites


def write_site_file(path: Path, properties: dict[str, str]) -> None:
    """Write a Hadoop ``<configuration>`` XML file."""
    root = etree.Element("configuration")
    for name, value in properties.items():
        prop = etree.SubElement(root, "property")
        etree.SubElement(prop, "name").text = name
        etree.SubElement(prop, "value").text = str(value)
    etree.ElementTree(root).write(
        str(path), pretty_print=True, xml_declaration=True, encoding="UTF-8"
    )


def write_conf_dir(folder: Path, sites: dict[str, dict[str, str]]) -> Path:
    """Write the site files and the log4j config into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for file_name, properties in sites.items():
        if file_name == "ssl-server.xml":  # the keystore's password: the owner's alone
            (folder / file_name).touch(mode=0o600)
            (folder / file_name).chmod(0o600)
        write_site_file(folder / file_name, properties)
    (folder / "log4j.properties").write_text(LOG4J_PROPERTIES)
    return folder


def write_all(config: ClusterConfig) -> None:
    """Write the client conf dir and one conf dir per NodeManager."""
    sites = site_properties(config)
    write_conf_dir(config.conf_dir, sites)
    secret = config.conf_dir / HTTP_SECRET
    if not secret.exists():
        secret.touch(mode=0o600)
        secret.write_text(secrets.token_hex(32))
    for index in range(len(config.nodemanagers)):
        nm_sites = dict(sites)
        nm_sites["yarn-site.xml"] = {**sites["yarn-site.xml"], **nodemanager_yarn_site(config, index),
                                     **(gpu_plugin(config.directory / "gpu") if index == 0 else {})}
        if installed_jar() is not None:
            # Unpacking archives (environments) without a chmod process per file;
            # the NodeManagers run with knit's jar on their classpath for it.
            nm_sites["core-site.xml"] = {**sites["core-site.xml"],
                                         "fs.AbstractFileSystem.file.impl": NIO_LOCAL_FS}
        nm_sites["node-resources.xml"] = {f"yarn.nodemanager.resource-type.{kind}": str(count)
                                          for kind, count in node_resource_counts(index).items()}
        write_conf_dir(config.nodemanager_dir(index) / "conf", nm_sites)
    if config.ha is not None:
        write_ha_conf_dirs(config, sites)


def write_ha_conf_dirs(config: ClusterConfig, sites: dict[str, dict[str, str]]) -> None:
    """One conf folder per HA daemon (``DIR/resourcemanager-rm1/conf``, ...): the client
    files plus what tells it apart; and ZooKeeper's ``DIR/zookeeper/zoo.cfg``."""
    for folder, extra in ha.daemon_sites(config.directory, config.ha).items():
        own = {name: {**props, **extra.get(name, {})} for name, props in sites.items()}
        write_conf_dir(config.directory / folder / "conf", own)
    zookeeper = config.directory / "zookeeper"
    zookeeper.mkdir(exist_ok=True)
    (zookeeper / "zoo.cfg").write_text(ha.zookeeper_config(config.directory, config.ha))
    (zookeeper / "log4j.properties").write_text(LOG4J_PROPERTIES)
