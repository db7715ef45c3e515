"""dask-gateway on YARN: knit's backend (``knit.gateway.YarnBackend``) against
dask-gateway's own Skein backend (``dask_gateway_server.backends.yarn.YarnBackend``,
Skein 0.8.2), in the same run, on a local cluster of its own.

For each backend a real dask-gateway-server is started; then, ``--rounds`` times, a
user's ``gateway.new_cluster()`` is timed to its first worker connected
(``scale(1)``) and to 8 (``scale(8)``), and the cluster is shut down. Both backends
submit as the user (impersonation), with the same sizes and this machine's Python
on the nodes. Printed: the medians in seconds, and the ratio Skein / knit (above 1:
knit is faster).

    python benchmarks/gateway_startup.py --rounds 3
"""

from __future__ import annotations

import argparse
import getpass
import importlib.util
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from launch_latency import STOCK  # noqa: E402

from knit.cluster import LocalCluster  # noqa: E402
from knit.cluster.config import impersonation  # noqa: E402

USER = "bench-alice"
BACKENDS = {"knit": "knit.gateway.YarnBackend",
            "Skein": "dask_gateway_server.backends.yarn.YarnBackend"}
PASSWORD = secrets.token_hex(8)


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gateway_config(backend: str, port: int) -> str:
    """A configuration of both backends' common option names."""
    bin_folder = Path(sys.executable).parent
    return f"""
c.DaskGateway.backend_class = {backend!r}
c.DaskGateway.address = "127.0.0.1:{_port()}"
c.Proxy.address = "127.0.0.1:{port}"
c.SimpleAuthenticator.password = {PASSWORD!r}
c.YarnBackend.cluster_start_timeout = 300
c.YarnBackend.worker_start_timeout = 300
c.YarnClusterConfig.scheduler_cmd = ["dask", "scheduler"]
c.YarnClusterConfig.worker_cmd = ["dask", "worker"]
c.YarnClusterConfig.scheduler_setup = 'export PATH={bin_folder}:"$PATH"'
c.YarnClusterConfig.worker_setup = 'export PATH={bin_folder}:"$PATH"'
c.YarnClusterConfig.scheduler_memory = "768 M"
c.YarnClusterConfig.worker_memory = "512 M"
"""


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {what} within {timeout} s")
        time.sleep(0.1)


def rounds(backend: str, count: int, folder: Path) -> list[tuple[float, float]]:
    """(seconds to the first worker, seconds to 8 workers) of each round."""
    from dask_gateway import BasicAuth, Gateway

    port = _port()
    config = folder / f"{backend.split('.')[0]}_config.py"
    config.write_text(gateway_config(backend, port))
    with open(folder / "gateway.log", "ab") as log:
        server = subprocess.Popen([sys.executable, "-m", "dask_gateway_server", "-f", str(config)],
                                  cwd=folder, stdout=log, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        with Gateway(f"http://127.0.0.1:{port}", auth=BasicAuth(USER, PASSWORD)) as gateway:
            wait_for(lambda: _answers(gateway), 60, "gateway")
            return [one_round(gateway) for _ in range(count)]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)


def _answers(gateway) -> bool:
    try:
        gateway.list_clusters()
        return True
    except Exception:  # noqa: BLE001 - not listening yet
        return False


def one_round(gateway) -> tuple[float, float]:
    started = time.monotonic()
    cluster = gateway.new_cluster()
    try:
        with cluster.get_client(set_as_default=False) as client:
            cluster.scale(1)
            wait_for(lambda: len(client.scheduler_info()["workers"]) >= 1, 300, "first worker")
            first = time.monotonic() - started
            cluster.scale(8)
            wait_for(lambda: len(client.scheduler_info()["workers"]) >= 8, 300, "8 workers")
            return first, time.monotonic() - started
    finally:
        cluster.shutdown()
        cluster.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", default=os.path.expanduser("~/.knit/bench-gateway-cluster"))
    args = parser.parse_args()
    backends = dict(BACKENDS)
    if importlib.util.find_spec("skein") is None:
        print("Skein is not installed (pip install knit[bench]): knit only")
        del backends["Skein"]
    cluster = LocalCluster(directory=args.dir, nodemanagers=2, ports="free",
                           nodemanager_memory_mb=8192,
                           extra_conf={**STOCK, **impersonation(getpass.getuser(), [USER])},
                           progress=print).up()
    os.environ.update(cluster.env())
    try:
        cluster.add_user(USER)
        with tempfile.TemporaryDirectory() as folder:
            results = {name: rounds(backend, args.rounds, Path(folder))
                       for name, backend in backends.items()}
    finally:
        cluster.down()
    medians = {name: (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))
               for name, runs in results.items()}
    print(f"{args.rounds} rounds each; seconds from gateway.new_cluster() (median)")
    print(f"{'to':<14} {'knit':>6} {'Skein':>6} {'Sk/knit':>8}")
    for i, label in enumerate(("first worker", "8 workers")):
        line = f"{label:<14} {medians['knit'][i]:>6.1f}"
        if "Skein" in medians:
            line += f" {medians['Skein'][i]:>6.1f} {medians['Skein'][i] / medians['knit'][i]:>8.2f}"
        print(line)


if __name__ == "__main__":
    main()
