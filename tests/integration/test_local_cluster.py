"""The local cluster is a real YARN + HDFS: REST, WebHDFS, bin/ tools, containers, logs."""

from __future__ import annotations

import getpass
import subprocess
import sys
import time
import uuid

import pytest

from knit.cluster import LocalCluster
from knit.exceptions import ClusterError
from knit.java import JAVA_LIBS
from knit.maven import hadoop_version

from . import rest_apps


def run(args, env, timeout=120):
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_rm_reports_started_with_healthy_nodes(local_cluster):
    http = rest_apps.session()
    info = http.get(f"{local_cluster.rm_url}/ws/v1/cluster/info", timeout=10).json()["clusterInfo"]
    assert info["state"] == "STARTED"
    assert info["hadoopVersion"] == hadoop_version()
    nodes = http.get(f"{local_cluster.rm_url}/ws/v1/cluster/nodes", timeout=10).json()["nodes"]["node"]
    assert len(nodes) == 2
    assert {node["state"] for node in nodes} == {"RUNNING"}
    assert all(node["healthReport"] == "" for node in nodes)
    # 20+ containers of the 128 MB minimum must fit, and vcores must not be the limit.
    assert sum(node["availMemoryMB"] + node["usedMemoryMB"] for node in nodes) // 128 >= 20
    assert sum(node["availableVirtualCores"] + node["usedVirtualCores"] for node in nodes) >= 21


def test_two_queues_and_small_minimum_allocation(local_cluster):
    http = rest_apps.session()
    scheduler = http.get(f"{local_cluster.rm_url}/ws/v1/cluster/scheduler", timeout=10).json()
    queues = scheduler["scheduler"]["schedulerInfo"]["queues"]["queue"]
    assert {queue["queueName"] for queue in queues} == {"default", "batch"}
    conf = (local_cluster.conf_dir / "yarn-site.xml").read_text()
    assert "<name>yarn.scheduler.minimum-allocation-mb</name>" in conf


def test_webhdfs_write_and_read_back(local_cluster):
    http = rest_apps.session()
    path = f"/tmp/knit-test-{uuid.uuid4().hex}.txt"
    user = {"user.name": getpass.getuser()}
    created = http.put(f"{local_cluster.webhdfs_url}{path}", params={"op": "CREATE", **user},
                       allow_redirects=False, timeout=30)
    assert created.status_code == 307, created.text
    written = http.put(created.headers["Location"], data=b"hello hdfs\n", timeout=30)
    assert written.status_code == 201, written.text
    read = http.get(f"{local_cluster.webhdfs_url}{path}", params={"op": "OPEN", **user}, timeout=30)
    assert read.content == b"hello hdfs\n"


def test_hdfs_dfs_put_and_cat(local_cluster, hadoop_env, tmp_path):
    local = tmp_path / "data.txt"
    local.write_text("via the hdfs launcher\n")
    remote = f"/tmp/knit-test-{uuid.uuid4().hex}.txt"
    put = run(["hdfs", "dfs", "-put", str(local), remote], hadoop_env)
    assert put.returncode == 0, put.stderr
    cat = run(["hdfs", "dfs", "-cat", remote], hadoop_env)
    assert cat.stdout == "via the hdfs launcher\n"


def test_yarn_application_list(local_cluster, hadoop_env):
    result = run(["yarn", "application", "-list", "-appStates", "ALL"], hadoop_env)
    assert result.returncode == 0, result.stderr
    assert "Total number of applications" in result.stdout


def test_hadoop_classpath_plain_and_glob(local_cluster, hadoop_env):
    plain = run(["hadoop", "classpath"], hadoop_env).stdout.strip().split(":")
    assert str(local_cluster.conf_dir) == plain[0]
    assert any(entry.endswith("share/hadoop/yarn/*") for entry in plain)
    glob = run(["yarn", "classpath", "--glob"], hadoop_env).stdout.strip().split(":")
    assert any(entry.endswith(f"hadoop-yarn-client-{hadoop_version()}.jar") for entry in glob)


def test_hadoop_jar_runs_the_knit_jar(local_cluster, hadoop_env):
    jar = next(JAVA_LIBS.glob("knit-*.jar"))
    result = run(["hadoop", "jar", str(jar), "knit.Main"], hadoop_env)
    assert result.returncode == 0, result.stderr
    assert f"on Hadoop {hadoop_version()}" in result.stdout


