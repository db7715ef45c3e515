"""Applications survive the ResourceManager restarting and a NodeManager dying.

These restart daemons of the session's cluster, and leave it whole again."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import pytest
import requests

from knit import Knit

from ..integration.waiting import wait_for
from .helpers import running_ids, wait_running

QUIET = {"progress": False}


def test_an_application_survives_a_resource_manager_restart(cluster_environ):
    local = cluster_environ
    k = Knit(**QUIET)
    k.start("sleep 600", num_containers=2, keep_alive=True)
    try:
        before = wait_running(k, 2)
        k.yarn_api.retry_for = 120  # the ResourceManager takes a while to start here
        restarting = threading.Thread(target=local.restart, args=("resourcemanager",))
        restarting.start()
        wait_for(lambda: not _answers(k), timeout=30, what="the ResourceManager stopping")
        # knit's REST calls wait out the gap (no error); the application is recovered
        # (ACCEPTED until its AM re-registers), its containers ran on.
        assert k.runtime_status() in ("ACCEPTED", "RUNNING")
        restarting.join(180)
        wait_for(lambda: k.runtime_status() == "RUNNING", timeout=60, what="RUNNING again")
        assert running_ids(k) == before
        assert k.scale(3) == 3  # and YARN still grants it containers
        wait_running(k, 3)  # a third container, granted after the restart
    finally:
        assert k.kill() is True
    # A new application after the restart, from the same Knit.
    k.start("true")
    assert k.wait_for_completion(120)


def test_lost_containers_are_replaced_within_the_restart_policy(cluster_environ):
    local = cluster_environ
    k = Knit(**QUIET)
    # 5 containers of 1 GB cannot all sit on the AM's node (4 GB): some land elsewhere.
    k.start("sleep 600", num_containers=5, memory=1024, keep_alive=True, max_restarts=-1)
    try:
        wait_running(k, 5)
        am_node = k.yarn_api.app_attempts(k.app_id)[-1]["nodeId"]
        nodes = {c["node"] for c in k.worker_containers()} - {am_node}
        assert nodes, "every container on the AM's node"
        victim = sorted(nodes)[0]
        index = local.status()["network"]["nodes"].index(victim.split(":")[0])
        lost = {c["id"] for c in k.worker_containers() if c["node"] == victim}
        local.kill(f"nodemanager-{index}")
        try:
            # YARN declares the node lost (15 s here), the AM asks for replacements.
            report = wait_for(lambda: (r := k.get_container_report())["restarts"] >= len(lost) and r,
                              timeout=90, what="the lost containers being replaced")
            assert report["target"] == 5
            assert {c["id"] for c in report["containers"] if c["state"] == "COMPLETE"} >= lost
        finally:
            local.restart(f"nodemanager-{index}")
        wait_running(k, 5)  # again
    finally:
        k.kill()


def test_a_forgetful_resource_manager_and_a_lost_datanode(tmp_path):
    """On a cluster of its own (no ResourceManager recovery): after the restart the old
    application is gone, ``kill()`` says so and the same Knit starts again; the
    NameNode dying during an upload is one clear error (audit item 13); with the
    DataNode dead, shipping a file fails at once with one line naming HDFS's state."""
    from knit.cluster import LocalCluster
    from knit.conf import read_conf_dir
    from knit.exceptions import JVMError

    cluster = LocalCluster(directory=tmp_path / "forgetful", nodemanagers=1, ports="free",
                           extra_conf={"yarn-site.xml": {
                               "yarn.resourcemanager.recovery.enabled": "false"}}).up()
    try:
        k = Knit(autodetect=False, pars=read_conf_dir(cluster.conf_dir), **QUIET)
        k.start("sleep 600", keep_alive=True)
        wait_running(k, 1)
        forgotten = k.app_id
        cluster.restart("resourcemanager")
        assert forgotten not in k.yarn_api.apps
        assert k.kill() is False  # nothing left to kill, and no error
        k.start("echo again")
        assert k.wait_for_completion(120), k.status()["diagnostics"]
        assert k.app_id != forgotten

        _namenode_dies_during_an_upload(cluster, k, tmp_path)
        cluster.kill("datanode")
        shipped = tmp_path / "data.txt"
        shipped.write_text("no DataNode will hold this\n")
        started = time.monotonic()
        with pytest.raises(JVMError, match="HDFS has no DataNode") as caught:
            k.start("cat data.txt", files=[str(shipped)])
        assert time.monotonic() - started < 60
        assert "\tat " not in str(caught.value) and len(str(caught.value).splitlines()) == 1
        assert "hdfs dfsadmin -report" in str(caught.value)
    finally:
        cluster.down()


