"""DaskYARNCluster on the Kerberized cluster, with the scheduler here or in YARN."""

from __future__ import annotations

import pytest

pytest.importorskip("distributed")  # the `dask` extra; the test extra has it
from distributed import Client  # noqa: E402

from knit.dask_env import worker_environment  # noqa: E402
from knit.dask_yarn import DaskYARNCluster  # noqa: E402


@pytest.mark.parametrize("deploy_mode", ["local", "remote"])
def test_dask_computes_on_the_secure_cluster(secure_environ, deploy_mode):
    env = worker_environment(None, None, None, None)  # cached by the plain Dask tests
    with DaskYARNCluster(env=env, deploy_mode=deploy_mode, progress=False,
                         dashboard_address=":0") as cluster:
        cluster.start(1, cpus=1, memory=768)
        with Client(cluster, timeout=60) as client:
            assert sum(client.gather(client.map(lambda x: x * x, range(10)))) == 285
        apps = [k.app_id for k in (cluster.knit, cluster.scheduler_knit) if k is not None]
        api = cluster.knit.yarn_api
    assert {api.state(app) for app in apps} == {"KILLED"}
