"""Starting and stopping clusters of their own: failures, strays, ports.

These use a second, one-NodeManager cluster beside the session's, on ports picked
free (so they never collide with a cluster a user already runs).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knit.cluster import LocalCluster
from knit.cluster.daemons import stray_processes
from knit.cluster.ports import ClusterPorts, free_ports, is_port_free
from knit.exceptions import DaemonDiedError, MavenError, PortInUseError
from knit.jarset import lock_from_pom
from knit.maven import project_pom

from . import rest_apps

def other_cluster(tmp_path: Path, **kwargs) -> LocalCluster:
    kwargs.setdefault("ports", "free")
    return LocalCluster(directory=tmp_path / "other", nodemanagers=1, **kwargs)


def _bystander(cwd: Path, *args: str) -> subprocess.Popen:
    """A process of the user's that is no part of a cluster: a shell in its folder."""
    return subprocess.Popen(["bash", "-c", "sleep 300", "bystander", *args], cwd=cwd,
                            start_new_session=True)


def test_down_after_kill_9_leaves_no_process_and_no_port(tmp_path):
    cluster = other_cluster(tmp_path).up()
    # Started in the cluster's folder and naming it, but not the cluster's (audit item 1).
    bystanders = [_bystander(cluster.directory), _bystander(tmp_path, f"{cluster.directory}/logs")]
    try:
        app_id = rest_apps.submit_shell(cluster.rm_url, "sleep 600")
        rest_apps.wait_am_container_running(cluster.rm_url, app_id)
        daemons = cluster.status()["daemons"]
        # The container's shell is the NodeManager's child in its own session.
        deadline = time.monotonic() + 30
        while not any("sleep" in _cmd(pid) for pid in stray_processes(cluster.directory)):
            assert time.monotonic() < deadline, "the container's `sleep 600` never started"
            time.sleep(0.2)
        os.kill(daemons["datanode"]["pid"], signal.SIGKILL)
        os.kill(daemons["nodemanager-0"]["pid"], signal.SIGKILL)
        time.sleep(0.5)
        assert not cluster.is_running()
    finally:
        cluster.down()
    try:
        assert stray_processes(cluster.directory) == []
        assert all(is_port_free(port) for port in cluster.ports.as_dict().values())
        assert not (cluster.directory / "cluster.json").exists()
        assert [b.poll() for b in bystanders] == [None, None], "down() killed a bystander"
    finally:
        for bystander in bystanders:
            bystander.kill()
            bystander.wait()


