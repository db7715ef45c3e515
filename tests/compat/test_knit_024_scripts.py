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
