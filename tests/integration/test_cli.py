"""The application verbs of the ``knit`` command line, run as a user runs them: a new
process each, against the real cluster."""

from __future__ import annotations

import json
import subprocess
import sys

from .waiting import wait_for


def knit(*args: str, check_code: int | None = 0) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "knit", *args], capture_output=True,
                          text=True, timeout=300, check=False)
    if check_code is not None:
        assert done.returncode == check_code, (args, done.returncode, done.stderr)
    return done


def test_every_verb_has_help(cluster_environ):
    for verb in ("submit", "status", "ls", "logs", "kill", "scale"):
        assert "--json" in knit(verb, "--help").stdout
    assert knit("status", check_code=2).returncode == 2  # the id is missing


def test_submit_status_ls_scale_logs_kill(cluster_environ):
    app_id = json.loads(knit("submit", "echo hi from $CONTAINER_ID; sleep 600", "-n", "2",
                             "--keep-alive", "--name", "cli-test", "--envvar", "A=1",
                             "--json").stdout)["id"]
    assert app_id.startswith("application_")
    status = json.loads(knit("status", app_id, "--json").stdout)
    assert status["id"] == app_id and status["name"] == "cli-test"
    assert status["state"] in ("ACCEPTED", "RUNNING")
    listed = json.loads(knit("ls", "--json").stdout)
    assert app_id in [a["id"] for a in listed]
    assert app_id in knit("ls").stdout  # the table for people
    wait_for(lambda: json.loads(knit("status", app_id, "--json").stdout)["containers"] == 3,
             timeout=90, what="two workers and the ApplicationMaster")
    assert json.loads(knit("scale", app_id, "3", "--json").stdout)["target"] == 3
    wait_for(lambda: json.loads(knit("status", app_id, "--json").stdout)["containers"] == 4,
             timeout=90, what="a third worker")
    logs = wait_for(lambda: [c for c, f in json.loads(knit("logs", app_id, "--json").stdout).items()
                             if f.get("stdout", "").startswith("hi from")],
                    timeout=60, what="the workers' output")
    one = knit("logs", app_id, "--container", logs[0]).stdout
    assert f"== {logs[0]}" in one and f"hi from {logs[0]}" in one
    assert "no container" in knit("logs", app_id, "--container", "container_0_0_01_000009",
                                  check_code=1).stderr
    assert json.loads(knit("kill", app_id, "--json").stdout) == {"id": app_id, "killed": True}
    assert knit("kill", app_id, check_code=3).stdout.strip() == f"{app_id} had already ended (KILLED)"
    assert knit("scale", app_id, "1", check_code=3).returncode == 3
    assert app_id not in [a["id"] for a in json.loads(knit("ls", "--json").stdout)]
    assert app_id in [a["id"] for a in json.loads(knit("ls", "--all", "--json").stdout)]


def test_submit_wait_exits_with_the_result(cluster_environ):
    assert "FINISHED SUCCEEDED" in knit("submit", "true", "--wait").stdout
    failed = knit("submit", "exit 3", "--wait", "--json", check_code=3)
    assert json.loads(failed.stdout)["finalStatus"] == "FAILED"
    assert "error" in knit("submit", "true", "--memory", "-5", check_code=1).stderr
