"""Asks for containers: validated before they reach YARN, and safe from many threads."""

from __future__ import annotations

import threading

import pytest

from knit import Knit
from knit.exceptions import PreflightError

from ..integration.waiting import wait_for

QUIET = {"progress": False}


@pytest.fixture(scope="module")
def service(cluster_environ):
    k = Knit(**QUIET)
    k.start("sleep 600", num_containers=1, keep_alive=True)
    yield k
    k.kill()


@pytest.mark.parametrize("kwargs, match", [
    ({"memory": 100_000}, "fits on no node"),
    ({"virtual_cores": 64}, "fits on no node"),
    ({"num_containers": 10 ** 6}, "more than the whole cluster"),
])
def test_asks_the_cluster_could_never_grant_are_refused(service, kwargs, match):
    with pytest.raises(PreflightError, match=match):
        service.add_containers(**kwargs)
    assert service.runtime_status() == "RUNNING"
    assert service.get_container_report()["target"] == 1


def test_concurrent_asks_and_withdrawals_keep_the_books(service):
    errors = []

    def churn():
        try:
            for _ in range(10):
                service.add_containers(2, memory=128)
                service.remove_pending_containers(1)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=churn) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors
    assert service.runtime_status() == "RUNNING"

    def consistent():
        report = service.get_container_report()
        live = sum(c["state"] in ("ALLOCATED", "RUNNING") for c in report["containers"])
        return report["target"] == live + report["pending"] and report

    report = wait_for(consistent, what="target = live + pending")
    assert report["target"] >= 1
    assert service.scale(1) == 1
    wait_for(lambda: sum(c["state"] == "RUNNING" for c in service.worker_containers()) == 1
             and service.get_container_report()["pending"] == 0, what="back to one container")
