"""The launch contract: everything an application is launched with, as one JSON
document that the JVM client submits and the ApplicationMaster reads from a
mode-600 HDFS file (``java_src/knit/am/LaunchContract.scala`` parses it; both sides test the same
example, ``tests/data/launch_contract.json``).

No value of it reaches a shell unquoted: the worker environment is exported by the
boot script with shell quoting, and the boot script crosses YARN base64-encoded.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

from .cds import am_boot_script, am_heap_mb
from .java import LEAN_FLAGS, java_opens_flags
from .spec import LaunchSpec
from .yarn_api import KNIT_APPLICATION_TYPE

SCHEMA_VERSION = 3
#: The service of an application started with ``Knit.start`` (the contract's
#: ``services`` maps names to services).
WORKER_SERVICE = "worker"


@dataclass(frozen=True)
class Resource:
    """A file localized into a container, as YARN needs it described."""

    name: str
    uri: str
    kind: str  # FILE or ARCHIVE
    visibility: str  # PRIVATE or PUBLIC
    size: int
    timestamp: int

    @classmethod
    def from_status(cls, name: str, status: dict, kind: str, visibility: str) -> "Resource":
        """From the JVM client's ``fileStatus`` of the file."""
        return cls(name, str(status["path"]), kind, visibility, int(status["size"]),
                   int(status["modificationTime"]))


@dataclass(frozen=True)
class AppMasterSettings:
    """How the ApplicationMaster itself runs.

    Parameters
    ----------
    memory, vcores : int
        Its container's size.
    max_attempts : int
        Attempts YARN makes to run it: a later one takes over the running workers.
    allocation_timeout, client_timeout : float
        Seconds a job waits for containers; seconds without a call from the client
        after which a keep-alive application ends (0: never).
    sharing : bool
        Class-data sharing for its JVM (see :func:`knit.cds.am_boot_script`).
    """

    memory: int = 384
    vcores: int = 1
    max_attempts: int = 2
    allocation_timeout: float = 300.0
    client_timeout: float = 0.0
    #: Class-data sharing in its container (:func:`knit.cds.enabled` of the client).
    sharing: bool = True


def service_entry(*, target: int, memory_mb: int, vcores: int, boot_script: str,
                  files: list[Resource], priority: int, resources: dict[str, int] | None = None,
                  env: dict[str, str] | None = None, max_restarts: int = 0,
                  allow_failures: bool = False, fail_without_restarts: bool = False,
                  max_start_failures: int = 0,
                  start_grace: float = 60.0, kv_access: bool = False,
                  depends: tuple[str, ...] = (), node_label: str = "",
                  nodes: tuple[str, ...] = (), racks: tuple[str, ...] = (),
                  relax_locality: bool = False, one_per_node: bool = False,
                  room: dict[str, int] | None = None) -> dict:
    """One service of the contract's ``services`` (``ServiceSpec`` in Scala).

    ``priority`` is the service's own (distinct per service: the ApplicationMaster
    knows a granted container's service by it). ``room`` (host -> how many of its
    containers the node could hold now) lets the ApplicationMaster spread large
    bursts of asks over the nodes by name, which the scheduler grants many per node
    heartbeat instead of one. ``env`` is exported by ``boot_script`` already; the
    ApplicationMaster also puts the entries YARN's launch script can carry into the
    launch context, for the NodeManager. ``fail_without_restarts``: a container that
    fails with no restart left fails the application (a spec's services, unless
    ``allow_failures``); else the other containers run on (``Knit.start``'s jobs).
    """
    return {
        "target": target, "memory_mb": memory_mb, "vcores": vcores,
        "resources": dict(resources or {}), "priority": priority,
        "max_restarts": max_restarts, "allow_failures": allow_failures,
        "fail_without_restarts": fail_without_restarts,
        "max_start_failures": max_start_failures, "start_grace_s": float(start_grace),
        "kv_access": bool(kv_access), "env": dict(env or {}), "boot_script": boot_script,
        "files": [asdict(r) for r in files], "depends": list(depends),
        "node_label": node_label, "nodes": list(nodes), "racks": list(racks),
        "relax_locality": relax_locality, "one_per_node": one_per_node, "room": dict(room or {}),
    }


