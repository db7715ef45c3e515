"""A local cluster's folder: its state file (what runs, at which addresses and ports)
and which parts of it other users may read."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..exceptions import ClusterError
from .daemons import Daemon
from .ha import HaLayout
from .ports import ClusterPorts

STATE_FILE = "cluster.json"

#: Folders of the cluster that are its owner's alone: the ResourceManager's state store
#: (every running application's credentials and launch contract), HDFS's blocks, the
#: daemons' logs and the NodeManagers' folders (containers' files).
PRIVATE_FOLDERS = ("rm-state", "data", "logs")


def default_directory() -> Path:
    """``$KNIT_CLUSTER_DIR``, else ``~/.knit/cluster``."""
    return Path(os.environ.get("KNIT_CLUSTER_DIR", Path.home() / ".knit" / "cluster"))


def daemon_entries(daemons: list[Daemon]) -> list[dict]:
    """The daemons as the state file lists them."""
    return [{"name": d.name, "role": d.role, "pid": d.pid, "conf_dir": str(d.conf_dir),
             "prefix": d.prefix} for d in daemons]


class ClusterFolder:
    """The folder a local cluster lives in.

    Parameters
    ----------
    directory : Path
        The cluster's folder (``conf/``, ``hadoop/``, ``data/``, ``logs/``, ...).
    """

    def __init__(self, directory: Path):
        self.directory = directory

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

    def read_state(self) -> dict | None:
        """The state file's content (None: no cluster was started here, or it is stopped)."""
        try:
            return json.loads(self.state_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def write_state(self, state: dict) -> None:
        self.state_path.write_text(json.dumps(state, indent=2))

    def forget_state(self) -> None:
        self.state_path.unlink(missing_ok=True)

    def daemons(self, state: dict | None) -> list[Daemon]:
        """The daemons ``state`` lists, as handles to their processes."""
        return [Daemon(name=entry["name"], role=entry["role"], cluster_dir=self.directory,
                       conf_dir=Path(entry["conf_dir"]), pid=entry["pid"],
                       prefix=entry.get("prefix", []))
                for entry in (state or {}).get("daemons", [])]

    def make_private(self, nodemanagers: int) -> None:
        """Close the folder to other users but for what they need to use the cluster as
        its clients: ``conf/``, ``hadoop/``, ``tls/ca.pem``, the realm's ``krb5.conf``
        and the state file (the folder itself: traverse, not list)."""
        self.directory.chmod(0o711)
        names = [*PRIVATE_FOLDERS, *(f"nodemanager-{index}" for index in range(nodemanagers))]
        for name in names:
            folder = self.directory / name
            folder.mkdir(exist_ok=True)
            folder.chmod(0o700)

    def holds_cluster(self) -> bool:
        """Whether the folder is a local cluster's: its state file, or the layout ``up``
        writes (``conf/yarn-site.xml`` and ``hadoop/``)."""
        return self.state_path.exists() or (
            (self.directory / "conf" / "yarn-site.xml").is_file()
            and (self.directory / "hadoop").is_dir())

    def refuse_foreign(self, action: str, empty_is_fine: bool = False) -> None:
        """Raise ClusterError unless the folder is a cluster's (or, with
        ``empty_is_fine``, missing or empty): never act on a folder of other things."""
        if self.holds_cluster():
            return
        if empty_is_fine and (not self.directory.exists() or not any(self.directory.iterdir())):
            return
        raise ClusterError(
            f"{self.directory} holds no knit cluster (no {STATE_FILE}, no conf/yarn-site.xml "
            f"and hadoop/): knit will not {action}; name the folder a cluster was started "
            "in, or a new or empty one for `knit cluster up`")

    def refuse_different(self, state: dict, wanted: dict) -> None:
        """Raise ClusterError if the running cluster ``state`` describes differs from
        ``wanted`` (``nodemanagers``, network ``mode``, ``secure``, ``https``, ``ha``,
        and ``ports`` unless None)."""
        running = {"nodemanagers": state.get("nodemanagers"),
                   "mode": state.get("network", {}).get("mode", "loopback"),
                   "secure": bool(state.get("secure")), "https": bool(state.get("https")),
                   "ha": bool(state.get("ha")), "ports": state.get("ports")}
        if wanted["ports"] is None:
            running["ports"] = None
        if running == wanted:
            return
        kinds = "".join(f"{kind}, " for kind in ("secure", "https", "HA")
                        if running[kind.lower()])
        raise ClusterError(
            f"a different cluster is running in {self.directory} ({kinds}"
            f"{running['nodemanagers']} NodeManagers, {running['mode']} network, ports "
            f"{state.get('ports')}): stop it with `knit cluster down --dir {self.directory}` "
            "or use another --dir")


def ports_in_use(state: dict | None, host: str, ports: ClusterPorts) -> list[tuple[str, int]]:
    """(host, port) of every daemon of a cluster as its state records them; without a
    state, the master ports ``ports`` on ``host``."""
    if not state:
        return [(host, port) for port in ports.as_dict().values()]
    master = state.get("network", {}).get("master", host)
    nodes = state.get("network", {}).get("nodes") or [master] * len(state["nodemanager_ports"])
    found = [(master, port) for port in state["ports"].values()]
    found += [(master, port) for port in state["datanode_ports"].values()]
    for node, node_ports in zip(nodes, state["nodemanager_ports"]):
        found += [(node, port) for port in node_ports.values()]
    if state.get("ha"):
        found += HaLayout.from_dict(state["ha"]).ports_in_use(ClusterPorts(**state["ports"]))
    return found
