"""Where a local cluster's masters answer: the web addresses of its ResourceManagers and
NameNodes (one of each, or two of each on an HA cluster), and the active one's."""

from __future__ import annotations

from .ha import NN_IDS, RM_IDS, HaLayout
from .ports import ClusterPorts


def resourcemanager_urls(host: str, ports: ClusterPorts, https: bool,
                         layout: HaLayout | None) -> dict[str, str]:
    """Web address of each ResourceManager by id (``rm1``, ``rm2``; ``rm`` alone on a
    cluster without HA)."""
    scheme = "https" if https else "http"
    if layout is None:
        return {"rm": f"{scheme}://{host}:{ports.rm_webapp}"}
    return {rm_id: f"{scheme}://{layout.master_of(rm_id)}:{ports.rm_webapp}" for rm_id in RM_IDS}


def namenode_urls(host: str, ports: ClusterPorts, layout: HaLayout | None) -> dict[str, str]:
    """Web address of each NameNode by id (``nn1``, ``nn2``; ``nn`` alone)."""
    if layout is None:
        return {"nn": f"http://{host}:{ports.namenode_http}"}
    return {nn_id: f"http://{layout.master_of(nn_id)}:{ports.namenode_http}" for nn_id in NN_IDS}


def active_url(urls: dict[str, str], active_id: str | None) -> str:
    """The address of the active one among ``urls``; the first while none is active."""
    return urls.get(active_id or "", next(iter(urls.values())))
