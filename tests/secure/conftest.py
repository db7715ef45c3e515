"""The secure (Kerberized) local cluster: started once per test session, when a test
of this folder runs, in its own folder beside the plain cluster's."""

from __future__ import annotations

import getpass
import grp
import os
import pwd

import pytest

from knit.cluster import LocalCluster
from knit.cluster.config import impersonation

from knit.cluster.kdc import realm_environment
from knit.yarn_api import YARNAPI

from ..conftest import TEST_CLUSTER_DIR

#: The second user: a principal in test_two_principals.py, a user the owner (as a
#: service) acts for in test_secure_gateway.py.
OTHER_USER = os.environ.get("KNIT_OTHER_USER", "knit-other")
#: A user with no Unix account (tests/gateway/ has the same on the plain cluster).
HADOOP_ONLY_USER = "knit-carol"
#: Delegation tokens lapse within minutes here (days on a real cluster), so the
#: test of a long-running application sees them expire.
TOKEN_RENEW_INTERVAL_MS = 60_000
TOKEN_MAX_LIFETIME_MS = 120_000


@pytest.fixture(scope="session")
def secure_cluster():
    cluster = LocalCluster(
        directory=f"{TEST_CLUSTER_DIR}-secure", nodemanagers=2, ports="free", secure=True,
        progress=print, extra_conf={"hdfs-site.xml": {
            "dfs.namenode.delegation.token.renew-interval": TOKEN_RENEW_INTERVAL_MS,
            "dfs.namenode.delegation.token.max-lifetime": TOKEN_MAX_LIFETIME_MS,
        }, **_owner_acts_for_other_user()})
    with cluster:
        yield cluster


def _owner_acts_for_other_user() -> dict:
    """The owner may act for the second user as a member of its primary Unix group
    (Hadoop maps users to groups with ``id``), or by name where it has no account, and
    for a Hadoop-only user by name."""
    try:
        group = grp.getgrgid(pwd.getpwnam(OTHER_USER).pw_gid).gr_name
    except KeyError:
        return impersonation(getpass.getuser(), users=[OTHER_USER, HADOOP_ONLY_USER])
    return impersonation(getpass.getuser(), users=[HADOOP_ONLY_USER], groups=[group])


@pytest.fixture
def secure_environ(secure_cluster):
    """This test's process points at the secure cluster, with the owner's tickets,
    as `eval "$(knit cluster env)"` would; restored afterwards."""
    saved = dict(os.environ)
    os.environ.update(secure_cluster.env())
    yield secure_cluster
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(autouse=True)
def no_leftover_secure_apps(request):
    """Kill whatever application a test left running on the secure cluster."""
    yield
    if "secure_cluster" in request.fixturenames:
        cluster = request.getfixturevalue("secure_cluster")
        with realm_environment(cluster.realm):
            owner_api(cluster).kill_all(knit_only=False)


def owner_api(cluster: LocalCluster, user: str | None = None) -> YARNAPI:
    """The ResourceManager's REST API as ``user`` (default: the cluster's owner), logged
    in from the user's keytab (its calls need the realm: ``secure_environ``)."""
    user = user or getpass.getuser()
    realm = cluster.realm
    with realm_environment(realm):
        return YARNAPI(cluster.host, cluster.ports.rm_webapp, kerberos=True,
                       principal=realm.user_principal(user), keytab=str(realm.keytab(user)))
