"""Scripts as a knit 0.2.4 user wrote them: the old import paths and habits, on the real
cluster. One test per row of docs/compat.rst that this suite covers."""

from __future__ import annotations

import getpass
import subprocess
import uuid

import pytest


def test_top_level_names_and_version(cluster_environ):
    import knit
    from knit import CondaCreator, DaskYARNCluster, Knit, zip_path

    assert knit.__version__ and Knit.__module__ == "knit.core"
    assert CondaCreator.__name__ == "CondaCreator" and callable(zip_path)
    assert DaskYARNCluster.__module__ == "knit.dask_yarn"
    fresh = Knit(progress=False)
    assert fresh.runtime_status() == "NONE" and fresh.kill() is False  # before start()


def test_old_module_paths_are_the_working_objects(cluster_environ):
    import knit.conf
    import knit.core
    import knit.env
    import knit.utils
    import knit.yarn_api
    from knit import Knit, YARNAPI, CondaCreator

    assert knit.core.Knit is Knit and knit.yarn_api.YARNAPI is YARNAPI
    assert knit.env.CondaCreator is CondaCreator
    conf = knit.conf.get_config()
    assert conf["rm_port"] == cluster_environ.ports.rm_webapp
    extra = knit.conf.infer_extra_params(conf)
    assert (extra["rm"], extra["rm_port"]) == (cluster_environ.host, cluster_environ.ports.rm_webapp)
    assert extra["user"] == getpass.getuser()
    assert knit.conf.get_host_port("nn.example:8020") == ("nn.example", 8020)
    assert knit.conf.get_host_port("nn.example") == ("nn.example", None)
    knit.utils.set_logging("DEBUG")
    assert knit.utils.triple_slash("hdfs://user/me/x") == "hdfs:///user/me/x"


def test_the_dask_yarn_package_of_the_0_2_docs(cluster_environ):
    from dask_yarn import DaskYARNCluster

    from knit.dask_yarn import DaskYARNCluster as modern

    assert DaskYARNCluster is modern


def test_old_exception_names_catch_what_knit_raises(cluster_environ):
    from knit import Knit
    from knit.exceptions import (CondaException, HDFSConfigException, KnitException,
                                 YARNException)

    k = Knit(progress=False)
    with pytest.raises(KnitException) as bad_memory:
        k.start("true", memory=-1)
    assert isinstance(bad_memory.value, ValueError)
    with pytest.raises(KnitException) as bad_type:
        k.start("true", num_containers="3")
    assert isinstance(bad_type.value, TypeError)
    with pytest.raises(YARNException) as unknown:
        k.yarn_api.status("application_1_0001")
    assert isinstance(unknown.value, KeyError)
    with pytest.raises(YARNException) as malformed:
        k.yarn_api.status("app-17")
    assert isinstance(malformed.value, ValueError)
    assert issubclass(CondaException, KnitException)
    assert issubclass(HDFSConfigException, KnitException)


def test_two_slash_hdfs_paths_mean_the_default_file_system(cluster_environ, tmp_path):
    from knit import Knit

    name = f"compat-{uuid.uuid4().hex[:8]}.txt"
    local = tmp_path / name
    local.write_text("shipped from hdfs\n")
    home = f"/user/{getpass.getuser()}"
    hdfs = str(cluster_environ.hadoop_home / "bin" / "hdfs")
    subprocess.run([hdfs, "dfs", "-put", str(local), f"{home}/{name}"], check=True,
                   capture_output=True, env={**cluster_environ.env()}, timeout=120)
    k = Knit(progress=False)
    k.start(f"cat {name}", files=[f"hdfs:/{home}/{name}"])  # hdfs://user/NAME/file
    assert k.wait_for_completion(120), k.status()["diagnostics"]
    assert [f["stdout"] for f in k.logs().values() if "stdout" in f] == ["shipped from hdfs\n"]
    assert k.kill() is False  # already finished: nothing to kill, as in 0.2.4


