"""A local cluster's web APIs as its owner calls them: whether the starting cluster is
ready (the ResourceManager's REST API and the NameNode's JMX), and WebHDFS calls as
the HDFS superuser."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Callable, Protocol

import requests

from .. import sessions
from ..exceptions import DaemonDiedError, KerberosError
from ..kerberos import Credentials, spnego_auth
from ..progress import count_bar
from ..waiting import wait_until
from .daemons import Daemon
from .kdc import Realm, realm_environment
from .ports import ClusterPorts


class LocalCluster(Protocol):
    """What these calls read of :class:`knit.cluster.LocalCluster`."""

    directory: Path
    nodemanagers: int
    ports: ClusterPorts
    host: str
    https: bool
    ca_certificate: Path | None
    realm: Realm | None
    rm_url: str
    webhdfs_url: str
    resourcemanagers: dict[str, str]
    namenodes: dict[str, str]


def owner_session(cluster: LocalCluster) -> requests.Session:
    """A session trusting the cluster's CA (on HTTPS); a user's https_proxy never
    captures the cluster's own (loopback) addresses."""
    return sessions.session(str(cluster.ca_certificate) if cluster.https else True,
                            use_proxies=False)


def as_owner(cluster: LocalCluster, http: requests.Session) -> dict[str, str]:
    """Make ``http`` call the web APIs as the cluster's owner: SPNEGO with the owner's
    keytab on a secure cluster, else the ``user.name`` parameter (returned)."""
    realm = cluster.realm
    if realm is None:
        return {"user.name": getpass.getuser()}
    if http.auth is None:
        user = getpass.getuser()
        with realm_environment(realm):
            http.auth = spnego_auth(Credentials(realm.user_principal(user), str(realm.keytab(user))))
    return {}


def webhdfs(cluster: LocalCluster, method: str, path: str, **params: str) -> dict:
    """One WebHDFS call as the cluster's owner (the HDFS superuser)."""
    http = owner_session(cluster)
    who = as_owner(cluster, http)
    with realm_environment(cluster.realm):
        response = http.request(method, f"{cluster.webhdfs_url}{path}",
                                params={**params, **who}, timeout=30)
    response.raise_for_status()
    return response.json() if response.content else {}


def wait_ready(cluster: LocalCluster, daemons: list[Daemon], timeout: float,
               progress: Callable[[str], None], bars: bool) -> None:
    """Wait until YARN and HDFS serve requests, saying what changes (a bar of the
    steps with ``bars``); raise if a daemon dies meanwhile."""
    http = owner_session(cluster)
    seen = {"last": "nothing yet", "said": "", "steps": 0}
    with count_bar(cluster.nodemanagers + 3, "cluster starting", "step", enabled=bars) as bar:
        def ready() -> bool:
            done = _look(cluster, daemons, http, seen, progress)
            bar.to(seen["steps"])
            return done

        wait_until(ready, timeout, interval=0.25, what=lambda _: (
            f"the local cluster was not ready after {timeout:.0f} s; last seen: "
            f"{seen['last']}. Logs are in {cluster.directory / 'logs'}"))


def _look(cluster: LocalCluster, daemons: list[Daemon], http: requests.Session, seen: dict,
          progress: Callable[[str], None]) -> bool:
    """One look at the starting cluster: raise if a daemon died, say what changed."""
    for daemon in daemons:
        if not daemon.is_alive():
            raise DaemonDiedError(f"{daemon.name} exited while the cluster was starting; "
                                  f"end of {daemon.log_path}:\n{daemon.log_tail()}",
                                  daemon.name, daemon.log_tail())
    with realm_environment(cluster.realm):
        done, seen["last"], seen["steps"] = readiness(cluster, http)
    if not done and seen["last"] != seen["said"]:
        progress(f"waiting: {seen['last']}")
        seen["said"] = seen["last"]
    return done


