"""Container logs: read live from the NodeManagers or aggregated by YARN, parsed from
YARN's log format, and printed for people (the one printer every face uses)."""

from __future__ import annotations

import re
import subprocess
import time
from typing import Protocol

from .exceptions import NotFoundError


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


def application_logs(api: YARNAPI, app_id: str, shell: bool = False, retries: int = 10,
                     delay: float = 1.0,
                     aggregation_timeout: float = 120.0) -> dict[str, dict[str, str]]:
    """Logs of every container of an application, as plain text.

    While the application runs, each container's files are read from its
    NodeManager; after it ends (or with ``shell=True``) the aggregated logs are read
    with ``yarn logs`` once YARN says aggregation has finished.

    Parameters
    ----------
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
    if not shell and api.state(app_id) not in _FINAL_STATES:
        live = live_logs(api, app_id)
        if live:
            return live
    deadline = time.monotonic() + aggregation_timeout
    status = _aggregation_status(api, app_id)
    # Every node uploads its part when the application ends; until YARN says they all
    # have, `yarn logs` shows only the parts already there.
    while status in AGGREGATING and time.monotonic() < deadline:
        time.sleep(delay)
        status = _aggregation_status(api, app_id)
    for _ in range(retries + 1):
        found = parse_yarn_logs(api.run_yarn(["logs", "-applicationId", app_id], check=False).stdout)
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


def live_logs(api: YARNAPI, app_id: str) -> dict[str, dict[str, str]]:
    """``stdout`` and ``stderr`` of each container of a running application so far,
    read from the NodeManagers (``{}`` before any container exists)."""
    return {c["id"]: {**container_logs(api, c["id"], c["nodeHttpAddress"]),
                      "nodeId": c.get("nodeId", "")}
            for c in api.app_containers(app_id)}


def container_logs(api: YARNAPI, container_id: str, node_http_address: str,
                   names: tuple[str, ...] = ("stdout", "stderr")) -> dict[str, str]:
    """The log files ``names`` (``am.stdout`` and ``am.stderr`` for knit's
    ApplicationMaster) of one container of a running application, read from its
    NodeManager (which keeps them after the container ends, until the application
    does); a file not written yet is ``""``."""
    files = {}
    for name in names:
        text = api.read_node_file(node_http_address, f"containerlogs/{container_id}/{name}")
        # The NodeManager wraps the file in the same headers as `yarn logs`.
        files[name] = parse_yarn_logs(text).get(container_id, {}).get(name, "")
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


def parse_yarn_logs(text: str | bytes) -> dict[str, dict[str, str]]:
    """Split ``yarn logs`` (or a NodeManager's ``containerlogs``) output into
    ``{container_id: {log_type: contents}}``; each entry also names its node
    (``nodeId``, as knit 0.2.4's entries did).

    Each file's contents are taken by its ``LogLength:`` (bytes), not up to an ``End
    of LogType:`` line, so a container printing header-shaped lines cannot cut its
    own output short or invent containers. ``str`` input is re-encoded as UTF-8
    with ``surrogateescape`` (how knit decodes these replies), so lengths match.
    """
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogateescape")
    logs: dict[str, dict[str, str]] = {}
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
                body = data[position:position + length]
                position += length
            if container and log_type:
                logs[container][log_type] = body.decode("utf-8", "replace")
            log_type, length = None, None
    return logs


def add_ended_containers(api: YARNAPI, logs: dict[str, dict[str, str]],
                         workers: list[dict]) -> None:
    """Add to a running application's ``logs`` the workers YARN no longer lists (it
    lists only the live ones; their NodeManagers keep the files until the end)."""
    for container in workers:
        if container["id"] not in logs and container.get("nodeHttpAddress"):
            logs[container["id"]] = {**container_logs(api, container["id"], container["nodeHttpAddress"]),
                                     "nodeId": container.get("node", "")}
