"""Reading container logs (audit item 10): aggregated logs read by knit's client JVM
(no ``yarn`` command, as on a wheel-only install), the last bytes of each file only
(``tail``), and ``knit logs -f`` reading only what is new."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys

import pytest

from knit import Knit
from knit.commands import FOLLOW_WINDOW, follow
from knit.exceptions import KnitValueError

from .waiting import wait_for, worker_logs

QUIET = {"progress": False}
NUMBERED = "for i in $(seq 2000); do echo line-$i; done; echo to-stderr >&2"


@pytest.fixture
def without_hadoop_commands(cluster_environ, monkeypatch):
    """No ``yarn``/``hdfs`` on PATH and no HADOOP_HOME: a pip-installed client."""
    path = [p for p in os.environ["PATH"].split(os.pathsep)
            if not (p and os.path.isfile(os.path.join(p, "yarn")))]
    monkeypatch.setenv("PATH", os.pathsep.join(path))
    monkeypatch.delenv("HADOOP_HOME", raising=False)
    assert shutil.which("yarn") is None
    return cluster_environ


def test_aggregated_logs_need_no_yarn_command(without_hadoop_commands):
    knit = Knit(**QUIET)
    knit.start(NUMBERED, num_containers=1)
    assert knit.wait_for_completion(120), knit.status()["diagnostics"]
    (files,) = worker_logs(knit).values()
    assert files["stdout"].splitlines()[-1] == "line-2000" and files["stderr"] == "to-stderr\n"
    printed = subprocess.run([sys.executable, "-m", "knit", "logs", knit.app_id],
                             capture_output=True, text=True, timeout=180, env=dict(os.environ))
    assert printed.returncode == 0, printed.stderr
    assert "line-1\n" in printed.stdout and "line-2000" in printed.stdout


def test_tail_reads_the_last_bytes_live_and_aggregated(cluster_environ):
    knit = Knit(**QUIET)
    knit.start(NUMBERED + "; sleep 600", num_containers=1, keep_alive=True)
    masters = wait_for(lambda: knit.yarn_api.am_container_ids(knit.app_id), what="an attempt")

    def live_tail():  # each file is read in turn: stdout may be read before it is written
        logs = knit.logs(tail=20)
        return [f for cid, f in logs.items() if cid not in masters
                and f.get("stderr") and f.get("stdout", "").endswith("line-2000\n")]

    (live,) = wait_for(live_tail, what="the output, live")
    assert live["stdout"] == "line-1999\nline-2000\n" and live["stderr"] == "to-stderr\n"
    with pytest.raises(KnitValueError, match="tail"):
        knit.logs(tail=0)
    knit.kill()
    (ended,) = [f for cid, f in wait_for(lambda: knit.logs(tail=10), what="aggregated").items()
                if cid not in masters]
    assert ended["stdout"] == "line-2000\n"
    printed = subprocess.run([sys.executable, "-m", "knit", "logs", "--tail", "10", knit.app_id],
                             capture_output=True, text=True, timeout=180)
    assert printed.returncode == 0, printed.stderr
    assert "line-2000" in printed.stdout and "line-1999" not in printed.stdout


def test_follow_reads_only_the_end_of_each_file(cluster_environ):
    """3 MB written at once, then a line every half second: every line printed once,
    and the NodeManagers asked for a few MB in all, not the whole file at each look."""
    knit = Knit(**QUIET)
    knit.start("head -c 3000000 /dev/zero | tr '\\0' x | fold -w 99; "
               "for i in $(seq 16); do echo line-$i; sleep 0.5; done", num_containers=1)
    api = knit.yarn_api
    sent = []
    read_node_file = api.read_node_file

    def counted(node, path):  # the real call, its reply's size recorded
        text = read_node_file(node, path)
        sent.append(len(text))
        return text

    api.read_node_file = counted
    out = io.StringIO()
    assert follow(api, knit.app_id, out=out, interval=0.5) == 0
    lines = out.getvalue().splitlines()
    assert sum(1 for line in lines if line.endswith(" stdout: " + "x" * 99)) == 30303
    assert [line.rsplit("line-", 1)[1] for line in lines if "line-" in line] == \
        [str(i) for i in range(1, 17)]
    looks = len(sent)
    assert looks > 10 and sum(sent) < 3_000_000 + looks * (FOLLOW_WINDOW + 1024), (looks, sum(sent))