def aggregated_logs(app_id, env, timeout=60):
    """`yarn logs` output, retried while log aggregation lags behind."""
    deadline = time.monotonic() + timeout
    while True:
        result = run(["yarn", "logs", "-applicationId", app_id], env)
        if result.returncode == 0 and "LogType:stdout" in result.stdout:
            return result.stdout
        if time.monotonic() > deadline:
            raise AssertionError(f"no aggregated logs for {app_id}: {result.stderr[-2000:]}")
        time.sleep(1)


def test_rest_app_runs_in_a_container_and_its_log_is_aggregated(local_cluster, hadoop_env):
    marker = uuid.uuid4().hex
    app_id = rest_apps.submit_shell(
        local_cluster.rm_url,
        f"echo {marker} on $CONTAINER_ID; echo JAVA_HOME=$JAVA_HOME; echo LANG=$LANG; "
        "echo PATH=$PATH; echo oops >&2",
    )
    rest_apps.wait_state(local_cluster.rm_url, app_id, rest_apps.FINAL_STATES)
    logs = aggregated_logs(app_id, hadoop_env)
    assert f"{marker} on container_" in logs
    assert "JAVA_HOME=/" in logs
    assert "LANG=C.UTF-8" in logs
    assert "/usr/bin" in logs.split("PATH=", 1)[1].splitlines()[0]
    assert "oops" in logs


def test_second_queue_and_concurrent_applications(local_cluster):
    first = rest_apps.submit_shell(local_cluster.rm_url, "sleep 20", name="one")
    second = rest_apps.submit_shell(local_cluster.rm_url, "sleep 20", name="two", queue="batch")
    rest_apps.wait_am_container_running(local_cluster.rm_url, first)
    rest_apps.wait_am_container_running(local_cluster.rm_url, second)
    assert rest_apps.app_info(local_cluster.rm_url, second)["queue"] in ("batch", "root.batch")
    for app_id in (first, second):  # both hold their container at the same time
        assert rest_apps.app_info(local_cluster.rm_url, app_id)["runningContainers"] == 1


def test_up_again_reuses_the_running_cluster(local_cluster):
    before = local_cluster.status()["daemons"]
    again = LocalCluster(directory=local_cluster.directory, nodemanagers=2, ports="free").up()
    assert again.status()["daemons"] == before
    assert again.ports == local_cluster.ports  # "free" adopts whatever the running one has
    with pytest.raises(ClusterError, match="a different cluster is running"):
        LocalCluster(directory=local_cluster.directory, nodemanagers=2).up()  # default ports
    assert all(daemon["alive"] for daemon in before.values())


def test_cli_status_and_env(local_cluster, hadoop_env):
    status = run([sys.executable, "-m", "knit", "cluster", "status", "--dir", str(local_cluster.directory)], hadoop_env)
    assert status.returncode == 0, status.stderr
    assert '"running": true' in status.stdout
    env = run([sys.executable, "-m", "knit", "cluster", "env", "--dir", str(local_cluster.directory)], hadoop_env)
    assert f"export HADOOP_CONF_DIR={local_cluster.conf_dir}" in env.stdout
    assert f"{local_cluster.hadoop_home}/bin:" in env.stdout


def test_distributedshell_runs_unchanged(local_cluster, hadoop_env):
    """Hadoop's own YARN application, launched through bin/yarn, as on any install."""
    jar = next((local_cluster.hadoop_home / "share/hadoop/yarn").glob(
        "hadoop-yarn-applications-distributedshell-*.jar"))
    marker = uuid.uuid4().hex
    result = run(
        ["yarn", "jar", str(jar), "org.apache.hadoop.yarn.applications.distributedshell.Client",
         "-jar", str(jar), "-shell_command", f"echo {marker}", "-num_containers", "2",
         "-container_memory", "128", "-master_memory", "256", "-timeout", "120000"],
        hadoop_env, timeout=180,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    app_id = next(word for word in result.stderr.split() if word.startswith("application_"))
    app_id = app_id.strip(",")
    logs = aggregated_logs(app_id.split(",")[0], hadoop_env)
    assert logs.count(marker) >= 2