def test_up_and_down_refuse_a_folder_that_holds_no_cluster_and_signal_nothing(tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    (scratch / "notes.txt").write_text("a user's own files")
    bystanders = [_bystander(scratch), _bystander(tmp_path, f"{scratch}/notes.txt")]
    try:
        for verb in ("down", "up"):
            result = subprocess.run([sys.executable, "-m", "knit", "cluster", verb, "--dir",
                                     str(scratch)], capture_output=True, text=True, timeout=120)
            assert result.returncode != 0
            assert f"{scratch} holds no knit cluster" in result.stderr
            assert "Traceback" not in result.stderr
        assert [b.poll() for b in bystanders] == [None, None]
        assert sorted(path.name for path in scratch.iterdir()) == ["notes.txt"]
    finally:
        for bystander in bystanders:
            bystander.kill()
            bystander.wait()


def _cmd(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_port_in_use_is_named_and_nothing_starts(tmp_path):
    picked = dict(zip(ClusterPorts().as_dict(), free_ports(7)))
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        blocker.bind(("127.0.0.1", picked["rm_webapp"]))
        blocker.listen()
        with pytest.raises(PortInUseError,
                           match=rf"port {picked['rm_webapp']} \(ResourceManager web UI"):
            other_cluster(tmp_path, ports=picked).up()
    assert stray_processes(tmp_path / "other") == []


def test_daemon_dying_at_start_fails_up_with_its_log(tmp_path):
    not_a_dir = tmp_path / "plain-file"
    not_a_dir.write_text("a DataNode cannot store blocks in a file")
    cluster = other_cluster(
        tmp_path, extra_conf={"hdfs-site.xml": {"dfs.datanode.data.dir": str(not_a_dir / "x")}}
    )
    with pytest.raises(DaemonDiedError) as caught:
        cluster.up(timeout=120)
    assert caught.value.daemon == "datanode"
    assert "datanode.log" in str(caught.value)
    assert caught.value.log_tail.strip()
    assert stray_processes(cluster.directory) == []
    assert all(is_port_free(port) for port in cluster.ports.as_dict().values())


def test_up_without_java_is_a_one_line_error(tmp_path):
    env = {**os.environ, "JAVA_HOME": str(tmp_path / "no-jdk-here")}
    result = subprocess.run(
        [sys.executable, "-m", "knit", "cluster", "up", "--dir", str(tmp_path / "c")],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "has no bin/java" in lines[0] and "install a JDK" in lines[0]
    assert stray_processes(tmp_path / "c") == []


def test_unresolvable_hadoop_version_is_a_maven_error(tmp_path):
    pom = tmp_path / "pom.xml"
    text = project_pom().read_text()
    pom.write_text(text.replace("<hadoop.version>", "<hadoop.version>0.0.0-no-such-", 1))
    with pytest.raises(MavenError, match="Maven failed"):
        lock_from_pom(pom)


def test_lost_nodemanager_fails_the_application_instead_of_hanging(tmp_path):
    from knit import Knit
    from knit.conf import read_conf_dir

    cluster = LocalCluster(directory=tmp_path / "other", nodemanagers=2, ports="free",
                           nodemanager_memory_mb=2048).up()
    try:
        k = Knit(autodetect=False, pars=read_conf_dir(cluster.conf_dir), progress=False)
        assert k.conf["rm_port"] == cluster.ports.rm_webapp
        # 1536 MB workers: one per 2048 MB node, so one lands beside the AM and one alone.
        k.start("sleep 600", num_containers=2, memory=1536)
        deadline = time.monotonic() + 60
        while len([c for c in k.worker_containers() if c["state"] == "RUNNING"]) < 2:
            assert time.monotonic() < deadline, "workers did not start"
            time.sleep(0.5)
        am_node = k.yarn_api.app_attempts(k.app_id)[0]["nodeId"]
        lone = next(c for c in k.worker_containers() if c["node"] != am_node)
        nodemanager = next(name for name, d in cluster.status()["daemons"].items()
                           if name.startswith("nodemanager") and _nm_of(cluster, name) == lone["node"])
        os.kill(cluster.status()["daemons"][nodemanager]["pid"], signal.SIGKILL)
        deadline = time.monotonic() + 90  # the RM declares the node lost after 15 s
        while k.get_container_statuses()[lone["id"]] != "COMPLETE":
            assert time.monotonic() < deadline, "the ApplicationMaster never saw the lost container"
            time.sleep(1)
        lost = next(c for c in k.worker_containers() if c["id"] == lone["id"])
        assert lost["exitStatus"] == -100  # ContainerExitStatus.ABORTED
        survivor = next(c["id"] for c in k.worker_containers() if c["state"] == "RUNNING")
        k.remove_containers(survivor)
        assert k.wait_for_completion(60) is False
        status = k.status()
        assert status["finalStatus"] == "FAILED"
        assert lone["id"] in status["diagnostics"]
    finally:
        cluster.down()


def _nm_of(cluster: LocalCluster, name: str) -> str:
    """The node id (host:port) a NodeManager of the cluster registered with."""
    from lxml import etree

    index = name.rsplit("-", 1)[1]
    site = etree.parse(str(cluster.directory / f"nodemanager-{index}" / "conf" / "yarn-site.xml"))
    address = site.xpath("//property[name='yarn.nodemanager.address']/value/text()")[0]
    return address  # each NodeManager is a host of its own (127.0.0.1x)
