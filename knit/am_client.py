"""The ApplicationMaster's control API, typed: the one Python module that knows its
paths, verbs, query names and reply keys (``java_src/knit/am/ControlServer.scala``
serves them; ``tests/data/control_api.json`` pins both sides).

:class:`AMClient` finds the endpoint of a running application through the
ResourceManager and follows it across ApplicationMaster attempts; its replies are
:class:`Report`, :class:`Container` and plain numbers and strings.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

import requests

from . import sessions
from .exceptions import (ApplicationError, KeyConflictError, KnitError, KnitTimeoutError,
                         NotFoundError, RequestRefusedError)
from .waiting import wait_until
from .yarn_api import FINAL_STATES, YARNAPI, registered


class ContainerState(str, enum.Enum):
    """A worker container's state as the ApplicationMaster reports it."""

    #: Granted by YARN, not yet started by its NodeManager.
    ALLOCATED = "ALLOCATED"
    #: Started.
    RUNNING = "RUNNING"
    #: Ended by itself (its exit status says how) or lost with its node.
    COMPLETE = "COMPLETE"
    #: Stopped on request (``remove``, or a lower target).
    REMOVED = "REMOVED"

    @property
    def live(self) -> bool:
        """Whether the container holds resources (allocated or running)."""
        return self in (ContainerState.ALLOCATED, ContainerState.RUNNING)


@dataclass(frozen=True)
class Container:
    """One worker container in the ApplicationMaster's report."""

    id: str
    #: The service it belongs to (``"worker"`` for ``Knit.start``'s).
    service: str
    state: ContainerState
    node: str
    node_http_address: str
    memory_mb: int
    vcores: int
    #: None while it runs.
    exit_status: int | None

    @classmethod
    def from_reply(cls, entry: dict) -> "Container":
        return cls(id=entry["id"], service=entry["service"], state=ContainerState(entry["state"]),
                   node=entry["node"],
                   node_http_address=entry["nodeHttpAddress"], memory_mb=int(entry["memoryMb"]),
                   vcores=int(entry["vcores"]), exit_status=entry["exitStatus"])

    def as_dict(self) -> dict:
        """The entry as :meth:`knit.Knit.worker_containers` lists it (the reply's keys)."""
        return {"id": self.id, "service": self.service, "state": self.state.value, "node": self.node,
                "nodeHttpAddress": self.node_http_address, "memoryMb": self.memory_mb,
                "vcores": self.vcores, "exitStatus": self.exit_status}


@dataclass(frozen=True)
class ServiceCounts:
    """One service's numbers in the ApplicationMaster's report."""

    target: int
    pending: int
    restarts: int
    max_restarts: int
    ended_not_listed: int

    @classmethod
    def from_reply(cls, entry: dict) -> "ServiceCounts":
        return cls(**{name: int(entry[name]) for name in
                      ("target", "pending", "restarts", "max_restarts", "ended_not_listed")})


