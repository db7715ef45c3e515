"""knit on a cluster whose NodeManagers are other hosts: each NodeManager, and the
containers it starts, in a network namespace of its own behind a bridge, from where
the client machine's 127.0.0.1 is out of reach (as on a real cluster)."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import venv
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from knit import Knit
from knit.cluster import LocalCluster
from knit.cluster.network import can_separate
from knit.conf import read_conf_dir
from knit.exceptions import KnitError

from ..conftest import TEST_CLUSTER_DIR
from .environment import running_and_pointed_at
from .waiting import wait_for, worker_logs

QUIET = {"progress": False}


@pytest.fixture(scope="module")
def separated():
    """A second cluster, started once, in the separated layout; the process's
    environment points at it while this module runs."""
    reason = can_separate()
    if reason is not None:
        message = f"network namespaces cannot be made here: {reason}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    cluster = LocalCluster(directory=Path(f"{TEST_CLUSTER_DIR}-separated"), nodemanagers=2,
                           ports="free", network="separated", progress=print)
    with running_and_pointed_at(cluster):
        yield cluster


def knit_for(cluster: LocalCluster) -> Knit:
    return Knit(autodetect=False, pars=read_conf_dir(cluster.conf_dir), **QUIET)


@pytest.fixture()
def client_only_server():
    """An HTTP server on the client machine's 127.0.0.1, which nodes must not reach."""
    class Hello(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def test_nodes_are_other_hosts_that_cannot_reach_the_clients_loopback(separated,
                                                                     client_only_server):
    k = knit_for(separated)
    nodes = {node["nodeHostName"] for node in k.yarn_api.nodes()}
    assert nodes == set(separated.network.nodes) and len(nodes) == 2
    assert all(not host.startswith("127.") for host in nodes)
    probe = (f'echo "node=$NM_HOST"; '
             f'(exec 3<>/dev/tcp/127.0.0.1/{client_only_server}) 2>/dev/null '
             f'&& echo loopback=reached || echo loopback=unreachable; '
             f'(exec 3<>/dev/tcp/{separated.host}/{separated.ports.rm_webapp}) 2>/dev/null '
             f'&& echo master=reached || echo master=unreachable')
    k.start(probe, num_containers=4)
    assert k.wait_for_completion(180), k.status()["diagnostics"]
    outputs = [files["stdout"] for files in worker_logs(k).values()]
    assert len(outputs) == 4
    for out in outputs:
        assert "loopback=unreachable" in out and "master=reached" in out, out
    seen = {line.split("=", 1)[1] for out in outputs for line in out.splitlines()
            if line.startswith("node=")}
    assert seen <= nodes and len(seen) == 2  # spread over both hosts


def test_files_env_logs_and_scaling_across_hosts(separated, tmp_path):
    data = tmp_path / "data.txt"
    data.write_text("shipped\n")
    env_dir = tmp_path / "pyenv"
    venv.create(env_dir, with_pip=False, symlinks=True)
    k = knit_for(separated)
    app_id = k.start('cat data.txt; $PYTHON_BIN -c "import sys; print(sys.prefix)"; sleep 600',
                     num_containers=2, files=[str(data)], env=str(env_dir), keep_alive=True)
    try:
        wait_for(lambda: len([c for c in k.worker_containers() if c["state"] == "RUNNING"]) == 2,
                 what="2 running containers")

        def live_outputs():
            outs = [files["stdout"] for cid, files in k.logs().items()
                    if not cid.endswith("_000001")]
            # both lines: the data file's, then the Python's prefix (printed a moment later)
            return outs if len(outs) == 2 and all(len(out.splitlines()) >= 2 for out in outs) else None

        for out in wait_for(live_outputs, what="live logs from both nodes"):
            assert out.splitlines()[0] == "shipped"
            assert out.splitlines()[1].endswith("/pyenv.zip/pyenv")
        k.add_containers(2)
        wait_for(lambda: len([c for c in k.worker_containers() if c["state"] == "RUNNING"]) == 4,
                 what="4 running containers")
        assert {c["node"].rsplit(":", 1)[0] for c in k.worker_containers()} == set(separated.network.nodes)
        # Another process takes the service over and scales it down.
        other = knit_for(separated).attach(app_id)
        victim = other.worker_containers()[0]["id"]
        other.remove_containers(victim)
        wait_for(lambda: other.get_container_statuses()[victim] in ("COMPLETE", "REMOVED"),
                 what="the removed container to stop")
        assert other.kill() is True
        aggregated = wait_for(lambda: _aggregated(k), timeout=120, what="aggregated logs")
        assert len(aggregated) == 4  # every worker, from both hosts
    finally:
        if k.runtime_status() == "RUNNING":
            k.kill()


def _aggregated(k: Knit):
    """Workers' stdout from the finished application's aggregated logs, once complete."""
    try:
        logs = k.logs()
    except KnitError:
        return None
    outs = [files.get("stdout", "") for cid, files in logs.items() if not cid.endswith("_000001")]
    return outs if len(outs) == 4 and all("shipped" in out for out in outs) else None


def test_dask_scheduler_listens_where_the_workers_reach_it(separated):
    pytest.importorskip("distributed")
    from distributed import Client

    from knit.dask_yarn import DaskYARNCluster

    pars = read_conf_dir(separated.conf_dir)
    with DaskYARNCluster(autodetect=False, pars=pars, dashboard_address=":0", **QUIET) as cluster:
        cluster.start(2, cpus=1, memory=768)
        host = cluster.scheduler_address.split("://", 1)[1].rsplit(":", 1)[0]
        assert host == separated.host  # the bridge's address, not 127.0.0.1
        with Client(cluster) as client:
            assert client.submit(lambda x: x + 1, 10).result() == 11
            hosts = {w.split("://", 1)[1].rsplit(":", 1)[0] for w in client.scheduler_info()["workers"]}
            assert hosts <= set(separated.network.nodes)
            assert client.submit(socket.gethostname).result()  # runs on a worker


def test_dask_remote_scheduler_on_a_node(separated):
    pytest.importorskip("distributed")
    from distributed import Client

    from knit.dask_yarn import DaskYARNCluster

    pars = read_conf_dir(separated.conf_dir)
    with DaskYARNCluster(autodetect=False, pars=pars, deploy_mode="remote",
                         dashboard_address=":0", **QUIET) as cluster:
        cluster.start(1, cpus=1, memory=768)
        host = cluster.scheduler_address.split("://", 1)[1].rsplit(":", 1)[0]
        assert host in separated.network.nodes
        with Client(cluster) as client:
            assert client.submit(lambda x: x * 2, 21).result() == 42


def test_workers_that_cannot_reach_the_scheduler_fail_naming_its_address(separated):
    pytest.importorskip("distributed")
    from knit.dask_yarn import DaskYARNCluster
    from knit.exceptions import KnitError

    pars = read_conf_dir(separated.conf_dir)
    cluster = DaskYARNCluster(autodetect=False, pars=pars, scheduler_host="127.0.0.1",
                              dashboard_address=":0", **QUIET)
    try:
        with pytest.raises(KnitError, match=r"connecting to the scheduler at tcp://127\.0\.0\.1:"
                                            r"\d+.*scheduler_host="):
            cluster.start(3, cpus=1, memory=512)  # 3 failing at once: the error in ~60 s
    finally:
        cluster.close()


def test_another_user_can_neither_enter_nor_destroy_nor_shadow_the_namespaces(separated):
    """Audit item 7: through the documented sudo rule a second user could exec in, and
    destroy, the first user's namespaces, reuse their subnet and make 99 namespaces."""
    from .other_user import other_user

    bob = other_user(separated)
    helper = ["sudo", "-n", "/usr/local/sbin/knit-netns"]
    network = separated.network
    subnet = network.master.rsplit(".", 1)[0]
    refused = {
        "exec": bob.run([*helper, "exec", network.namespaces[0], "--", "true"]),
        "destroy": bob.run([*helper, "destroy", network.name]),
        "same subnet": bob.run([*helper, "create", "kn0b0b01", subnet, "1"]),
        "count 08": bob.run([*helper, "create", "kn0b0b02", "198.19.201", "08"]),
        "count 99": bob.run([*helper, "create", "kn0b0b03", "198.19.202", "99"]),
        "bad octet": bob.run([*helper, "create", "kn0b0b04", "198.19.300", "1"]),
    }
    for what, done in refused.items():
        assert done.returncode != 0 and "knit-netns:" in done.stderr, (what, done.stderr)
    assert "belongs to uid" in refused["exec"].stderr
    assert f"subnet {subnet} is in use" in refused["same subnet"].stderr
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True,
                           timeout=30).stdout
    assert "kn0b0b0" not in links  # nothing half-made
    assert separated.is_running()
    knit = knit_for(separated)
    knit.start("true")
    assert knit.wait_for_completion(120) is True
