"""``dask-yarn submit SCRIPT``, ``status`` and ``kill`` as dask-yarn's command, and
``knit dask submit``: the script finds its cluster with ``YarnCluster.from_current()``
and its exit code becomes the application's final status."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from knit import Knit  # noqa: E402

from ..integration.waiting import wait_for  # noqa: E402

ON_NODES = f"python://{sys.executable}"
DASK_YARN = str(Path(sys.executable).with_name("dask-yarn"))
SIZES = ["--environment", ON_NODES, "--worker-memory", "768 MiB", "--scheduler-memory", "1 GiB",
         "--client-memory", "1 GiB"]
SCRIPT = """\
import sys
from dask_yarn import YarnCluster
from distributed import Client

cluster = YarnCluster.from_current()
client = Client(cluster)
cluster.scale(1)
client.wait_for_workers(1, timeout=120)
print("total", client.submit(sum, [1, 2, 3]).result(), "argv", sys.argv[1:],
      "over", cluster.scheduler_address.split(":")[0])
sys.exit(int(sys.argv[1]))
"""


@pytest.fixture
def script(tmp_path):
    path = tmp_path / "job.py"
    path.write_text(textwrap.dedent(SCRIPT))
    return str(path)


def _run(*args, timeout=300) -> subprocess.CompletedProcess:
    return subprocess.run([*args], capture_output=True, text=True, timeout=timeout)


def _client_stdout(app_id: str) -> str:
    logs = Knit(progress=False).yarn_api.logs(app_id)
    return "".join(files.get("stdout", "") for files in logs.values())


def test_a_remote_script_succeeds_or_fails_the_application_with_its_exit_code(cluster_environ, script):
    done = _run(DASK_YARN, "submit", *SIZES, "--name", "nightly-job", "--tags", "etl,daily",
                "--wait", script, "0")
    assert done.returncode == 0, done.stderr
    app_id = done.stdout.strip()
    knit = Knit(progress=False)
    report = knit.yarn_api.status(app_id)
    assert (report["name"], report["finalStatus"]) == ("nightly-job", "SUCCEEDED")
    assert {"etl", "daily"} <= set(report["applicationTags"].split(","))
    assert "total 6 argv ['0'] over tcp" in _client_stdout(app_id)
    status = _run(DASK_YARN, "status", app_id)
    assert status.returncode == 0 and "SUCCEEDED" in status.stdout and "APPLICATION_ID" in status.stdout
    # The same command under knit's CLI, with TLS; a failing script fails the application.
    failed = _run(sys.executable, "-m", "knit", "dask", "submit", *SIZES, "--wait",
                  "--temporary-security-credentials", script, "3")
    assert failed.returncode == 1
    app_id = failed.stdout.strip()
    report = knit.yarn_api.status(app_id)
    assert report["finalStatus"] == "FAILED" and "exited with code 3" in report["diagnostics"]
    assert "total 6 argv ['3'] over tls" in _client_stdout(app_id)


def test_a_local_script_runs_here_and_exits_with_its_code(cluster_environ, script):
    done = _run(DASK_YARN, "submit", "--deploy-mode", "local", *SIZES, script, "4")
    assert done.returncode == 4, done.stderr
    assert "total 6 argv ['4'] over tcp" in done.stdout


def test_submit_without_wait_returns_the_id_and_kill_ends_it(cluster_environ, script):
    started = _run(DASK_YARN, "submit", *SIZES, script, "0")
    app_id = started.stdout.strip()
    assert started.returncode == 0 and app_id.startswith("application_")
    killed = _run(DASK_YARN, "kill", app_id)
    assert killed.returncode == 0
    knit = Knit(progress=False)
    report = wait_for(lambda: (r := knit.yarn_api.status(app_id))["state"] == "KILLED" and r,
                      timeout=60, what="the kill")
    assert report["finalStatus"] == "KILLED"


def test_bad_flags_fail_before_submitting(cluster_environ, script, tmp_path):
    before = set(Knit(progress=False).yarn_api.apps)
    bad_env = _run(DASK_YARN, "submit", *SIZES, "--worker-env", "NOVALUE", script)
    assert bad_env.returncode == 1 and "--worker-env 'NOVALUE': write KEY=VALUE" in bad_env.stderr
    missing = _run(DASK_YARN, "submit", *SIZES, str(tmp_path / "absent.py"))
    assert missing.returncode == 1 and "no such script here" in missing.stderr
    proxy = _run(DASK_YARN, "submit", *SIZES, "--user", "somebody-else", script)
    assert proxy.returncode == 1 and "hadoop.proxyuser." in proxy.stderr, proxy.stderr[-2000:]
    assert set(Knit(progress=False).yarn_api.apps) == before
