"""Container logs: read live from the NodeManagers or aggregated by YARN, parsed from
YARN's log format, and printed for people (the one printer every face uses)."""

from __future__ import annotations

import re
import subprocess
import time
from typing import Callable, Optional, Protocol, Union

from .exceptions import KnitValueError, NotFoundError
from .jvm import java_call_mapped


class YARNAPI(Protocol):
    """What reading logs needs of :class:`knit.yarn_api.YARNAPI`."""

    def state(self, app_id: str) -> str: ...
    def apps_info(self, app_id: str) -> dict: ...
    def app_containers(self, app_id: str) -> list[dict]: ...
    def read_node_file(self, node_http_address: str, path: str) -> str: ...
    def run_yarn(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess: ...

#: Log aggregation states in which some nodes have not uploaded their part yet.
AGGREGATING = ("NOT_START", "RUNNING", "RUNNING_WITH_FAILURE")
_FINAL_STATES = ("FINISHED", "FAILED", "KILLED")
#: Files printed first, in this order; the others follow by name.
_FIRST = ("stdout", "stderr", "am.stdout", "am.stderr")


#: Read the aggregated logs of an application: (app id, size) -> ``yarn logs`` output;
#: size None for whole files, negative for the last bytes of each.
AggregatedReader = Callable[[str, Optional[int]], Union[str, bytes]]


def yarn_command_reader(api: YARNAPI) -> AggregatedReader:
    """Aggregated logs through Hadoop's ``yarn logs`` command (a JVM each call)."""
    def read(app_id: str, size: int | None) -> str:
        extra = ["-size", str(size)] if size is not None else []
        return api.run_yarn(["logs", "-applicationId", app_id, *extra], check=False).stdout
    return read


def client_jvm_reader(client, api: YARNAPI) -> AggregatedReader:
    """Aggregated logs read by knit's client JVM (``Client.aggregatedLogs``): no
    ``yarn`` command needed, no JVM started per read."""
    def read(app_id: str, size: int | None) -> bytes:
        owner = api.apps_info(app_id)["user"]
        everything = 2**63 - 1  # Java's Long.MAX_VALUE: whole files
        return bytes(java_call_mapped(client.aggregatedLogs, app_id, owner,
                                      everything if size is None else size))
    return read


def application_logs(api: YARNAPI, app_id: str, shell: bool = False, retries: int = 10,
                     delay: float = 1.0, aggregation_timeout: float = 120.0,
                     tail: int | None = None,
                     read_aggregated: AggregatedReader | None = None) -> dict[str, dict[str, str]]:
    """Logs of every container of an application, as plain text.

    While the application runs, each container's files are read from its
    NodeManager; after it ends (or with ``shell=True``) the aggregated logs are read
    (by ``read_aggregated``, default ``yarn logs``) once YARN says aggregation has
    finished.

    Parameters
    ----------
    tail : int, optional
        Only the last ``tail`` bytes of each file (the rest is not transferred).
    read_aggregated : callable, optional
        How to read aggregated logs (:func:`client_jvm_reader`,
        :func:`yarn_command_reader`, the default).
    retries, delay : int, float
        Further reads (``delay`` s apart) when aggregation has finished and
        ``yarn logs`` still shows nothing.
    aggregation_timeout : float
        Seconds to wait for YARN's ``logAggregationStatus`` to leave
        ``NOT_START``/``RUNNING`` (a loaded cluster can take tens of seconds);
        after it, what has been aggregated so far is returned.

    Returns
    -------
    dict
        ``{container_id: {"stdout": ..., "stderr": ..., other files..., "nodeId": ...}}``.

    Raises
    ------
    NotFoundError
        Nothing was aggregated (with YARN's aggregation status, and the setting to
        turn it on when it is off).
    """
    size = _size_of(tail)
    if not shell and api.state(app_id) not in _FINAL_STATES:
        live = live_logs(api, app_id, tail)
        if live:
            return live
    read = read_aggregated or yarn_command_reader(api)
    deadline = time.monotonic() + aggregation_timeout
    status = _aggregation_status(api, app_id)
    # Every node uploads its part when the application ends; until YARN says they all
    # have, `yarn logs` shows only the parts already there.
    while status in AGGREGATING and time.monotonic() < deadline:
        time.sleep(delay)
        status = _aggregation_status(api, app_id)
    for _ in range(retries + 1):
        found = parse_yarn_logs(read(app_id, size), size)
        if found or status == "DISABLED":
            break
        time.sleep(delay)
    if found:
        return found
    raise NotFoundError(
        f"no logs for {app_id}: YARN's log aggregation status is {status or 'unknown'}"
        + (" (log aggregation is off: yarn.log-aggregation-enable)" if status == "DISABLED"
           else f" after {aggregation_timeout:.0f} s; try again later"), "NotFoundException")


def _aggregation_status(api: YARNAPI, app_id: str) -> str:
    """YARN's ``logAggregationStatus`` of an ended application (``""`` while it runs)."""
    info = api.apps_info(app_id)
    return info.get("logAggregationStatus", "") if info["state"] in _FINAL_STATES else ""


def _size_of(tail: int | None) -> int | None:
    """YARN's ``size`` for the last ``tail`` bytes of each file (None: whole files)."""
    if tail is None:
        return None
    if isinstance(tail, bool) or not isinstance(tail, int) or tail < 1:
        raise KnitValueError(f"tail must be a whole number of bytes >= 1, not {tail!r}")
    return -tail


def live_logs(api: YARNAPI, app_id: str, tail: int | None = None) -> dict[str, dict[str, str]]:
    """``stdout`` and ``stderr`` of each container of a running application so far
    (the last ``tail`` bytes of each), read from the NodeManagers (``{}`` before any
    container exists)."""
    return {c["id"]: {**container_logs(api, c["id"], c["nodeHttpAddress"], tail=tail),
                      "nodeId": c.get("nodeId", "")}
            for c in api.app_containers(app_id)}


def container_logs(api: YARNAPI, container_id: str, node_http_address: str,
                   names: tuple[str, ...] = ("stdout", "stderr"),
                   tail: int | None = None) -> dict[str, str]:
    """The log files ``names`` (``am.stdout`` and ``am.stderr`` for knit's
    ApplicationMaster) of one container of a running application, read from its
    NodeManager (which keeps them after the container ends, until the application
    does), or their last ``tail`` bytes; a file not written yet is ``""``."""
    return {name: body.decode("utf-8", "replace") for name, (_, body)
            in container_log_files(api, container_id, node_http_address, names,
                                   _size_of(tail)).items()}


def container_log_files(api: YARNAPI, container_id: str, node_http_address: str,
                        names: tuple[str, ...], size: int | None) -> dict[str, tuple[int, bytes]]:
    """Each of ``names`` as ``(whole length, bytes sent)``, read from the NodeManager
    with YARN's ``size`` (None: whole; negative: that many last bytes)."""
    files = {}
    query = "" if size is None else f"?size={size}"
    for name in names:
        text = api.read_node_file(node_http_address, f"containerlogs/{container_id}/{name}{query}")
        # The NodeManager wraps the file in the same headers as `yarn logs`.
        files[name] = parse_log_files(text, size).get(container_id, {}).get(name, (0, b""))
    return files


def format_logs(logs: dict[str, dict[str, str]], skip: tuple[str, ...] = ()) -> str:
    """``logs`` for people: ``== container on node``, then ``-- file`` and its text for
    each file with something in it (stdout and stderr first); containers in ``skip``
    are left out."""
    parts = []
    for container, files in sorted(logs.items()):
        if container in skip:
            continue
        parts.append(f"== {container} on {files.get('nodeId') or 'an unknown node'}")
        names = [n for n in _FIRST if n in files] + sorted(set(files) - set(_FIRST) - {"nodeId"})
        parts += [f"-- {name}\n{files[name].rstrip()}" for name in names if files[name].strip()]
    return "\n".join(parts)


_CONTAINER_HEADER = re.compile(r"^Container: (container_\S+)(?: on (\S+))?")


def parse_yarn_logs(text: str | bytes, size: int | None = None) -> dict[str, dict[str, str]]:
    """Split ``yarn logs`` (or a NodeManager's ``containerlogs``) output into
    ``{container_id: {log_type: contents}}``; each entry also names its node
    (``nodeId``, as knit 0.2.4's entries did).

    Each file's contents are taken by its ``LogLength:`` (bytes), not up to an ``End
    of LogType:`` line, so a container printing header-shaped lines cannot cut its
    own output short or invent containers. ``str`` input is re-encoded as UTF-8
    with ``surrogateescape`` (how knit decodes these replies), so lengths match.
    ``size`` is the ``size`` the output was asked with (YARN's headers give the whole
    file's length even when it sent only its first or last ``|size|`` bytes).
    """
    logs: dict[str, dict[str, str]] = {}
    for container, files in parse_log_files(text, size).items():
        logs[container] = {name: (value if name == "nodeId" else value[1].decode("utf-8", "replace"))
                           for name, value in files.items()}
    return logs


def parse_log_files(text: str | bytes, size: int | None = None) -> dict[str, dict]:
    """:func:`parse_yarn_logs`, each file as ``(length, contents)``: the whole file's
    length as YARN gave it, and the bytes sent."""
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    logs: dict[str, dict] = {}
    container, log_type, length, position = None, None, None, 0
    while position < len(data):
        end = data.find(b"\n", position)
        end = len(data) if end < 0 else end
        line = data[position:end].decode("utf-8", "replace")
        position = end + 1
        header = _CONTAINER_HEADER.match(line)
        if header:
            container = header.group(1)
            logs.setdefault(container, {})
            if header.group(2):  # host_port in the aggregated file's name: host:port
                host, sep, port = header.group(2).rpartition("_")
                node = f"{host}:{port}" if sep and port.isdigit() and ":" not in host else header.group(2)
                logs[container]["nodeId"] = node
        elif line.startswith("LogType:"):
            log_type, length = line[len("LogType:"):].strip(), None
        elif line.startswith("LogLength:"):
            value = line[len("LogLength:"):].strip()
            length = int(value) if value.isdigit() else None
        elif line.startswith("LogContents:"):
            if length is None:  # no length given: up to the end marker
                marker = f"End of LogType:{log_type}".encode()
                stop = data.find(b"\n" + marker, position - 1)
                stop = len(data) if stop < 0 else stop
                body = data[position:stop] if stop >= position else b""
                position = stop + 1
            else:
                sent = length if size is None else min(length, abs(size))
                body = data[position:position + sent]
                position += sent
            if container and log_type:
                logs[container][log_type] = (len(body) if length is None else length, body)
            log_type, length = None, None
    return logs


def add_ended_containers(api: YARNAPI, logs: dict[str, dict[str, str]],
                         workers: list[dict], tail: int | None = None) -> None:
    """Add to a running application's ``logs`` the workers YARN no longer lists (it
    lists only the live ones; their NodeManagers keep the files until the end)."""
    for container in workers:
        if container["id"] not in logs and container.get("nodeHttpAddress"):
            logs[container["id"]] = {**container_logs(api, container["id"], container["nodeHttpAddress"],
                                                      tail=tail),
                                     "nodeId": container.get("node", "")}
