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

SCHEMA_VERSION = 2
#: The service of an application started with ``Knit.start`` (the contract's
#: ``services`` maps names to services; knit's ApplicationMaster runs one).
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


def launch_contract(spec: LaunchSpec, am: AppMasterSettings, jar: Resource,
                    resources: list[Resource], boot_script: str, records_folder: str,
                    max_restarts: int = 0, tags: tuple[str, ...] = ("knit",),
                    kerberos_principal: str = "", nodes: dict[str, int] | None = None) -> dict:
    """The contract of one application, as a JSON-ready dict (schema :data:`SCHEMA_VERSION`).

    ``nodes`` (host -> how many worker containers it could hold now) lets the
    ApplicationMaster spread large bursts of asks over the nodes by name, which the
    scheduler grants many per node heartbeat instead of one.

    ``kerberos_principal`` (non-empty when the client shipped a keytab beside the
    contract, ``<app>.keytab``) makes the ApplicationMaster log in from that keytab
    and keep delegation tokens fresh for the containers it starts.
    """
    return {
        "schema": SCHEMA_VERSION,
        "application": {
            "name": spec.app_name,
            "type": KNIT_APPLICATION_TYPE,
            "queue": spec.queue,
            "tags": list(tags),
            "acls": spec.acls.to_yarn(),
            "max_attempts": am.max_attempts,
        },
        "am": {"memory_mb": am.memory, "vcores": am.vcores, "jar": asdict(jar),
               "heap_mb": am_heap_mb(am.memory), "boot_script": am_boot_script(am.sharing),
               "java_options": [*LEAN_FLAGS, *java_opens_flags()]},
        "services": {WORKER_SERVICE: {
            "target": spec.num_containers,
            "memory_mb": spec.memory,
            "vcores": spec.virtual_cores,
            "priority": 1,
            "max_restarts": max_restarts,
            "max_start_failures": spec.max_start_failures,
            "start_grace_s": float(spec.start_grace),
            "kv_access": bool(spec.worker_kv),
            "boot_script": boot_script,
            "resources": [asdict(r) for r in resources],
            "nodes": dict(nodes or {}),
        }},
        "keep_alive": spec.keep_alive,
        "allocation_timeout_s": float(am.allocation_timeout),
        "client_timeout_s": float(am.client_timeout if spec.keep_alive else 0),
        "records_folder": records_folder,
        "kerberos_principal": kerberos_principal,
    }


def to_json(contract: dict) -> str:
    """The contract's text (ASCII, keys sorted: the same contract gives the same text)."""
    return json.dumps(contract, sort_keys=True, indent=1)