@dataclass(frozen=True)
class Report:
    """The ApplicationMaster's view of its application, in one reply."""

    #: The ApplicationMaster's own container id.
    am_container: str
    #: Its attempt number (1 for the first).
    attempt: int
    #: Worker containers it keeps live or has asked for.
    target: int
    #: Asks YARN has not granted yet.
    pending: int
    #: Failed containers replaced so far, and the limit (-1: none).
    restarts: int
    max_restarts: int
    #: Ended containers no longer listed (only the newest 100 ended ones are kept).
    ended_not_listed: int
    containers: tuple[Container, ...]
    #: Each service's numbers (the fields above are their sums; ``max_restarts`` is
    #: the first service's).
    services: dict[str, ServiceCounts]
    #: The ApplicationMaster's node (``host:port``, YARN's node id) and its
    #: NodeManager's web address ("" from an ApplicationMaster of knit 0.3.0's first builds).
    am_node: str = ""
    am_node_http: str = ""

    @classmethod
    def from_reply(cls, reply: dict) -> "Report":
        return cls(am_container=reply["am"], attempt=int(reply["attempt"]),
                   target=int(reply["target"]), pending=int(reply["pending"]),
                   restarts=int(reply["restarts"]), max_restarts=int(reply["max_restarts"]),
                   ended_not_listed=int(reply["ended_not_listed"]),
                   containers=tuple(Container.from_reply(c) for c in reply["containers"]),
                   services={name: ServiceCounts.from_reply(counts)
                             for name, counts in reply["services"].items()},
                   am_node=reply.get("am_node", ""), am_node_http=reply.get("am_node_http", ""))

    @property
    def live(self) -> list[Container]:
        """The containers holding resources."""
        return [c for c in self.containers if c.state.live]

    def as_dict(self) -> dict:
        """The report as :meth:`knit.Knit.get_container_report` returns it."""
        return {"am": self.am_container, "am_node": self.am_node,
                "am_node_http": self.am_node_http, "attempt": self.attempt, "target": self.target,
                "pending": self.pending, "restarts": self.restarts,
                "max_restarts": self.max_restarts, "ended_not_listed": self.ended_not_listed,
                "containers": [c.as_dict() for c in self.containers],
                "services": {name: vars(counts) for name, counts in self.services.items()}}


#: Longest wait of one ``GET /kv/KEY?wait=S`` (the endpoint holds it up to 60 s).
_KV_WAIT_STEP = 50.0


