"""``YarnCluster``: dask-yarn 0.9's cluster manager, on knit.

One YARN application of services, as dask-yarn's: ``dask.scheduler`` (remote mode,
the default), ``dask.worker`` and, for ``dask-yarn submit``, ``dask.client``. The
scheduler's address travels through the application's key-value store
(``dask.scheduler``, ``dask.dashboard``), kept by the ApplicationMaster across its
restarts. Arguments left out come from dask.config's ``yarn.*`` keys
(:mod:`knit.dask_config`). It is a ``distributed`` cluster manager: ``Client(cluster)``,
``adapt``, the widget and ``async with`` work as for any.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import logging
import os
import weakref
from typing import Callable
from urllib.parse import urlparse

import dask
from distributed.core import Status, rpc
from distributed.deploy.cluster import Cluster
from distributed.utils import Logs, format_dashboard_link

from . import dask_tls
from .application import Application, current
from .application_spec import ApplicationSpec
from .core import Knit
from .dask_config import lookup
from .dask_yarn import dask_log_entries
from .dask_spec import (DASHBOARD_KEY, SCHEDULER, SCHEDULER_KEY, WORKER, check_dask_spec,
                        cluster_spec, deploy_mode_of)
from .exceptions import ApplicationError, KnitError, KnitTypeError, NotFoundError
from .own_env import default_environment
from .yarn_api import FINAL_STATES

logger = logging.getLogger(__name__)

#: Seconds without a call from this process after which the ApplicationMaster of a
#: local-mode cluster (whose scheduler lives here) ends it.
LOCAL_CLIENT_TIMEOUT = 120.0
#: Between two looks at the workers' containers (each also tells the
#: ApplicationMaster this process lives).
WATCH_INTERVAL = 2.0
#: Clusters this process started: shut down when it exits (as dask-yarn did), never
#: when merely garbage-collected.
_STARTED: weakref.WeakSet = weakref.WeakSet()
_SKEIN_CLIENT = ("skein_client: knit does not use Skein; leave it out (connection options "
                 "come from the Hadoop configuration), or pass knit=knit.Knit(...) with yours")


class YarnCluster(Cluster):
    """A Dask cluster on YARN, with dask-yarn 0.9's arguments and defaults.

    Every argument left out (None) comes from dask.config's ``yarn.*`` key of the
    same name (``worker_memory`` from ``yarn.worker.memory``); with none given and
    ``yarn.specification`` set, that spec is used as it is.

    Parameters
    ----------
    environment : str, optional
        The containers' Python: a packed environment (conda-pack, venv-pack or knit
        archive; local or ``hdfs://``), or ``conda:///path``, ``venv:///path`` or
        ``python:///path/to/python`` already on every node (nothing shipped). Without
        one, this process's own environment is packed (once) and shipped.
    n_workers : int, optional
        Workers started with the cluster (``yarn.worker.count``, 0).
    worker_vcores, worker_gpus : int, optional
        Each worker's vcores (its threads) and YARN GPUs (``yarn.io/gpu``).
    worker_memory : str or int, optional
        Each worker's container: ``"2 GiB"``, or MiB as a number (a number of
        1 MiB or more of bytes is read as bytes, as dask-yarn did).
    worker_restarts : int, optional
        Failed workers replaced (-1, the default: always).
    worker_env : dict, optional
        Variables set in the workers.
    worker_class : str, optional
        The worker's class (``dask.distributed.Nanny``; ``dask_cuda.CUDAWorker``...).
    worker_options : dict, optional
        Keyword arguments of ``worker_class``.
    worker_files : dict or list, optional
        knit's: files or archives localized beside each worker (name -> path), shipped
        once by content; a list keeps the paths' own names.
    scheduler_vcores, scheduler_memory, scheduler_gpus
        The scheduler's container (remote mode).
    deploy_mode : {'remote', 'local'}, optional
        remote (the default): the scheduler runs in a container of the application;
        local: in this process (the application ends with it).
    name, queue, tags : optional
        The application's name, queue and tags.
    user : str, optional
        Submit and run the cluster as this user, through Hadoop's impersonation (the
        login user must be allowed to act for it: docs/gateway.rst).
    host, port, dashboard_address : optional
        Where the scheduler listens: in local mode, on this machine; knit honours
        ``port`` and ``dashboard_address`` in remote mode too, on the scheduler's node.
    skein_client : None
        Refused if given: knit does not use Skein (pass ``knit=``).
    asynchronous : bool
        For ``await YarnCluster(..., asynchronous=True)``.
    loop : optional
        The event loop, as for any ``distributed`` cluster manager.
    knit : Knit, optional
        knit's: the :class:`~knit.Knit` to submit with (connection options).
    security : bool or distributed.Security, optional
        knit's: TLS for Dask's own traffic. True makes temporary credentials for
        this cluster (``Security.temporary()``, needs ``cryptography``); they are
        shipped to its containers privately, and ``Client(cluster)`` uses them.

    Examples
    --------
    >>> cluster = YarnCluster(environment="environment.tar.gz", worker_memory="4 GiB")  # doctest: +SKIP
    >>> cluster.scale(10)                                                              # doctest: +SKIP
    """

    def __init__(self, environment: str | None = None, n_workers: int | None = None,
                 worker_vcores: int | None = None, worker_memory: str | int | None = None,
                 worker_restarts: int | None = None, worker_env: dict | None = None,
                 worker_class: str | None = None, worker_options: dict | None = None,
                 worker_gpus: int | None = None, scheduler_vcores: int | None = None,
                 scheduler_gpus: int | None = None, scheduler_memory: str | int | None = None,
                 deploy_mode: str | None = None, name: str | None = None, queue: str | None = None,
                 tags: list[str] | None = None, user: str | None = None, host: str | None = None,
                 port: int | None = None, dashboard_address: str | None = None,
                 skein_client=None, asynchronous: bool = False, loop=None, *,
                 worker_files: dict | list | None = None, knit: Knit | None = None,
                 security=None):
        if skein_client is not None:
            raise KnitTypeError(_SKEIN_CLIENT)
        options = dict(environment=environment, n_workers=n_workers, worker_vcores=worker_vcores,
                       worker_memory=worker_memory, worker_restarts=worker_restarts,
                       worker_env=worker_env, worker_class=worker_class,
                       worker_options=worker_options, worker_gpus=worker_gpus,
                       worker_files=worker_files, scheduler_vcores=scheduler_vcores,
                       scheduler_gpus=scheduler_gpus, scheduler_memory=scheduler_memory,
                       deploy_mode=deploy_mode, name=name, queue=queue, tags=tags, user=user,
                       port=port, dashboard_address=dashboard_address)
        configured = dask.config.get("yarn.specification")
        if configured and all(v is None for v in options.values()):
            spec = check_dask_spec(configured)
            make_spec: Callable[[], ApplicationSpec] = lambda: spec  # noqa: E731
        else:
            deploy_mode_of(deploy_mode)  # bad values raise here, before anything starts
            make_spec = functools.partial(self._make_spec, options)
        self._setup(make_spec=make_spec, knit=knit, asynchronous=asynchronous, loop=loop,
                    scheduler_options=self._local_scheduler_options(host, port, dashboard_address),
                    security=security)

    # ------------------------------------------------------------ other ways in
    @classmethod
    def from_specification(cls, spec: ApplicationSpec | dict | str, skein_client=None,
                           asynchronous: bool = False, loop=None, *,
                           knit: Knit | None = None, security=None) -> "YarnCluster":
        """Start a cluster from a spec (knit or Skein format: object, dict or file)
        with a ``dask.worker`` service; without ``dask.scheduler`` the scheduler runs
        in this process."""
        if skein_client is not None:
            raise KnitTypeError(_SKEIN_CLIENT)
        checked = check_dask_spec(spec)
        self = cls.__new__(cls)
        self._setup(make_spec=lambda: checked, knit=knit, asynchronous=asynchronous, loop=loop,
                    scheduler_options=self._local_scheduler_options(None, None, None),
                    security=security)
        return self

    @classmethod
    def from_application_id(cls, app_id: str, skein_client=None, asynchronous: bool = False,
                            loop=None, *, knit: Knit | None = None) -> "YarnCluster":
        """Connect to a running cluster (local or remote mode) by its application id;
        :meth:`close` then disconnects, :meth:`shutdown` ends it."""
        if skein_client is not None:
            raise KnitTypeError(_SKEIN_CLIENT)
        knit = knit or Knit()
        knit.attach(app_id)
        self = cls.__new__(cls)
        self._setup(application=knit.application, knit=knit, asynchronous=asynchronous, loop=loop)
        return self

    @classmethod
    def from_current(cls, asynchronous: bool = False, loop=None) -> "YarnCluster":
        """The cluster this process runs in: from a container of it (a script of
        ``dask-yarn submit``), or from a script ``dask-yarn submit
        --deploy-mode local`` runs here."""
        if os.environ.get("KNIT_APPLICATION_ID"):
            self = cls.__new__(cls)
            self._setup(application=current(), knit=None, asynchronous=asynchronous, loop=loop,
                        security=dask_tls.role_security("client"))
            return self
        app_id = os.environ.get("DASK_APPLICATION_ID")
        if app_id:
            return cls.from_application_id(app_id, asynchronous=asynchronous, loop=loop)
        raise KnitError("YarnCluster.from_current() works in a container of a Dask cluster's "
                        "application, or in a script run by `dask-yarn submit`: neither "
                        "KNIT_APPLICATION_ID nor DASK_APPLICATION_ID is set")

    # ------------------------------------------------------------ set-up
    def _setup(self, *, make_spec=None, application: Application | None = None,
               knit: Knit | None, asynchronous: bool, loop, scheduler_options=None,
               security=None) -> None:
        if knit is not None and not isinstance(knit, Knit):
            raise KnitTypeError(f"knit must be a knit.Knit, not {type(knit).__name__}")
        if security is True:
            security = dask_tls.temporary_security()
        elif security is False:
            security = None
        #: The TLS settings ``Client(cluster)`` takes (None: plain TCP).
        self.security = security
        self._tls_file: str | None = None
        self._make_spec_now, self.application_client = make_spec, application
        self._knit, self._scheduler_options = knit, scheduler_options or {}
        self.spec: ApplicationSpec | None = None
        self._owned = False  # this object submitted the application
        self._local_scheduler = None
        self._dashboard: str | None = None
        self._watcher: asyncio.Task | None = None
        self._error: Exception | None = None
        self._containers: list = []
        self._pending = 0
        super().__init__(asynchronous=asynchronous, loop=loop)
        if not self.asynchronous:
            self._loop_runner.start()
            try:
                self.sync(self._start)
            except BaseException:
                self.sync(self._close_after_failure)
                self._loop_runner.stop()
                raise

    @staticmethod
    def _local_scheduler_options(host, port, dashboard_address) -> dict:
        return {"host": lookup(host, "yarn.host"), "port": lookup(port, "yarn.port"),
                "dashboard_address": lookup(dashboard_address, "yarn.dashboard-address")}

    def _make_spec(self, options: dict) -> ApplicationSpec:
        if lookup(options["environment"], "yarn.environment") is None:
            options = {**options, "environment": default_environment(progress=self._log)}
        return cluster_spec(**options)

    def __await__(self):
        async def start():
            if self.status == Status.created:
                try:
                    await self._start()
                except BaseException:
                    await self._close_after_failure()
                    raise
            return self
        return start().__await__()

    async def _run(self, function, *args, **kwargs):
        """A blocking knit call, off the event loop."""
        call = functools.partial(function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(None, call)

    async def _start(self) -> None:
        if self.status != Status.created:
            return
        self.status = Status.starting
        if self.application_client is None:
            address = await self._submit()
        else:
            address = await self._connect()
        self.scheduler_comm = rpc(address, connection_args=self.security.get_connection_args("client")
                                  if self.security is not None else {})
        await super()._start()
        self._watcher = asyncio.ensure_future(self._watch())

    async def _submit(self) -> str:
        self.spec = await self._run(self._make_spec_now)
        local = SCHEDULER not in self.spec.services
        if self._knit is None:
            self._knit = await self._run(
                Knit, client_timeout=LOCAL_CLIENT_TIMEOUT if local else 0.0)
        if self.security is not None:
            self._tls_file = await self._run(dask_tls.ship, self._knit, self.security)
            self.spec = dask_tls.with_tls(self.spec, self._tls_file)
        if local:
            await self._start_local_scheduler()
        self.application_client = await self._run(self._knit.submit, self.spec, keep_alive=True)
        self._owned = True
        _STARTED.add(self)
        self._log(f"submitted {self.app_id}: services {', '.join(self.spec.services)}")
        if local:
            address = self._local_scheduler.address
            if self._dashboard:
                await self._run(self.application_client.kv.put, DASHBOARD_KEY, self._dashboard)
            await self._run(self.application_client.kv.put, SCHEDULER_KEY, address)
            return address
        return await self._wait_for_scheduler()

    async def _start_local_scheduler(self) -> None:
        from distributed import Scheduler

        options = self._scheduler_options
        self._local_scheduler = await Scheduler(
            host=options["host"], port=options["port"], security=self.security,
            protocol="tls" if self.security is not None else None,
            dashboard_address=options["dashboard_address"])
        board = self._local_scheduler.services.get("dashboard")
        if board is not None:
            host = urlparse(self._local_scheduler.address).hostname
            self._dashboard = f"http://{host}:{board.port}"

    async def _wait_for_scheduler(self) -> str:
        """The remote scheduler's address once it publishes it; raises with the
        scheduler container's log if it ends first."""
        app = self.application_client
        timeout = self._knit.start_timeout + self._knit.allocation_timeout
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                address = await self._run(app.kv.wait, SCHEDULER_KEY, 2.0)
                self._dashboard = (await self._run(app.kv.prefix, DASHBOARD_KEY)).get(DASHBOARD_KEY)
                return address
            except NotFoundError:
                pass
            except ApplicationError as exc:  # it failed (the scheduler's exit fails it)
                raise KnitError(f"{self.app_id} ended before its Dask scheduler published its "
                                f"address ({exc.state}: {exc.diagnostics}):\n"
                                f"{await self._run(self._log_tail, None)}") from exc
            try:
                ended = await self._run(app.get_containers, [SCHEDULER], ["COMPLETE", "REMOVED"])
            except ApplicationError:
                continue  # ended meanwhile: the next wait says how
            if ended:
                raise KnitError(f"the Dask scheduler's container {ended[0].id} of {self.app_id} "
                                f"exited with code {ended[0].exit_status} before it published "
                                f"its address:\n{await self._run(self._log_tail, ended[0].id)}")
            if asyncio.get_running_loop().time() > deadline:
                raise KnitError(f"the Dask scheduler of {self.app_id} published no address in "
                                f"{timeout:.0f} s; read its log with `knit logs {self.app_id}`")

    def _log_tail(self, container_id: str | None, lines: int = 20) -> str:
        """The end of a container's stderr (None: the first non-empty one that is not
        the ApplicationMaster's)."""
        try:
            logs = self._knit.logs()
            masters = self._knit.yarn_api.am_container_ids(self._knit.app_id)
        except KnitError as exc:
            return f"(its log is unavailable: {exc})"
        if container_id is None:
            container_id = next((cid for cid, files in sorted(logs.items())
                                 if cid not in masters and files.get("stderr", "").strip()), "")
        text = logs.get(container_id, {}).get("stderr", "").rstrip().splitlines()
        return "\n".join(text[-lines:]) or "(its stderr is empty)"

    async def _connect(self) -> str:
        app = self.application_client
        report = await self._run(app.am.report)
        if WORKER not in report.services:
            raise KnitError(f"{self.app_id} is not a Dask cluster: it has no {WORKER!r} service "
                            f"(its services: {', '.join(report.services)})")
        address = await self._run(app.kv.wait, SCHEDULER_KEY, 60.0)
        self._dashboard = (await self._run(app.kv.prefix, DASHBOARD_KEY)).get(DASHBOARD_KEY)
        if self.security is None and self._knit is not None and address.startswith("tls://"):
            self.spec = await self._run(app.get_specification)
            self.security = await self._run(dask_tls.client_security_of, self._knit, self.spec)
        return address

    # ------------------------------------------------------------ watching
    async def _watch(self) -> None:
        """Look at the workers' containers now and then (which also tells the
        ApplicationMaster this process lives), and notice the application's end."""
        while self.status == Status.running:
            try:
                await self._refresh()
            except ApplicationError as exc:
                if exc.state in FINAL_STATES:
                    self._error = exc
                    self._log(f"the application ended: {exc}")
                    return
            except Exception as exc:  # noqa: BLE001 - reported, and the watch goes on
                self._log(f"watching {self.app_id}: {exc}")
            await asyncio.sleep(WATCH_INTERVAL)

    async def _refresh(self) -> None:
        # The scheduler streams worker changes to one cluster object only (the last to
        # subscribe), so each asks for them too: several may watch one cluster.
        identity = await self.scheduler_comm.identity()
        self.scheduler_info["workers"] = identity.get("workers", {})
        report = await self._run(self.application_client.am.report)
        self._containers = [c for c in report.containers if c.service == WORKER]
        self._pending = report.services[WORKER].pending if WORKER in report.services else 0

    # ------------------------------------------------------------ properties
    @property
    def app_id(self) -> str | None:
        """The YARN application's id."""
        return self.application_client.id if self.application_client is not None else None

    @property
    def knit(self) -> Knit | None:
        """The :class:`~knit.Knit` this cluster submitted or attached with (None from
        inside a container)."""
        return self._knit

    @property
    def dashboard_link(self) -> str | None:
        """The Dask dashboard's address, or None without one."""
        if not self._dashboard:
            return None
        board = urlparse(self._dashboard)
        return format_dashboard_link(board.hostname, board.port)

    @property
    def plan(self) -> set[str]:
        live = {c.id for c in self._containers if c.state.live}
        return live | {f"pending-{i}" for i in range(self._pending)}

    requested = plan

    def workers(self) -> list:
        """The worker containers that run or are starting (knit ``Container`` objects)."""
        return self.sync(self._workers)

    async def _workers(self) -> list:
        return await self._run(self.application_client.get_containers, [WORKER])

    # ------------------------------------------------------------ scaling
    def scale(self, n: int):
        """Run ``n`` workers (stops adaptivity); the ApplicationMaster replaces
        failed ones while this target stands."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise KnitTypeError(f"n must be a whole number >= 0, not {n!r}")
        if self._adaptive is not None:
            self._adaptive.stop()
        return self.sync(self._scale, n)

    async def _scale(self, n: int) -> None:
        await self._refresh()
        surplus = len(self.plan) - n
        if surplus > 0:
            observed = set(self.observed)
            pending = [p for p in sorted(self.plan) if p.startswith("pending-")]
            not_connected = [c.id for c in self._containers if c.state.live and c.id not in observed]
            chosen = (pending + not_connected)[:surplus]
            if len(chosen) < surplus:
                chosen += await self.scheduler_comm.workers_to_close(
                    n=surplus - len(chosen), attribute="name")
            await self._retire(chosen)
        await self._run(self.application_client.scale, WORKER, n)
        await self._refresh()

    async def scale_down(self, workers) -> None:
        """Retire these workers (names, which are container ids, or addresses) and
        stop their containers (what ``adapt`` calls)."""
        names = []
        for worker in workers:
            info = self.scheduler_info["workers"].get(worker)
            names.append(str(info["name"]) if info else str(worker))
        await self._retire(names)

    async def _retire(self, names: list[str]) -> None:
        pending = sum(1 for n in names if n.startswith("pending-"))
        names = [n for n in names if not n.startswith("pending-")]
        app = self.application_client
        if pending:
            await self._run(app.am.withdraw, pending, WORKER)
        connected = [n for n in names if n in set(self.observed)]
        if connected:
            await self.scheduler_comm.retire_workers(names=connected, remove=True,
                                                     close_workers=True)
        for name in names:
            try:
                await self._run(app.kill_container, name)
            except NotFoundError:
                pass  # it had ended already
        await self._refresh()

    # ------------------------------------------------------------ logs
    def logs(self, scheduler: bool = True, workers: bool = True) -> Logs:
        """The scheduler's and the workers' Dask logs (dask-yarn's ``logs``);
        ``get_logs`` adds the YARN containers' own logs."""
        return self.sync(self._dask_logs, scheduler, workers)

    async def _dask_logs(self, scheduler, workers) -> Logs:
        return await super()._get_logs(cluster=False, scheduler=scheduler, workers=workers)

    async def _get_logs(self, cluster=True, scheduler=True, workers=True):
        logs = await super()._get_logs(cluster=cluster, scheduler=scheduler, workers=workers)
        if workers and self._knit is not None:
            logs.update(await self._run(dask_log_entries, self._knit))
        return logs

    # ------------------------------------------------------------ ending
    def shutdown(self, status: str = "SUCCEEDED", diagnostics: str | None = None):
        """End the application with this final status (SUCCEEDED, FAILED, KILLED)
        and diagnostics, and close this object."""
        return self.sync(self._shutdown, status, diagnostics)

    async def _shutdown(self, status: str, diagnostics: str | None) -> None:
        if self.status in (Status.closed, Status.closing):
            return
        await self._end_application(status, diagnostics or f"the Dask cluster was shut down: {status}")
        await self._close()

    async def _end_application(self, status: str, diagnostics: str) -> None:
        app = self.application_client
        if app is None:
            return
        try:
            await self._run(app.shutdown, status, diagnostics)
            self._log(f"{self.app_id} ended {status}")
        except ApplicationError:
            pass  # it had ended already
        finally:
            _STARTED.discard(self)
            self._owned = False
            await self._remove_tls_file()

    async def _remove_tls_file(self) -> None:
        if self._tls_file is not None and self._knit is not None:
            try:
                await self._run(dask_tls.remove, self._knit, self._tls_file)
            except KnitError as exc:
                self._log(f"removing {self._tls_file} failed: {exc}")
            self._tls_file = None

    def close(self, timeout: float | None = None):
        """Shut the cluster down (SUCCEEDED) if this object started it, else
        disconnect from it (it runs on); harmless twice."""
        result = super().close(timeout)
        if not self.asynchronous:
            self._loop_runner.stop()
        return result

    async def _close(self) -> None:
        if self.status in (Status.closed, Status.closing):
            return
        if self._owned:
            await self._end_application("SUCCEEDED", "the Dask cluster was closed")
        if self._watcher is not None:
            self._watcher.cancel()
        await super()._close()
        if self._local_scheduler is not None:
            await self._local_scheduler.close()

    async def _close_after_failure(self) -> None:
        """After a failed start: nothing of it may outlive this call."""
        if self._owned:
            try:
                await self._run(self.application_client.kill)
            except KnitError as exc:
                self._log(f"killing {self.app_id} failed: {exc}")
            _STARTED.discard(self)
            self._owned = False
        await self._remove_tls_file()
        await self._close()

    def __repr__(self) -> str:
        return f"YarnCluster<{self.app_id or 'not started'}>"

    def _repr_html_(self, cluster_status: str | None = None) -> str:
        status = (f'<tr><td style="text-align: left;"><strong>YARN application:</strong> '
                  f'{self.app_id}</td><td style="text-align: left;"><strong>Containers:</strong> '
                  f"{sum(1 for c in self._containers if c.state.live)} live, {self._pending} pending"
                  "</td></tr>")
        return super()._repr_html_(cluster_status=(cluster_status or "") + status)


@atexit.register
def _shut_down_started_clusters() -> None:
    for cluster in list(_STARTED):
        if cluster.status == Status.running and not cluster.asynchronous:
            try:
                cluster.close(timeout=30)
            except Exception as exc:  # noqa: BLE001 - at exit, report and go on
                logger.warning("closing %r at exit failed: %s", cluster, exc)
