"""The application verbs of the ``knit`` command line, run as a user runs them: a new
process each, against the real cluster."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .other_user import other_user
from .waiting import wait_for


def knit(*args: str, check_code: int | None = 0) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "knit", *args], capture_output=True,
                          text=True, timeout=300, check=False)
    if check_code is not None:
        assert done.returncode == check_code, (args, done.returncode, done.stderr)
    return done


def test_every_verb_has_help(cluster_environ):
    for verb in ("submit", "status", "ls", "logs", "kill", "scale", "env create", "env ls",
                 "env rm", "dask start", "dask status", "dask stop"):
        assert "--json" in knit(*verb.split(), "--help").stdout
    assert knit("status", check_code=2).returncode == 2  # the id is missing
    assert "bash" in knit("completion", "--help").stdout


def test_shell_completion_comes_from_the_parser(cluster_environ, tmp_path):
    assert "complete" in knit("completion", "bash").stdout
    assert "compdef" in knit("completion", "zsh").stdout

    def complete(line: str) -> set[str]:
        answer = tmp_path / "answer"
        env = {**os.environ, "_ARGCOMPLETE": "1", "COMP_LINE": line,
               "COMP_POINT": str(len(line)), "_ARGCOMPLETE_IFS": "\n",
               "_ARGCOMPLETE_STDOUT_FILENAME": str(answer)}
        subprocess.run([str(Path(sys.executable).parent / "knit")], env=env, timeout=60,
                       check=True, capture_output=True)
        return set(answer.read_text().split())

    assert {"cluster", "completion"} <= complete("knit c")
    assert complete("knit dask s") == {"start", "status", "stop", "submit"}
    assert "--follow" in complete("knit logs --f")


def test_logs_follow_prints_each_line_once_and_exits_with_the_result(cluster_environ):
    app_id = knit("submit", "for i in 1 2 3 4; do echo line-$i; sleep 1; done; echo oops >&2",
                  "-n", "2").stdout.strip()
    followed = knit("logs", app_id, "--follow")
    lines = followed.stdout.splitlines()
    workers = {line.split()[0] for line in lines if line.endswith("stdout: line-1")}
    assert len(workers) == 2, followed.stdout
    for worker in workers:
        mine = [line.split(" ", 1)[1] for line in lines if line.startswith(worker + " ")]
        assert mine == [f"stdout: line-{i}" for i in range(1, 5)] + ["stderr: oops"], mine
    assert f"{app_id} FINISHED SUCCEEDED" in followed.stderr
    failed = knit("submit", "echo bye; exit 4").stdout.strip()
    as_json = knit("logs", failed, "-f", "--json", check_code=3).stdout.splitlines()
    assert {"file": "stdout", "line": "bye"}.items() <= json.loads(as_json[-1]).items()


def test_ls_shows_your_applications_and_all_users_shows_everyone(cluster_environ):
    bob = other_user(cluster_environ)
    submitted = bob.run([sys.executable, "-m", "knit", "submit", "sleep 120", "--json"])
    assert submitted.returncode == 0, submitted.stderr
    bobs = json.loads(submitted.stdout)["id"]
    mine = knit("submit", "sleep 120").stdout.strip()
    try:
        own = {a["id"] for a in json.loads(knit("ls", "--json").stdout)}
        assert mine in own and bobs not in own
        everyone = {a["id"]: a["user"] for a in json.loads(knit("ls", "--all-users", "--json").stdout)}
        assert everyone[bobs] == bob.name and everyone[mine] == os.environ["USER"]
        assert "user" in knit("ls", "--all-users").stdout.splitlines()[0]
    finally:
        knit("kill", mine)
        bob.run([sys.executable, "-m", "knit", "kill", bobs])


def test_env_create_ls_rm(cluster_environ, tmp_path):
    envs = str(tmp_path / "envs")
    made = json.loads(knit("env", "create", "tiny", "six", "--backend", "pip", "--envs-dir", envs,
                           "--json").stdout)
    assert made["name"] == "tiny" and Path(made["zip"]).is_file()
    listed = json.loads(knit("env", "ls", "--envs-dir", envs, "--json").stdout)
    assert [(e["name"], e["backend"], e["packages"]) for e in listed] == [("tiny", "pip", ["six"])]
    assert listed[0]["zip"] == made["zip"] and listed[0]["zip_mb"] > 0
    assert knit("env", "ls", "--envs-dir", envs).stdout.startswith("tiny ")
    told = knit("env", "create", "told", "six", "--backend", "pip", "--envs-dir", envs).stderr
    assert "knit: building environment told with pip: six" in told
    assert "knit: built environment told in" in told and "MB zipped)" in told
    knit("env", "rm", "told", "--envs-dir", envs)
    assert knit("env", "rm", "tiny", "--envs-dir", envs).stdout.strip() == "removed tiny"
    assert not Path(made["zip"]).exists() and knit("env", "ls", "--envs-dir", envs).stdout == ""
    assert "no environment 'tiny'" in knit("env", "rm", "tiny", "--envs-dir", envs,
                                           check_code=3).stderr


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


def test_a_missing_file_is_one_error_line_not_a_traceback(cluster_environ):
    done = knit("submit", "true", "--file", "/no/such/file.txt", check_code=1)
    assert "Traceback" not in done.stderr
    assert "file to ship '/no/such/file.txt' does not exist" in done.stderr


def test_cluster_up_by_root_warns_that_containers_run_as_root(cluster_environ, monkeypatch,
                                                               capsys):
    """Audit item 5. The suite runs unprivileged, so root is the one thing stood in for
    (``os.geteuid``); the cluster verb itself is real (it adopts the running cluster)."""
    from knit import cli

    monkeypatch.setattr(cli.os, "geteuid", lambda: 0)
    assert cli.main(["cluster", "up", "--dir", str(cluster_environ.directory),
                     "--free-ports"]) == 0
    assert cli.ROOT_WARNING in capsys.readouterr().err
    monkeypatch.undo()
    assert cli.main(["cluster", "up", "--dir", str(cluster_environ.directory),
                     "--free-ports"]) == 0
    assert cli.ROOT_WARNING not in capsys.readouterr().err or os.geteuid() == 0
