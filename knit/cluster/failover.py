"""The daemons of an HA local cluster (:mod:`knit.cluster.ha`): which there are, the
order they start in, which ResourceManager and NameNode are active, and forcing a
failover."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Callable

from ..exceptions import ClusterError
from ..waiting import wait_until
from . import ha
from .daemons import Daemon, listening, raise_if_died
from .ha import HaLayout
from .web import DOWN, active

def ha_daemons(directory: Path, layout: HaLayout) -> list[Daemon]:
    """ZooKeeper, the JournalNodes, both ResourceManagers, both NameNodes and their
    failover controllers (the DataNode and NodeManagers are the usual ones)."""
    def conf(folder: str) -> Path:
        return directory / folder / "conf"

    daemons = [Daemon("zookeeper", "zookeeper", directory, directory / "zookeeper",
                      args=[str(directory / "zookeeper" / "zoo.cfg")])]
    daemons += [Daemon(f"journalnode-{index}", "journalnode", directory, conf(f"journalnode-{index}"))
                for index in range(len(layout.journalnodes))]
    daemons += [Daemon(f"resourcemanager-{rm_id}", "resourcemanager", directory,
                       conf(f"resourcemanager-{rm_id}")) for rm_id in ha.RM_IDS]
    daemons += [Daemon(f"namenode-{nn_id}", "namenode", directory, conf(f"namenode-{nn_id}"))
                for nn_id in ha.NN_IDS]
    daemons += [Daemon(f"zkfc-{nn_id}", "zkfc", directory, conf(f"namenode-{nn_id}"))
                for nn_id in ha.NN_IDS]
    return daemons


def start(daemons: list[Daemon], directory: Path, layout: HaLayout,
          progress: Callable[[str], None]) -> None:
    """Start an HA cluster's daemons in the order they need each other.

    ZooKeeper, JournalNodes and YARN start at once. Meanwhile the elections' znode is
    made afresh (a new cluster has no application: YARN's state lives in ZooKeeper) and,
    the first time only, HDFS is formatted through the JournalNodes and the standby
    NameNode gets a copy of the new namespace. Then the NameNodes, their failover
    controllers and the DataNode start.
    """
    by_role: dict[str, list[Daemon]] = {}
    for daemon in daemons:
        by_role.setdefault(daemon.role, []).append(daemon)
    shutil.rmtree(directory / "data" / "zookeeper", ignore_errors=True)
    for role in ("zookeeper", "journalnode", "resourcemanager", "nodemanager"):
        for daemon in by_role.get(role, []):
            daemon.start()
    progress("started ZooKeeper, 3 JournalNodes, 2 ResourceManagers and "
             f"{len(by_role.get('nodemanager', []))} NodeManager(s)")
    zookeeper = by_role["zookeeper"][0]
    wait_until(lambda: listening(layout.masters[0], layout.zookeeper) or raise_if_died(zookeeper),
               60, interval=0.1, what="ZooKeeper to listen")
    first_nn = by_role["namenode"][0]
    election = Daemon("zkfc-format", "zkfc", directory, first_nn.conf_dir,
                      args=["-formatZK", "-force", "-nonInteractive"]).start()
    for journal, (rpc, _) in zip(by_role["journalnode"], layout.journalnodes):
        wait_until(lambda: listening(layout.masters[0], rpc) or raise_if_died(journal), 60,
                   interval=0.1, what=f"{journal.name} to listen")
    names = directory / "data"
    if not (names / f"namenode-{ha.NN_IDS[0]}" / "current").is_dir():
        progress("formatting HDFS through the JournalNodes (first start only)")
        Daemon("namenode-format", "namenode", directory, first_nn.conf_dir,
               args=["-format", "-nonInteractive", "-force"]).run_to_end("formatting HDFS")
        standby = names / f"namenode-{ha.NN_IDS[1]}"
        shutil.rmtree(standby, ignore_errors=True)  # the standby's copy of the namespace
        shutil.copytree(names / f"namenode-{ha.NN_IDS[0]}", standby)
    wait_until(lambda: not election.is_alive(), 60, interval=0.1,
               what="the failover controllers' znode to be made")
    if election.exit_code() != 0:
        raise ClusterError(f"making the failover controllers' znode failed; end of "
                           f"{election.log_path}:\n{election.log_tail()}")
    for role in ("namenode", "zkfc", "datanode"):
        for daemon in by_role.get(role, []):
            daemon.start()
    progress("started 2 NameNodes, their failover controllers and the DataNode")


def force(kind: str, states: Callable[[], dict[str, str]], daemon_of: Callable[[str], Daemon],
          timeout: float = 90.0) -> dict:
    """SIGKILL the active ResourceManager (``kind='rm'``) or NameNode (``'nn'``) and
    wait until the other one is active.

    Returns
    -------
    dict
        ``killed`` and ``active`` (ids), and ``seconds`` from the kill until the other
        one reported itself active.

    Raises
    ------
    ClusterError
        No daemon of that kind is active, so there is nothing to fail over from.
    KnitTimeoutError
        The other one was not active within ``timeout`` seconds.
    """
    before = active(states())
    if before is None:
        raise ClusterError(f"no {_KINDS[kind]} is active now ({states()}): nothing to fail over from")
    killed = time.monotonic()
    daemon_of(before).kill()
    after = wait_until(lambda: active(states()), timeout, interval=0.2,
                       until=lambda now: now not in (None, before),
                       what=f"the other {_KINDS[kind]} to become active after {before} was killed")
    return {"killed": before, "active": after, "seconds": round(time.monotonic() - killed, 1)}


#: Each kind of failover: the key of :func:`knit.cluster.web.ha_states` and the role.
KINDS = {"rm": ("resourcemanagers", "resourcemanager"), "nn": ("namenodes", "namenode")}
_KINDS = {"rm": "ResourceManager", "nn": "NameNode"}


def wait_answering(daemon: Daemon, states: Callable[[], dict], timeout: float) -> None:
    """Wait until a restarted HA ResourceManager or NameNode says its state (active or
    standby) on its web endpoint."""
    key = KINDS["rm" if daemon.role == "resourcemanager" else "nn"][0]
    daemon_id = daemon.name.rsplit("-", 1)[-1]
    wait_until(lambda: states()[key][daemon_id] != DOWN or raise_if_died(daemon),
               timeout, interval=0.25, what=f"{daemon.name} to answer again")
