"""The HA local cluster (two ResourceManagers, two NameNodes, ZooKeeper): started once,
when the first test of this folder runs, and stopped after its last (its 13 JVMs are
not left running beside the other clusters). Run these tests alone with
``pytest -m ha``."""

from __future__ import annotations

import os
import time

import pytest

from knit.cluster import LocalCluster

from ..conftest import TEST_CLUSTER_DIR
from ..integration import rest_apps

#: Every call of knit must answer within this many seconds of a failover.
ANSWER_BOUND = 45.0


@pytest.fixture(scope="package")
def ha_cluster():
    cluster = LocalCluster(directory=f"{TEST_CLUSTER_DIR}-ha", nodemanagers=2, ports="free",
                           ha=True, progress=print)
    with cluster:
        yield cluster


@pytest.fixture
def ha_environ(ha_cluster):
    """This test's process points at the HA cluster, as `eval "$(knit cluster env)"`
    would; restored afterwards, and every daemon running again."""
    saved = dict(os.environ)
    os.environ.update(ha_cluster.env())
    yield ha_cluster
    os.environ.clear()
    os.environ.update(saved)
    for name, daemon in ha_cluster.status()["daemons"].items():
        if not daemon["alive"]:
            ha_cluster.restart(name)
    rest_apps.kill_unfinished(ha_cluster.rm_url)


def interruption(call, bound: float = ANSWER_BOUND):
    """Call ``call`` until it succeeds; return (its value, seconds it took)."""
    started = time.monotonic()
    while True:
        try:
            return call(), time.monotonic() - started
        except Exception:  # noqa: BLE001 - any failure is the interruption measured
            if time.monotonic() - started > bound:
                raise
            time.sleep(0.2)


#: (case, seconds) of each failover case measured in this session.
INTERRUPTIONS: list[tuple[str, float]] = []


def report(record_property, case: str, seconds: float) -> None:
    """Record one failover case's interruption: seconds from the kill of the active
    daemon to the next successful call (listed at the end of the test run)."""
    record_property(f"{case}_interruption_seconds", round(seconds, 1))
    INTERRUPTIONS.append((case, seconds))


def pytest_terminal_summary(terminalreporter):
    if INTERRUPTIONS:
        terminalreporter.section("HA failovers: from the kill to the next successful call")
        for case, seconds in INTERRUPTIONS:
            terminalreporter.line(f"{seconds:6.1f} s  {case}")
