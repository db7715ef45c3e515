"""A real dask-gateway-server (from PyPI) whose backend is knit.gateway.YarnBackend,
on the session's cluster, as docs/gateway.rst configures it for simple
authentication: its process is started once per module and can be restarted."""

from __future__ import annotations

import base64
import os
import secrets
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("dask_gateway_server")
import requests  # noqa: E402

#: Figures measured in this session (listed at the end of the test run).
FIGURES: list[tuple[str, float]] = []
#: The users the session's cluster lets the suite's user act as (tests/conftest.py).
PASSWORD = secrets.token_hex(8)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class GatewayServer:
    """One dask-gateway-server process and its configuration file."""

    def __init__(self, folder: Path, environ: dict, extra_config: str = ""):
        self.folder, self.environ = folder, environ
        self.http_port, self.api_port = _free_port(), _free_port()
        self.address = f"http://127.0.0.1:{self.http_port}"
        self.config = folder / "dask_gateway_config.py"
        self.log = folder / "gateway.log"
        self.process: subprocess.Popen | None = None
        key = base64.b64encode(secrets.token_bytes(32)).decode()
        self.config.write_text(textwrap.dedent(f"""\
            from dask_gateway_server.options import Options, Integer, Float, String
            c.DaskGateway.backend_class = "knit.gateway.YarnBackend"
            c.DaskGateway.address = "127.0.0.1:{self.api_port}"
            c.Proxy.address = "127.0.0.1:{self.http_port}"
            c.DaskGateway.authenticator_class = "dask_gateway_server.auth.SimpleAuthenticator"
            c.SimpleAuthenticator.password = {PASSWORD!r}
            c.YarnBackend.db_url = "sqlite:///{folder}/gateway.sqlite"
            c.YarnBackend.db_encrypt_keys = [{key!r}]
            c.YarnBackend.stop_clusters_on_shutdown = False
            c.YarnBackend.cluster_status_period = 2
            c.YarnBackend.worker_status_period = 5
            c.YarnBackend.cluster_start_timeout = 180
            c.YarnBackend.worker_start_timeout = 180
            c.YarnClusterConfig.python_environment = "python://{sys.executable}"
            c.YarnClusterConfig.scheduler_memory = "768 M"
            c.YarnClusterConfig.worker_memory = "512 M"
            def options_handler(options):
                return {{"worker_memory": int(options.worker_memory_mib * 2**20),
                        "scheduler_setup": options.scheduler_setup}}
            c.Backend.cluster_options = Options(
                Float("worker_memory_mib", 512, min=256, max=2048, label="Worker memory (MiB)"),
                String("scheduler_setup", "", label="Shell lines before the scheduler"),
                handler=options_handler)
            """) + extra_config)

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "dask_gateway_server", "-f", str(self.config)],
                cwd=self.folder, stdout=log, stderr=subprocess.STDOUT, env=self.environ,
                start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"dask-gateway-server exited:\n{self.log_text()[-3000:]}")
            try:
                if requests.get(f"{self.address}/api/health", timeout=2).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise AssertionError(f"dask-gateway-server did not answer:\n{self.log_text()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it (clusters are left running)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(30)

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def gateway(self, user: str):
        from dask_gateway import BasicAuth, Gateway

        return Gateway(self.address, auth=BasicAuth(username=user, password=PASSWORD))


@pytest.fixture(scope="module")
def gateway_server(cluster_environ, tmp_path_factory):
    server = GatewayServer(tmp_path_factory.mktemp("gateway"), dict(os.environ))
    server.start()
    try:
        yield server
    finally:
        server.stop()
        _kill_leftovers()


def _kill_leftovers() -> None:
    """Kill the gateway clusters a failed test left (the gateway leaves clusters
    running when it stops, as configured for restarts)."""
    from knit import Knit

    api = Knit(progress=False).yarn_api
    for app in api.apps_info(applicationTags="dask-gateway", states="NEW,SUBMITTED,ACCEPTED,RUNNING"):
        api.kill(app["id"])


def pytest_terminal_summary(terminalreporter):
    if FIGURES:
        terminalreporter.section("dask-gateway on knit")
        for case, seconds in FIGURES:
            terminalreporter.line(f"{seconds:6.1f} s  {case}")
