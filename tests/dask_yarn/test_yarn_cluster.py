"""dask-yarn 0.9's ``YarnCluster``, as a dask-yarn user's scripts use it, on the real
cluster: remote and local mode, scaling, adapting to zero, the ways in
(``from_application_id``, ``from_specification``, ``from_current``), dask.config,
worker options, ``logs()`` and ``shutdown`` statuses."""

from __future__ import annotations

import getpass
import os
import subprocess
import sys
import time

import pytest
import requests

pytest.importorskip("distributed")
import dask  # noqa: E402
from distributed import Client  # noqa: E402

from dask_yarn import YarnCluster  # noqa: E402
from knit import Knit  # noqa: E402
from knit.application import Application  # noqa: E402
from knit.exceptions import KnitError, KnitTypeError, KnitValueError  # noqa: E402

from ..integration.waiting import wait_for  # noqa: E402

#: The nodes are this machine: the tests' own Python is "on every node" (Dataproc's way).
ON_NODES = f"python://{sys.executable}"
SMALL = {"environment": ON_NODES, "worker_memory": "768 MiB", "scheduler_memory": "1 GiB"}


def _rm_app(app_id: str) -> dict:
    return Knit(progress=False).yarn_api.status(app_id)


def _ended(app_id: str, timeout: float = 60) -> dict:
    return wait_for(lambda: (a := _rm_app(app_id))["state"] in ("FINISHED", "FAILED", "KILLED") and a,
                    timeout=timeout, what=f"{app_id} to end")


def _connects(address: str) -> bool:
    """Whether a client with no credentials reaches the scheduler (in a process of
    its own, bounded: a refused handshake must not hang the test)."""
    probe = ("import sys; from distributed import Client\n"
             "try:\n    Client(sys.argv[1], timeout=5).close()\nexcept Exception:\n    sys.exit(3)")
    try:
        done = subprocess.run([sys.executable, "-c", probe, address], timeout=90,
                              capture_output=True)
    except subprocess.TimeoutExpired:
        return False  # it never got in
    return done.returncode == 0


def _settle(cluster: YarnCluster, n: int, timeout: float = 120) -> None:
    wait_for(lambda: len(cluster.scheduler_info["workers"]) == n and len(cluster.workers()) == n,
             timeout=timeout, what=f"{n} workers connected and running")


def test_remote_mode_computes_scales_adapts_and_shuts_down_with_a_status(cluster_environ):
    cluster = YarnCluster(n_workers=2, **SMALL)
    try:
        assert isinstance(cluster.application_client, Application)
        assert repr(cluster) == f"YarnCluster<{cluster.app_id}>"
        client = Client(cluster)
        client.wait_for_workers(2, timeout=120)
        assert client.submit(lambda x: x + 1, 41).result(timeout=30) == 42
        # Workers are containers of the dask.worker service, named after them.
        containers = cluster.workers()
        assert {c.service for c in containers} == {"dask.worker"} and len(containers) == 2
        names = {w["name"] for w in cluster.scheduler_info["workers"].values()}
        assert names == {c.id for c in containers}
        # The scheduler is a container of the same application, on a node.
        assert cluster.scheduler_address.startswith("tcp://")
        assert cluster.dashboard_link.startswith("http://")
        # The application's page, through YARN's proxy, links the dashboard.
        tracking = _rm_app(cluster.app_id)["trackingUrl"]
        page = requests.get(tracking, params={"user.name": getpass.getuser()}, timeout=30)
        assert f'<a href="{cluster.dashboard_link}">' in page.text
        # Down to one, then none, then adaptive from zero.
        cluster.scale(1)
        _settle(cluster, 1)
        cluster.scale(0)
        _settle(cluster, 0)
        cluster.adapt(minimum=0, maximum=2)
        assert client.submit(lambda: 7).result(timeout=120) == 7
        logs = cluster.logs()
        assert "Scheduler" in logs and "Scheduler at" in logs["Scheduler"]
        app_id = cluster.app_id
        cluster.shutdown("FAILED", "the test says so")
        client.close()
    finally:
        cluster.close()
    report = _ended(app_id)
    assert (report["state"], report["finalStatus"]) == ("FINISHED", "FAILED")
    assert "the test says so" in report["diagnostics"]