def _namenode_dies_during_an_upload(cluster, k: Knit, tmp_path) -> None:
    """The NameNode killed while a file is being uploaded: one KnitError saying the
    upload broke off and nothing was submitted (not Java's EOFException); once HDFS is
    back, the same start() succeeds and leaves no partial ``._COPYING_`` file."""
    import getpass
    import uuid

    from knit.exceptions import KnitError
    from knit.staging import file_digest

    big = tmp_path / "big.bin"
    with open(big, "wb") as out:
        for _ in range(300):
            out.write(uuid.uuid4().bytes * 65536)  # 1 MiB of distinct blocks
    folder = f"/user/{getpass.getuser()}/.knitDeps/{file_digest(big)[1][:20]}"
    partial = f"{cluster.webhdfs_url}{folder}/big.bin._COPYING_"
    user = {"user.name": getpass.getuser()}

    killed: list[float] = []

    def kill_when_uploading() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                reply = requests.get(partial, params={"op": "GETFILESTATUS", **user}, timeout=5)
            except requests.ConnectionError:
                reply = None
            if reply is not None and reply.status_code == 200:
                cluster.kill("namenode")
                killed.append(time.monotonic())
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_when_uploading)
    killer.start()
    apps_before = set(k.yarn_api.apps)
    started = time.monotonic()
    with pytest.raises(KnitError, match="broke off") as caught:
        k.start("wc -c < big.bin", files=[str(big)])
    killer.join(10)
    assert killed, f"the upload never began: {caught.value}"
    assert time.monotonic() - started < 120
    assert "nothing was submitted" in str(caught.value), caught.value
    assert "\tat " not in str(caught.value)
    assert set(k.yarn_api.apps) == apps_before
    cluster.restart("namenode")
    k.start("wc -c < big.bin", files=[str(big)])
    assert k.wait_for_completion(120), k.status()["diagnostics"]
    listing = requests.get(f"{cluster.webhdfs_url}{folder}", params={"op": "LISTSTATUS", **user},
                           timeout=10).json()["FileStatuses"]["FileStatus"]
    assert [entry["pathSuffix"] for entry in listing] == ["big.bin"]


def _answers(k: Knit) -> bool:
    try:
        requests.get(k.yarn_api.url + "cluster/info", timeout=2)
        return True
    except requests.ConnectionError:
        return False


@pytest.fixture(autouse=True)
def _whole_cluster(cluster_environ):
    yield
    assert cluster_environ.is_running(), "a test left a daemon of the cluster stopped"


def test_cli_status_and_restart_act_on_the_clusters_own_ports(cluster_environ):
    """Audit item 6: for a --free-ports cluster `knit cluster status` showed the default
    ports (another cluster's), and `restart namenode` returned while HDFS was in safe mode."""
    local = cluster_environ
    cli = [sys.executable, "-m", "knit", "cluster"]
    shown = subprocess.run([*cli, "status", "--dir", str(local.directory)], capture_output=True,
                           text=True, timeout=120)
    status = json.loads(shown.stdout)
    assert status["resourcemanager"] == local.rm_url
    assert status["namenode"] == local.fs_default
    restarted = subprocess.run([*cli, "restart", "namenode", "--dir", str(local.directory)],
                               capture_output=True, text=True, timeout=300)
    assert restarted.returncode == 0, restarted.stderr[-2000:]
    safemode = subprocess.run([str(local.hadoop_home / "bin" / "hdfs"), "dfsadmin", "-safemode",
                               "get"], capture_output=True, text=True, timeout=120)
    assert "Safe mode is OFF" in safemode.stdout, safemode.stdout + safemode.stderr
    k = Knit(**QUIET)
    k.start("true")  # staging into HDFS works at once
    assert k.wait_for_completion(120) is True
