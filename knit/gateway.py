"""dask-gateway on Hadoop YARN through knit: each user's Dask cluster is a YARN
application of theirs, submitted by the gateway's service user acting for them
(Hadoop impersonation, :class:`knit.Knit` ``proxy_user``).

Configure dask-gateway-server with::

    c.DaskGateway.backend_class = "knit.gateway.YarnBackend"

The options keep the names of dask-gateway's own YARN backend (``principal``,
``keytab``, ``queue``, ``localize_files``, ``scheduler_setup``, ``worker_setup``,
``app_client_cache_max_size``, and the common ``ClusterConfig`` ones), so its
configuration files work unchanged; docs/gateway.rst has complete ones.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections import OrderedDict, defaultdict

try:
    from dask_gateway_server.backends.base import ClusterConfig
    from dask_gateway_server.backends.db_base import DBBackendBase
    from dask_gateway_server.traitlets import Command, Type
except ImportError as exc:  # pragma: no cover - a missing extra
    raise ImportError("knit.gateway is a backend of dask-gateway-server: "
                      "pip install 'knit[gateway]'") from exc
from traitlets import Dict, Integer, Unicode

from . import gateway_container as names
from .core import Knit
from .dask_spec import WORKER
from .exceptions import ApplicationError, NotFoundError
from .gateway_spec import GatewayCluster
from .records import write_private_file

__all__ = ["YarnClusterConfig", "YarnBackend"]

_ENDED = ("FINISHED", "FAILED", "KILLED")


class YarnClusterConfig(ClusterConfig):
    """A Dask cluster's configuration on YARN (per user with ``c.Backend.cluster_options``)."""

    scheduler_cmd = Command(["dask", "scheduler"], config=True,
                            help="Shell command to start a dask scheduler (distributed "
                                 "2025+ has no dask-scheduler script).")
    worker_cmd = Command(["dask", "worker"], config=True, help="Shell command to start a dask worker.")
    queue = Unicode("default", config=True, help="The YARN queue of the clusters.")
    localize_files = Dict(config=True, help="""
        Files for the scheduler and worker containers: name -> a local path, an
        ``hdfs://`` URI, or a dict with ``source``, ``type`` (FILE or ARCHIVE) and
        ``visibility`` (Skein's form). An archive is unpacked as folder ``name``.""")
    scheduler_setup = Unicode("", config=True, help="Shell lines run before the scheduler starts.")
    worker_setup = Unicode("", config=True, help="Shell lines run before a worker starts.")
    python_environment = Unicode(None, allow_none=True, config=True, help="""
        knit's: the containers' Python with dask-gateway in it: a packed environment
        (conda-pack or venv-pack archive, local or ``hdfs://``; shipped once and
        cached by content), or ``conda:///path``, ``venv:///path``,
        ``python:///path/to/python`` on every node.""")
    worker_gpus = Integer(0, min=0, config=True, help="knit's: YARN GPUs per worker (yarn.io/gpu).")
    node_label = Unicode("", config=True, help="knit's: the node label expression of the containers.")


