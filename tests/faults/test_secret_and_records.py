"""The control secret reaches only the application's own processes, and knit's
records of an application go when it does."""

from __future__ import annotations

import subprocess

import requests

from knit import Knit
from knit.exceptions import NotFoundError
from knit.yarn_api import FINAL_STATES

from ..integration.nodemanager import file_names
from ..integration.waiting import wait_for

QUIET = {"progress": False}


def _live_files(k: Knit) -> dict[str, str]:
    """Every file the NodeManagers list for every container of the application."""
    session = requests.Session()
    session.trust_env = False
    who = {"user.name": k.conf["user"]}
    found = {}
    for container in k.yarn_api.app_containers(k.app_id):
        base = f"http://{container['nodeHttpAddress']}/ws/v1/node"
        listing = session.get(f"{base}/containers/{container['id']}/logs", params=who,
                              timeout=30).json()
        for name in file_names(listing):
            found[f"{container['id']}/{name}"] = session.get(
                f"{base}/containerlogs/{container['id']}/{name}", params=who, timeout=30).text
    return found


def test_the_secret_is_in_nothing_the_cluster_serves(cluster_environ):
    k = Knit(**QUIET)
    k.start("echo worker up; sleep 600", num_containers=1, keep_alive=True)
    live = wait_for(lambda: (f := _live_files(k)) and any("worker up" in t for t in f.values())
                    and f, what="the worker's log")
    assert sum(name.endswith("launch_container.sh") for name in live) == 2  # AM and worker
    assert not [name for name, text in live.items() if k._secret in text]
    k.kill()
    # Log aggregation keeps every file of the log folders (yarn logs prints them all).
    aggregated = wait_for(lambda: _aggregated(k), timeout=90, what="aggregated logs")
    assert not [name for name, text in aggregated.items() if k._secret in text]


def _aggregated(k: Knit) -> dict[str, str]:
    try:
        logs = k.logs(shell=True)
    except NotFoundError:
        return {}
    files = {f"{cid}/{name}": text for cid, found in logs.items() for name, text in found.items()}
    return files if sum(name.endswith("launch_container.sh") for name in files) == 2 else {}


def test_records_are_private_and_go_with_their_application(cluster_environ, hadoop_env):
    k = Knit(client_timeout=5, **QUIET)
    k.start("sleep 600", keep_alive=True)
    app_id = k.app_id
    folder = f"{k.conf['hdfs_home']}/.knitApps"
    listing = subprocess.run(["hdfs", "dfs", "-ls", folder], env=hadoop_env,
                             capture_output=True, text=True, check=True).stdout
    mine = [line for line in listing.splitlines() if app_id in line]
    assert {line.split()[-1].rsplit("/", 1)[-1] for line in mine} >= {
        f"{app_id}.secret", f"{app_id}.launch.json"}
    assert all(line.startswith("-rw-------") for line in mine), mine
    # Left alone, the application ends by itself (client timeout), unseen by knit...
    wait_for(lambda: k.yarn_api.state(app_id) in FINAL_STATES, timeout=60, what="the timeout")
    # ...and the next start() of any Knit of this user clears its files.
    other = Knit(**QUIET)
    other.start("true")
    other.wait_for_completion(120)
    listing = subprocess.run(["hdfs", "dfs", "-ls", folder], env=hadoop_env,
                             capture_output=True, text=True, check=True).stdout
    assert app_id not in listing
