"""The client side: its JVM killed, its Python process killed or interrupted, a
wrong address, a ResourceManager that forgot an application."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from knit import Knit
from knit import jvm
from knit.exceptions import ClusterUnreachableError
from knit.yarn_api import FINAL_STATES

from ..integration.waiting import wait_for

QUIET = {"progress": False}


def test_a_dead_client_jvm_is_replaced_and_kill_reports_the_truth(cluster_environ):
    k = Knit(**QUIET)
    k.start("sleep 600", keep_alive=True)
    os.kill(jvm._gateway.process.pid, signal.SIGKILL)
    jvm._gateway.process.wait(10)
    assert k.kill() is True  # it killed the application, whatever the JVM
    assert k.runtime_status() == "KILLED"
    k.start("true")  # and starts again, on a new JVM
    assert k.wait_for_completion(120)


def _python(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_killed_python_leaves_no_application_and_no_jvm(cluster_environ):
    child = _python("""
        import time
        from knit import Knit
        k = Knit(progress=False, client_timeout=10)
        print(k.start("sleep 600", keep_alive=True), flush=True)
        time.sleep(600)
    """)
    app_id = child.stdout.readline().strip()
    assert app_id.startswith("application_"), child.stderr.read()
    jvms = _gateway_jvms_of(child.pid)
    child.send_signal(signal.SIGKILL)
    child.wait(10)
    k = Knit(**QUIET)
    wait_for(lambda: k.yarn_api.state(app_id) in FINAL_STATES, timeout=90,
             what="the orphaned application to end")
    assert "has not contacted" in k.yarn_api.status(app_id)["diagnostics"]
    wait_for(lambda: not any(os.path.exists(f"/proc/{pid}") for pid in jvms), timeout=30,
             what="the client JVM to exit")


def _gateway_jvms_of(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parent = int(stat.read().rsplit(")", 1)[1].split()[1])
                with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                    gateway = b"knit.client.GatewayMain" in cmdline.read()
            except OSError:
                continue
            if parent == pid and gateway:
                found.append(int(entry))
    return found


def test_ctrl_c_during_start_kills_what_was_submitted(cluster_environ):
    child = _python("""
        from knit import Knit
        k = Knit(progress=lambda m: print(m, flush=True))
        try:
            k.start("sleep 600", keep_alive=True)
        except KeyboardInterrupt as exc:
            print("INTERRUPTED:", exc, flush=True)
    """)
    for line in child.stdout:
        if line.startswith("submitted "):
            app_id = line.split()[1].rstrip(";")
            child.send_signal(signal.SIGINT)
            break
    out, err = child.communicate(timeout=120)
    assert f"INTERRUPTED: start() interrupted; killed {app_id}" in out, out + err
    assert "AttributeError" not in err
    assert Knit(**QUIET).yarn_api.state(app_id) == "KILLED"


def test_a_wrong_resource_manager_rpc_address_fails_fast_and_names_it(cluster_environ):
    k = Knit(start_timeout=15, pars={"yarn.resourcemanager.address": "127.0.0.1:1"}, **QUIET)
    started = time.monotonic()
    with pytest.raises(ClusterUnreachableError,
                       match=r"(127\.0\.0\.1|localhost):1 \(from yarn.resourcemanager.address"):
        k.start("true")
    assert time.monotonic() - started < 10  # before submission (audit item 13: was 123 s)
