"""``DaskYARNCluster``: a Dask cluster whose workers are YARN containers.

The scheduler runs in this process (``.local_cluster``, a ``LocalCluster`` with no
workers) or, with ``deploy_mode='remote'``, in a YARN container of its own; the
workers run ``dask worker`` in the containers of one knit application kept alive
until the cluster closes. It is a ``distributed`` cluster manager like
``LocalCluster``: ``scale``, ``adapt``, ``get_logs``, the dashboard, the Jupyter
widget, ``Client(cluster)`` and ``async with`` all work as there.
"""

from __future__ import annotations

import asyncio
import atexit
import functools
import logging
import warnings
import weakref
from typing import Callable

from distributed import LocalCluster
from distributed.core import Status, rpc
from distributed.deploy.cluster import Cluster
from distributed.utils import Log
from distributed.versions import VersionMismatchWarning, error_message, get_versions

from .core import _THE_USER, Knit
from .java import JAVA_LIBS
from .dask_env import worker_environment
from .dask_knits import KNIT_OPTIONS, cluster_knits
from .progress import count_bar
from .dask_scheduler import SCHEDULER_KEY, start_remote_scheduler
from .dask_workers import check_worker_size, scheduler_ip, worker_command
from .exceptions import ApplicationError, KnitError, KnitTypeError, KnitValueError, NotFoundError
from .waiting import async_wait_until
from .yarn_api import FINAL_STATES

logger = logging.getLogger(__name__)

#: Worker containers that may fail in a row within START_GRACE s of starting (a
#: worker that cannot reach its scheduler exits after its --death-timeout of 60 s)
#: before their ApplicationMaster stops replacing them and fails the application.
MAX_START_FAILURES = 3
START_GRACE = 90.0
LIVE = ("ALLOCATED", "RUNNING")
DEPLOY_MODES = ("local", "remote")
#: Clusters whose scheduler lives in this process: closed (their YARN application
#: killed) when the interpreter exits.
_LOCAL_CLUSTERS: weakref.WeakSet = weakref.WeakSet()


