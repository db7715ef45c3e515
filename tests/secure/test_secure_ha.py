"""HA and Kerberos together (issue 26): two ResourceManagers and two NameNodes, every
daemon, JournalNode and failover controller logged in from its keytab. An application
submitted with delegation tokens keeps running, scaling and reading HDFS in its
containers through a ResourceManager failover and a NameNode failover."""

from __future__ import annotations

import pytest

from knit import Knit
from knit.cluster import LocalCluster

from ..conftest import TEST_CLUSTER_DIR
from ..ha.conftest import interruption
from ..integration.environment import running_and_pointed_at
from ..integration.waiting import wait_for

READS_HDFS = "while true; do hdfs dfs -test -d /user && echo read-ok; sleep 1; done"


@pytest.fixture(scope="module")
def secure_ha_environ():
    cluster = LocalCluster(directory=f"{TEST_CLUSTER_DIR}-secure-ha", nodemanagers=2,
                           ports="free", ha=True, secure=True, progress=print)
    with running_and_pointed_at(cluster):
        yield cluster


def _reads(knit: Knit) -> int:
    """Lines of successful HDFS reads the live workers printed so far."""
    return sum(files.get("stdout", "").count("read-ok") for files in knit.logs().values())


def test_an_application_with_delegation_tokens_lives_through_both_failovers(secure_ha_environ):
    cluster = secure_ha_environ
    knit = Knit(progress=False)
    knit.start(READS_HDFS, num_containers=1, keep_alive=True)
    try:
        wait_for(lambda: _reads(knit) > 0, timeout=90, what="the worker reading HDFS")
        moved = cluster.failover("rm")
        assert moved["active"] != moved["killed"]
        state, _ = interruption(lambda: knit.status()["state"])
        assert state == "RUNNING"
        assert knit.scale(2) == 2
        cluster.failover("nn")
        before = _reads(knit)
        wait_for(lambda: _reads(knit) > before + 2, timeout=90,
                 what="the workers reading HDFS after the NameNode failover")
        assert interruption(lambda: knit.scale(1))[0] == 1
    finally:
        assert knit.kill() is True
    assert knit.status()["state"] == "KILLED"