def test_local_mode_another_process_attaches_and_close_only_disconnects(cluster_environ, tmp_path):
    with YarnCluster(deploy_mode="local", host="127.0.0.1", n_workers=1, **SMALL) as cluster:
        assert "dask.scheduler" not in cluster.spec.services  # the scheduler is here
        client = Client(cluster)
        client.wait_for_workers(1, timeout=120)
        other = YarnCluster.from_application_id(cluster.app_id)
        assert other.scheduler_address == cluster.scheduler_address
        assert len(other.workers()) == 1
        other.close()  # a connection only: the cluster runs on
        assert client.submit(lambda: 5).result(timeout=30) == 5
        # A task needing a module the workers lack fails at once, naming it.
        (tmp_path / "only_here.py").write_text("def double(x):\n    return 2 * x\n")
        sys.path.insert(0, str(tmp_path))
        try:
            import only_here
            started = time.monotonic()
            with pytest.raises(ModuleNotFoundError, match="only_here.*on the Dask worker in container_"):
                client.submit(only_here.double, 2).result(timeout=60)
            assert time.monotonic() - started < 30
        finally:
            sys.path.remove(str(tmp_path))
        app_id = cluster.app_id
        client.close()
    report = _ended(app_id)
    assert report["finalStatus"] == "SUCCEEDED"


def test_a_configured_cluster_needs_no_arguments(cluster_environ):
    config = {"yarn.environment": ON_NODES, "yarn.deploy-mode": "local", "yarn.host": "127.0.0.1",
              "yarn.name": "configured-dask", "yarn.tags": ["team-a", "nightly"],
              "yarn.worker.memory": "640 MiB", "yarn.worker.count": 1,
              "yarn.worker.env": {"FROM_CONFIG": "yes"}}
    with dask.config.set(config), YarnCluster() as cluster, Client(cluster) as client:
        client.wait_for_workers(1, timeout=120)
        report = _rm_app(cluster.app_id)
        assert report["name"] == "configured-dask"
        assert {"team-a", "nightly"} <= set(report["applicationTags"].split(","))
        assert [c.memory_mb for c in cluster.workers()] == [640]
        assert list(client.run(lambda: os.environ.get("FROM_CONFIG")).values()) == ["yes"]
        # an argument wins over the configuration
    with dask.config.set(config), YarnCluster(name="given-name", n_workers=0) as cluster:
        assert _rm_app(cluster.app_id)["name"] == "given-name"
    # yarn.specification: a whole spec, used when no argument is given
    spec = {"name": "spec-from-config", "services": {"dask.worker": {
        "instances": 1, "resources": {"memory": 640, "vcores": 1},
        "script": f"export PATH={os.path.dirname(sys.executable)}:$PATH\ndask-yarn services worker"}}}
    with dask.config.set({"yarn.specification": spec}), YarnCluster() as cluster, \
            Client(cluster) as client:
        client.wait_for_workers(1, timeout=120)
        assert _rm_app(cluster.app_id)["name"] == "spec-from-config"


def test_worker_class_options_env_and_files_reach_the_workers(cluster_environ, tmp_path):
    data = tmp_path / "lookup.txt"
    data.write_text("shipped beside each worker")
    with YarnCluster(deploy_mode="local", host="127.0.0.1", n_workers=1,
                     worker_class="distributed.Worker",
                     worker_options={"resources": {"FPGA": 2}, "nthreads": 3},
                     worker_env={"MY_SETTING": "on"}, worker_files={"lookup.txt": str(data)},
                     **SMALL) as cluster, Client(cluster) as client:
        client.wait_for_workers(1, timeout=120)
        (info,) = cluster.scheduler_info["workers"].values()
        assert info["resources"] == {"FPGA": 2} and info["nthreads"] == 3
        assert list(client.run(lambda: os.environ.get("MY_SETTING")).values()) == ["on"]
        text = client.submit(lambda: open("lookup.txt").read(), resources={"FPGA": 1})
        assert text.result(timeout=30) == "shipped beside each worker"
        # a plain Worker runs in the container's own process: no nanny
        assert list(client.run(lambda dask_worker: type(dask_worker).__name__).values()) == ["Worker"]


