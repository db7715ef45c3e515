"""What a running knit application answers through its ApplicationMaster: its
containers, scaling, and its key-value store (the calls of :class:`~knit.Knit` once
it has started or attached to an application)."""

from __future__ import annotations

from typing import Callable

from . import checks as checks_module
from .am_client import AMClient, Report
from .arguments import whole_number
from .exceptions import KnitTypeError
from .spec import LaunchSpec
from .yarn_api import YARNAPI


class ApplicationMasterVerbs:
    """The ApplicationMaster's verbs, as :class:`~knit.Knit` offers them.

    A mixin: the class using it provides the running application (``_require_app``),
    its control secret and the ResourceManager's API.
    """

    yarn_api: YARNAPI
    conf: dict
    start_timeout: float
    am_memory: int
    am_vcores: int
    _secret: str
    _am: AMClient | None
    #: The running application's id, or a KnitError saying there is none yet.
    _require_app: Callable[[], str]

    @property
    def am(self) -> AMClient:
        """The typed client of the running application's ApplicationMaster."""
        app_id = self._require_app()
        if self._am is None or self._am.app_id != app_id:
            self._am = AMClient(self.yarn_api, app_id, self._secret,
                                reconnect_timeout=max(self.start_timeout, 30.0))
        return self._am

    def get_containers(self) -> list[dict]:
        """Every container of the application, as knit 0.2.4 listed them: the
        ApplicationMaster's own first (``"am": True``), then each worker container
        (``"am": False``) the ApplicationMaster holds or held: id, state (ALLOCATED,
        RUNNING, COMPLETE, REMOVED), node, nodeHttpAddress, memoryMb, vcores,
        exitStatus.

        :meth:`worker_containers` lists the workers alone."""
        report = self.am.report()
        workers = [{**c.as_dict(), "am": False} for c in report.containers]
        return [self._am_container_entry(report), *workers]

    def worker_containers(self) -> list[dict]:
        """The worker containers the ApplicationMaster holds or held (not its own),
        as in :meth:`get_containers`."""
        return [c.as_dict() for c in self.am.report().containers]

    def _am_container_entry(self, report: Report) -> dict:
        """The running attempt's ApplicationMaster container, shaped as a worker's entry
        (from its own report; from the ResourceManager for an AM that does not say)."""
        if report.am_node:
            container, node, web = report.am_container, report.am_node, report.am_node_http
        else:
            attempt = self.yarn_api.app_attempts(self._require_app())[-1]
            container, node, web = (attempt.get("containerId", ""), attempt.get("nodeId", ""),
                                    attempt.get("nodeHttpAddress", ""))
        return {"id": container, "state": "RUNNING", "node": node, "nodeHttpAddress": web,
                "memoryMb": self.am_memory, "vcores": self.am_vcores, "exitStatus": None, "am": True}

    def get_container_report(self) -> dict:
        """The ApplicationMaster's view in one call: ``containers`` (as
        :meth:`worker_containers`), ``pending`` (asks YARN has not granted yet),
        ``target`` (containers it keeps live or asked for), ``restarts`` and
        ``max_restarts``, ``attempt`` (its attempt number), ``am`` (its own
        container's id), ``am_node`` and ``am_node_http`` (its node) and
        ``ended_not_listed`` (ended containers no longer listed: only the newest 100
        ended ones are kept, counted in the totals). ``am.report()``
        gives the same as a :class:`~knit.am_client.Report`."""
        return self.am.report().as_dict()

    def get_container_statuses(self) -> dict[str, str]:
        """``{container_id: state}`` for every container of :meth:`get_containers`
        (the ApplicationMaster's included, as in knit 0.2.4)."""
        return {c["id"]: c["state"] for c in self.get_containers()}

    def add_containers(self, num_containers: int = 1, virtual_cores: int = 1, memory: int = 128) -> None:
        """Ask the running application for more containers running the same command.

        Raises
        ------
        TypeError, ValueError
            Bad numbers.
        PreflightError
            The containers could never fit in the cluster (size above the
            scheduler's maximum or any node, or more than the whole cluster).
        RequestRefusedError
            The ApplicationMaster refused the ask; the application runs on.
        """
        self._check_fits(num_containers, virtual_cores, memory)
        self.am.ask(num_containers, memory_mb=memory, vcores=virtual_cores)

    def scale(self, n: int, virtual_cores: int | None = None, memory: int | None = None) -> int:
        """Set how many worker containers the application runs: the ApplicationMaster
        asks for the missing ones, withdraws asks and stops the newest containers
        beyond ``n``, and (within ``max_restarts``) replaces failed ones.

        Parameters
        ----------
        n : int
            The target number of containers, 0 or more.
        virtual_cores, memory : int, optional
            Size of containers asked for (default: the size given to :meth:`start`).

        Returns
        -------
        int
            The target now set.
        """
        whole_number("n", n, minimum=0)
        if virtual_cores is not None or memory is not None:
            self._check_fits(max(n, 1), 1 if virtual_cores is None else virtual_cores,
                             128 if memory is None else memory)
        return self.am.set_target(n, memory_mb=memory, vcores=virtual_cores)

    def _check_fits(self, count: int, virtual_cores: int, memory: int) -> None:
        spec = LaunchSpec(cmd="-", num_containers=count, virtual_cores=virtual_cores, memory=memory)
        checks_module.check_fits(self.yarn_api, spec, self.conf)

    def remove_pending_containers(self, count: int = 1) -> int:
        """Withdraw up to ``count`` container asks YARN has not granted yet; returns
        how many were withdrawn (fewer if fewer were pending)."""
        return self.am.withdraw(whole_number("count", count))

    def remove_containers(self, container_id: str | dict) -> None:
        """Stop one worker container (its id, or its entry from :meth:`get_containers`).

        Raises
        ------
        RequestRefusedError
            It is the ApplicationMaster's container (the entry marked ``"am": True``).
        NotFoundError
            No live worker container has that id.
        """
        self.am.remove(container_id["id"] if isinstance(container_id, dict) else container_id)

    def heartbeat(self) -> None:
        """Tell a ``keep_alive`` application with a ``client_timeout`` that this
        client is alive (every other call to it does too)."""
        self.am.heartbeat()

    def set_value(self, key: str, value: str) -> None:
        """Put ``value`` under ``key`` in the application's key-value store (kept by
        its ApplicationMaster, across its attempts; containers can set keys too)."""
        if not isinstance(value, str):
            raise KnitTypeError(f"value must be a string, not {type(value).__name__}")
        self.am.kv_set(key, value)

    def get_value(self, key: str, wait: float = 0) -> str:
        """The value of ``key``, waiting up to ``wait`` seconds for it to be set.

        Raises
        ------
        NotFoundError
            Not set (within ``wait``).
        """
        return self.am.kv_get(key, wait)
