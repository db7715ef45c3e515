"""DaskYARNCluster on the real cluster: workers in YARN containers, scaled, adapted,
failing, killed from outside, and cleaned up."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from urllib.parse import urlparse

import pytest
import requests

dask_array = pytest.importorskip("dask.array")  # the `dask` extra; the test extra has it
from distributed import Client, LocalCluster, wait  # noqa: E402
from distributed.versions import VersionMismatchWarning  # noqa: E402

from knit.dask_env import worker_environment  # noqa: E402
from knit.dask_yarn import DaskYARNCluster  # noqa: E402
from knit.exceptions import ApplicationError, KnitError  # noqa: E402

from .waiting import wait_for  # noqa: E402

#: Small workers, so several fit on the two 4 GB NodeManagers.
SMALL = {"cpus": 1, "memory": 768}
QUIET = {"progress": False, "dashboard_address": ":0"}


@pytest.fixture(scope="module")
def dask_env(cluster_environ):
    """The default worker environment (this process's dask versions), built once."""
    return worker_environment(None, None, None, None)


def yarn_containers(cluster: DaskYARNCluster) -> int:
    """Worker containers YARN itself reports RUNNING for the application."""
    app_id = cluster.knit.app_id
    containers = cluster.knit.yarn_api.app_containers(app_id)
    return sum(1 for c in containers if c["state"] == "RUNNING" and not c["id"].endswith("_000001"))


def workers_settle(cluster: DaskYARNCluster, count: int, timeout: float = 180) -> None:
    wait_for(lambda: len(cluster.observed) == count and len(cluster.workers) == count
             and yarn_containers(cluster) == count, timeout=timeout,
             what=f"{count} workers and containers")


def test_cluster_computes_scales_logs_and_is_killed_at_exit(dask_env):
    with DaskYARNCluster(**QUIET) as cluster:  # no env: the cached default environment
        cluster.start(2, **SMALL)
        app_id = cluster.knit.app_id
        assert len(cluster.observed) == 2 and set(cluster.observed) <= set(cluster.workers)
        assert app_id in repr(cluster) and f"/cluster/app/{app_id}" in cluster._repr_html_()
        widget = cluster._widget()  # what Jupyter shows; its Scale button calls scale()
        assert "2 live, 0 pending" in widget.children[0].value
        assert isinstance(cluster.local_cluster, LocalCluster)  # the documented attribute
        assert cluster.local_cluster.scheduler_address == cluster.scheduler_address
        with Client(cluster) as client:
            assert client.submit(lambda x: x + 1, 10).result() == 11
            array = dask_array.ones((2000, 2000), chunks=(250, 250)).persist()
            wait(array)
            holders = {worker for worker, keys in client.has_what().items() if keys}
            assert len(holders) == 2  # spread over both workers
            assert array.sum().compute() == 4_000_000
            nthreads = client.nthreads()
            assert set(nthreads.values()) == {1}
            limits = {w["memory_limit"] for w in client.scheduler_info()["workers"].values()}
            assert limits == {(768 - 100 - 76) * 2**20}
            # Workers listen on their node's YARN address, not on every interface.
            nodes = {c["node"].split(":")[0] for c in cluster.worker_containers.values()}
            hosts = {w.split("://")[1].rsplit(":", 1)[0] for w in client.scheduler_info()["workers"]}
            assert hosts <= nodes and "0.0.0.0" not in hosts

        assert requests.get(cluster.dashboard_link, timeout=10).status_code == 200
        # The dashboard listens on the scheduler's interface only (127.0.0.1 here):
        # another address of this machine is refused.
        dashboard = urlparse(cluster.dashboard_link)
        assert dashboard.hostname == urlparse(cluster.scheduler_address).hostname == "127.0.0.1"
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.10", dashboard.port), timeout=5).close()
        logs = cluster.get_logs()
        assert "Scheduler" in logs
        container_logs = [text for name, text in logs.items() if name.startswith("container ")]
        assert any("Start worker" in text or "Registered to" in text for text in container_logs)

        cluster.scale(3)
        workers_settle(cluster, 3)
        cluster.scale(1)
        workers_settle(cluster, 1)
        cluster.add_workers(1, **SMALL)
        workers_settle(cluster, 2)
        victim = sorted(cluster.observed)[0]
        cluster.remove_worker(victim)
        workers_settle(cluster, 1)
        assert victim not in cluster.observed and victim not in cluster.workers
    assert cluster.knit.yarn_api.state(app_id) == "KILLED"
    cluster.close()  # a second close is harmless


def test_adapt_grows_under_load_and_shrinks_when_idle(dask_env):
    with DaskYARNCluster(**QUIET, **SMALL) as cluster:
        cluster.adapt(minimum=0, maximum=3, interval="500ms", wait_count=2, target_duration="1s")
        with Client(cluster) as client:
            futures = client.map(lambda i: time.sleep(1.5) or i, range(24))
            wait_for(lambda: len(cluster.observed) >= 2, timeout=180, what="adapt to grow")
            assert sum(client.gather(futures)) == sum(range(24))
            del futures  # results held by the client keep a worker alive
            wait_for(lambda: not cluster.observed and not cluster.workers, timeout=120,
                     what="adapt to shrink to 0")
        assert dask_env not in cluster.knit.stager.uploaded  # the cached environment, reused


def test_scaling_down_withdraws_asks_yarn_has_not_granted(dask_env):
    with DaskYARNCluster(**QUIET, cpus=1, memory=3000) as cluster:
        cluster.scale(3)  # at 3000 MB, the two 4 GB NodeManagers hold two workers
        wait_for(lambda: len(cluster.observed) == 2 and cluster._pending == 1, timeout=180,
                 what="two workers and one pending ask")
        assert "pending" in repr(cluster)
        cluster.scale(1)
        assert cluster.knit.get_container_report()["pending"] == 0
        workers_settle(cluster, 1)
        time.sleep(3)  # a withdrawn ask must not turn into a worker later
        assert len(cluster.workers) == 1 and cluster.plan == set(cluster.workers)


def test_dead_worker_container_is_replaced(dask_env):
    with DaskYARNCluster(**QUIET) as cluster:
        cluster.start(2, **SMALL)
        with Client(cluster) as client:
            victim = sorted(cluster.observed)[0]
            address = next(a for a, w in client.scheduler_info()["workers"].items()
                           if w["name"] == victim)
            # kill the nanny (the container's main process): the container exits
            client.run(lambda: os.kill(os.getppid(), 9), workers=[address])
            wait_for(lambda: victim not in cluster.workers, timeout=60, what="the container to end")
            wait_for(lambda: len(cluster.observed) == 2 and victim not in cluster.observed,
                     timeout=180, what="a replacement worker")
            assert client.submit(lambda: 42).result() == 42
        assert any(victim in line for _, line in cluster._cluster_manager_logs)


def test_application_killed_from_outside_is_reported(dask_env):
    with DaskYARNCluster(**QUIET) as cluster:
        cluster.start(1, **SMALL)
        cluster.knit.yarn_api.kill(cluster.knit.app_id)
        started = time.monotonic()
        with pytest.raises(ApplicationError, match="KILLED"):
            cluster.wait_for_workers(2, timeout=120)
        assert time.monotonic() - started < 30
        with pytest.raises(ApplicationError):
            cluster.scale(3)


def test_workers_that_cannot_start_fail_the_start_quickly(cluster_environ, tmp_path):
    import venv

    bare = tmp_path / "nodask"
    venv.create(bare, with_pip=False)
    with DaskYARNCluster(env=str(bare), **QUIET) as cluster:
        started = time.monotonic()
        with pytest.raises(KnitError, match="exited before connecting"):
            cluster.start(1, **SMALL)
        assert time.monotonic() - started < 120
        logs = cluster.get_logs()
        assert any("No module named" in text for name, text in logs.items()
                   if name.startswith("container "))


def test_bad_sizes_are_refused_before_submission(cluster_environ):
    with DaskYARNCluster(**QUIET) as cluster:
        with pytest.raises(ValueError, match="too small for a Dask worker"):
            cluster.start(1, memory=100)
        with pytest.raises(ValueError, match="cpus must be"):
            cluster.start(1, cpus=0)
        assert cluster.knit.app_id is None
    with pytest.raises(TypeError, match="packages must be a list"):
        DaskYARNCluster(packages="numpy", **QUIET)


def test_packages_make_the_worker_env_and_a_version_mismatch_warns(cluster_environ, tmp_path):
    other_toolz = "toolz==1.0.0"  # not this process's toolz: distributed compares it
    with DaskYARNCluster(packages=["six", other_toolz], **QUIET,
                         conda_pars={"backend": "pip", "conda_envs": str(tmp_path)}) as cluster:
        with pytest.warns(VersionMismatchWarning, match="toolz"):
            cluster.start(1, **SMALL)
        with Client(cluster) as client:
            remote = client.submit(lambda: (__import__("six").__name__,
                                            __import__("dask").__version__)).result()
    import dask

    assert remote == ("six", dask.__version__)  # dask added, at the local version


def test_async_use_without_a_dashboard(dask_env):
    # dashboard_address=None is distributed's "no dashboard" (audit item 12: it crashed).
    async def main():
        async with DaskYARNCluster(asynchronous=True, **{**QUIET, "dashboard_address": None}) as cluster:
            http = cluster.local_cluster.scheduler.services["dashboard"]  # distributed's routes
            base = f"http://{urlparse(cluster.scheduler_address).hostname}:{http.port}"
            # (off the event loop: the scheduler answers on it)
            status = await asyncio.to_thread(requests.get, f"{base}/status", timeout=10)
            health = await asyncio.to_thread(requests.get, f"{base}/health", timeout=10)
            assert status.status_code == 404 and health.status_code == 200  # no dashboard
            await cluster.start(1, **SMALL)
            async with Client(cluster, asynchronous=True) as client:
                assert await client.submit(lambda x: x * 2, 21) == 42
            return cluster.knit.app_id, cluster.knit

    app_id, knit = asyncio.run(main())
    assert knit.yarn_api.state(app_id) == "KILLED"


#: Makes a remote-mode cluster and exits without closing it, as a closed notebook would.
REMOTE_SCRIPT = """
import json
from knit.dask_yarn import DaskYARNCluster
cluster = DaskYARNCluster(deploy_mode="remote", progress=False, memory=768)
cluster.start(1, cpus=1, memory=768)
print(json.dumps({"address": cluster.scheduler_address,
                  "apps": [cluster.scheduler_knit.app_id, cluster.knit.app_id]}))
"""


def test_remote_scheduler_runs_in_yarn_and_outlives_its_process(dask_env):
    made = subprocess.run([sys.executable, "-c", REMOTE_SCRIPT], capture_output=True, text=True,
                          timeout=300, check=False)
    assert made.returncode == 0, made.stderr[-3000:]
    info = json.loads(made.stdout.strip().splitlines()[-1])
    from knit import Knit

    api = Knit(progress=False).yarn_api
    try:
        time.sleep(8)  # longer than any client timeout would allow, were there one
        assert [api.state(app) for app in info["apps"]] == ["RUNNING", "RUNNING"]
        with Client(info["address"], timeout=30) as client:  # "another session"
            assert client.submit(lambda x: x + 1, 1).result() == 2
            assert len(client.scheduler_info()["workers"]) == 1
        # ... or a new process takes the cluster over: scale it, then close it.
        with DaskYARNCluster(deploy_mode="remote", application=info["apps"][0],
                             **QUIET) as attached:
            assert attached.scheduler_address == info["address"]
            assert attached.knit.app_id == info["apps"][1] and len(attached.observed) == 1
            attached.scale(2)
            workers_settle(attached, 2)
        assert [api.state(app) for app in info["apps"]] == ["KILLED", "KILLED"]
    finally:
        for app in info["apps"]:
            if api.state(app) not in ("KILLED", "FINISHED", "FAILED"):
                api.kill(app)

    with DaskYARNCluster(deploy_mode="remote", **QUIET) as cluster:
        assert cluster.local_cluster is None
        cluster.start(2, **SMALL)
        with Client(cluster) as client:
            assert sum(client.gather(client.map(lambda x: x * x, range(10)))) == 285
        assert requests.get(cluster.dashboard_link, timeout=10).status_code == 200
        apps = [cluster.scheduler_knit.app_id, cluster.knit.app_id]
    assert [api.state(app) for app in apps] == ["KILLED", "KILLED"]


def test_knit_dask_start_status_stop_from_a_shell(dask_env):
    def knit(*args: str, code: int = 0) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-m", "knit", "dask", *args], capture_output=True,
                              text=True, timeout=300, check=False)
        assert done.returncode == code, (args, done.stderr[-3000:])
        return done

    info = json.loads(knit("start", "-n", "1", "--memory", "768", "--json").stdout)
    from knit import Knit

    api = Knit(progress=False).yarn_api
    try:
        assert info["workers"] == 1 and info["scheduler"].startswith("tcp://")
        status = json.loads(knit("status", info["application"], "--json").stdout)
        assert status["scheduler"] == info["scheduler"] and status["workers"] == 1
        assert status["workers_application"] == info["workers_application"]
        assert status["state"] == status["workers_state"] == "RUNNING"
        with Client(info["scheduler"], timeout=30) as client:
            assert client.submit(lambda x: x * 2, 21).result() == 42
        stopped = json.loads(knit("stop", info["application"], "--json").stdout)
        assert stopped["stopped"] and stopped["workers_application"] == info["workers_application"]
        assert [api.state(a) for a in (info["application"], info["workers_application"])] == \
            ["KILLED", "KILLED"]
        assert "KILLED" in knit("status", info["application"], code=3).stdout
    finally:
        for app in (info["application"], info["workers_application"]):
            if api.state(app) not in ("KILLED", "FINISHED", "FAILED"):
                api.kill(app)