def test_gpu_workers_get_yarn_gpus(cluster_environ):
    with YarnCluster(deploy_mode="local", host="127.0.0.1", n_workers=1, worker_gpus=1,
                     **SMALL) as cluster, Client(cluster) as client:
        client.wait_for_workers(1, timeout=120)
        (container,) = cluster.workers()
        knit = Knit(progress=False)
        nodes = {n["nodeHostName"]: n for n in knit.yarn_api.nodes(states="RUNNING")}
        used = nodes[container.node.split(":")[0]]["usedResource"]["resourceInformations"]
        gpus = {i["name"]: i["value"] for i in used["resourceInformation"]}["yarn.io/gpu"]
        assert gpus == 1


def test_from_specification_runs_a_dask_yarn_spec_and_refuses_bad_ones(cluster_environ, tmp_path):
    bin_folder = os.path.dirname(sys.executable)
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"""\
name: from-spec
services:
  dask.worker:
    instances: 1
    resources: {{memory: 768, vcores: 1}}
    script: |
      export PATH={bin_folder}:$PATH
      dask-yarn services worker
""")
    with YarnCluster.from_specification(str(spec)) as cluster, Client(cluster) as client:
        client.wait_for_workers(1, timeout=120)
        assert _rm_app(cluster.app_id)["name"] == "from-spec"
        assert client.submit(lambda: 3).result(timeout=30) == 3
    with pytest.raises(KnitValueError, match="must have a 'dask.worker' service"):
        YarnCluster.from_specification({"services": {"web": {"script": "sleep 1"}}})
    with pytest.raises(KnitTypeError, match="spec must be"):
        YarnCluster.from_specification(42)


def test_bad_arguments_are_refused_before_anything_is_submitted(cluster_environ):
    before = set(Knit(progress=False).yarn_api.apps)
    with pytest.raises(KnitValueError, match="deploy_mode must be 'remote' or 'local'"):
        YarnCluster(deploy_mode="cloud", **SMALL)
    with pytest.raises(KnitTypeError, match="knit does not use Skein"):
        YarnCluster(skein_client=object(), **SMALL)
    with pytest.raises(KnitValueError, match="worker_memory"):
        YarnCluster(**{**SMALL, "worker_memory": "lots"})
    with pytest.raises(FileNotFoundError, match="no such archive"):
        YarnCluster(**{**SMALL, "environment": "/nowhere/env.tar.gz"})
    with pytest.raises(KnitError, match="neither KNIT_APPLICATION_ID nor DASK_APPLICATION_ID"):
        YarnCluster.from_current()
    assert set(Knit(progress=False).yarn_api.apps) == before


def test_a_scheduler_that_cannot_start_fails_fast_with_its_log(cluster_environ, tmp_path):
    # a Python with no dask: the scheduler's container exits at once
    bare = "/usr/bin/python3"
    started = time.monotonic()
    with pytest.raises(KnitError, match="before its Dask scheduler published|before it published") \
            as caught:
        YarnCluster(**{**SMALL, "environment": f"python://{bare}"})
    assert time.monotonic() - started < 90
    assert "ModuleNotFoundError" in str(caught.value)
    # nothing left running
    assert not [a for a in Knit(progress=False).yarn_api.apps_info()
                if a["state"] in ("NEW", "ACCEPTED", "RUNNING") and a["name"] == "dask"]


@pytest.mark.parametrize("deploy_mode", ["remote", "local"])
def test_tls_cluster_refuses_plain_tcp(cluster_environ, deploy_mode):
    with YarnCluster(deploy_mode=deploy_mode, host="127.0.0.1", n_workers=1, security=True,
                     **SMALL) as cluster, Client(cluster) as client:
        assert cluster.scheduler_address.startswith("tls://")
        client.wait_for_workers(1, timeout=120)
        assert client.submit(lambda: "over tls").result(timeout=30) == "over tls"
        assert all(w.startswith("tls://") for w in cluster.scheduler_info["workers"])
        # Neither a plain-TCP client nor a TLS one without the credentials gets in.
        plain = cluster.scheduler_address.replace("tls://", "tcp://")
        for address in (plain, cluster.scheduler_address):
            assert not _connects(address), f"{address} let a client without credentials in"
        # The credentials are in no key of the store (its status page shows them all).
        values = " ".join(cluster.application_client.kv.values())
        assert "PRIVATE KEY" not in values
        # Another process of the same user attaches, with them.
        other = YarnCluster.from_application_id(cluster.app_id)
        with Client(other) as second:
            assert second.submit(lambda: 2).result(timeout=30) == 2
        other.close()
