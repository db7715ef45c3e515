"""A running application of services, as :meth:`knit.Knit.submit` returns it and
:func:`knit.current` gives it inside one of its containers: scale a service, add or
kill containers, list them, end it with a status, its key-value store."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from .am_client import AMClient, Container, ContainerState
from .arguments import whole_number
from .exceptions import KnitError, KnitTypeError, KnitValueError, NotFoundError
from .token_file import read_secret_keys

#: Final statuses an application may end with through :meth:`Application.shutdown`.
SHUTDOWN_STATUSES = ("SUCCEEDED", "FAILED", "KILLED")

#: The control secret's file in a container's working folder (LaunchContract.SecretName).
SECRET_FILE = "knit-control.secret"
#: A container's credential in its token file (ControlServer.CredentialKey).
CREDENTIAL_KEY = "knit.container.credential"


class Application:
    """A running knit application, through its ApplicationMaster.

    Parameters
    ----------
    am : AMClient
        Its control endpoint.
    knit : Knit, optional
        The Knit that submitted or attached to it (for what takes the
        ResourceManager or HDFS: :meth:`move`, :meth:`get_specification`, :meth:`kill`).
    """

    def __init__(self, am: AMClient, knit=None, container: "CurrentContainer | None" = None):
        self.am, self._knit = am, knit
        #: The container this process runs in (from :func:`knit.current`), else None.
        self.container = container

    @property
    def id(self) -> str:
        """The application id."""
        return self.am.app_id

    app_id = id

    def __repr__(self) -> str:
        return f"Application<{self.id}>"

    # ------------------------------------------------------------ containers
    def get_containers(self, services: list[str] | None = None,
                       states: list[str] | None = None) -> list[Container]:
        """Its containers, of these services and in these states (default: the live
        ones, ALLOCATED and RUNNING, of every service)."""
        wanted = {ContainerState(s) for s in states} if states else {
            ContainerState.ALLOCATED, ContainerState.RUNNING}
        report = self.am.report()
        if services is not None:
            unknown = set(services) - set(report.services)
            if unknown:
                raise KnitValueError(f"no service {', '.join(sorted(unknown))} in {self.id} (it has "
                                     f"{', '.join(report.services)})")
        return [c for c in report.containers if c.state in wanted
                and (services is None or c.service in services)]

    def scale(self, service: str, count: int | None = None, delta: int | None = None) -> int:
        """Keep ``count`` containers of ``service``, or change its target by ``delta``;
        returns the target set."""
        if (count is None) == (delta is None):
            raise KnitValueError("give count or delta (one of them)")
        if count is None:
            if isinstance(delta, bool) or not isinstance(delta, int):
                raise KnitTypeError(f"delta must be a whole number, not {delta!r}")
            count = max(0, self.am.report().services[service].target + delta)
        return self.am.set_target(whole_number("count", count, minimum=0), service=service)

    def add_container(self, service: str, env: dict[str, str] | None = None) -> int:
        """Ask for one more container of ``service``, with ``env`` overriding its
        variables; returns the service's target."""
        if env is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
            raise KnitTypeError("env must map variable names to strings")
        return self.am.ask(1, service=service, env=env)

    def kill_container(self, container_id: str) -> None:
        """Stop one container (:class:`~knit.exceptions.NotFoundError` if none such is live)."""
        self.am.remove(container_id)

    # ------------------------------------------------------------ the whole
    def shutdown(self, status: str = "SUCCEEDED", diagnostics: str = "") -> None:
        """End the application with ``status`` (SUCCEEDED, FAILED or KILLED) and the
        ``diagnostics`` YARN shows; its containers are stopped."""
        status = str(status).upper()
        if status not in SHUTDOWN_STATUSES:
            raise KnitValueError(f"status must be one of {', '.join(SHUTDOWN_STATUSES)}, not {status!r}")
        self.am.shutdown(status, diagnostics)

    def set_progress(self, progress: float) -> None:
        """The progress YARN shows for the application, from 0 to 1."""
        if isinstance(progress, bool) or not isinstance(progress, (int, float)) or not 0 <= progress <= 1:
            raise KnitValueError(f"progress must be a number from 0 to 1, not {progress!r}")
        self.am.set_progress(float(progress))

    def get_specification(self):
        """The :class:`~knit.application_spec.ApplicationSpec` it was submitted with."""
        from .application_spec import ApplicationSpec
        record = self._require_knit("get_specification").record
        if "spec" not in record:
            raise NotFoundError(f"{self.id} holds no specification (it was started with Knit.start)",
                                "NotFoundException")
        return ApplicationSpec.from_dict(record["spec"])

    def move(self, queue: str) -> None:
        """Move the application to another scheduler queue."""
        knit = self._require_knit("move")
        knit.java.call("moveApplication", self.id, queue)

    def kill(self) -> bool:
        """Kill it (ends KILLED); see :meth:`knit.Knit.kill`."""
        return self._require_knit("kill").kill()

    def _require_knit(self, what: str):
        if self._knit is None:
            raise KnitError(f"{what} needs the ResourceManager: call it from a Knit "
                            "(Knit().attach(app_id)), not from inside a container")
        return self._knit

    @property
    def kv(self) -> "KeyValueStore":
        """The application's key-value store, as a mapping of str to str."""
        return KeyValueStore(self.am, self.container.container_id if self.container else None)


