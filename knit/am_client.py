"""Calls to a running application's ApplicationMaster (its control endpoint)."""

from __future__ import annotations

import requests

from . import sessions
from .exceptions import (ApplicationError, KnitError, KnitTimeoutError, NotFoundError,
                         RequestRefusedError)
from .waiting import wait_until
from .yarn_api import FINAL_STATES, YARNAPI


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
    """

    def __init__(self, api: YARNAPI, app_id: str, secret: str, timeout: float = 30.0,
                 reconnect_timeout: float = 120.0):
        self.api, self.app_id, self.secret = api, app_id, secret
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
        last = {}

        def registered():
            info = last["info"] = self.api.status(self.app_id)
            if info["state"] in FINAL_STATES:
                raise ApplicationError(self.app_id, info["state"], info.get("diagnostics", ""))
            address = info.get("amRPCAddress", "N/A")
            return address if info["state"] == "RUNNING" and address not in ("", "N/A") else None

        def why() -> str:
            info = last.get("info", {})
            return (f"the ApplicationMaster of {self.app_id} is not reachable (YARN says "
                    f"{info.get('state', '?')}: {info.get('diagnostics') or 'no diagnostics'})")

        return wait_until(registered, wait, interval=0.5, what=why)

    def call(self, method: str, path: str, data: str | None = None, **params) -> dict:
        """One request; returns the JSON reply.

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
        while True:
            address = self.address
            try:
                reply = self._session.request(
                    method, f"http://{address}{path}", params=params or None, data=data,
                    headers={"X-Knit-Secret": self.secret}, timeout=self.timeout)
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
                    f"{method} {path} within {self.timeout:.0f} s (is it stopped or "
                    "overloaded? its log is in `knit logs`)") from exc
            except requests.RequestException as exc:
                raise KnitError(f"calling the ApplicationMaster of {self.app_id} at {address} "
                                f"failed: {exc}") from exc
        return _reply(reply)

    def _await_new_attempt(self, old: str) -> str:
        """The address once it differs from ``old`` (a new attempt) or answers again."""
        def moved():
            address = self._resolve(wait=self.reconnect_timeout)
            return address if address != old or _listening(self._session, address) else None
        return wait_until(moved, self.reconnect_timeout, interval=1.0,
                          what=f"a new attempt of the ApplicationMaster of {self.app_id} "
                               f"(the last one, at {old}, stopped answering)")


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
    if reply.status_code >= 400:
        raise RequestRefusedError(f"the ApplicationMaster refused: {body.get('error', reply.text)}")
    return body