class AMClient:
    """The control endpoint of one application, found through the ResourceManager.

    The address is resolved once and again only when a call cannot connect: after a
    crash, YARN starts a new attempt of the ApplicationMaster elsewhere, and the
    calls carry on with it (waiting up to ``reconnect_timeout`` seconds).

    Parameters
    ----------
    api : YARNAPI
    app_id, secret : str
        The application and its control secret.
    timeout : float
        Seconds for one call's reply.
    reconnect_timeout : float
        Seconds to wait for a reachable ApplicationMaster.
    container_id : str, optional
        Call as this container of the application, ``secret`` being its own
        credential (see :func:`knit.current`), not the application's secret.
    """

    def __init__(self, api: YARNAPI, app_id: str, secret: str, timeout: float = 30.0,
                 reconnect_timeout: float = 120.0, container_id: str | None = None):
        self.api, self.app_id, self.secret = api, app_id, secret
        self.container_id = container_id
        self.timeout, self.reconnect_timeout = timeout, reconnect_timeout
        self._address: str | None = None
        self._session = sessions.session(use_proxies=False)  # the AM is on the cluster

    def __repr__(self) -> str:
        return f"AMClient<{self.app_id} at {self._address or 'unresolved'}>"

    @property
    def address(self) -> str:
        """``host:port`` of the running attempt's control endpoint."""
        if self._address is None:
            self._address = self._resolve(wait=0.0)
        return self._address

    def _resolve(self, wait: float) -> str:
        """The registered address, waiting up to ``wait`` s for an attempt to register."""
        def status() -> dict:
            info = self.api.status(self.app_id)
            if info["state"] in FINAL_STATES:
                raise ApplicationError(self.app_id, info["state"], info.get("diagnostics", ""))
            return info

        def why(info: dict | None) -> str:
            info = info or {}
            return (f"the ApplicationMaster of {self.app_id} is not reachable (YARN says "
                    f"{info.get('state', '?')}: {info.get('diagnostics') or 'no diagnostics'})")

        return wait_until(status, wait, interval=0.5, what=why, until=registered)["amRPCAddress"]

    @property
    def _headers(self) -> dict[str, str]:
        if self.container_id:
            return {"X-Knit-Secret": self.secret, "X-Knit-Container": self.container_id}
        return {"X-Knit-Secret": self.secret}

    # ------------------------------------------------------------ the verbs
    def report(self) -> Report:
        """Containers, asks pending, target and restarts."""
        return Report.from_reply(self.call("GET", "/containers"))

    def set_target(self, n: int, memory_mb: int | None = None, vcores: int | None = None,
                   service: str | None = None) -> int:
        """Keep ``n`` containers of ``service`` (default: the first; new ones of this
        size); returns the target set."""
        return int(self.call("PUT", "/containers/target", n=n, **_size(memory_mb, vcores),
                             **_service(service))["target"])

    def ask(self, count: int, memory_mb: int | None = None, vcores: int | None = None,
            service: str | None = None, env: dict[str, str] | None = None) -> int:
        """Ask for ``count`` more containers of ``service`` (default: the first), with
        ``env`` overriding variables of theirs; returns the service's new target."""
        body = json.dumps({"env": env}) if env else None
        return int(self.call("POST", "/containers", data=body, count=count,
                             **_size(memory_mb, vcores), **_service(service))["target"])

    def withdraw(self, count: int, service: str | None = None) -> int:
        """Withdraw up to ``count`` asks not granted yet; returns how many were."""
        return int(self.call("DELETE", "/containers/pending", count=count,
                             **_service(service))["withdrawn"])

    def remove(self, container_id: str) -> None:
        """Stop one worker container (:class:`NotFoundError` if none such is live)."""
        self.call("DELETE", f"/containers/{container_id}")

    def shutdown(self, status: str = "SUCCEEDED", diagnostics: str = "") -> None:
        """End the application with this final status (SUCCEEDED, FAILED or KILLED)
        and the diagnostics YARN shows."""
        try:
            self.call("POST", "/shutdown", status=status, **({"diagnostics": diagnostics}
                                                              if diagnostics else {}))
        except ApplicationError as exc:
            if exc.state != "FINISHED":  # it ended as asked, before its reply reached us
                raise

    def set_progress(self, progress: float) -> None:
        """The progress YARN shows, from 0 to 1."""
        self.call("PUT", "/progress", value=progress)

    def heartbeat(self) -> None:
        """Say this client is alive (what ``client_timeout`` watches)."""
        self.call("POST", "/heartbeat")

    def kv_set(self, key: str, value: str | bytes, owner: str | None = None) -> None:
        """Set ``key`` in the application's key-value store (text as UTF-8, or bytes);
        with ``owner`` (a live container's id) it is deleted when that container ends."""
        self.call("PUT", f"/kv/{key}", data=_encoded(value), **({"owner": owner} if owner else {}))

    def kv_get_bytes(self, key: str, wait: float = 0.0) -> bytes:
        """The value of ``key`` as the bytes it was set to (see :meth:`kv_get`)."""
        return self._kv_wait(key, wait, raw=True)

    def kv_compare_and_set(self, key: str, expected: str | None, value: str | bytes,
                           owner: str | None = None) -> bool:
        """Set ``key`` to ``value`` only if it holds ``expected`` (None: only if it is
        not set), atomically; whether it did."""
        condition = {"absent": "1"} if expected is None else {"expect": expected}
        try:
            self.call("PUT", f"/kv/{key}", data=_encoded(value), **condition,
                      **({"owner": owner} if owner else {}))
        except KeyConflictError:
            return False
        return True

    def kv_get(self, key: str, wait: float = 0.0) -> str:
        """The value of ``key``, waiting up to ``wait`` s for it to be set.

        Raises
        ------
        NotFoundError
            Not set within ``wait``.
        """
        return self._kv_wait(key, wait, raw=False)

    def _kv_wait(self, key: str, wait: float, raw: bool):
        """One value (its bytes with ``raw``), waiting in steps the endpoint allows."""
        remaining = float(wait)
        while True:
            try:
                if raw:
                    return self.call("GET", f"/kv/{key}", binary=True, raw="1",
                                     wait=min(remaining, _KV_WAIT_STEP))
                return self.call("GET", f"/kv/{key}", wait=min(remaining, _KV_WAIT_STEP))["value"]
            except NotFoundError:
                remaining -= _KV_WAIT_STEP
                if remaining <= 0:
                    raise

    def kv_items(self) -> dict[str, str]:
        """Every key and value of the store."""
        return dict(self.call("GET", "/kv"))

    def kv_delete(self, key: str) -> bool:
        """Delete ``key``; whether it was set."""
        return bool(self.call("DELETE", f"/kv/{key}")["deleted"])

    # ------------------------------------------------------------- transport
    def call(self, method: str, path: str, data: str | bytes | None = None, binary: bool = False,
             **params):
        """One request; returns the JSON reply (with ``binary``, the reply's bytes).

        Raises
        ------
        NotFoundError
            The endpoint has no such container or key (HTTP 404).
        RequestRefusedError
            It refused the request (HTTP 400, 413), with its reason.
        ApplicationError
            The application has ended.
        KnitTimeoutError
            It accepted the connection but sent no reply within ``timeout`` s.
        KnitError
            No attempt of the ApplicationMaster could be reached in time.
        """
        stale = None
        timeout = self.timeout + float(params.get("wait", 0))  # a long poll holds its reply
        while True:
            address = self.address
            try:
                reply = self._session.request(
                    method, f"http://{address}{path}", params=params or None, data=data,
                    headers=self._headers, timeout=timeout)
                break
            except requests.ConnectionError as exc:
                if stale == address:
                    raise KnitError(f"cannot reach the ApplicationMaster of {self.app_id} at "
                                    f"{address}: {exc}") from exc
                stale, self._address = address, None
                self._address = self._await_new_attempt(address)
            except requests.Timeout as exc:  # connected, but no reply: stopped or overloaded
                raise KnitTimeoutError(
                    f"the ApplicationMaster of {self.app_id} at {address} did not answer "
                    f"{method} {path} within {timeout:.0f} s (is it stopped or "
                    "overloaded? its log is in `knit logs`)") from exc
            except requests.RequestException as exc:
                raise KnitError(f"calling the ApplicationMaster of {self.app_id} at {address} "
                                f"failed: {exc}") from exc
        if binary and reply.status_code == 200:
            return reply.content
        return _reply(reply)

    def _await_new_attempt(self, old: str) -> str:
        """The address once it differs from ``old`` (a new attempt) or answers again."""
        def moved():
            address = self._resolve(wait=self.reconnect_timeout)
            return address if address != old or _listening(self._session, address) else None
        return wait_until(moved, self.reconnect_timeout, interval=1.0,
                          what=f"a new attempt of the ApplicationMaster of {self.app_id} "
                               f"(the last one, at {old}, stopped answering)")


def _encoded(value: str | bytes) -> bytes:
    """A value as the store keeps it: bytes as given, text as UTF-8."""
    return value if isinstance(value, bytes) else value.encode()


def _service(service: str | None) -> dict[str, str]:
    return {} if service is None else {"service": service}


def _size(memory_mb: int | None, vcores: int | None) -> dict[str, int]:
    """The query of a container size; the parts left out keep the application's."""
    return {name: value for name, value in (("memory", memory_mb), ("vcores", vcores))
            if value is not None}


def _listening(session: requests.Session, address: str) -> bool:
    try:
        session.get(f"http://{address}/containers", timeout=5)
        return True
    except requests.RequestException:
        return False


def _reply(reply: requests.Response) -> dict:
    try:
        body = reply.json()
    except ValueError:
        body = {"error": reply.text[:500]}
    if reply.status_code == 404:
        raise NotFoundError(body.get("error", reply.text), "NotFoundException")
    if reply.status_code == 409:
        raise KeyConflictError(body.get("error", reply.text))
    if reply.status_code >= 400:
        raise RequestRefusedError(f"the ApplicationMaster refused: {body.get('error', reply.text)}")
    return body
