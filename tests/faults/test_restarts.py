"""The ApplicationMaster's restart policy, and its own restart after a crash."""

from __future__ import annotations

import time

import pytest

from knit import Knit
from knit.exceptions import ApplicationError

from ..integration.waiting import wait_for
from .helpers import am_pids, kill_9, running_ids, wait_running

QUIET = {"progress": False}


def test_failed_containers_are_replaced_up_to_max_restarts(cluster_environ):
    k = Knit(**QUIET)
    k.start("exit 3", num_containers=1, max_restarts=2)
    assert k.wait_for_completion(120) is False
    status = k.status()
    assert status["finalStatus"] == "FAILED"
    assert "exit code 3" in status["diagnostics"] and "max_restarts=2" in status["diagnostics"]
    assert len(k.yarn_api.app_attempts(k.app_id)) == 1


def test_a_replaced_failure_does_not_fail_the_job(cluster_environ):
    # The first container fails; its replacement (a later container id) succeeds.
    k = Knit(**QUIET)
    k.start('case "$CONTAINER_ID" in *_000002) exit 1;; esac; echo done', max_restarts=1)
    assert k.wait_for_completion(120) is True
    assert "restarts=1" in k.status()["diagnostics"]


def test_a_killed_application_master_hands_over_to_its_next_attempt(cluster_environ):
    k = Knit(**QUIET)
    k.start("sleep 600", num_containers=2, keep_alive=True)
    try:
        wait_running(k, 2)
        k.set_value("greeting", "hello")
        assert k.scale(3) == 3
        before = wait_running(k, 3)
        # YARN hands a new attempt the containers its ResourceManager knows to run:
        # let the NodeManagers' heartbeats (250 ms here) tell it about the third.
        time.sleep(2)
        wait_for(lambda: am_pids(k.app_id), what="the AM's process")
        kill_9(am_pids(k.app_id))
        # Calls carry on with attempt 2, which took over the running containers.
        report = wait_for(lambda: (r := k.get_container_report())["attempt"] == 2 and r,
                          timeout=120, what="attempt 2 answering")
        assert running_ids(k) == before
        assert report["target"] == 3 and report["pending"] == 0
        assert k.get_value("greeting") == "hello"
        assert k.runtime_status() == "RUNNING"
        assert k.scale(1) == 1  # attempt 2 steers the adopted containers too
        wait_running(k, 1)
    finally:
        assert k.kill() is True
    with pytest.raises(ApplicationError):
        k.worker_containers()


def test_every_acknowledged_key_change_outlives_the_application_master(cluster_environ):
    # Each change is journaled in HDFS before it is acknowledged; past a journal's
    # 1000 lines the AM starts another with a new snapshot. The AM is killed right
    # after the last change: nothing acknowledged may be lost, nothing deleted may return.
    k = Knit(**QUIET)
    k.start("sleep 600", num_containers=1, keep_alive=True)
    try:
        wait_running(k, 1)
        expected = {}
        for i in range(1100):
            k.set_value(f"key{i}", f"value {i}")
            expected[f"key{i}"] = f"value {i}"
        for i in range(0, 1100, 3):
            assert k.am.kv_delete(f"key{i}")
            del expected[f"key{i}"]
        k.set_value("key1", "changed last")
        expected["key1"] = "changed last"
        kill_9(wait_for(lambda: am_pids(k.app_id), what="the AM's process"))
        wait_for(lambda: k.get_container_report()["attempt"] == 2, timeout=120,
                 what="attempt 2 answering")
        assert k.am.kv_items() == expected
    finally:
        assert k.kill() is True


def test_a_dask_cluster_computes_across_an_application_master_restart(cluster_environ):
    distributed = pytest.importorskip("distributed")
    from knit.dask_env import worker_environment
    from knit.dask_yarn import DaskYARNCluster

    env = worker_environment(None, None, None, None)  # cached after the Dask tests
    with DaskYARNCluster(env=env, progress=False, dashboard_address=":0") as cluster:
        cluster.start(2, cpus=1, memory=768)
        with distributed.Client(cluster) as client:
            assert client.submit(lambda x: x + 1, 1).result() == 2
            app_id = cluster.knit.app_id
            kill_9(wait_for(lambda: am_pids(app_id), what="the workers' AM process"))
            wait_for(lambda: cluster.knit.get_container_report()["attempt"] == 2, timeout=120,
                     what="attempt 2 of the workers' ApplicationMaster")
            assert client.submit(lambda x: x * 2, 21).result() == 42
            cluster.scale(3)  # steered through attempt 2
            wait_for(lambda: len(cluster.observed) == 3, timeout=180, what="a third worker")
            assert sum(client.gather(client.map(lambda i: i, range(10)))) == 45


def test_a_crash_loop_ends_the_application_with_the_reason(cluster_environ):
    # Replaced for ever (max_restarts=-1), but three quick failures in a row end it.
    k = Knit(**QUIET)
    k.start("echo cannot start >&2; exit 4", num_containers=1, keep_alive=True, max_restarts=-1,
            max_start_failures=3, start_grace=30)
    wait_for(lambda: k.runtime_status() in ("FAILED", "FINISHED", "KILLED"), timeout=120,
             what="the crash loop to end the application")
    status = k.status()
    assert status["finalStatus"] == "FAILED"
    assert "3 containers in a row failed within 30 s of starting" in status["diagnostics"]
    assert "exit code 4" in status["diagnostics"]
    logs = k.logs()
    assert sum("cannot start" in files.get("stderr", "") for files in logs.values()) == 3


def test_without_a_limit_a_crash_loop_goes_on_being_replaced(cluster_environ):
    k = Knit(**QUIET)
    k.start("exit 4", num_containers=1, keep_alive=True, max_restarts=-1)
    try:
        wait_for(lambda: k.get_container_report()["restarts"] >= 4, timeout=120,
                 what="four replacements")
        assert k.runtime_status() == "RUNNING"
    finally:
        k.kill()


def test_a_yarn_cluster_keeps_its_scheduler_address_across_an_application_master_restart(
        cluster_environ):
    # dask-yarn issue 135: there, the scheduler's address was lost with the AM.
    distributed = pytest.importorskip("distributed")
    import sys

    from dask_yarn import YarnCluster

    with YarnCluster(environment=f"python://{sys.executable}", n_workers=1,
                     worker_memory="768 MiB", scheduler_memory="1 GiB") as cluster:
        with distributed.Client(cluster) as client:
            assert client.submit(lambda x: x + 1, 1).result(timeout=60) == 2
            app = cluster.application_client
            kill_9(wait_for(lambda: am_pids(app.id), what="the cluster's AM process"))
            wait_for(lambda: app.am.report().attempt == 2, timeout=120,
                     what="attempt 2 of the cluster's ApplicationMaster")
            other = YarnCluster.from_application_id(app.id)
            assert other.scheduler_address == cluster.scheduler_address
            other.close()
            cluster.scale(2)  # steered through attempt 2
            wait_for(lambda: len(cluster.scheduler_info["workers"]) == 2, timeout=180,
                     what="a second worker, started by attempt 2")
            assert sum(client.gather(client.map(lambda i: i, range(10)))) == 45
