"""Shared fixtures: one real local YARN + HDFS cluster for the whole test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from knit.cluster import LocalCluster

#: Where the session's cluster lives; .ci/run and the README command set it.
TEST_CLUSTER_DIR = Path(
    os.environ.get("KNIT_TEST_CLUSTER_DIR", Path(__file__).resolve().parent.parent / ".test-cluster")
)


@pytest.fixture(scope="session")
def local_cluster():
    """The real cluster, started once (or reused if already up) and stopped at the end."""
    cluster = LocalCluster(directory=TEST_CLUSTER_DIR, nodemanagers=2, ports="free", progress=print)
    with cluster:
        yield cluster


@pytest.fixture(scope="session")
def hadoop_env(local_cluster):
    """Environment for running the cluster's bin/ tools in a subprocess."""
    return {**os.environ, **local_cluster.env()}


@pytest.fixture(scope="session")
def cluster_environ(local_cluster):
    """Point this test process at the cluster, as `eval "$(knit cluster env)"` would.

    (Tests may set os.environ; knit's library code never does.)
    """
    saved = dict(os.environ)
    os.environ.update(local_cluster.env())
    yield local_cluster
    os.environ.clear()
    os.environ.update(saved)
