"""A second Kerberos principal on the secure cluster: what YARN lets it see and do with
the first user's application, with and without ACLs that grant it."""

from __future__ import annotations

import os

import pytest
import requests

from knit import Knit
from knit.exceptions import YARNAuthError

from ..integration.waiting import wait_for
from .conftest import owner_api

QUIET = {"progress": False}
OTHER = os.environ.get("KNIT_OTHER_USER", "knit-other")


@pytest.fixture
def other(secure_environ):
    """The REST API as the second principal (its own keytab, no shared ticket)."""
    if not secure_environ.realm.keytab(OTHER).exists():
        secure_environ.add_principal(OTHER)
    return owner_api(secure_environ, OTHER)


def running_app(acls=None) -> Knit:
    """A worker that printed a line, which its owner reads through SPNEGO."""
    k = Knit(**QUIET)
    k.start("echo visible output; sleep 600", keep_alive=True, acls=acls)
    wait_for(lambda: any(c["state"] == "RUNNING" for c in k.worker_containers()), timeout=60,
             what="the worker")
    wait_for(lambda: "visible output\n" in k.yarn_api.session.get(worker_log_url(k), timeout=30).text,
             timeout=60, what="the owner reading the worker's output on its NodeManager")
    return k


def worker_log_url(k: Knit) -> str:
    (worker,) = [c for c in k.worker_containers() if c["state"] == "RUNNING"]
    node = k.yarn_api.container_status(worker["id"])["nodeHttpAddress"]
    return f"http://{node}/ws/v1/node/containerlogs/{worker['id']}/stdout"


def test_without_acls_another_principal_can_neither_read_nor_kill(secure_environ, other):
    k = running_app()
    try:
        with pytest.raises(YARNAuthError):
            other.kill(k.app_id)
        reply = other.session.get(worker_log_url(k), timeout=30)
        assert reply.status_code >= 400 and "visible output" not in reply.text, reply.text
        assert "not authorized" in reply.text.lower() or reply.status_code in (401, 403), reply.text
        assert k.runtime_status() == "RUNNING"
    finally:
        k.kill()


def test_a_view_acl_lets_it_read_the_logs_but_not_kill(secure_environ, other):
    k = running_app(acls={"view_users": [OTHER]})
    try:
        reply = other.session.get(worker_log_url(k), timeout=30)
        assert reply.status_code == 200 and "visible output\n" in reply.text, reply.text
        with pytest.raises(YARNAuthError):
            other.kill(k.app_id)
        assert k.runtime_status() == "RUNNING"
    finally:
        k.kill()


def test_the_control_endpoint_still_wants_the_secret(secure_environ):
    k = running_app()
    try:
        address = k.am.address
        reply = requests.get(f"http://{address}/containers", timeout=10)
        assert reply.status_code == 403
        assert len(k.worker_containers()) == 1  # the owner's calls carry the secret
    finally:
        k.kill()
