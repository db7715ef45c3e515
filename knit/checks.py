"""Pre-flight checks of an application against the live cluster, before submission."""

from __future__ import annotations

import math

from .exceptions import PreflightError
from .spec import LaunchSpec
from .yarn_api import YARNAPI


def round_up(memory_mb: int, minimum_mb: int) -> int:
    """Memory YARN actually grants: rounded up to a multiple of the minimum allocation."""
    return max(minimum_mb, math.ceil(memory_mb / minimum_mb) * minimum_mb)


def preflight(api: YARNAPI, spec: LaunchSpec, conf: dict, am_memory: int, am_vcores: int) -> None:
    """Raise :class:`PreflightError` (with the numbers and a fix) if the cluster
    cannot run ``spec``: no active node, a missing queue, a container larger than
    any node or the scheduler maximum, or more than the cluster has available."""
    nodes = api.nodes(states="RUNNING")
    if not nodes:
        raise PreflightError("YARN has no RUNNING NodeManager: check `yarn node -list -all` "
                             "and the NodeManager logs (YARNAPI.system_logs())")
    queues = api.queues()
    queue = spec.queue.split(".")[-1]
    if queue not in queues:
        raise PreflightError(f"queue {spec.queue!r} does not exist; the cluster has: "
                             f"{', '.join(sorted(queues))}")
    minimum = int(conf.get("yarn.scheduler.minimum-allocation-mb", 1024))
    maximum = int(conf.get("yarn.scheduler.maximum-allocation-mb", 8192))
    container_mb = round_up(spec.memory, minimum)
    biggest_node = max(n["availMemoryMB"] + n["usedMemoryMB"] for n in nodes)
    biggest_cores = max(n["availableVirtualCores"] + n["usedVirtualCores"] for n in nodes)
    if container_mb > min(maximum, biggest_node):
        raise PreflightError(
            f"a container of {spec.memory} MB (granted as {container_mb} MB) fits on no node: "
            f"the largest node has {biggest_node} MB and the scheduler allows at most {maximum} "
            "MB per container; ask for less memory")
    if spec.virtual_cores > biggest_cores:
        raise PreflightError(f"a container of {spec.virtual_cores} vcores fits on no node (the "
                             f"largest has {biggest_cores}); ask for fewer virtual_cores")
    metrics = api.cluster_metrics()
    need_mb = spec.num_containers * container_mb + round_up(am_memory, minimum)
    need_cores = spec.num_containers * spec.virtual_cores + am_vcores
    if need_mb > metrics["availableMB"]:
        raise PreflightError(
            f"{spec.num_containers} containers of {container_mb} MB plus the ApplicationMaster "
            f"need {need_mb} MB, but the cluster has {metrics['availableMB']} MB available "
            f"of {metrics['totalMB']} MB; ask for fewer or smaller containers")
    if need_cores > metrics["availableVirtualCores"]:
        raise PreflightError(
            f"{spec.num_containers} containers of {spec.virtual_cores} vcores plus the "
            f"ApplicationMaster need {need_cores} vcores, but the cluster has "
            f"{metrics['availableVirtualCores']} available; ask for fewer containers or cores")
