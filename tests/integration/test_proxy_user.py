"""A service acting for a user through Hadoop's impersonation (Knit(proxy_user=...)):
the session's cluster lets its owner (the suite's user, the "service") act as the
second user B (``knit cluster up --proxy-users B``), and no one else."""

from __future__ import annotations

import subprocess

import pytest

from knit import Knit
from knit.exceptions import ImpersonationError

from .other_user import other_user

QUIET = {"progress": False}


@pytest.fixture(scope="module")
def bob(cluster_environ):
    return other_user(cluster_environ)


def _owner(path: str, env: dict) -> str:
    done = subprocess.run(["hdfs", "dfs", "-stat", "%u %a", path], capture_output=True,
                          text=True, env=env, timeout=60, check=True)
    return done.stdout.strip()


def test_an_application_submitted_for_a_user_is_theirs(cluster_environ, bob, hadoop_env):
    with Knit(proxy_user=bob.name, **QUIET) as k:
        assert k.conf["hdfs_home"] == f"/user/{bob.name}" and repr(k).endswith(f", as {bob.name}>")
        k.start('echo "hdfs user: $HADOOP_USER_NAME"', num_containers=1)
        assert k.wait_for_completion(120) is True
        status = k.status()  # read as B (doAs), whose application it is
        assert status["user"] == bob.name and status["finalStatus"] == "SUCCEEDED"
        assert any(f"hdfs user: {bob.name}" in files.get("stdout", "")
                   for files in k.logs().values())
        # Its files are B's, in B's home, readable by B alone.
        assert _owner(f"/user/{bob.name}/.knitApps", hadoop_env) == f"{bob.name} 700"
    # B sees it as their own, from their own login.
    listed = bob.run(["yarn", "application", "-list", "-appStates", "FINISHED"])
    assert k.app_id in listed.stdout, listed.stderr[-2000:]


def test_the_service_steers_and_kills_what_it_submitted_for_a_user(cluster_environ, bob):
    k = Knit(proxy_user=bob.name, **QUIET)
    k.start("sleep 600", num_containers=1, keep_alive=True)
    try:
        assert k.scale(2) == 2
        k.set_value("who", "service")
        assert k.get_value("who") == "service"
    finally:
        assert k.kill() is True
    assert k.status()["state"] == "KILLED" and k.status()["user"] == bob.name


def test_a_user_the_cluster_does_not_allow_is_refused_before_submission(cluster_environ):
    k = Knit(proxy_user="nobody-allowed", **QUIET)
    api = Knit(**QUIET).yarn_api  # the service's own view
    before = set(api.apps)
    with pytest.raises(ImpersonationError, match=r"hadoop\.proxyuser\.\S+\.hosts"):
        k.start("echo never", num_containers=1)
    assert k.app_id is None
    assert set(api.apps) == before


def test_a_spec_naming_a_user_is_submitted_and_managed_as_that_user(cluster_environ, bob):
    """Skein's ``user:`` field: the same Knit then acts as B for everything."""
    spec = {"name": "for-b", "user": bob.name,
            "services": {"one": {"script": "echo ran-for-b", "resources": {"memory": 128}}}}
    with Knit(**QUIET) as k:
        k.submit(spec)
        assert k.proxy_user == bob.name and k.conf["hdfs_home"] == f"/user/{bob.name}"
        assert k.wait_for_completion(120) is True
        assert k.status()["user"] == bob.name
        assert any("ran-for-b" in files.get("stdout", "") for files in k.logs().values())


def test_a_dask_yarn_cluster_for_a_user_computes_as_theirs(cluster_environ, bob):
    pytest.importorskip("distributed")
    import sys

    from distributed import Client

    from dask_yarn import YarnCluster

    with YarnCluster(user=bob.name, n_workers=1, environment=f"python://{sys.executable}",
                     worker_memory="768 MiB", scheduler_memory="1 GiB") as cluster, \
            Client(cluster) as client:
        assert client.submit(lambda x: x * 2, 21).result(timeout=120) == 42
        assert Knit(**QUIET).yarn_api.status(cluster.app_id)["user"] == bob.name


def test_after_acting_for_a_user_the_service_submits_as_itself(cluster_environ, bob):
    """One process (a gateway) acting for B, then for itself: the client JVM's pooled
    threads, created under B's identity, must not make the service's writes B's."""
    import getpass

    with Knit(proxy_user=bob.name, **QUIET) as for_b:
        for_b.start("true", num_containers=1)
        assert for_b.wait_for_completion(120)
    for _ in range(3):  # the side-by-side record writes run on those pooled threads
        with Knit(**QUIET) as own:
            own.start("true", num_containers=1)
            assert own.wait_for_completion(120)
            assert own.status()["user"] == getpass.getuser()
