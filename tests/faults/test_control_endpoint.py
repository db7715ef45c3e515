"""The ApplicationMaster's control endpoint under a slow or hostile client."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from pathlib import Path

import pytest
import requests

from knit import Knit
from knit.exceptions import ApplicationError, KnitTimeoutError

from ..integration.waiting import wait_for

QUIET = {"progress": False}


def _connect(address: str) -> socket.socket:
    host, port = address.rsplit(":", 1)
    return socket.create_connection((host, int(port)), timeout=10)


def test_stalled_connections_neither_block_the_endpoint_nor_kill_the_app(cluster_environ):
    k = Knit(client_timeout=10, **QUIET)
    k.start("sleep 600", num_containers=1, keep_alive=True)
    try:
        wait_for(lambda: len(k.worker_containers()) == 1, what="the container")
        address = k.status()["amRPCAddress"]
        stalled = []
        for _ in range(20):  # more than the endpoint's threads
            sock = _connect(address)
            sock.sendall(b"G")  # one byte of a request, never finished
            stalled.append(sock)
        deadline = time.monotonic() + 25  # well past client_timeout
        while time.monotonic() < deadline:
            started = time.monotonic()
            assert len(k.worker_containers()) == 1
            assert time.monotonic() - started < 5, "the endpoint answered slowly"
            time.sleep(2)
        assert k.runtime_status() == "RUNNING"
        for sock in stalled:
            sock.close()
    finally:
        k.kill()


def test_only_authenticated_calls_count_as_the_client_being_alive(cluster_environ):
    k = Knit(client_timeout=8, **QUIET)
    k.start("sleep 600", num_containers=0, keep_alive=True)
    address = k.status()["amRPCAddress"]
    session = requests.Session()
    session.trust_env = False

    def gone():
        assert session.get(f"http://{address}/containers", timeout=5).status_code == 403
        return k.runtime_status() in ("FINISHED", "FAILED", "KILLED")

    try:
        wait_for(lambda: _app_ended(k, gone), timeout=60, what="the AM stopping for lack of client")
        assert "has not contacted" in k.status()["diagnostics"]
    finally:
        k.kill()


def _app_ended(k: Knit, check) -> bool:
    try:
        return check()
    except requests.ConnectionError:  # the AM has stopped listening
        return k.runtime_status() in ("FINISHED", "FAILED", "KILLED")


def test_refused_asks_leave_the_application_running(cluster_environ):
    k = Knit(**QUIET)
    k.start("sleep 600", num_containers=1, keep_alive=True)
    try:
        wait_for(lambda: len(k.worker_containers()) == 1, what="the container")
        # Past Python's checks, straight to the endpoint: the AM says why, and runs on.
        for params, why in (({"count": 1, "memory": 10 ** 6}, "scheduler's maximum"),
                            ({"count": 1, "vcores": 64}, "scheduler's maximum"),
                            ({"count": 10 ** 6}, "count must be between"),
                            ({"count": 0}, "count must be between")):
            with pytest.raises(ValueError, match=why):
                k.am.call("POST", "/containers", **params)
        assert k.runtime_status() == "RUNNING"
        assert len(k.worker_containers()) == 1
    finally:
        k.kill()
    with pytest.raises(ApplicationError):
        k.worker_containers()


def _am_pid(app_id: str) -> int:
    """The pid of the application's ApplicationMaster JVM on this machine."""
    key = app_id.replace("application_", "container_", 1)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if b"knit.am.ApplicationMaster" in cmdline and f"CONTAINER_ID={key}_".encode() in environ:
            return int(entry.name)
    raise AssertionError(f"no ApplicationMaster process of {app_id}")


def test_a_stopped_application_master_is_a_knit_timeout_not_a_raw_error(cluster_environ):
    """Audit item 13: a SIGSTOPped AM made get_containers() raise requests' ReadTimeout."""
    k = Knit(**QUIET)
    k.start("sleep 600", num_containers=1, keep_alive=True)
    pid = _am_pid(k.app_id)
    try:
        k.am.timeout = 3
        os.kill(pid, signal.SIGSTOP)
        with pytest.raises(KnitTimeoutError, match="did not answer GET /containers within 3 s"):
            k.worker_containers()
    finally:
        os.kill(pid, signal.SIGCONT)
        k.kill()


def test_a_flood_of_slow_connections_does_not_starve_the_owner(cluster_environ):
    """Audit item 3: 100 connections sending one byte and re-opening every second made
    every owner call fail, and the AM then ended the app for lack of its client."""
    k = Knit(client_timeout=10, **QUIET)
    k.start("sleep 600", num_containers=1, keep_alive=True)
    try:
        wait_for(lambda: len(k.worker_containers()) == 1, what="the container")
        address = k.status()["amRPCAddress"]
        stop = threading.Event()

        def flood():
            sockets = []
            for _ in range(30):  # about 30 s, bounded
                if stop.is_set():
                    break
                for sock in sockets:
                    sock.close()
                sockets = []
                for _ in range(100):
                    try:
                        sock = _connect(address)
                        sock.sendall(b"G")
                        sockets.append(sock)
                    except OSError:
                        pass
                stop.wait(1.0)
            for sock in sockets:
                sock.close()

        flooding = threading.Thread(target=flood, daemon=True)
        flooding.start()
        failures, calls = [], 0
        deadline = time.monotonic() + 25  # well past client_timeout
        while time.monotonic() < deadline:
            calls += 1
            try:
                assert len(k.worker_containers()) == 1
            except Exception as exc:  # noqa: BLE001 - counted, reported below
                failures.append(repr(exc))
            time.sleep(2)
        stop.set()
        flooding.join(60)
        assert failures == [], f"{len(failures)} of {calls} owner calls failed: {failures[:3]}"
        assert k.runtime_status() == "RUNNING"
    finally:
        k.kill()
