"""Pre-flight checks of an application against the live cluster, before submission.

They refuse only what the cluster could never run (no node, unknown queue, a
container larger than any node or the scheduler's maximum, more than the whole
cluster or the queue's maximum share); what is merely busy now is a progress
message, since YARN queues the application until room frees up.
"""

from __future__ import annotations

import math
import socket
import time
from typing import Callable

from .exceptions import ClusterUnreachableError, PreflightError
from .spec import LaunchSpec
from .yarn_api import YARNAPI


def round_up(memory_mb: int, minimum_mb: int) -> int:
    """Memory YARN actually grants: rounded up to a multiple of the minimum allocation."""
    return max(minimum_mb, math.ceil(memory_mb / minimum_mb) * minimum_mb)


def queue_paths(scheduler_info: dict) -> dict[str, dict]:
    """Every queue by full path (``root.a.b``), from the scheduler's REST report."""
    found, pending = {}, [("", scheduler_info)]
    while pending:
        parent, queue = pending.pop()
        children = (queue.get("queues") or {}).get("queue") or []
        for child in children if isinstance(children, list) else [children]:
            path = child.get("queuePath") or f"{parent or 'root'}.{child['queueName']}"
            found[path] = child
            pending.append((path, child))
    return found


def find_queue(scheduler_info: dict, name: str) -> dict:
    """The queue ``name`` means: a full path (``root.`` optional) or a leaf's name.

    Raises
    ------
    PreflightError
        No such queue, or a leaf name that several paths end with.
    """
    paths = queue_paths(scheduler_info)
    full = name if name.startswith("root.") or name == "root" else f"root.{name}"
    if full in paths:
        return paths[full]
    if "." not in name:
        matches = [p for p in paths if p.rsplit(".", 1)[-1] == name]
        if len(matches) == 1:
            return paths[matches[0]]
        if matches:
            raise PreflightError(f"queue {name!r} is ambiguous: {', '.join(sorted(matches))}; "
                                 "give its full path")
    raise PreflightError(f"queue {name!r} does not exist; the cluster has: "
                         f"{', '.join(sorted(paths))}")


def running_nodes(api: YARNAPI, progress: Callable[[str], None] = lambda message: None,
                  wait: float | None = None) -> list[dict]:
    """The RUNNING NodeManagers; raise :class:`PreflightError` if there is none.

    A ResourceManager that knows no NodeManager at all has just started or become
    active (an HA failover): its NodeManagers register within seconds, so this waits
    for one up to ``wait`` seconds (default: the API's ``retry_for``). One whose
    NodeManagers are all lost or unhealthy fails at once.
    """
    deadline = time.monotonic() + (api.retry_for if wait is None else wait)
    told = False
    while True:
        nodes = api.nodes(states="RUNNING")
        if nodes:
            return nodes
        if api.nodes() or time.monotonic() >= deadline:
            raise PreflightError("YARN has no RUNNING NodeManager: check `yarn node -list -all` "
                                 "and the NodeManager logs (YARNAPI.system_logs())")
        if not told:
            progress("the ResourceManager knows no NodeManager yet (just started or failed "
                     "over): waiting for them to register")
            told = True
        time.sleep(0.5)


def check_fits(api: YARNAPI, spec: LaunchSpec, conf: dict, extra_mb: int = 0,
               extra_vcores: int = 0,
               progress: Callable[[str], None] = lambda message: None) -> dict:
    """Raise :class:`PreflightError` if ``spec``'s containers (plus ``extra``) could
    never run on this cluster; return the cluster's metrics."""
    nodes = running_nodes(api, progress)
    minimum = int(conf.get("yarn.scheduler.minimum-allocation-mb", 1024))
    maximum = int(conf.get("yarn.scheduler.maximum-allocation-mb", 8192))
    maximum_vcores = int(conf.get("yarn.scheduler.maximum-allocation-vcores", 4))
    container_mb = round_up(spec.memory, minimum)
    biggest_node = max(n["availMemoryMB"] + n["usedMemoryMB"] for n in nodes)
    biggest_cores = max(n["availableVirtualCores"] + n["usedVirtualCores"] for n in nodes)
    if container_mb > min(maximum, biggest_node):
        raise PreflightError(
            f"a container of {spec.memory} MB (granted as {container_mb} MB) fits on no node: "
            f"the largest node has {biggest_node} MB and the scheduler allows at most {maximum} "
            "MB per container; ask for less memory")
    if spec.virtual_cores > min(biggest_cores, maximum_vcores):
        raise PreflightError(
            f"a container of {spec.virtual_cores} vcores fits on no node (the largest has "
            f"{biggest_cores}, the scheduler allows {maximum_vcores}); ask for fewer virtual_cores")
    metrics = api.cluster_metrics()
    need_mb = spec.num_containers * container_mb + extra_mb
    need_cores = spec.num_containers * spec.virtual_cores + extra_vcores
    if need_mb > metrics["totalMB"]:
        raise PreflightError(
            f"{spec.num_containers} containers of {container_mb} MB"
            f"{' plus the ApplicationMaster' if extra_mb else ''} need {need_mb} MB, more than "
            f"the whole cluster's {metrics['totalMB']} MB; ask for fewer or smaller containers")
    if need_cores > metrics["totalVirtualCores"]:
        raise PreflightError(
            f"{spec.num_containers} containers of {spec.virtual_cores} vcores"
            f"{' plus the ApplicationMaster' if extra_vcores else ''} need {need_cores} vcores, "
            f"more than the whole cluster's {metrics['totalVirtualCores']}; ask for fewer "
            "containers or cores")
    return {**metrics, "need_mb": need_mb, "need_vcores": need_cores}


