"""Knit end to end on the real cluster: the Scala client and ApplicationMaster over py4j."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import uuid
import zipfile
from pathlib import Path

import pytest

from knit import Knit
from knit.exceptions import KnitError, NotFoundError, PreflightError

from .waiting import wait_for, worker_logs

QUIET = {"progress": False}


@pytest.fixture(scope="module")
def knit(cluster_environ):
    return Knit(**QUIET)




def test_hostname_and_date_in_one_and_three_containers(knit):
    for count in (1, 3):
        app_id = knit.start("hostname; date +%Y", num_containers=count)
        assert app_id.startswith("application_") and knit.app_id == app_id
        assert knit.wait_for_completion(120) is True
        logs = worker_logs(knit)
        assert len(logs) == count
        for files in logs.values():
            host, year = files["stdout"].split()
            assert host and year == time.strftime("%Y")
        assert knit.status()["finalStatus"] == "SUCCEEDED"


def test_logs_while_running_then_kill(knit, capsys):
    marker = uuid.uuid4().hex
    knit.start(f"echo {marker}; sleep 300", num_containers=2)
    running = wait_for(lambda: (logs := knit.logs()) and sum(
        marker in f.get("stdout", "") for f in logs.values()) == 2 and logs, what="live logs")
    assert len(running) == 3  # the ApplicationMaster's container too
    assert knit.runtime_status() == "RUNNING"
    knit.print_logs()
    assert marker in capsys.readouterr().out
    assert knit.kill() is True
    assert knit.runtime_status() == "KILLED"
    assert knit.wait_for_completion(5) is False


#: Output shaped like the headers of YARN's log files (audit item 9).
HEADER_SHAPED = ("first\nEnd of LogType:stdout\n******\n"
                 "Container: container_1_0001_01_000099 on ghost_1\nLogType:stdout\nLogLength:2\n"
                 "LogContents:\nlast")


def test_output_shaped_like_log_headers_is_read_whole_live_and_aggregated(knit):
    knit.start(f"printf '%s\\n' {shlex.quote(HEADER_SHAPED)}; sleep 2", num_containers=1)
    live = wait_for(lambda: [f["stdout"] for f in worker_logs(knit).values()
                             if f.get("stdout", "").endswith("last\n")], what="live output")
    assert live == [HEADER_SHAPED + "\n"]
    assert knit.wait_for_completion(120) is True
    logs = worker_logs(knit)
    assert [f["stdout"] for f in logs.values()] == [HEADER_SHAPED + "\n"]
    assert not [cid for cid in knit.logs() if cid.endswith("_000099")]


def test_files_archives_and_hdfs_paths(knit, tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("plain file\n")
    archive = tmp_path / "myarc.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("stuff/inner.txt", "inside the zip\n")
    remote = f"{knit.conf['hdfs_home']}/in-place-{uuid.uuid4().hex}.txt"
    local_remote = tmp_path / "in-place.txt"
    local_remote.write_text("already in hdfs\n")
    knit.client.upload(str(local_remote), remote, 1, "644")
    hdfs_uri = knit.client.fileStatus(remote)["path"]
    knit.start(f"cat data.txt myarc.zip/stuff/inner.txt {Path(remote).name}",
               files=[str(data), str(archive), hdfs_uri])
    assert knit.wait_for_completion(120), knit.status()["diagnostics"]
    (files,) = worker_logs(knit).values()
    assert files["stdout"] == "plain file\ninside the zip\nalready in hdfs\n"
    assert str(local_remote) not in knit.stager.uploaded  # the hdfs:// file was used in place


def test_a_container_has_hadoops_commands_on_its_path(knit):
    """As on a node where Hadoop is installed: `hdfs`, `yarn` and `hadoop` are found
    by name."""
    remote = f"{knit.conf['hdfs_home']}/path-{uuid.uuid4().hex}.txt"
    knit.start(f"echo from-a-container | hdfs dfs -put - {remote} && hdfs dfs -cat {remote} "
               "&& yarn version | head -1 && hadoop version | head -1 && echo $PATH")
    assert knit.wait_for_completion(120), knit.status()["diagnostics"]
    (files,) = worker_logs(knit).values()
    cat, yarn, hadoop, path = files["stdout"].splitlines()
    assert cat == "from-a-container"
    assert yarn.startswith("Hadoop 3") and hadoop.startswith("Hadoop 3")
    assert path.startswith(f"{knit.conf['conf_dir'].removesuffix('/conf')}/hadoop/bin:")


def test_envvars_and_lang(cluster_environ):
    k = Knit(lang="en_US.UTF-8", **QUIET)
    k.start('echo "FOO=$FOO LANG=$LANG LC_ALL=$LC_ALL"', envvars={"FOO": "bar baz"})
    assert k.wait_for_completion(120)
    (files,) = worker_logs(k).values()
    assert files["stdout"] == "FOO=bar baz LANG=en_US.UTF-8 LC_ALL=en_US.UTF-8\n"
    k.start('echo "LANG=$LANG LC_ALL=$LC_ALL"', envvars={"LC_ALL": "C"})
    assert k.wait_for_completion(120)
    (files,) = worker_logs(k).values()
    assert files["stdout"] == "LANG=en_US.UTF-8 LC_ALL=C\n"


def test_memory_vcores_queue_and_name_in_status(knit):
    knit.start("sleep 300", num_containers=2, memory=256, virtual_cores=2, queue="batch",
               app_name="sized-app")
    wait_for(lambda: [c for c in knit.worker_containers() if c["state"] == "RUNNING"][1:],
             what="2 running containers")
    status = knit.status()
    assert status["name"] == "sized-app" and status["queue"] in ("batch", "root.batch")
    expected = (knit.am_memory + 2 * 256, knit.am_vcores + 2 * 2)
    # (a surplus grant, released at once by the ApplicationMaster, may be counted briefly)
    wait_for(lambda: ((s := knit.status())["allocatedMB"], s["allocatedVCores"]) == expected,
             timeout=20, what=f"allocation {expected}")
    assert {c["memoryMb"] for c in knit.worker_containers()} == {256}
    assert knit.kill()


def test_add_and_remove_containers(knit):
    knit.start("sleep 300", num_containers=1)
    running = lambda: [c["id"] for c in knit.worker_containers() if c["state"] == "RUNNING"]  # noqa: E731
    wait_for(lambda: len(running()) == 1, what="1 running container")
    knit.add_containers(num_containers=2, memory=128)
    wait_for(lambda: len(running()) == 3, what="3 running containers")
    gone = running()[0]
    knit.remove_containers(gone)
    wait_for(lambda: len(running()) == 2, what="2 running containers")
    assert knit.get_container_statuses()[gone] == "REMOVED"
    wait_for(lambda: len([c for c in knit.yarn_api.app_containers(knit.app_id)
                          if c["state"] == "RUNNING"]) == 3, what="AM + 2 running, as the NMs see it")
    with pytest.raises(ValueError, match="ApplicationMaster's own container"):
        knit.remove_containers(knit.yarn_api.app_attempts(knit.app_id)[0]["containerId"])
    with pytest.raises(NotFoundError):
        knit.remove_containers(gone)
    assert knit.kill()


def test_failing_command_fails_the_application(knit):
    knit.start("echo about to fail; exit 3", num_containers=2)
    assert knit.wait_for_completion(120) is False
    status = knit.status()
    assert status["state"] == "FINISHED" and status["finalStatus"] == "FAILED"
    assert len(re.findall(r"container_\S+ on \S+ exit code 3", status["diagnostics"])) == 2


def test_allocation_timeout_fails_fast(cluster_environ):
    k = Knit(allocation_timeout=8, **QUIET)
    k.start("sleep 300", num_containers=3, memory=3500, checks=False)  # only 2 fit
    assert k.wait_for_completion(90) is False
    diagnostics = k.status()["diagnostics"]
    assert "granted 2 of 3 containers" in diagnostics


@pytest.mark.parametrize("kwargs, error, match", [
    ({"memory": -1}, ValueError, "memory must be at least 1"),
    ({"num_containers": 0}, ValueError, "num_containers must be at least 1"),
    ({"memory": "128"}, TypeError, "memory must be a whole number"),
    ({"virtual_cores": 1.5}, TypeError, "virtual_cores must be a whole number"),
    ({"files": "data.txt"}, TypeError, "files must be a list"),
    ({"files": ["/no/such/file.txt"]}, FileNotFoundError, "does not exist"),
    ({"envvars": {"A": 1}}, TypeError, "strings to strings"),
    ({"envvars": {1: "a"}}, TypeError, "strings to strings"),
    ({"queue": "no-such-queue"}, PreflightError, "does not exist; the cluster has"),
    ({"memory": 100_000}, PreflightError, "fits on no node"),
    ({"num_containers": 500}, PreflightError, "more than the whole cluster's"),
    ({"queue": "bogus.default"}, PreflightError, "does not exist"),
    ({"envvars": {"A": "x\0y"}}, ValueError, "NUL"),
    ({"max_restarts": -2}, ValueError, "max_restarts must be -1"),
    ({"files": ["hdfs:///no/such/file.txt"]}, FileNotFoundError, "does not exist in HDFS"),
    ({"env": "/no/such/env.zip"}, FileNotFoundError, "does not exist"),
    # The audit's (issue 28 items 4 and 15): each used to be submitted.
    ({"app_name": "a\0b"}, ValueError, "app_name cannot hold a NUL"),
    ({"worker_kv": "no"}, TypeError, "worker_kv must be True or False"),
    ({"keep_alive": 1}, TypeError, "keep_alive must be True or False"),
    ({"envvars": {"BIG": "x" * 140_000}}, ValueError, "at most 120 KiB"),
    ({"cmd": "echo " + "y" * 200_000}, ValueError, r"boot script of \d+ KiB"),
    ({"cmd": "echo a\0b"}, ValueError, "cmd cannot hold a NUL"),
])
def test_bad_input_is_refused_before_submission(knit, kwargs, error, match):
    before = len(knit.yarn_api.apps)
    kwargs = {"cmd": "true", **kwargs}
    with pytest.raises(error, match=match):
        knit.start(kwargs.pop("cmd"), **kwargs)
    assert len(knit.yarn_api.apps) == before


def test_unchanged_files_are_not_uploaded_twice(cluster_environ, tmp_path):
    shipped = tmp_path / f"ship-{uuid.uuid4().hex}.txt"
    shipped.write_text("version 1\n")
    first = Knit(**QUIET)
    first.start("cat *.txt", files=[str(shipped)])
    assert str(shipped) in first.stager.uploaded
    assert first.check_needs_upload(str(shipped)) is False
    second = Knit(**QUIET)  # a new Knit (as another process would) checks HDFS, not memory
    second.start("cat *.txt", files=[str(shipped)])
    assert str(shipped) not in second.stager.uploaded
    assert second.wait_for_completion(120)
    shipped.write_text("version 2 is longer\n")
    assert second.check_needs_upload(str(shipped)) is True
    second.start("cat *.txt", files=[str(shipped)])
    assert str(shipped) in second.stager.uploaded
    always = Knit(upload_always=True, **QUIET)
    always.start("true", files=[str(shipped)])
    assert str(shipped) in always.stager.uploaded
    assert second.wait_for_completion(120)
    (files,) = worker_logs(second).values()
    assert files["stdout"] == "version 2 is longer\n"


def test_two_knits_in_one_process_at_once(cluster_environ):
    one, two = Knit(**QUIET), Knit(**QUIET)
    one.start("sleep 300")
    two.start("sleep 300")
    assert one.app_id != two.app_id
    assert one.runtime_status() == two.runtime_status() == "RUNNING"
    assert one.kill() and two.kill()


def test_context_manager_repr_and_calls_before_start(cluster_environ):
    with Knit(**QUIET) as k:
        assert repr(k) == f"Knit<not started, rm={cluster_environ.rm_url}>"
        with pytest.raises(KnitError, match="call start"):
            k.status()
        k.start("sleep 300")
        assert repr(k) == f"Knit<{k.app_id}, rm={cluster_environ.rm_url}>"
    assert k.runtime_status() == "KILLED"


def test_proxy_variables_do_not_break_start(cluster_environ, monkeypatch):
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9/")
    k = Knit(**QUIET)
    k.start("true")
    assert k.wait_for_completion(120)


def test_python_killed_mid_start_leaves_no_jvm(cluster_environ, tmp_path):
    script = tmp_path / "start.py"
    script.write_text(
        "from knit import Knit\n"
        "k = Knit(progress=print)\n"
        "k.start('sleep 300')\n"
        "import time; time.sleep(300)\n")
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: _gateway_children(child.pid), what="the client JVM to start")
        child.kill()
        child.wait(timeout=30)
        wait_for(lambda: not _jvm_alive(child.pid), timeout=30, what="the JVM to exit")
    finally:
        if child.poll() is None:
            child.kill()


def _gateway_children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[-1].split()[1]) == parent and b"knit.client.GatewayMain" in cmdline:
                found.append(int(entry.name))
    _gateway_children.last = found or getattr(_gateway_children, "last", [])
    return found


def _jvm_alive(parent: int) -> bool:
    return any(Path(f"/proc/{pid}").exists() and b"GatewayMain" in
               Path(f"/proc/{pid}/cmdline").read_bytes() for pid in _gateway_children.last
               if Path(f"/proc/{pid}/cmdline").exists())


def test_knit_run_cli_prints_each_containers_output(cluster_environ):
    ok = subprocess.run([sys.executable, "-m", "knit", "run", "-n", "2", "echo out-$CONTAINER_ID"],
                        capture_output=True, text=True, timeout=300, check=False)
    assert ok.returncode == 0, ok.stderr
    assert len(re.findall(r"^out-container_\S+_00000[23]$", ok.stdout, re.M)) == 2
    failed = subprocess.run([sys.executable, "-m", "knit", "run", "exit 4"],
                            capture_output=True, text=True, timeout=300, check=False)
    assert failed.returncode == 1 and "exit code 4" in failed.stderr


def test_keep_alive_outlives_its_containers_but_not_its_client(cluster_environ):
    k = Knit(client_timeout=6, **QUIET)
    k.start("true", num_containers=1, keep_alive=True)
    wait_for(lambda: [c for c in k.worker_containers() if c["state"] == "COMPLETE"],
             what="the one container to finish")
    assert k.runtime_status() == "RUNNING"  # no container left, still up (and polled)
    k.add_containers(1)
    wait_for(lambda: len(k.worker_containers()) == 2, what="a container added to the service")
    # Stop calling the ApplicationMaster: it ends the application by itself.
    wait_for(lambda: k.runtime_status() in ("FAILED", "FINISHED"), timeout=60,
             what="the application to end without its client")
    assert "has not contacted the ApplicationMaster" in k.status()["diagnostics"]
    empty = Knit(**QUIET)
    empty.start("true", num_containers=0, keep_alive=True)  # a service may start empty
    report = empty.get_container_report()
    assert report["pending"] == 0 and report["containers"] == []
    assert empty.kill()
    with pytest.raises(ValueError, match="num_containers must be at least 1"):
        Knit(**QUIET).start("true", num_containers=0)


def test_pending_asks_can_be_withdrawn(cluster_environ):
    k = Knit(**QUIET)
    k.start("sleep 300", num_containers=0, keep_alive=True)
    k.add_containers(2, memory=3000)
    wait_for(lambda: len(k.worker_containers()) == 2, timeout=60, what="two granted")
    k.add_containers(1, memory=3000)  # two 4 GB NodeManagers hold two of these, not three
    wait_for(lambda: (r := k.get_container_report())["pending"] == 1 and len(r["containers"]) == 2,
             timeout=60, what="two granted, one pending")
    assert k.remove_pending_containers(5) == 1
    assert k.get_container_report()["pending"] == 0
    k.remove_containers(k.worker_containers()[0]["id"])  # room again: nothing withdrawn may come
    time.sleep(4)
    report = k.get_container_report()
    assert report["pending"] == 0 and len(report["containers"]) == 2
    assert k.kill()


def test_another_knit_attaches_to_a_service(cluster_environ):
    service = Knit(**QUIET)
    service.start("sleep 300", num_containers=1, keep_alive=True)
    other = Knit(**QUIET).attach(service.app_id)  # as another process would
    other.add_containers(1)
    wait_for(lambda: len([c for c in service.worker_containers() if c["state"] == "RUNNING"]) == 2,
             what="the container added through the attached Knit")
    assert other._secret == service._secret and "secret" not in repr(other)
    assert other.kill()
    with pytest.raises(NotFoundError, match="knit has no record"):
        Knit(**QUIET).attach(service.app_id)  # killed through knit: its record is gone
    job = Knit(**QUIET)
    job.start("sleep 60")
    assert Knit(**QUIET).attach(job.app_id).kill() is True  # a running job too
    assert job.kill() is False  # nothing left to kill


def test_client_jvm_uses_the_configuration_python_resolved(local_cluster):
    # No Hadoop on PATH and no HADOOP_HOME: the client JVM's classpath then holds no
    # conf folder, and Hadoop's defaults (RM at 0.0.0.0:8032) would make it retry for
    # 15 minutes. Knit hands it every property it resolved from HADOOP_CONF_DIR.
    env = {"HOME": os.environ["HOME"], "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
           "HADOOP_CONF_DIR": str(local_cluster.conf_dir)}
    script = ("from knit import Knit; k = Knit(progress=False); k.start('true'); "
              "print(k.wait_for_completion(120))")
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=240, check=False)
    assert done.returncode == 0 and done.stdout.strip().endswith("True"), done.stderr[-2000:]


def test_heartbeats_alone_keep_a_service_with_a_client_timeout(cluster_environ):
    k = Knit(client_timeout=6, **QUIET)
    k.start("sleep 300", num_containers=0, keep_alive=True)
    try:
        deadline = time.monotonic() + 15  # well past client_timeout
        while time.monotonic() < deadline:
            k.heartbeat()
            time.sleep(2)
        assert k.runtime_status() == "RUNNING"
        report = k.am.report()  # the typed reply
        assert report.target == 0 and report.containers == ()
        own = k.get_containers()[0]  # from the AM's report, where YARN placed it
        attempt = k.yarn_api.app_attempts(k.app_id)[-1]
        assert (own["id"], own["node"], own["nodeHttpAddress"]) == (
            attempt["containerId"], attempt["nodeId"], attempt["nodeHttpAddress"])
        assert report.am_container == own["id"] and report.am_node == own["node"]
    finally:
        k.kill()