class KeyValueStore(MutableMapping):
    """The key-value store of a running application (kept by its ApplicationMaster,
    across its attempts). As a mapping its values are text; :meth:`put` also takes
    bytes, which :meth:`get_bytes` gives back unchanged.

    Parameters
    ----------
    am : AMClient
    container_id : str, optional
        The container this process runs in (what :meth:`own` names as owner).
    """

    def __init__(self, am: AMClient, container_id: str | None = None):
        self.am, self.container_id = am, container_id

    def put(self, key: str, value: str | bytes, owner: str | None = None) -> None:
        """Set ``key`` to text or bytes; with ``owner`` (a live container's id) it is
        deleted when that container ends."""
        if not isinstance(value, (str, bytes)):
            raise KnitTypeError(f"values are str or bytes, not {type(value).__name__}")
        self.am.kv_set(key, value, owner=owner)

    def get_bytes(self, key: str, wait: float = 0.0) -> bytes:
        """The value of ``key`` as the bytes it was set to (text as UTF-8), waiting up
        to ``wait`` seconds (:class:`~knit.exceptions.NotFoundError` after)."""
        return self.am.kv_get_bytes(key, wait)

    def own(self, key: str, value: str | bytes) -> None:
        """Set ``key``, owned by this process's container (see :func:`knit.current`)."""
        if not self.container_id:
            raise KnitError("own() names this process's container: call it inside one "
                            "(knit.current().kv.own(...)), or use put(key, value, owner=...)")
        self.put(key, value, owner=self.container_id)

    def compare_and_set(self, key: str, expected: str | None, value: str | bytes,
                        owner: str | None = None) -> bool:
        """Set ``key`` to ``value`` only if it holds ``expected`` (None: only if it
        is not set), atomically; whether it did (e.g. to elect one leader)."""
        return self.am.kv_compare_and_set(key, expected, value, owner=owner)

    def __getitem__(self, key: str) -> str:
        try:
            return self.am.kv_get(key)
        except NotFoundError:
            raise KeyError(key) from None

    def __setitem__(self, key: str, value: str) -> None:
        self.put(key, value)

    def __delitem__(self, key: str) -> None:
        if not self.am.kv_delete(key):
            raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self.am.kv_items()))

    def __len__(self) -> int:
        return len(self.am.kv_items())

    def wait(self, key: str, timeout: float = 60.0) -> str:
        """The value of ``key`` once it is set (:class:`~knit.exceptions.NotFoundError`
        after ``timeout`` seconds)."""
        return self.am.kv_get(key, wait=timeout)

    def prefix(self, start: str) -> dict[str, str]:
        """The keys starting with ``start``, and their values."""
        return {k: v for k, v in sorted(self.am.kv_items().items()) if k.startswith(start)}


@dataclass(frozen=True)
class CurrentContainer:
    """Where the calling process runs: a container of a knit application."""

    app_id: str
    service: str
    instance: int
    container_id: str
    am_address: str
    #: The size YARN granted it (0 where unknown, as in a driver).
    memory_mb: int = 0
    vcores: int = 0


class _FixedAddress:
    """The ResourceManager's answer AMClient needs, from inside a container (which
    knows its ApplicationMaster's address from its environment)."""

    def __init__(self, address: str):
        self.address = address

    def status(self, app_id: str) -> dict:
        return {"state": "RUNNING", "amRPCAddress": self.address}


def current(environ: dict | None = None, folder: str | Path = ".") -> Application:
    """The application of the container this process runs in (for a script of a
    submitted service, or a driver): :attr:`Application.container` says which
    container it is.

    It calls the ApplicationMaster with the container's own credential, from the
    container's private token file (``$HADOOP_TOKEN_FILE_LOCATION``), or, in the
    ApplicationMaster's container (a driver) and with ``worker_kv=True``, with the
    application's secret file.

    Raises
    ------
    KnitError
        Not inside a container of a knit application.
    """
    env = os.environ if environ is None else environ
    missing = [v for v in ("KNIT_APPLICATION_ID", "KNIT_AM_ADDRESS") if not env.get(v)]
    if missing:
        raise KnitError("knit.current() works inside a container of a knit application: "
                        f"{', '.join(missing)} is not set")
    where = CurrentContainer(app_id=env["KNIT_APPLICATION_ID"], service=env.get("KNIT_SERVICE", ""),
                             instance=int(env.get("KNIT_INSTANCE", "-1")),
                             container_id=env.get("CONTAINER_ID", ""), am_address=env["KNIT_AM_ADDRESS"],
                             memory_mb=int(env.get("KNIT_RESOURCE_MEMORY_MB", "0")),
                             vcores=int(env.get("KNIT_RESOURCE_VCORES", "0")))
    secret_file = Path(folder) / SECRET_FILE
    if secret_file.is_file():
        secret, as_container = secret_file.read_text().strip(), None
    else:
        secret, as_container = _credential(env), where.container_id
    am = AMClient(_FixedAddress(where.am_address), where.app_id, secret, reconnect_timeout=5.0,
                  container_id=as_container)
    return Application(am, container=where)


def _credential(env) -> str:
    """This container's credential, from its token file."""
    tokens = env.get("HADOOP_TOKEN_FILE_LOCATION")
    found = read_secret_keys(tokens).get(CREDENTIAL_KEY) if tokens and Path(tokens).is_file() else None
    if found is None:
        raise KnitError("this container holds no knit credential (its token file has none): "
                        "its ApplicationMaster is of an older knit")
    return found.decode()