#: YARN's default ResourceManager RPC port (``yarn.resourcemanager.address``).
RM_RPC_PORT = 8032


def rm_rpc_addresses(conf: dict) -> list[tuple[str, int]]:
    """The ResourceManager RPC addresses the client JVM will try (each of an HA
    pair's ``rm-ids``, else ``yarn.resourcemanager.address``), as (host, port)."""
    return [(host, port) for host, port, _ in _rm_rpc_sources(conf)]


def _rm_rpc_sources(conf: dict) -> list[tuple[str, int, str]]:
    """(host, port, the property it came from) of each ResourceManager RPC address."""
    ids = [i.strip() for i in str(conf.get("yarn.resourcemanager.ha.rm-ids", "")).split(",") if i.strip()]
    ha = str(conf.get("yarn.resourcemanager.ha.enabled", "false")).lower() == "true"
    suffixes = [f".{rm_id}" for rm_id in ids] if ha and ids else [""]
    found = []
    for suffix in suffixes:
        key = f"yarn.resourcemanager.address{suffix}"
        address = conf.get(key)
        if not address:
            key = f"yarn.resourcemanager.hostname{suffix}"
            host = conf.get(key) or conf.get("rm") or "localhost"
            address = f"{host}:{RM_RPC_PORT}"
        host, _, port = str(address).rpartition(":")
        found.append((host or str(address), int(port) if port.isdigit() else RM_RPC_PORT, key))
    return found


def check_rm_rpc_reachable(conf: dict, timeout: float = 10.0, failover_wait: float = 30.0,
                           progress: Callable[[str], None] = lambda message: None) -> None:
    """Raise :class:`ClusterUnreachableError` when no ResourceManager RPC address
    accepts a connection (the client JVM would retry it for minutes).

    A single ResourceManager is judged at once. Of an HA pair (``rm-ids``), none may
    listen for a moment: a standby opens its client port only once it is elected,
    some seconds after the active one died. Then it is tried again for up to
    ``failover_wait`` seconds, and ``progress`` is told why.
    """
    sources = _rm_rpc_sources(conf)
    deadline = time.monotonic() + (failover_wait if len(sources) > 1 else 0.0)
    told = False
    while True:
        tried = []
        for host, port, key in sources:
            try:
                with socket.create_connection((host, port), timeout=timeout):
                    return
            except OSError as exc:
                tried.append(f"{host}:{port} (from {key}: {exc.strerror or type(exc).__name__})")
        if time.monotonic() >= deadline:
            break
        if not told:
            progress(f"no ResourceManager of {len(sources)} accepts RPC connections yet (a failover "
                     f"under way?); waiting up to {failover_wait:.0f} s for one to be elected")
            told = True
        time.sleep(0.5)
    waited = f" (tried for {failover_wait:.0f} s)" if len(sources) > 1 else ""
    raise ClusterUnreachableError(
        f"no ResourceManager answers at {', '.join(tried)}{waited}: check the address in "
        "yarn-site.xml (or pars=), and that the ResourceManager runs", "ConnectException")