def readiness(cluster: LocalCluster, http: requests.Session) -> tuple[bool, str, int]:
    """(ready?, what was seen, steps done of nodemanagers + 3) from the active
    ResourceManager's REST API and the active NameNode's JMX."""
    who = as_owner(cluster, http)  # the web APIs refuse anonymous calls
    rms = rm_states(cluster.resourcemanagers, http, who)
    nns = nn_states(cluster.namenodes, http, who)
    rm_id, nn_id = active(rms), active(nns)
    if rm_id is None or nn_id is None:
        return False, f"no active ResourceManager and NameNode yet ({_said(rms)}; {_said(nns)})", 0
    try:
        rm = cluster.resourcemanagers[rm_id]
        state = http.get(f"{rm}/ws/v1/cluster/info", params=who,
                         timeout=2).json()["clusterInfo"]["state"]
        nodes_json = http.get(f"{rm}/ws/v1/cluster/nodes",
                              params={"states": "RUNNING", **who}, timeout=2).json()
        running = len(((nodes_json.get("nodes") or {}).get("node")) or [])
        jmx = http.get(f"{cluster.namenodes[nn_id]}/jmx",
                       params={"qry": "Hadoop:service=NameNode,name=NameNodeInfo", **who},
                       timeout=2).json()
        bean = (jmx.get("beans") or [{}])[0]
        live = len(json.loads(bean.get("LiveNodes") or "{}"))
        safemode = bean.get("Safemode", "starting")
    except (requests.RequestException, ValueError, KeyError, KerberosError) as exc:
        return False, f"daemons starting ({type(exc).__name__})", 0
    wanted = cluster.nodemanagers
    seen = (f"ResourceManager {state}, {running}/{wanted} NodeManagers running, "
            f"{live} DataNode(s) live, HDFS {'in safe mode' if safemode else 'writable'}")
    ready = state == "STARTED" and running >= wanted and live >= 1 and not safemode
    steps = (state == "STARTED") + min(running, wanted) + (live >= 1) + (not safemode)
    return ready, seen, steps


def _said(states: dict[str, str]) -> str:
    return ", ".join(f"{daemon_id} {state}" for daemon_id, state in states.items())


def ha_states(cluster: LocalCluster) -> dict[str, dict[str, str]]:
    """The state of each ResourceManager and NameNode (``active``, ``standby``,
    ``down``, ...), as the cluster's owner reads them from their web endpoints."""
    http = owner_session(cluster)
    with realm_environment(cluster.realm):
        who = as_owner(cluster, http)
        return {"resourcemanagers": rm_states(cluster.resourcemanagers, http, who),
                "namenodes": nn_states(cluster.namenodes, http, who)}


#: How a state reads when the daemon does not answer.
DOWN = "down"


def rm_states(urls: dict[str, str], http: requests.Session, who: dict) -> dict[str, str]:
    """Each ResourceManager's ``haState`` (ACTIVE, STANDBY, ...), or ``down``."""
    states = {}
    for rm_id, url in urls.items():
        try:
            reply = http.get(f"{url}/ws/v1/cluster/info", params=who, timeout=2)
            states[rm_id] = reply.json()["clusterInfo"].get("haState", "ACTIVE").lower()
        except (requests.RequestException, ValueError, KeyError):
            states[rm_id] = DOWN
    return states


def nn_states(urls: dict[str, str], http: requests.Session, who: dict) -> dict[str, str]:
    """Each NameNode's HA state (active, standby, ...), or ``down``."""
    states = {}
    for nn_id, url in urls.items():
        try:
            reply = http.get(f"{url}/jmx", timeout=2, params={
                "qry": "Hadoop:service=NameNode,name=NameNodeStatus", **who})
            states[nn_id] = (reply.json().get("beans") or [{}])[0].get("State", DOWN).lower()
        except (requests.RequestException, ValueError, KeyError):
            states[nn_id] = DOWN
    return states


def active(states: dict[str, str]) -> str | None:
    """The id whose state is active, if one is."""
    return next((daemon_id for daemon_id, state in states.items() if state == "active"), None)


def label_nodes(cluster: LocalCluster, labels: dict[str, bool], placed: dict[str, str]) -> None:
    """Declare the node ``labels`` (name -> exclusive) and give each host of
    ``placed`` its label ('' for none), through the ResourceManager's REST API as the
    cluster's owner (its administrator). Both are idempotent; YARN keeps them across
    restarts.

    Raises
    ------
    requests.HTTPError
        The ResourceManager refused.
    """
    http = owner_session(cluster)
    with realm_environment(cluster.realm):
        params = as_owner(cluster, http)
        base = f"{cluster.rm_url}/ws/v1/cluster"
        known = http.get(f"{base}/get-node-labels", params=params, timeout=30)
        known.raise_for_status()
        have = {info["name"] for info in _listed((known.json() or {}).get("nodeLabelInfo"))}
        missing = [{"name": name, "exclusivity": exclusive}
                   for name, exclusive in labels.items() if name not in have]
        if missing:
            http.post(f"{base}/add-node-labels", params=params, timeout=30,
                      json={"nodeLabelInfo": missing}).raise_for_status()
        nodes = http.get(f"{base}/nodes", params=params, timeout=30)
        nodes.raise_for_status()
        for node in nodes.json()["nodes"]["node"]:
            label = placed.get(node["nodeHostName"])
            if label is not None and [label] != (node.get("nodeLabels") or [""]):
                given = {"labels": label} if label else {}
                http.post(f"{base}/nodes/{node['id']}/replace-labels", timeout=30,
                          params={**params, **given}).raise_for_status()


def _listed(value) -> list:
    """A JSON field YARN gives as a list, one object, or nothing."""
    return value if isinstance(value, list) else [value] if value else []
