"""knit on an HA cluster: each failover case of docs/reliability.rst, on the real
cluster. Each test prints (and records as a property) the interruption it measured:
seconds from the kill to the next successful call."""

from __future__ import annotations

import getpass
import subprocess
import sys
import threading
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from knit import Knit
from knit.exceptions import KnitError
from knit.yarn_api import FINAL_STATES, YARNAPI
from knit.conf import load_conf

from ..integration.waiting import wait_for, worker_logs
from .conftest import interruption, report

QUIET = {"progress": False}
pytestmark = pytest.mark.ha  # `pytest -m ha` runs these alone


def unfinished_apps(name: str) -> list[dict]:
    api = YARNAPI.from_conf(load_conf(), username=getpass.getuser())
    return [app for app in api.apps_info() if app["name"] == name and app["state"] not in FINAL_STATES]


def running_workers(knit: Knit) -> int:
    masters = knit.yarn_api.am_container_ids(knit.app_id)
    return sum(1 for c in knit.yarn_api.app_containers(knit.app_id)
               if c["state"] == "RUNNING" and c["id"] not in masters)


def test_the_cluster_names_its_active_daemons_and_fails_over_both(ha_environ, record_property):
    states = ha_environ.status()["ha"]
    for group in states.values():
        assert sorted(group.values()) == ["active", "standby"], states
    conf = load_conf()
    assert conf["fs.defaultFS"] == "hdfs://knit" and len(conf["rm_ha"]) == 2
    for kind in ("rm", "nn"):
        result = ha_environ.failover(kind)  # the killed one restarts, to stand by
        assert result["active"] != result["killed"]
        record_property(f"{kind}_failover_seconds", result["seconds"])
        print(f"{kind} failover: {result}")
    states = ha_environ.status()["ha"]
    assert all(sorted(group.values()) == ["active", "standby"] for group in states.values())


def test_every_verb_works_with_the_first_resourcemanager_dead_for_good(ha_environ, record_property):
    killed_at = time.monotonic()
    ha_environ.kill("resourcemanager-rm1")
    knit = Knit(**QUIET)  # the configuration names rm1 first
    knit.start("echo through rm2; sleep 30", num_containers=1)
    report(record_property, "rm1 dead for good: start()", time.monotonic() - killed_at)
    assert ha_environ.status()["ha"]["resourcemanagers"] == {"rm1": "down", "rm2": "active"}
    assert knit.status()["state"] == "RUNNING"
    assert knit.app_id in Knit(**QUIET).yarn_api.apps
    listed = subprocess.run([sys.executable, "-m", "knit", "ls"], capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0 and knit.app_id in listed.stdout, listed.stderr
    assert knit.kill() and knit.status()["state"] == "KILLED"
    assert knit.logs()  # aggregated, read through rm2


def test_a_start_that_meets_a_resourcemanager_failover_succeeds_or_leaves_nothing(ha_environ,
                                                                                 record_property):
    name = f"ha-start-{uuid.uuid4().hex[:8]}"
    knit = Knit(**QUIET)
    outcome: dict = {}

    def start():
        try:
            outcome["app"] = knit.start("sleep 20", num_containers=1, app_name=name)
        except KnitError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=start)
    thread.start()
    time.sleep(1.5)  # the client JVM is submitting
    killed = ha_environ.failover("rm", restart=False)
    thread.join(timeout=240)
    assert not thread.is_alive(), "start() hung through the failover"
    if "error" in outcome:  # a clear error, and nothing left behind
        assert "ResourceManager" in str(outcome["error"]) or outcome["error"].args
        assert unfinished_apps(name) == []
    else:
        _, seconds = interruption(lambda: knit.status()["state"])
        report(record_property, "rm during start(): status()", seconds + killed["seconds"])
        assert knit.wait_for_completion(120), knit.status()["diagnostics"]
    print(f"start through rm failover: {killed}, outcome {sorted(outcome)}")


def test_a_keep_alive_application_scales_through_a_resourcemanager_failover(ha_environ,
                                                                            record_property):
    knit = Knit(**QUIET)
    knit.start("sleep 600", num_containers=1)
    killed_at = time.monotonic()
    result = ha_environ.failover("rm", restart=False)
    interruption(lambda: knit.add_containers(2))
    report(record_property, "rm while scaling: add_containers()", time.monotonic() - killed_at)
    print(f"scale through rm failover: {result}")
    wait_for(lambda: running_workers(knit) == 3, timeout=120, what="3 containers")
    assert knit.status()["state"] == "RUNNING"
    # The status page, through the web proxy of the ResourceManager active now.
    page = requests.get(knit.dashboard_link, params={"user.name": getpass.getuser()}, timeout=30)
    assert page.status_code == 200 and knit.app_id in page.text, page.text[:500]
    assert urlsplit(knit.dashboard_link).hostname == \
        urlsplit(ha_environ.resourcemanagers[result["active"]]).hostname
    assert knit.kill()