def preflight(api: YARNAPI, spec: LaunchSpec, conf: dict, am_memory: int, am_vcores: int,
              progress: Callable[[str], None] = lambda message: None) -> None:
    """Raise :class:`PreflightError` (with the numbers and a fix) if the cluster
    could never run ``spec``, :class:`ClusterUnreachableError` if its
    ResourceManager's RPC address answers nothing; tell ``progress`` if it must wait
    for room."""
    check_rm_rpc_reachable(conf, progress=progress)
    queue = find_queue(api.scheduler(), spec.queue)
    minimum = int(conf.get("yarn.scheduler.minimum-allocation-mb", 1024))
    fit = check_fits(api, spec, conf, round_up(am_memory, minimum), am_vcores, progress)
    share = float(queue.get("absoluteMaxCapacity", 100.0)) / 100.0
    if 0 < share < 1 and fit["need_mb"] > fit["totalMB"] * share:
        raise PreflightError(
            f"the application needs {fit['need_mb']} MB but queue {spec.queue!r} may use at most "
            f"{share:.0%} of the cluster's {fit['totalMB']} MB; ask for less or use another queue")
    if fit["need_mb"] > fit["availableMB"] or fit["need_vcores"] > fit["availableVirtualCores"]:
        progress(f"the cluster has {fit['availableMB']} MB and {fit['availableVirtualCores']} "
                 f"vcores free of the {fit['need_mb']} MB and {fit['need_vcores']} vcores "
                 "needed: the application will wait for resources")


def node_resource_counts(node: dict) -> dict[str, int]:
    """A node report's total counts of resource types besides memory and vcores."""
    infos = ((node.get("totalResource") or {}).get("resourceInformations") or {}).get(
        "resourceInformation") or []
    return {info["name"]: int(info.get("value", 0)) for info in infos
            if info.get("name") not in ("memory-mb", "vcores")}


def check_resource_types(api: YARNAPI, counts: dict[str, dict[str, int]]) -> None:
    """Raise :class:`PreflightError` if a resource type asked for (``counts``: where
    -> type -> count) is one the cluster does not declare, or more than any node has."""
    wanted = {where: c for where, c in counts.items() if c}
    if not wanted:
        return
    nodes = [node_resource_counts(n) for n in api.nodes(states="RUNNING")]
    declared = sorted({name for node in nodes for name in node})
    for where, asked in wanted.items():
        for kind, count in asked.items():
            if kind not in declared:
                raise PreflightError(
                    f"{where}: the cluster declares no resource type {kind!r} (its node "
                    f"managers report {', '.join(declared) or 'only memory and vcores'}); "
                    "ask its administrators, or leave it out")
            most = max(node.get(kind, 0) for node in nodes)
            if count > most:
                raise PreflightError(f"{where}: {count} {kind} fits on no node (the most any "
                                     f"node has is {most}); ask for fewer")


def check_node_labels(api: YARNAPI, queue: dict, wanted: dict[str, str]) -> None:
    """Raise :class:`PreflightError` if a node label asked for (``wanted``: where ->
    label expression) is on no RUNNING node, or the ``queue`` may not use it."""
    wanted = {where: label for where, label in wanted.items() if label}
    if not wanted:
        return
    on_nodes = {label for node in api.nodes(states="RUNNING") for label in node.get("nodeLabels") or []}
    accessible = queue.get("nodeLabels") or []  # YARN leaves it out when there are none
    accessible = [accessible] if isinstance(accessible, str) else accessible
    for where, label in wanted.items():
        if label not in on_nodes:
            raise PreflightError(f"{where}: no RUNNING node has the label {label!r} (the nodes' "
                                 f"labels: {', '.join(sorted(on_nodes)) or 'none'}); its asks "
                                 "would wait forever")
        if "*" not in accessible and label not in accessible:
            raise PreflightError(f"{where}: queue {queue.get('queueName', '?')!r} may not use "
                                 f"nodes labelled {label!r} (it may use: "
                                 f"{', '.join(accessible) or 'none'}); use another queue")


#: The ResourceManager's setting that must enable placement constraints.
PLACEMENT_HANDLER = "yarn.resourcemanager.placement-constraints.handler"


def check_one_per_node(api: YARNAPI, conf: dict, instances: dict[str, int]) -> None:
    """Raise :class:`PreflightError` if services of one container per node
    (``instances``: where -> how many) cannot run: the cluster's configuration has
    placement constraints off, or it has fewer running nodes than containers."""
    if not instances:
        return
    handler = str(conf.get(PLACEMENT_HANDLER, "disabled"))
    where = next(iter(instances))
    if handler not in ("scheduler", "placement-processor"):
        raise PreflightError(f"{where}.one_per_node: the cluster has placement constraints off "
                             f"({PLACEMENT_HANDLER}={handler}); ask its administrators for "
                             "'scheduler', or leave one_per_node out")
    nodes = len(api.nodes(states="RUNNING"))
    for where, count in instances.items():
        if count > nodes:
            raise PreflightError(f"{where}.one_per_node: {count} containers, one per node, need "
                                 f"{count} nodes; the cluster runs {nodes}")