def test_a_ready_knit_runs_the_workers(dask_env):
    from knit import Knit

    knit = Knit(progress=False, am_memory=320, client_timeout=60)
    with pytest.raises(ValueError, match="pass either knit= or Knit options \\(rm\\)"):
        DaskYARNCluster(knit=knit, rm="elsewhere", dashboard_address=":0")
    with pytest.raises(TypeError, match="knit must be a knit.Knit"):
        DaskYARNCluster(knit="not a Knit", dashboard_address=":0")
    with DaskYARNCluster(knit=knit, dashboard_address=":0") as cluster:
        assert cluster.knit is knit
        cluster.start(1, **SMALL)
        with Client(cluster) as client:
            assert client.submit(lambda x: x + 1, 1).result() == 2
        assert knit.status()["state"] == "RUNNING"
        assert knit.get_containers()[0]["memoryMb"] == 320  # the Knit's own AM size
    assert knit.runtime_status() == "KILLED"


def _listening(pids: list[int]) -> set[tuple[str, int]]:
    """The TCP addresses these processes listen on (from /proc: same user, same network)."""
    inodes = set()
    for pid in pids:
        try:
            inodes |= {os.readlink(fd.path)[8:-1] for fd in os.scandir(f"/proc/{pid}/fd")
                       if os.readlink(fd.path).startswith("socket:[")}
        except OSError:
            continue
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        for line in open(table).read().splitlines()[1:]:
            fields = line.split()
            if fields[3] != "0A" or fields[9] not in inodes:  # 0A: LISTEN
                continue
            address, port = fields[1].split(":")
            if width == 8:
                address = socket.inet_ntoa(bytes.fromhex(address)[::-1])
            found.add((address, int(port, 16)))
    return found


def test_workers_listen_on_their_nodes_address_only(dask_env):
    # Audit item 16: distributed's worker served its HTTP routes on 0.0.0.0.
    with DaskYARNCluster(**QUIET) as cluster:
        cluster.start(1, **SMALL)  # with a nanny (768 MB)
        container = cluster.workers[0]
        node = socket.gethostbyname(cluster.worker_containers[container]["node"].rsplit(":", 1)[0])
        pids = []
        for entry in os.scandir("/proc"):
            try:
                if entry.name.isdigit() and container in os.readlink(f"/proc/{entry.name}/cwd"):
                    pids.append(int(entry.name))
            except OSError:
                continue
        sockets = _listening(pids)
        assert len(sockets) >= 2, sockets  # the nanny, the worker (and its HTTP routes)
        assert {address for address, _ in sockets} == {node}, sockets