@dataclass(frozen=True)
class ApplicationSettings:
    """How YARN runs the application (the contract's ``application``), besides its ACLs.

    ``priority`` is YARN's application priority; ``lifetime`` (s, 0: none) is YARN's
    lifetime timeout; ``attempt_failures_validity`` (s, 0: every failure counts) is
    how long an ApplicationMaster failure counts against ``max_attempts``;
    ``file_systems`` are other file systems to get delegation tokens for;
    ``node_label`` is the ApplicationMaster container's label expression and
    ``am_resources`` its counts of other resource types; ``am_log_level`` is the
    log4j level of its Hadoop libraries; ``rm_delegation_token`` (Kerberos) gives the
    containers a ResourceManager delegation token, so they may submit applications.
    """

    name: str
    queue: str
    tags: tuple[str, ...] = ("knit",)
    acls: dict[str, str] | None = None
    priority: int = 0
    lifetime: float = 0
    attempt_failures_validity: float = 0
    file_systems: tuple[str, ...] = ()
    node_label: str = ""
    am_resources: dict[str, int] | None = None
    am_log_level: str = "INFO"
    rm_delegation_token: bool = False


def application_contract(app: ApplicationSettings, am: AppMasterSettings, jar: Resource,
                         services: dict[str, dict], records_folder: str, *,
                         keep_alive: bool = False, kerberos_principal: str = "",
                         driver: dict | None = None) -> dict:
    """The contract of one application, as a JSON-ready dict (schema :data:`SCHEMA_VERSION`).

    ``services`` are :func:`service_entry` dicts by name. ``driver`` (``boot_script``,
    ``env``, ``files``) is a script run in the ApplicationMaster's container, whose
    exit ends the application. ``kerberos_principal`` (non-empty when the client
    shipped a keytab beside the contract, ``<app>.keytab``) makes the
    ApplicationMaster log in from that keytab and keep delegation tokens fresh for
    the containers it starts.
    """
    return {
        "schema": SCHEMA_VERSION,
        "application": {
            "name": app.name,
            "type": KNIT_APPLICATION_TYPE,
            "queue": app.queue,
            "tags": list(app.tags),
            "acls": dict(app.acls or {}),
            "max_attempts": am.max_attempts,
            "priority": app.priority,
            "lifetime_s": int(app.lifetime),
            "attempt_failures_validity_s": float(app.attempt_failures_validity),
            "file_systems": list(app.file_systems),
            "rm_delegation_token": app.rm_delegation_token,
        },
        "am": {"memory_mb": am.memory, "vcores": am.vcores, "jar": asdict(jar),
               "heap_mb": am_heap_mb(am.memory), "boot_script": am_boot_script(am.sharing),
               "java_options": [*LEAN_FLAGS, *java_opens_flags()],
               "resources": dict(app.am_resources or {}), "node_label": app.node_label,
               "log_level": app.am_log_level},
        "services": services,
        "driver": driver,
        "keep_alive": keep_alive,
        "allocation_timeout_s": float(am.allocation_timeout),
        "client_timeout_s": float(am.client_timeout if keep_alive else 0),
        "records_folder": records_folder,
        "kerberos_principal": kerberos_principal,
    }


def launch_contract(spec: LaunchSpec, am: AppMasterSettings, jar: Resource,
                    resources: list[Resource], boot_script: str, records_folder: str,
                    max_restarts: int = 0, tags: tuple[str, ...] = ("knit",),
                    kerberos_principal: str = "", nodes: dict[str, int] | None = None) -> dict:
    """The contract of ``Knit.start``'s application: one service, :data:`WORKER_SERVICE`,
    running ``boot_script`` (see :func:`application_contract`; ``nodes`` is the
    service's ``room``)."""
    worker = service_entry(target=spec.num_containers, memory_mb=spec.memory,
                           vcores=spec.virtual_cores, boot_script=boot_script, files=resources,
                           priority=1, env=spec.envvars, max_restarts=max_restarts,
                           max_start_failures=spec.max_start_failures,
                           start_grace=spec.start_grace, kv_access=spec.worker_kv, room=nodes)
    app = ApplicationSettings(name=spec.app_name, queue=spec.queue, tags=tuple(tags),
                              acls=spec.acls.to_yarn())
    return application_contract(app, am, jar, {WORKER_SERVICE: worker}, records_folder,
                                keep_alive=spec.keep_alive, kerberos_principal=kerberos_principal)


def to_json(contract: dict) -> str:
    """The contract's text (ASCII, keys sorted: the same contract gives the same text)."""
    return json.dumps(contract, sort_keys=True, indent=1)
