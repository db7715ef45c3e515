"""A local cluster's folder: its state file (what runs, at which addresses and ports)
and which parts of it other users may read."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..exceptions import ClusterError
from .daemons import Daemon

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
