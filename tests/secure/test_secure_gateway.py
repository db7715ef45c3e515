"""dask-gateway on the Kerberized cluster: the gateway logs in from its keytab (no
ticket cache of its own) and starts a user's cluster as that user, who has no
Kerberos ticket at all (issue 27)."""

from __future__ import annotations

import getpass
import os

import pytest

pytest.importorskip("dask_gateway_server")

#: dask-gateway's client (2026.3.0) closes itself again when garbage-collected, after
#: ``with`` closed it, and its second close raises inside ``__del__`` with distributed
#: 2026: harmless, reported by pytest as an unraisable exception.
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

from knit import Knit  # noqa: E402
from knit.cluster.kdc import realm_environment  # noqa: E402
from knit.gateway_spec import cluster_tag  # noqa: E402

from ..gateway.conftest import GatewayServer  # noqa: E402
from ..integration.waiting import wait_for  # noqa: E402
from .conftest import OTHER_USER, owner_api  # noqa: E402


def test_a_kerberized_gateway_serves_a_user_without_a_ticket(secure_environ, tmp_path):
    realm, owner = secure_environ.realm, getpass.getuser()
    secure_environ.add_user(OTHER_USER)
    login = (f"c.YarnBackend.principal = {realm.user_principal(owner)!r}\n"
             f"c.YarnBackend.keytab = {str(realm.keytab(owner))!r}\n")
    environ = {**os.environ, "KRB5CCNAME": f"FILE:{tmp_path}/no-ticket-cache"}
    server = GatewayServer(tmp_path, environ, extra_config=login)
    server.start()
    api = owner_api(secure_environ)
    try:
        with server.gateway(OTHER_USER) as gateway:
            run_one_cluster(gateway, realm, owner, api)
    finally:
        server.stop()


def run_one_cluster(gateway, realm, owner: str, api) -> None:
    """A cluster of two workers computes as the user, and is killed at its shutdown."""
    cluster = gateway.new_cluster()
    try:
        cluster.scale(2)
        with cluster.get_client(set_as_default=False) as client:
            client.wait_for_workers(2, timeout=180)
            assert client.submit(sum, range(101)).result(timeout=120) == 5050
        with realm_environment(realm):
            (app,) = api.apps_info(applicationTags=cluster_tag(cluster.name))
        assert app["user"] == OTHER_USER and app["state"] == "RUNNING"
        # The gateway's keytab is nowhere in the user's files (they could act as it).
        with realm_environment(realm):
            service = Knit(principal=realm.user_principal(owner),
                           keytab=str(realm.keytab(owner)), progress=False)
            shipped = service.java.call("listFiles", f"/user/{OTHER_USER}/.knitApps")
        assert shipped and not [f for f in shipped if "keytab" in str(f)], shipped
    finally:
        cluster.shutdown()
        cluster.close()
    with realm_environment(realm):
        wait_for(lambda: api.state(app["id"]) == "KILLED", timeout=60, what="its kill")
