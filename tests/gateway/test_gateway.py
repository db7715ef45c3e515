"""dask-gateway brought back to YARN: a real dask-gateway-server with
``knit.gateway.YarnBackend`` serving two users on the session's cluster, through the
real dask-gateway client. The gateway's service user (the suite's) acts for each user
through Hadoop impersonation; user A is the second Unix user of the suite, user B a
Hadoop-only user."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

pytest.importorskip("dask_gateway")

#: dask-gateway's client (2026.3.0) closes itself again when garbage-collected, after
#: ``with`` closed it, and its second close raises inside ``__del__`` with distributed
#: 2026: harmless, reported by pytest as an unraisable exception.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
from aiohttp import ClientResponseError  # noqa: E402
from dask_gateway import GatewayClusterError  # noqa: E402

from knit import Knit  # noqa: E402
from knit.gateway_spec import cluster_tag  # noqa: E402

from ..integration.other_user import other_user  # noqa: E402
from ..integration.waiting import wait_for  # noqa: E402
from .conftest import FIGURES  # noqa: E402

USER_B = "knit-carol"  # a Hadoop-only user the session's cluster lets the suite act as


def _yarn_app(name: str) -> dict:
    """The YARN application of gateway cluster ``name`` (from the service's view)."""
    (app,) = Knit(progress=False).yarn_api.apps_info(applicationTags=cluster_tag(name))
    return app


def _as_owner(user: str, app_id: str):
    """The application's handle, as its user (the service acting for them)."""
    return Knit(proxy_user=user, progress=False).attach(app_id).application


def _live_workers(app) -> list:
    """The live containers of the ``dask.worker`` service, as its ApplicationMaster
    lists them."""
    return app.get_containers(["dask.worker"])


def _workers(cluster) -> int:
    with cluster.get_client(set_as_default=False) as client:
        return len(client.scheduler_info()["workers"])


def _settle(cluster, n: int, app, timeout: float = 180) -> None:
    wait_for(lambda: _workers(cluster) == n and len(_live_workers(app)) == n, timeout=timeout,
             what=f"{n} workers in Dask and in YARN")


def _compute(cluster) -> int:
    with cluster.get_client(set_as_default=False) as client:
        return client.submit(sum, range(101)).result(timeout=120)


@pytest.fixture(scope="module")
def users(cluster_environ):
    a = other_user(cluster_environ)
    cluster_environ.add_user(USER_B)
    return a.name, USER_B


def test_two_users_get_clusters_of_their_own_that_scale_adapt_and_outlive_a_gateway_restart(
        gateway_server, users):
    user_a, user_b = users
    with gateway_server.gateway(user_a) as gw_a, gateway_server.gateway(user_b) as gw_b:
        _serve_two_users(gateway_server, gw_a, gw_b, user_a, user_b)


def _serve_two_users(gateway_server, gw_a, gw_b, user_a: str, user_b: str) -> None:
    started = time.monotonic()
    cluster_a, cluster_b = gw_a.new_cluster(), None
    try:
        cluster_a.scale(1)
        app_a = _yarn_app(cluster_a.name)
        wait_for(lambda: _workers(cluster_a) == 1, timeout=180, what="the first worker")
        FIGURES.append(("new_cluster() to the first worker", time.monotonic() - started))
        cluster_a.scale(8)
        wait_for(lambda: _workers(cluster_a) == 8, timeout=300, what="8 workers")
        FIGURES.append(("new_cluster() to 8 workers", time.monotonic() - started))
        assert app_a["user"] == user_a and app_a["state"] == "RUNNING"
        handle_a = _as_owner(user_a, app_a["id"])
        assert len(_live_workers(handle_a)) == 8
        assert _compute(cluster_a) == 5050

        # B's cluster, with a per-user option: its workers' containers are that size.
        cluster_b = gw_b.new_cluster(worker_memory_mib=768)
        cluster_b.scale(1)
        app_b = _yarn_app(cluster_b.name)
        assert app_b["user"] == user_b
        handle_b = _as_owner(user_b, app_b["id"])
        _settle(cluster_b, 1, handle_b)
        assert [c.memory_mb for c in _live_workers(handle_b)] == [768]
        assert _compute(cluster_b) == 5050

        # B sees, reaches and stops nothing of A's.
        assert [c.name for c in gw_b.list_clusters()] == [cluster_b.name]
        for refused in (gw_b.connect, gw_b.stop_cluster):
            with pytest.raises(ClientResponseError) as caught:
                refused(cluster_a.name)
            assert caught.value.status == 403
        assert _yarn_app(cluster_a.name)["state"] == "RUNNING"

        # knit ls --all-users lists each under its user.
        listed = subprocess.run([sys.executable, "-m", "knit", "ls", "--all-users", "--tag",
                                 "dask-gateway"], capture_output=True, text=True, timeout=120)
        assert listed.returncode == 0, listed.stderr
        rows = {line.split()[0]: line for line in listed.stdout.splitlines() if "application_" in line}
        assert user_a in rows[app_a["id"]] and user_b in rows[app_b["id"]], listed.stdout

        # Scaling down stops containers in YARN.
        cluster_a.scale(2)
        _settle(cluster_a, 2, handle_a)

        # The gateway restarts: both clusters are still there, and usable (through
        # new connections, and through the objects made before).
        gateway_server.restart()
        with gateway_server.gateway(user_a) as again_a, gateway_server.gateway(user_b) as again_b:
            assert [c.name for c in again_a.list_clusters()] == [cluster_a.name]
            with again_b.connect(cluster_b.name) as again:
                assert _compute(again) == 5050
        assert _compute(cluster_a) == 5050
        cluster_a.scale(3)  # workers started through a re-attached application
        _settle(cluster_a, 3, handle_a)

        # Adapting to zero: B's idle cluster gives its containers back.
        cluster_b.adapt(minimum=0, maximum=4)
        _settle(cluster_b, 0, handle_b, timeout=240)
        assert _compute(cluster_b) == 5050  # and grows again for work

        cluster_b.shutdown()
        assert wait_for(lambda: _yarn_app(cluster_b.name)["state"] == "KILLED", timeout=60,
                        what="B's application killed")
    finally:
        for cluster in filter(None, (cluster_a, cluster_b)):
            cluster.shutdown()
            cluster.close()
    assert wait_for(lambda: _yarn_app(cluster_a.name)["state"] == "KILLED", timeout=60,
                    what="A's application killed")


def test_a_user_the_gateway_may_not_act_for_gets_a_clear_error_and_nothing_in_yarn(
        gateway_server):
    api = Knit(progress=False).yarn_api
    with gateway_server.gateway("nobody-allowed") as gateway, \
            pytest.raises(GatewayClusterError, match="failed to start"):
        gateway.new_cluster()
    assert "hadoop.proxyuser." in gateway_server.log_text()
    assert not [a for a in api.apps_info(user="nobody-allowed")
                if a["state"] not in ("FINISHED", "FAILED", "KILLED")]


def test_a_failing_scheduler_fails_the_cluster_with_yarns_diagnostics(gateway_server, users):
    with gateway_server.gateway(users[1]) as gateway, \
            pytest.raises(GatewayClusterError, match="failed to start"):
        gateway.new_cluster(scheduler_setup="echo scheduler-setup-broke >&2; exit 7")
    log = gateway_server.log_text()
    reported = log.split("ended FAILED (FINISHED): ")[-1][:2000]
    assert "service dask.scheduler" in reported and "exit code 7" in reported, log[-3000:]
