"""knit on the Kerberized local cluster: submission with the ticket cache or a keytab,
delegation tokens in the containers, SPNEGO for status, logs and kill, shipped files
and environments on the secure HDFS."""

from __future__ import annotations

import getpass
import subprocess
import uuid

import pytest

from knit import Knit
from knit.packing import zip_env
from knit.exceptions import YARNAuthError
from knit.yarn_api import YARNAPI

from ..integration.waiting import wait_for

QUIET = {"progress": False}


def hdfs(cluster, *args: str, stdin: str | None = None) -> str:
    """``hdfs dfs ARGS`` from a shell of the cluster's owner (its ticket cache)."""
    result = subprocess.run([str(cluster.hadoop_home / "bin" / "hdfs"), "dfs", *args],
                            input=stdin, capture_output=True, text=True, timeout=120,
                            env={**cluster.env(), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_cluster_is_secure_and_says_so(secure_environ):
    cluster = secure_environ
    status = cluster.status()
    assert status["secure"] is True and status["realm"] == "KNIT.LOCAL"
    env = cluster.env()
    assert env["KRB5_CONFIG"].endswith("krb5.conf") and env["KRB5CCNAME"].startswith("FILE:")
    # The shell's tools work with the ticket cache `knit cluster env` names...
    assert "/user" in hdfs(cluster, "-ls", "/")
    # ...and the web APIs refuse a caller without Kerberos, naming the fix.
    with pytest.raises(YARNAuthError, match="kerberos=True"):
        YARNAPI(cluster.host, cluster.ports.rm_webapp, username=getpass.getuser()).apps_info()


def test_containers_read_and_write_hdfs_with_delegation_tokens(secure_environ, tmp_path):
    cluster = secure_environ
    home = f"/user/{getpass.getuser()}"
    name = f"in-{uuid.uuid4().hex[:8]}.txt"
    hdfs(cluster, "-put", "-", f"{home}/{name}", stdin="from the client\n")
    shipped = tmp_path / "shipped.txt"
    shipped.write_text("a shipped file\n")
    k = Knit(**QUIET)
    assert k.credentials is not None and not k.credentials.uses_keytab
    cmd = (f"cat shipped.txt && echo \"$GREETING\" && hdfs dfs -cat {home}/{name} "
           f"&& echo written | hdfs dfs -put - {home}/out-$CONTAINER_ID.txt")
    k.start(cmd, num_containers=2, files=[str(shipped)], envvars={"GREETING": "hello"})
    assert k.wait_for_completion(120), k.status()["diagnostics"]
    logs = {c: f for c, f in k.logs().items() if "stdout" in f}
    assert len(logs) == 2
    for container, files in logs.items():
        assert files["stdout"] == "a shipped file\nhello\nfrom the client\n", files.get("stderr")
        assert hdfs(cluster, "-cat", f"{home}/out-{container}.txt") == "written\n"


def test_a_keytab_login_needs_no_ticket_cache(secure_environ, monkeypatch):
    cluster = secure_environ
    monkeypatch.setenv("KRB5CCNAME", "FILE:/nonexistent/ccache")  # no ticket anywhere
    user = getpass.getuser()
    k = Knit(principal=cluster.realm.user_principal(user), keytab=str(cluster.realm.keytab(user)),
             **QUIET)
    k.start(f"hdfs dfs -ls /user/{user} >/dev/null && echo listed")
    assert k.wait_for_completion(120), k.status()["diagnostics"]
    # Aggregated logs come through `yarn logs`, run with a private cache from the keytab.
    stdout = [f["stdout"] for f in k.logs().values() if "stdout" in f]
    assert stdout == ["listed\n"]


def test_running_logs_scaling_and_kill_go_through_spnego(secure_environ):
    k = Knit(**QUIET)
    k.start("echo up; sleep 600", num_containers=1, keep_alive=True)
    wait_for(lambda: len([c for c in k.worker_containers() if c["state"] == "RUNNING"]) == 1,
             timeout=60, what="the first worker")
    k.add_containers(1)
    wait_for(lambda: len([c for c in k.worker_containers() if c["state"] == "RUNNING"]) == 2,
             timeout=60, what="the added worker")
    # Live logs: each NodeManager's web API, which demands SPNEGO as well.
    live = wait_for(lambda: (logs := k.logs()) and
                    sum(f.get("stdout") == "up\n" for f in logs.values()) == 2 and logs,
                    timeout=60, what="both workers' output on their NodeManagers")
    assert len(live) == 3  # the ApplicationMaster and two workers
    assert k.status()["state"] == "RUNNING"
    assert k.kill() is True
    assert k.runtime_status() == "KILLED"


def test_environments_ship_once_and_both_visibilities_localize(secure_environ, tmp_path):
    name = f"tinyenv-{uuid.uuid4().hex[:8]}"
    env_dir = tmp_path / name
    (env_dir / "bin").mkdir(parents=True)
    (env_dir / "bin" / "hello").write_text("#!/bin/sh\necho env says hi\n")
    (env_dir / "version.txt").write_text(uuid.uuid4().hex)  # new content: a first upload
    archive = str(zip_env(env_dir))
    runs = []
    for visibility in ("PUBLIC", "PUBLIC", "PRIVATE"):
        k = Knit(**QUIET)
        k.start("sh $CONDA_PREFIX/bin/hello", env=archive, env_visibility=visibility)
        assert k.wait_for_completion(120), k.status()["diagnostics"]
        assert [f["stdout"] for f in k.logs().values() if "stdout" in f] == ["env says hi\n"]
        runs.append(k)
    assert runs[0].stager.uploaded == [archive]
    assert runs[1].stager.uploaded == []  # the content-hash cache found it in HDFS
    assert runs[2].stager.uploaded == [archive]  # PRIVATE copies live apart from PUBLIC ones
    assert sum(str(e["path"]).endswith(f"{name}.zip") for e in runs[2].list_envs()) == 2


def test_the_status_page_through_the_kerberized_proxy(secure_environ):
    import lxml.html
    import requests

    with Knit(**QUIET) as k:
        k.start("sleep 600", num_containers=1, keep_alive=True)
        # The proxy wants SPNEGO (the owner's ticket), then names the owner to the AM.
        assert requests.get(k.dashboard_link, timeout=30).status_code == 401
        reply = k.yarn_api.session.get(k.dashboard_link, timeout=30)
        assert reply.status_code == 200, reply.text[:500]
        assert k.app_id in lxml.html.fromstring(reply.text).findtext(".//h1")


def test_a_container_of_a_submitted_spec_asks_yarn_with_its_rm_delegation_token(secure_environ):
    from knit import ApplicationSpec, Service

    k = Knit(**QUIET)
    script = ('$HADOOP_HOME/bin/yarn application -list -appStates RUNNING 2>&1 | '
              'grep -o "application_[0-9_]*" | sort -u')
    k.submit(ApplicationSpec(services={"asker": Service(script=script)}))
    assert wait_for(lambda: k.runtime_status() == "FINISHED", timeout=180)
    assert k.status()["finalStatus"] == "SUCCEEDED", k.status()["diagnostics"]
    out = "".join(f.get("stdout", "") for c, f in k.logs().items() if not c.endswith("_000001"))
    assert k.app_id in out.split(), out