def test_a_dask_computation_finishes_through_a_resourcemanager_failover(ha_environ,
                                                                        record_property):
    from dask.distributed import Client

    from knit.dask_yarn import DaskYARNCluster

    with DaskYARNCluster(progress=False, dashboard_address=":0") as cluster:
        cluster.start(2, cpus=1, memory=768)
        with Client(cluster) as client:
            futures = client.map(lambda x: (time.sleep(0.5), x * x)[1], range(40))
            time.sleep(2)
            killed_at = time.monotonic()
            ha_environ.failover("rm", restart=False)
            interruption(lambda: cluster.knit.status()["state"])
            report(record_property, "rm during a Dask computation: status()",
                   time.monotonic() - killed_at)
            assert sum(client.gather(futures, errors="raise")) == sum(x * x for x in range(40))
            cluster.scale(3)  # the AM, re-registered with the new RM, still grows
            wait_for(lambda: len(client.scheduler_info()["workers"]) == 3, timeout=120,
                     what="a third worker")


def test_a_dask_cluster_computes_and_scales_through_a_namenode_failover(ha_environ,
                                                                      record_property):
    """A keep-alive application (a Dask cluster) across a NameNode failover: its
    ApplicationMaster saves its state in HDFS when it scales, through the nameservice."""
    from dask.distributed import Client

    from knit.dask_yarn import DaskYARNCluster

    with DaskYARNCluster(progress=False, dashboard_address=":0") as cluster:
        cluster.start(1, cpus=1, memory=768)
        with Client(cluster) as client:
            futures = client.map(lambda x: (time.sleep(0.3), x + 1)[1], range(30))
            time.sleep(1)
            killed_at = time.monotonic()
            ha_environ.failover("nn", restart=False)
            cluster.scale(2)  # the AM records the new target in HDFS
            report(record_property, "nn during a Dask computation: scale()",
                   time.monotonic() - killed_at)
            assert sum(client.gather(futures, errors="raise")) == sum(range(1, 31))
            wait_for(lambda: len(client.scheduler_info()["workers"]) == 2, timeout=120,
                     what="a second worker after the NameNode failover")
            assert cluster.knit.status()["state"] == "RUNNING"


def test_containers_reading_hdfs_carry_on_through_a_namenode_failover(ha_environ,
                                                                      record_property):
    knit = Knit(**QUIET)
    remote = f"{knit.conf['hdfs_home']}/ha-read-{uuid.uuid4().hex}.txt"
    subprocess.run(["hdfs", "dfs", "-put", "-f", "-", remote], input=b"still here\n", check=True,
                   timeout=120)
    # Each read must succeed: the script stops at the first failing one.
    knit.start(f"set -e; for i in $(seq 25); do hdfs dfs -cat {remote}; sleep 1; done",
               num_containers=2)
    time.sleep(6)
    killed_at = time.monotonic()
    ha_environ.failover("nn", restart=False)
    interruption(lambda: subprocess.run(["hdfs", "dfs", "-test", "-e", remote], check=True,
                                        timeout=60))
    report(record_property, "nn while containers read: hdfs dfs -test", time.monotonic() - killed_at)
    assert knit.wait_for_completion(180), knit.status()["diagnostics"]
    for files in worker_logs(knit).values():
        assert files["stdout"].count("still here") == 25


def test_an_upload_meets_a_namenode_failover(ha_environ, tmp_path, record_property):
    big = tmp_path / "big.bin"
    with open(big, "wb") as out:
        for _ in range(160):
            out.write(uuid.uuid4().bytes * 65536)  # 1 MiB of distinct blocks
    knit = Knit(**QUIET, upload_always=True)
    name = f"ha-upload-{uuid.uuid4().hex[:8]}"
    outcome: dict = {}

    def start():
        try:
            outcome["app"] = knit.start("wc -c < big.bin", files=[str(big)], app_name=name)
        except KnitError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=start)
    thread.start()
    time.sleep(2.0)
    killed_at = time.monotonic()
    result = ha_environ.failover("nn", restart=False)
    thread.join(timeout=240)
    report(record_property, "nn during an upload: start() returned", time.monotonic() - killed_at)
    assert not thread.is_alive(), "start() hung through the NameNode failover"
    print(f"upload through nn failover: {result}, outcome {sorted(outcome)}")
    if "error" in outcome:
        assert unfinished_apps(name) == []
        pytest.fail(f"the upload failed over a NameNode failover: {outcome['error']}")
    assert knit.wait_for_completion(120), knit.status()["diagnostics"]
    (files,) = worker_logs(knit).values()
    assert files["stdout"].strip() == str(big.stat().st_size)


def test_logs_follow_through_a_resourcemanager_failover(ha_environ, record_property):
    knit = Knit(**QUIET)
    knit.start("for i in $(seq 30); do echo line-$i; sleep 1; done", num_containers=1)
    wait_for(lambda: knit.status()["state"] == "RUNNING", timeout=60, what="running")
    follow = subprocess.Popen([sys.executable, "-m", "knit", "logs", "-f", knit.app_id],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(8)
        killed_at = time.monotonic()
        result = ha_environ.failover("rm", restart=False)
        interruption(lambda: knit.status()["state"])
        report(record_property, "rm while logs -f follows: status()", time.monotonic() - killed_at)
        out, err = follow.communicate(timeout=180)
    finally:
        follow.kill()
    print(f"logs -f through rm failover: {result}")
    assert follow.returncode == 0, err[-2000:]
    lines = [line for line in out.splitlines() if "line-" in line]
    assert [line.rsplit("line-", 1)[1] for line in lines] == [str(i) for i in range(1, 31)], out[-2000:]