class DaskYARNCluster(Cluster):
    """A Dask cluster on YARN.

    Parameters
    ----------
    autodetect : bool
        Read the Hadoop configuration files (as :class:`~knit.Knit`).
    packages : list of str, optional
        Build the workers' environment with these packages (dask and distributed
        are added at this process's versions when missing).
    scheduler_host : str, optional
        Address the scheduler (and its dashboard) listens on, which the nodes must
        reach (default: the address of the interface that routes to the NodeManagers'
        hosts; 127.0.0.1 only if they are all this machine).
    ip : str, optional
        The knit 0.2 name of ``scheduler_host``.
    env : str, optional
        A packed environment (.zip, .tar.gz) or environment folder for the workers.
        With neither ``env`` nor ``packages``, one matching this process's
        dask/distributed is made once and cached.
    channels, conda_pars
        For :class:`~knit.conda.CondaCreator`.
    n_workers : int
        Workers to start at once (default 0: call :meth:`start` or :meth:`scale`).
    cpus, memory : int
        Default vcores and MB of a worker container (threads = cpus).
    dashboard_address : str or None
        Where the scheduler's dashboard listens (``":0"`` for any free port; None: no
        dashboard, as in distributed).
    deploy_mode : {'local', 'remote'}
        ``local``: the scheduler runs in this process, and the workers' application
        ends when this process does. ``remote``: the scheduler runs in a YARN
        container of its own (``scheduler_memory`` MB, ``scheduler_cpus`` vcores),
        and scheduler and workers outlive this process (until ``close()`` or
        ``yarn application -kill``); other sessions connect to ``scheduler_address``,
        or take the whole cluster over with ``application=``.
    application : str, optional
        With ``deploy_mode='remote'``: attach to the cluster whose scheduler runs
        in this YARN application (``cluster.scheduler_knit.app_id`` in the process
        that made it) instead of starting one; scaling, adapting and ``close()``
        then work from here.
    asynchronous : bool
        For ``await DaskYARNCluster(..., asynchronous=True)``.
    loop, name
        As for any ``distributed`` cluster manager.
    queue, app_name : str
        The YARN queue and application name of the workers (the scheduler's, in
        remote mode, is ``<app_name>-scheduler``).
    knit : Knit, optional
        A ready :class:`~knit.Knit` for the workers' application (as dask-yarn's
        ``skein_client=``); the connection options below must then be left out.
    upload_always, hdfs_home, knit_home, hdfs, pars, nn, nn_port, nn_http_port, rm, rm_port, scheme, gateway_path, user, replication_factor, lang, http_auth, username, password, verify, kerberos, principal, keytab, proxy_user, am_memory, am_vcores, am_max_attempts, start_timeout, allocation_timeout, client_timeout, progress, validate
        The options of :class:`~knit.Knit`, for the workers' (and, remote, the
        scheduler's) application. ``client_timeout`` defaults to 120 s in local
        mode (the workers end soon after this process) and 0 in remote mode. On a
        Kerberized cluster ``principal`` and ``keytab`` let the long-running
        applications renew their delegation tokens (see docs/security.rst).

    Examples
    --------
    >>> with DaskYARNCluster(env='my-env.zip') as cluster:        # doctest: +SKIP
    ...     cluster.start(4, cpus=2, memory=4096)
    ...     client = Client(cluster)
    """

    def __init__(self, autodetect: bool = True, packages: list[str] | None = None,
                 ip: str | None = None, env: str | None = None,
                 scheduler_host: str | None = None,
                 channels: list[str] | None = None, conda_pars: dict | None = None,
                 n_workers: int = 0, cpus: int = 1, memory: int = 2048,
                 queue: str = "default", app_name: str = "dask",
                 dashboard_address: str | None = ":8787", deploy_mode: str = "local",
                 scheduler_memory: int = 1024, scheduler_cpus: int = 1,
                 application: str | None = None, asynchronous: bool = False, loop=None,
                 name: str | None = None, *, knit: Knit | None = None,
                 upload_always: bool = False, hdfs_home: str | None = None,
                 knit_home: str = str(JAVA_LIBS), hdfs=None, pars: dict | None = None,
                 nn: str | None = None, nn_port: int | str | None = None,
                 nn_http_port: int | str | None = None, rm: str | None = None,
                 rm_port: int | str | None = None, scheme: str | None = None,
                 gateway_path: str | None = None, user: str | None = None,
                 replication_factor: int | None = None, lang: str | None = None,
                 http_auth: str | None = None, username: str | None = _THE_USER,
                 password: str | None = None, verify: bool | str | None = None,
                 kerberos: bool | None = None, principal: str | None = None,
                 keytab: str | None = None, proxy_user: str | None = None,
                 am_memory: int = 384, am_vcores: int = 1,
                 am_max_attempts: int = 2, start_timeout: float = 120,
                 allocation_timeout: float = 300, client_timeout: float | None = None,
                 progress: Callable[[str], None] | bool | None = None, validate: bool = True):
        if packages is not None and (isinstance(packages, str) or not isinstance(packages, list)):
            raise KnitTypeError(f"packages must be a list of strings, not {packages!r}")
        if deploy_mode not in DEPLOY_MODES:
            raise KnitValueError(f"deploy_mode must be one of {DEPLOY_MODES}, not {deploy_mode!r}")
        if application is not None and deploy_mode != "remote":
            raise KnitValueError("application= attaches to a remote-mode cluster: pass "
                             "deploy_mode='remote' too")
        self._attach_to = application
        check_worker_size(cpus, memory)
        check_worker_size(scheduler_cpus, scheduler_memory)
        self.deploy_mode = deploy_mode
        # A local scheduler's workers end with this process; a remote one's outlive it.
        self.knit, self.scheduler_knit = cluster_knits(
            deploy_mode, knit, autodetect, {name: value for name, value in locals().items()
                                            if name in KNIT_OPTIONS})
        self._scheduler_size = (scheduler_memory, scheduler_cpus)
        self._env_request = (env, packages, channels, conda_pars)
        self._env: str | None = None
        self._ip = scheduler_host or ip
        if dashboard_address is not None and not isinstance(dashboard_address, str):
            raise KnitTypeError(f"dashboard_address must be an address string such as ':8787' "
                                f"or None (no dashboard), not {dashboard_address!r}")
        self._dashboard_address = dashboard_address
        self._queue, self._app_name = queue, app_name
        self._cpus, self._memory = cpus, memory
        self._initial_workers = n_workers
        self._containers: list[dict] = []
        self._pending = 0
        self._seen_failed: set[str] = set()
        self._error: Exception | None = None
        self._app_running = False  # knit.start returned, and no stop() since
        self._watcher: asyncio.Task | None = None
        self.local_cluster: LocalCluster | None = None
        super().__init__(asynchronous=asynchronous, loop=loop, name=name,
                         quiet=progress is False or (knit is not None and knit._quiet))
        if not self.asynchronous:
            self._loop_runner.start()
            try:
                self.sync(self._start)
            except BaseException:
                self.close()
                raise

    def close(self, timeout: float | None = None):
        """Kill the YARN application and stop the scheduler (harmless twice)."""
        result = super().close(timeout)
        if not self.asynchronous:
            self._loop_runner.stop()
        return result

    def __await__(self):
        async def start():
            if self.status == Status.created:
                await self._start()
            return self
        return start().__await__()

    # ------------------------------------------------------------- start-up
    async def _start(self) -> None:
        if self.status != Status.created:
            return
        self.status = Status.starting
        if self.deploy_mode == "remote":
            address = await self._start_remote_scheduler()
        else:
            ip = self._ip or await self._run(self._guess_ip)
            dashboard, options = self._dashboard_address, {}
            if dashboard is None:
                # distributed serves its HTTP routes (health, metrics) even without the
                # dashboard, on :8787 of every interface: keep them on the scheduler's
                # address and a free port, and leave the dashboard itself off.
                dashboard, options = f"{ip}:0", {"scheduler_kwargs": {"dashboard": False}}
            elif dashboard.startswith(":"):  # the scheduler's interface
                dashboard = f"{ip}{dashboard}"
            self.local_cluster = await LocalCluster(
                n_workers=0, processes=False, protocol="tcp://", host=ip, scheduler_port=0,
                dashboard_address=dashboard, asynchronous=True, name=self.name, **options)
            address = self.local_cluster.scheduler_address
            _LOCAL_CLUSTERS.add(self)
        self.scheduler_comm = rpc(address)
        self._lock = asyncio.Lock()  # one container change (or refresh) at a time
        with warnings.catch_warnings():
            # .local_cluster subscribed to worker status too; this cluster takes it over
            warnings.filterwarnings("ignore", "Scheduler already contains a plugin")
            await super()._start()
        self._watcher = asyncio.ensure_future(self._watch())
        if self._initial_workers:
            await self._launch(self._initial_workers, self._cpus, self._memory, True)

    async def _start_remote_scheduler(self) -> str:
        if self._attach_to:
            return await self._attach(self._attach_to)
        self._env = await self._run(worker_environment, *self._env_request,
                                        None if self.quiet else self._log)
        memory, cpus = self._scheduler_size
        timeout = self.knit.start_timeout + self.knit.allocation_timeout
        address = await self._run(start_remote_scheduler, self.scheduler_knit, self._env, memory,
                                  cpus, self._queue, f"{self._app_name}-scheduler", timeout,
                                  self._dashboard_address is not None)
        self._log(f"scheduler {address} runs in {self.scheduler_knit.app_id}")
        await self._run(self.scheduler_knit.update_record, env=self._env)
        return address

    async def _attach(self, scheduler_app: str) -> str:
        """Take over the remote-mode cluster whose scheduler runs in ``scheduler_app``."""
        await self._run(self.scheduler_knit.attach, scheduler_app)
        record = await self._run(lambda: self.scheduler_knit.record)
        address = await self._run(self.scheduler_knit.get_value, SCHEDULER_KEY)
        self._env = record["env"]
        workers = record.get("workers")
        if workers:  # its ApplicationMaster keeps their target
            await self._run(self.knit.attach, workers["app"])
            self._cpus, self._memory = workers["cpus"], workers["memory"]
            self._app_running = True
        self._log(f"attached to the scheduler {address} in {scheduler_app}")
        return address

    def _guess_ip(self) -> str:
        nodes = self.knit.yarn_api.nodes(states="RUNNING")
        return scheduler_ip([n["nodeHostName"] for n in nodes])

    async def _is_live(self, knit: Knit) -> bool:
        """Whether ``knit`` has an application that has not ended."""
        return bool(knit.app_id) and await self._run(knit.runtime_status) not in FINAL_STATES

    async def _kill(self, knit: Knit, what: str) -> None:
        if await self._is_live(knit):
            await self._run(knit.kill)
            self._log(f"killed {what} {knit.app_id}")

    async def _run(self, function, *args, **kwargs):
        """Run a blocking knit call off the event loop."""
        call = functools.partial(function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(None, call)

    def start(self, n_workers: int = 1, cpus: int = 1, memory: int = 2048,
              checks: bool = True, **aliases):
        """Start the YARN application with ``n_workers`` workers and wait for them.

        Parameters
        ----------
        n_workers : int
            Workers (``nworkers`` is accepted too, as in the old knit docs).
        cpus, memory : int
            vcores (= threads) and MB of each worker container (``cpu`` accepted).
        checks : bool
            Check the cluster can hold them before submitting.

        Returns
        -------
        str
            The YARN application id of the workers (as knit 0.2.4 returned it).

        Raises
        ------
        ValueError
            Memory too small for a worker, or bad numbers; nothing was submitted.
        ApplicationError
            The application failed or was killed while starting (with how to
            read the logs).
        """
        n_workers = aliases.pop("nworkers", n_workers)
        cpus = aliases.pop("cpu", cpus)
        if aliases:
            raise KnitTypeError(f"unknown argument(s): {', '.join(aliases)}")
        check_worker_size(cpus, memory)
        return self.sync(self._launch, n_workers, cpus, memory, checks)

    async def _launch(self, n_workers: int, cpus: int, memory: int, checks: bool) -> str:
        self._raise_if_failed()
        if await self._is_live(self.knit):
            raise KnitError(f"{self} already runs {self.knit.app_id}; use scale() or "
                            "add_workers() to change it, or stop() it first")
        self._cpus, self._memory = cpus, memory
        if self._env is None:
            self._env = await self._run(worker_environment, *self._env_request,
                                        None if self.quiet else self._log)
        command = worker_command(self.scheduler_address, cpus, memory)
        # The ApplicationMaster keeps n_workers running, replacing the ones that die,
        # unless they crash-loop.
        await self._run(self.knit.start, command, num_containers=n_workers, virtual_cores=cpus,
                        memory=memory, env=self._env, app_name=self._app_name,
                        queue=self._queue, checks=checks, keep_alive=True, max_restarts=-1,
                        max_start_failures=MAX_START_FAILURES, start_grace=START_GRACE)
        self._app_running = True
        self._log(f"started {self.knit.app_id} with {n_workers} worker container(s)")
        if self.scheduler_knit is not None:  # so another process can attach to it all
            await self._run(self.scheduler_knit.update_record, workers={
                "app": self.knit.app_id, "cpus": cpus, "memory": memory})
        if n_workers:
            await self._wait_for_workers(n_workers, timeout=self.knit.allocation_timeout)
            await self._check_versions()
        return self.knit.app_id

    # ------------------------------------------------------------- watching
    async def _watch(self) -> None:
        """Every second: refresh the containers (which also tells the
        ApplicationMaster this client lives) and notice failures; the
        ApplicationMaster replaces dead workers itself."""
        while self.status == Status.running:
            if self._app_running and self._error is None:
                try:
                    await self._refresh()
                except Exception as exc:  # noqa: BLE001 - reported, and the loop goes on
                    self._log(f"watching {self.knit.app_id}: {exc}")
            await asyncio.sleep(1)

    async def _refresh(self) -> None:
        async with self._lock:
            await self._refresh_unlocked()

    async def _refresh_unlocked(self) -> None:
        try:
            reply = await self._run(self.knit.get_container_report)
        except ApplicationError as exc:
            if exc.state in FINAL_STATES:
                self._fail(exc)
            return
        self._containers, self._pending = reply["containers"], int(reply["pending"])
        for container in self._containers:
            if container["state"] == "COMPLETE" and container["id"] not in self._seen_failed:
                self._seen_failed.add(container["id"])
                self._log(f"worker container {container['id']} on {container['node']} exited "
                          f"with code {container['exitStatus']}")

    def _fail(self, error: Exception) -> None:
        if self._error is None:
            self._error = self._in_dask_terms(error)
            self._log(f"the cluster failed: {self._error}")

    def _in_dask_terms(self, error: Exception) -> Exception:
        """The ApplicationMaster's crash-loop verdict, said of Dask workers."""
        if not (isinstance(error, ApplicationError) and "in a row failed within" in str(error)):
            return error
        explained = KnitError(
            f"{MAX_START_FAILURES} worker containers of {self.knit.app_id} in a row exited "
            f"before connecting to the scheduler at {self.scheduler_address} (within "
            f"{START_GRACE:.0f} s of starting); read why with cluster.get_logs() or "
            "cluster.knit.print_logs() (if the workers could not reach that address from "
            "their nodes, pass scheduler_host= an address of this machine that they can "
            f"reach). YARN says: {error}")
        explained.__cause__ = error
        return explained

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error

    def _log(self, message: str) -> None:
        logger.info(message)
        super()._log(message)

    # ----------------------------------------------------- workers & scaling
    @property
    def env(self) -> str | None:
        """The workers' environment archive (local or ``hdfs://`` path): the ``env=``
        given, or the one built for them; None until :meth:`start` needs it."""
        return self._env or self._env_request[0]

    @property
    def workers(self) -> list[str]:
        """The ids of the live worker containers (allocated or running), sorted, as
        knit 0.2.4 listed them (the ApplicationMaster's container is not one);
        :attr:`worker_containers` has their details."""
        return sorted(self.worker_containers)

    @property
    def worker_containers(self) -> dict[str, dict]:
        """Live worker containers (allocated or running) by id: state, node, size."""
        return {c["id"]: c for c in self._containers if c["state"] in LIVE}

    @property
    def plan(self) -> set[str]:
        return set(self.workers) | {f"pending-{i}" for i in range(self._pending)}

    requested = plan

    async def _wait_for_workers(self, n_workers: int = 0, timeout: float | None = None) -> None:
        with count_bar(n_workers, "Dask workers connected", "worker",
                       enabled=not self.quiet and not self.asynchronous) as bar:
            async def connected() -> int:
                self._raise_if_failed()
                if self.knit.app_id:
                    state = await self._run(self.knit.yarn_api.status, self.knit.app_id)
                    if state["state"] in FINAL_STATES:
                        self._fail(ApplicationError(self.knit.app_id, state["state"],
                                                    state.get("diagnostics", "")))
                        self._raise_if_failed()
                bar.to(len(self.observed))
                return len(self.observed)

            await async_wait_until(
                connected, timeout or float("inf"), interval=0.25,
                until=lambda count: count >= n_workers,
                what=lambda count: (f"{count or 0} of {n_workers} Dask workers connected; "
                                    f"containers: {self._container_summary()}; read the logs "
                                    "with cluster.get_logs()"))
        if self.knit.app_id:  # workers can connect before the last look at the containers
            await self._refresh()

    def _container_summary(self) -> str:
        states = [c["state"] for c in self._containers]
        counts = {state: states.count(state) for state in sorted(set(states))}
        return ", ".join(f"{n} {state}" for state, n in counts.items()) + f", {self._pending} pending"

    def scale(self, n: int):
        """Run ``n`` workers: containers are asked for or retired to match, and
        workers that die are replaced while this target stands."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise KnitValueError(f"n must be a whole number >= 0, not {n!r}")
        return self.sync(self._scale, n)

    async def _scale(self, n: int) -> None:
        self._raise_if_failed()
        if not await self._is_live(self.knit):
            if n:
                await self._launch(0, self._cpus, self._memory, True)
            else:
                return
        await self._refresh()
        surplus = len(self.plan) - n
        if surplus > 0:  # retire the workers chosen here gracefully first
            not_connected = [cid for cid in self.workers if cid not in set(self.observed)]
            to_close = [f"pending-{i}" for i in range(self._pending)][:surplus]
            to_close += not_connected[:surplus - len(to_close)]
            if surplus > len(to_close):
                to_close += await self.scheduler_comm.workers_to_close(
                    n=surplus - len(to_close), attribute="name")
            await self._retire(to_close)
        async with self._lock:
            target = await self._run(self.knit.scale, n)
            self._log(f"the ApplicationMaster keeps {target} worker container(s)")
            await self._refresh_unlocked()

    async def scale_down(self, workers) -> None:
        """Retire these workers (names, which are container ids, or addresses) and
        remove their containers (what ``adapt`` calls)."""
        await self._retire([self._worker_name(w) for w in workers])

    def _worker_name(self, worker: str) -> str:
        info = self.scheduler_info["workers"].get(worker)
        return str(info["name"]) if info else str(worker)

    async def _retire(self, names: list[str]) -> None:
        """Withdraw pending asks (``pending-N`` names), retire connected workers,
        and remove the containers."""
        pending = sum(1 for n in names if n.startswith("pending-"))
        names = [n for n in names if not n.startswith("pending-")]
        if pending:
            async with self._lock:
                withdrawn = await self._run(self.knit.remove_pending_containers, pending)
                self._pending -= withdrawn
        connected = [n for n in names if n in set(self.observed)]
        if connected:
            await self.scheduler_comm.retire_workers(names=connected, remove=True,
                                                     close_workers=True)
        async with self._lock:
            for name in names:
                try:
                    await self._run(self.knit.remove_containers, name)
                except (NotFoundError, ValueError):
                    pass  # it had exited already
            await self._refresh_unlocked()

    def add_workers(self, n_workers: int = 1, cpus: int = 1, memory: int = 2048):
        """Ask for ``n_workers`` more worker containers (of their own size)."""
        check_worker_size(cpus, memory)
        return self.sync(self._add_workers, n_workers, cpus, memory)

    async def _add_workers(self, n_workers: int, cpus: int, memory: int) -> None:
        self._raise_if_failed()
        if cpus != self._cpus or memory != self._memory:
            logger.warning("workers of %d cpus and %d MB run with the command of the first "
                           "ones (%d threads, %d MB limit)", cpus, memory, self._cpus, self._memory)
        async with self._lock:
            await self._run(self.knit.add_containers, n_workers, cpus, memory)
            await self._refresh_unlocked()

    def remove_worker(self, container_id: str):
        """Retire the worker in ``container_id`` and release its container."""
        return self.sync(self.scale_down, [container_id])

    # ----------------------------------------------------------- checks, logs
    async def _check_versions(self) -> None:
        here = get_versions()
        workers = await self.scheduler_comm.broadcast(msg={"op": "versions"})
        message = error_message(here, workers, here, source_name="this process")["warning"]
        if message:
            warnings.warn(f"the workers of {self.knit.app_id} run other versions than this "
                          f"process; results may not deserialize:\n{message}",
                          VersionMismatchWarning, stacklevel=2)

    async def _get_logs(self, cluster=True, scheduler=True, workers=True):
        logs = await super()._get_logs(cluster=cluster, scheduler=scheduler, workers=workers)
        if workers and self.knit.app_id:
            logs.update(await self._run(dask_log_entries, self.knit))
        return logs

    # ------------------------------------------------------------- stopping
    def stop(self):
        """Kill the YARN application (its workers); the scheduler stays, so
        :meth:`start` can launch new workers."""
        return self.sync(self._stop)

    async def _stop(self) -> None:
        self._app_running = False
        await self._kill(self.knit, "the workers' application")
        self._containers, self._pending = [], 0

    async def _close(self) -> None:
        if self.status in (Status.closed, Status.closing):
            return
        try:
            await self._stop()
        except KnitError as exc:
            self._log(f"stopping the YARN application failed: {exc}")
        await super()._close()
        if self._watcher is not None:
            self._watcher.cancel()
        if self.local_cluster is not None:
            await self.local_cluster._close()
        if self.scheduler_knit is not None:
            await self._kill(self.scheduler_knit, "the scheduler's application")

    def _repr_html_(self, cluster_status: str | None = None) -> str:
        """distributed's cluster card, plus the YARN application and its containers."""
        rm = f"{self.knit.conf['scheme']}://{self.knit.conf['rm']}:{self.knit.conf['rm_port']}"
        app = self.knit.app_id
        link = f'<a href="{rm}/cluster/app/{app}" target="_blank">{app}</a>' if app else "not started"
        status = (f'<tr><td style="text-align: left;"><strong>YARN application:</strong> {link}'
                  f'</td><td style="text-align: left;"><strong>Containers:</strong> '
                  f"{len(self.workers)} live, {self._pending} pending ({self.deploy_mode} "
                  "scheduler)</td></tr>")
        return super()._repr_html_(cluster_status=(cluster_status or "") + status)

    def __repr__(self) -> str:
        return (f"DaskYARNCluster({self.knit.app_id or 'no application'}, "
                f"{self.scheduler_address!r}, workers={len(self.scheduler_info['workers'])}, "
                f"containers={len(self.workers)}+{self._pending} pending)")


def dask_log_entries(knit: Knit) -> dict[str, Log]:
    """Every container's YARN log files, as ``get_logs`` entries of a Dask cluster
    (``container <id>``; ``YARN`` says why if they cannot be read)."""
    try:
        found = knit.logs()
    except KnitError as exc:
        return {"YARN": Log(f"container logs unavailable: {exc}")}
    return {f"container {container}": Log("\n".join(
        f"-- {name}\n{body.rstrip()}" for name, body in sorted(files.items()) if body.strip()))
        for container, files in sorted(found.items())}


@atexit.register
def _close_local_clusters() -> None:
    for cluster in list(_LOCAL_CLUSTERS):
        if cluster.status == Status.running and not cluster.asynchronous:
            cluster.close(timeout=30)