def test_logs_name_their_node_and_knit_lang_sets_the_locale(cluster_environ):
    from knit import Knit

    k = Knit(progress=False)
    assert k.lang == "C.UTF-8"
    k.start('echo "$LANG $LC_ALL"; sleep 600', num_containers=1,
            envvars={"KNIT_LANG": "en_US.UTF-8"})
    nodes = {f"{n['nodeHostName']}:{n['id'].rsplit(':', 1)[1]}" for n in k.yarn_api.nodes()}
    from ..integration.waiting import wait_for

    live = wait_for(lambda: [f for c, f in k.logs().items() if f.get("stdout")], timeout=60,
                    what="the worker's output")
    assert live[0]["stdout"] == "en_US.UTF-8 en_US.UTF-8\n"
    assert live[0]["nodeId"] in nodes
    assert k.kill() is True
    aggregated = wait_for(lambda: [f for f in k.yarn_api.logs(k.app_id, retries=30).values()
                                   if f.get("stdout")], timeout=90, what="aggregated logs")
    assert aggregated[0]["nodeId"] in nodes


def test_simple_http_auth_and_yarn_api_auth(cluster_environ):
    from requests.auth import HTTPBasicAuth

    from knit import Knit
    from knit.exceptions import KnitException, YARNException
    from knit.yarn_api import YARNAPI

    # The local cluster's web APIs use simple auth and refuse anonymous calls.
    k = Knit(progress=False)
    assert k.yarn_api.auth is None  # simple auth: the user goes as user.name
    assert isinstance(k.yarn_api.apps, list)
    with pytest.raises(KnitException, match="refuse anonymous calls") as anonymous:
        Knit(username=None, progress=False)
    assert isinstance(anonymous.value, ValueError) and "username=" in str(anonymous.value)
    old_style = YARNAPI(cluster_environ.host, cluster_environ.ports.rm_webapp)  # no user
    with pytest.raises(YARNException, match="pass username="):
        old_style.apps
    # A password is for a gateway's basic auth (tested through one in test_yarn_api).
    auth = Knit(password="for-the-gateway", progress=False).yarn_api.auth
    assert isinstance(auth, HTTPBasicAuth)
    assert (auth.username, auth.password) == (getpass.getuser(), "for-the-gateway")
    old_style.auth = HTTPBasicAuth(getpass.getuser(), "x")  # assignable, as in 0.2.4
    assert old_style.session.auth is old_style.auth


def test_get_containers_and_statuses_as_scripts_read_them(cluster_environ):
    from knit import Knit

    from ..integration.waiting import wait_for

    from knit.exceptions import KnitException

    k = Knit(progress=False)
    k.start("sleep 600", num_containers=2)
    try:
        # As in 0.2.4: the ApplicationMaster's container is listed with the workers'.
        wait_for(lambda: len([c for c in k.get_containers() if c["state"] == "RUNNING"]) == 3,
                 timeout=90, what="the ApplicationMaster's and two workers' containers")
        containers = k.get_containers()  # a list of dicts, as the 0.2.4 docs say
        am_container = k.yarn_api.app_attempts(k.app_id)[-1]["containerId"]
        assert [c["id"] for c in containers][0] == am_container and containers[0]["am"] is True
        statuses = k.get_container_statuses()
        assert sorted(statuses) == sorted(c["id"] for c in containers)
        assert all("RUNNING" in status for status in statuses.values())
        with pytest.raises(KnitException, match="the ApplicationMaster's own container"):
            k.remove_containers(am_container)  # 0.2.4's docs warn against it; now refused
        worker = next(c for c in containers if not c["am"])
        k.remove_containers(worker)  # an entry works as well as its id
        wait_for(lambda: k.get_container_statuses()[worker["id"]] != "RUNNING",
                 timeout=60, what="the removed container to stop")
        assert k.runtime_status() == "RUNNING"
    finally:
        assert k.kill() is True