class YarnBackend(DBBackendBase):
    """Dask clusters as YARN applications of their users, through knit."""

    cluster_config_class = Type("knit.gateway.YarnClusterConfig",
                                klass="dask_gateway_server.backends.base.ClusterConfig",
                                config=True, help="The cluster config class to use")
    principal = Unicode(None, allow_none=True, config=True,
                        help="The gateway's Kerberos principal (on a Kerberized cluster).")
    keytab = Unicode(None, allow_none=True, config=True,
                     help="The keytab of ``principal``: the gateway logs in from it.")
    app_client_cache_max_size = Integer(10, min=1, config=True,
                                        help="Clusters whose connections are kept open.")
    knit_options = Dict(config=True, help="""
        knit's: more keyword arguments of knit.Knit for every cluster (``rm``,
        ``nn``, ``verify``, ``am_memory``, ``start_timeout``...); by default knit
        reads the Hadoop configuration of the gateway's host.""")

    supports_bulk_shutdown = True

    # ------------------------------------------------------------ set-up
    async def do_setup(self) -> None:
        self._knits: OrderedDict[str, Knit] = OrderedDict()
        self._lock = threading.Lock()
        #: The gateway's own Knit: bad settings fail here, at start; it reads every
        #: cluster's status (the service is in each application's view ACL).
        self._service = await self._call(self._new_knit, None)
        self._service_user = self._service.conf["user"]
        self.log.info("knit backend: acting for users as %s (ResourceManager %s)",
                      self._service_user, self._service.conf["rm"])

    async def do_cleanup(self) -> None:
        with self._lock:
            self._knits.clear()

    async def _call(self, function, *args, **kwargs):
        """A blocking knit call, off the event loop."""
        call = functools.partial(function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(None, call)

    def _new_knit(self, username: str | None) -> Knit:
        proxy = None if username in (None, getattr(self, "_service_user", None)) else username
        return Knit(proxy_user=proxy, principal=self.principal, keytab=self.keytab,
                    progress=False, **self.knit_options)

    def _knit_of(self, cluster) -> Knit:
        """The Knit of a running cluster's application (attached again after a
        gateway restart)."""
        with self._lock:
            knit = self._knits.get(cluster.name)
            if knit is not None:
                self._knits.move_to_end(cluster.name)
                return knit
        knit = self._new_knit(cluster.username).attach(cluster.state["app_id"])
        self._remember(cluster.name, knit)
        return knit

    def _remember(self, name: str, knit: Knit) -> None:
        with self._lock:
            self._knits[name] = knit
            while len(self._knits) > self.app_client_cache_max_size:
                self._knits.popitem(last=False)

    # ------------------------------------------------------------ clusters
    def _gateway_cluster(self, cluster, secrets: str) -> GatewayCluster:
        env = self.get_scheduler_env(cluster)
        env.update(self.get_worker_env(cluster))
        env.pop("DASK_GATEWAY_API_TOKEN")  # in the private file instead
        config = cluster.config
        worker = self.get_worker_command(cluster, worker_name='"$DASK_GATEWAY_WORKER_NAME"',
                                         scheduler_address='"$DASK_GATEWAY_SCHEDULER_ADDRESS"')
        return GatewayCluster(
            name=cluster.name, scheduler_command=self.get_scheduler_command(cluster),
            worker_command=worker, env=env, secrets=secrets, queue=config.queue,
            node_label=config.node_label, scheduler_memory=config.scheduler_memory,
            scheduler_cores=config.scheduler_cores, worker_memory=config.worker_memory,
            worker_cores=config.worker_cores, worker_gpus=config.worker_gpus,
            scheduler_setup=config.scheduler_setup, worker_setup=config.worker_setup,
            localize_files=dict(config.localize_files),
            python_environment=config.python_environment)

    def _ship_secrets(self, knit: Knit, cluster) -> str:
        return write_private_file(knit.java.client, knit.conf["hdfs_home"], "dask-gateway", {
            "tls_cert": cluster.tls_cert.decode(), "tls_key": cluster.tls_key.decode(),
            "api_token": cluster.token})

    async def do_start_cluster(self, cluster):
        knit = await self._call(self._new_knit, cluster.username)
        # The ResourceManager answers a refused impersonation whole, as one 403 naming
        # it (ImpersonationError); the NameNode may cut the connection first.
        await self._call(knit.yarn_api.cluster_info)
        secrets = await self._call(self._ship_secrets, knit, cluster)
        yield {"secrets": secrets}
        submitted = asyncio.get_running_loop().run_in_executor(
            None, functools.partial(self._submit, knit, cluster, secrets))
        try:
            await asyncio.shield(submitted)
        except asyncio.CancelledError:  # the gateway gave up: kill what it still makes
            submitted.add_done_callback(functools.partial(self._kill_when_made, knit))
            raise
        except Exception:
            if knit.app_id:
                yield {"secrets": secrets, "app_id": knit.app_id}
            raise
        self._remember(cluster.name, knit)
        self.log.info("cluster %s of %s is YARN application %s", cluster.name,
                      cluster.username, knit.app_id)
        yield {"secrets": secrets, "app_id": knit.app_id}

    def _submit(self, knit: Knit, cluster, secrets: str) -> None:
        knit.submit(self._gateway_cluster(cluster, secrets).spec(), keep_alive=True)

    @staticmethod
    def _kill_when_made(knit: Knit, submitted: asyncio.Future) -> None:
        if not submitted.cancelled() and submitted.exception() is None:
            asyncio.get_running_loop().run_in_executor(None, knit.kill)

    async def do_stop_cluster(self, cluster) -> None:
        await self._call(self._stop, cluster)

    def _stop(self, cluster) -> None:
        with self._lock:
            knit = self._knits.pop(cluster.name, None)
        knit = knit or self._new_knit(cluster.username)
        app_id, secrets = cluster.state.get("app_id"), cluster.state.get("secrets")
        if app_id:
            knit.app_id = app_id
            knit.kill()
        if secrets:
            try:
                knit.java.call("delete", secrets.removeprefix("hdfs://"))
            except NotFoundError:
                pass

    async def do_check_clusters(self, clusters) -> list[bool]:
        return [await self._call(self._is_running, cluster) for cluster in clusters]

    def _is_running(self, cluster) -> bool:
        app_id = cluster.state.get("app_id")
        if app_id is None:
            return False
        status = self._service.yarn_api.status(app_id)
        if status["state"] in _ENDED:
            self.log.warning("cluster %s of %s: YARN application %s ended %s (%s): %s; its "
                             "containers' logs: `knit logs %s` as %s", cluster.name,
                             cluster.username, app_id, status.get("finalStatus"), status["state"],
                             status.get("diagnostics") or "(no diagnostics)", app_id,
                             cluster.username)
            return False
        return True

    # ------------------------------------------------------------ workers
    async def do_start_worker(self, worker):
        await self._call(self._add_worker, worker)
        yield {"wanted": True}

    def _add_worker(self, worker) -> None:
        app = self._knit_of(worker.cluster).application
        kv = app.kv
        if kv.get(names.SCHEDULER_KEY) != worker.cluster.scheduler_address:
            kv[names.SCHEDULER_KEY] = worker.cluster.scheduler_address
        names.want(kv, worker.name)
        app.add_container(WORKER)

    async def do_stop_worker(self, worker) -> None:
        await self._call(self._remove_worker, worker)

    def _remove_worker(self, worker) -> None:
        try:
            app = self._knit_of(worker.cluster).application
        except (ApplicationError, NotFoundError):
            return  # the cluster's application has ended: so has the worker
        container = names.release(app.kv, worker.name)
        if container == names.WITHDRAWN:
            app.am.withdraw(1, service=WORKER)  # its ask, or another's: the names follow
            return
        if container is None:
            return  # its container has ended (a retired worker exits)
        try:
            app.kill_container(container)
        except NotFoundError:
            pass  # it ended by itself (a retired worker exits)

    async def do_check_workers(self, workers) -> list[bool]:
        by_cluster = defaultdict(list)
        for worker in workers:
            by_cluster[worker.cluster].append(worker)
        alive: dict[str, bool] = {}
        for cluster, of_cluster in by_cluster.items():
            try:
                alive.update(await self._call(self._live_workers, cluster, of_cluster))
            except Exception as exc:  # noqa: BLE001 - reported; its workers count as failed
                self.log.warning("checking the workers of cluster %s failed: %s", cluster.name, exc)
                alive.update({w.name: False for w in of_cluster})
        return [alive[w.name] for w in workers]

    def _live_workers(self, cluster, workers) -> dict[str, bool]:
        app = self._knit_of(cluster).application
        known = names.workers(app.kv)
        live = {c.id for c in app.get_containers([WORKER])}
        return {w.name: known.get(w.name) == names.WANTED or known.get(w.name) in live
                for w in workers}