def test_dask_yarn_cluster_as_the_0_2_docs_use_it(cluster_environ):
    pytest.importorskip("dask")
    from dask.distributed import Client, LocalCluster
    from dask_yarn import DaskYARNCluster

    from knit import Knit
    from knit.dask_env import worker_environment
    from knit.exceptions import KnitException

    from ..integration.waiting import wait_for

    env = worker_environment(None, None, None, None)
    with DaskYARNCluster(env=env, progress=False, dashboard_address=":0") as cluster:
        assert isinstance(cluster.knit, Knit) and isinstance(cluster.local_cluster, LocalCluster)
        assert cluster.env == env
        with pytest.raises(KnitException, match="pass memory=128 or more") as tiny:
            cluster.start(2, memory=64)
        assert isinstance(tiny.value, ValueError) and cluster.knit.app_id is None
        # 0.2.4's default container size: a lone worker process (no nanny) fits it.
        app_id = cluster.start(2, cpus=1, memory=128)
        assert app_id == cluster.knit.app_id and app_id.startswith("application_")
        workers = cluster.workers  # container ids, sorted; not the ApplicationMaster's
        assert isinstance(workers, list) and len(workers) == 2 and workers == sorted(workers)
        assert all(isinstance(w, str) and w.startswith("container_") for w in workers)
        assert cluster.knit.yarn_api.app_attempts(app_id)[-1]["containerId"] not in workers
        with Client(cluster.scheduler_address) as client:
            assert client.submit(lambda x: x * 2, 21).result() == 42
            lengths = client.map(len, [list(range(10_000))] * 20, pure=False)
            assert sum(client.gather(lengths)) == 200_000
            info = client.scheduler_info()["workers"].values()
            assert {w["memory_limit"] for w in info} == {(128 - 12) * 2**20}
        assert cluster.knit.get_container_report()["restarts"] == 0  # YARN killed none
        cluster.remove_worker(workers[0])
        wait_for(lambda: workers[0] not in cluster.workers, timeout=60, what="the worker removed")
        cluster.add_workers(1, cpus=1, memory=128)
        wait_for(lambda: len(cluster.workers) == 2, timeout=120, what="a worker added")
        cluster.stop()
        assert cluster.knit.runtime_status() == "KILLED"
    cluster.close()  # a second close is harmless


def test_conda_creator_finds_zips_and_knit_lists_envs(cluster_environ, tmp_path):
    import os
    import sys

    from knit import CondaCreator, Knit

    envs = tmp_path / "envs"
    # An environment made outside knit (here by venv; a user's conda works alike).
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(envs / "plain")],
                   check=True, timeout=120)
    c = CondaCreator(conda_root=None, conda_envs=str(envs))
    assert c.conda_bin is None  # no conda here, and knit downloads no Miniconda
    assert c.find_env("plain") == os.path.join(str(envs), "plain")
    assert c.find_env("absent") is None
    zipped = c.create_env("plain")  # no packages: the existing environment, zipped
    assert zipped == os.path.join(str(envs), "plain.zip") and os.path.isfile(zipped)
    assert c.zip_env(c.find_env("plain")) == zipped
    root = tmp_path / "conda"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "conda").write_text("#!/bin/sh\n")
    (root / "bin" / "conda").chmod(0o755)
    assert CondaCreator(conda_root=str(root)).conda_bin == str(root / "bin" / "conda")

    k = Knit(progress=False)
    k.start('$PYTHON_BIN -c "import sys; print(sys.prefix)"', env=zipped)
    assert k.wait_for_completion(120), k.status()["diagnostics"]
    names = [e["name"] for e in k.list_envs()]
    assert any(name.endswith("/plain.zip") and name.startswith("/") for name in names), names


def test_system_logs_and_config_dicts_as_0_2_4_scripts_read_them(cluster_environ):
    """Issue 23 items 3 and 4, as a 0.2.4 user's script would use them."""
    import knit.conf
    from knit import Knit

    k = Knit(progress=False)
    info = k.yarn_api.system_logs()
    assert info["on_rm"] is True and info["single_node"] is False
    with open(info["rm_logfile"]) as log:  # the file the 0.2.4 docs say to read
        assert "ResourceManager" in log.read(200000)
    assert info["nm_logfile"].startswith(str(cluster_environ.directory))
    conf = knit.conf.get_config()
    inferred = {"user", "replication_factor", "rm", "rm_port", "rm_port_https"}
    assert inferred <= set(conf) and not {"nn", "scheme", "lang"} & set(conf)
    assert set(knit.conf.infer_extra_params(conf)) == inferred
    assert knit.conf.get_config(autodetect=False) == {}
