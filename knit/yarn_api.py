"""``YARNAPI``: the ResourceManager (and NodeManager) REST client of knit."""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import requests
from requests.auth import HTTPBasicAuth

from .exceptions import (
    BadRequestError,
    KnitError,
    KnitValueError,
    NotFoundError,
    ToolNotFoundError,
    YARNAuthError,
    YARNConnectionError,
    YARNException,
)
from . import daemon_logs, impersonation, sessions, yarn_logs
from .rm_choice import ResourceManagers
from .kerberos import Credentials, spnego_auth
from .waiting import wait_until

logger = logging.getLogger(__name__)

#: The applicationType knit's own applications are submitted with.
KNIT_APPLICATION_TYPE = "knit"
FINAL_STATES = ("FINISHED", "FAILED", "KILLED")

_CONNECTION_HINT = (
    "check the ResourceManager host and port (the `rm`/`rm_port` settings, from "
    "yarn.resourcemanager.webapp.address), http vs https (yarn.http.policy), and whether "
    "the REST API sits behind a proxy or gateway such as Knox (pass gateway_path=)"
)


def _items(reply: dict | None, outer: str, inner: str) -> list[dict]:
    """``reply[outer][inner]`` as a list, tolerating null, {} and a lone object."""
    found = ((reply or {}).get(outer) or {}).get(inner) or []
    return found if isinstance(found, list) else [found]


def _app_key(app_id: str) -> str:
    """``application_1_0002`` -> ``_1_0002_``, the part container ids share.

    Raises
    ------
    BadRequestError
        Not an application id (a :class:`YARNException` and a ``ValueError``).
    """
    if not isinstance(app_id, str) or not _APP_ID.match(app_id):
        raise BadRequestError(f"not a YARN application id: {app_id!r} (they look like "
                              "application_1700000000000_0001)", status_code=400)
    return "_" + app_id[len("application_"):] + "_"


_APP_ID = re.compile(r"^application_\d+_\d+$")

#: Seconds to connect to one ResourceManager of an HA pair before trying the next.
HA_CONNECT_TIMEOUT = 5.0

#: What a standby ResourceManager's web server answers while it knows no active one,
#: e.g. during an HA failover: a 307 with no Location (a Refresh header instead), then
#: a 200 once it gives up retrying.
NO_ACTIVE_RM = (b"Can not find any active RM", b"There is no active RM right now")


def _not_active(reply: requests.Response) -> bool:
    """Whether ``reply`` says its ResourceManager is not the active one: a 503, or a
    standby's page saying no ResourceManager is active yet."""
    return reply.status_code == 503 or (
        reply.status_code in (200, 307) and reply.content[:64].startswith(NO_ACTIVE_RM))


class YARNAPI:
    """REST interface to YARN's ResourceManager and NodeManagers.

    Parameters
    ----------
    rm : str
        ResourceManager host.
    rm_port : int
        Port of its web UI / REST API (8088, or 8090 with HTTPS).
    scheme : {'http', 'https'}
        ``https`` when ``yarn.http.policy`` is ``HTTPS_ONLY``.
    gateway_path : str
        Path prefix of a proxy/gateway in front of YARN (e.g. Knox's
        ``/gateway/default/resourcemanager``).
    kerberos : bool
        Authenticate with SPNEGO (needs ``requests-gssapi``, and a valid ticket
        or ``principal`` and ``keytab``); checked at once.
    principal, keytab : str, optional
        With ``kerberos``, log in from this keytab instead of the ticket cache.
    username : str, optional
        User for simple auth (sent as ``user.name``) or for HTTP basic auth.
    password : str, optional
        With it, HTTP basic auth is used (e.g. through a gateway).
    verify : bool or str
        TLS verification: False, True, or the path of a CA bundle.
    timeout : float
        Seconds any single HTTP request may take.
    retry_for : float
        Seconds to keep retrying a request the ResourceManager refused to connect
        or answered 503 (restarting: with recovery, applications survive it).
    yarn_cmd : str, optional
        The ``yarn`` command for ``logs(shell=True)`` and the kill fallback
        (default: ``yarn`` on PATH, else ``$HADOOP_HOME/bin/yarn``).
    rm_ha : list of (str, int), optional
        Every ResourceManager of an HA cluster (host, web port), as
        :func:`knit.conf.load_conf` reads them from ``yarn.resourcemanager.ha.rm-ids``.
        Calls go to the one that answered last; one that refuses, cannot be reached
        within 5 s or is not active is left for the next (see :mod:`knit.rm_choice`).
    do_as : str, optional
        Act as this user (sent as ``doAs``): a service impersonating them, which
        the ResourceManager's ``hadoop.proxyuser.*`` settings must allow.

    Examples
    --------
    >>> api = YARNAPI("127.0.0.1", 8088)      # doctest: +SKIP
    >>> api.cluster_info()["state"]           # doctest: +SKIP
    'STARTED'
    """

    def __init__(self, rm: str, rm_port: int, scheme: str = "http", gateway_path: str = "",
                 kerberos: bool = False, principal: str | None = None,
                 keytab: str | None = None, username: str | None = None,
                 password: str | None = None, verify: bool | str = True,
                 timeout: float = 30.0, yarn_cmd: str | None = None, retry_for: float = 30.0,
                 rm_ha: list[tuple[str, int]] | None = None, do_as: str | None = None):
        if scheme not in ("http", "https"):
            raise KnitValueError(f"scheme must be 'http' or 'https', not {scheme!r}")
        self.scheme = scheme
        self.resourcemanagers = ResourceManagers((rm, int(rm_port)), rm_ha)
        self.gateway_path = "/" + gateway_path.strip("/") if gateway_path.strip("/") else ""
        self.username, self.timeout, self.yarn_cmd = username, timeout, yarn_cmd
        self.retry_for, self.do_as = retry_for, do_as
        self.session = sessions.session(verify)  # OS trust store; loopback never proxied
        self.credentials = Credentials(principal, keytab) if kerberos else None
        if self.credentials is not None:
            self.session.auth = spnego_auth(self.credentials)
        elif password is not None:
            self.session.auth = HTTPBasicAuth(username or "", password)

    @classmethod
    def from_conf(cls, conf: dict, *, kerberos: bool = False, principal: str | None = None,
                  keytab: str | None = None, username: str | None = None,
                  password: str | None = None, verify: bool | str = True,
                  do_as: str | None = None) -> "YARNAPI":
        """The ResourceManager's API as a resolved configuration (:func:`knit.conf.load_conf`)
        names it.

        Raises
        ------
        KnitValueError
            The cluster's web APIs refuse anonymous calls and neither ``username``
            nor Kerberos is given.
        """
        if not (username or kerberos) and _refuses_anonymous(conf):
            raise KnitValueError(
                "the cluster's web APIs refuse anonymous calls (hadoop.http.authentication"
                ".simple.anonymous.allowed=false): pass user= or username= (sent as user.name), "
                "with password= if a gateway asks for one")
        return cls(conf["rm"], conf["rm_port"], scheme=conf["scheme"],
                   gateway_path=conf.get("gateway_path", ""), username=username,
                   kerberos=kerberos, principal=principal, keytab=keytab, password=password,
                   verify=verify, rm_ha=conf.get("rm_ha"), do_as=do_as)

    @property
    def rm(self) -> str:
        """Host of the ResourceManager called now (of an HA cluster: the last that answered)."""
        return self.resourcemanagers.current[0]

    @rm.setter
    def rm(self, host: str) -> None:
        self.resourcemanagers = ResourceManagers((host, self.rm_port))

    @property
    def rm_port(self) -> int:
        """Web port of the ResourceManager called now."""
        return self.resourcemanagers.current[1]

    @rm_port.setter
    def rm_port(self, port: int) -> None:
        self.resourcemanagers = ResourceManagers((self.rm, int(port)))

    @property
    def auth(self):
        """The ``requests`` authentication sent with every call (as knit 0.2.4 kept
        it): HTTP basic auth when ``password`` was given, SPNEGO with ``kerberos``,
        else None (simple auth: the user is sent as ``user.name``). Assign another
        ``requests`` auth object to replace it."""
        return self.session.auth

    @auth.setter
    def auth(self, value) -> None:
        self.session.auth = value

    @property
    def url(self) -> str:
        """Base URL of the REST API, e.g. ``http://host:8088/ws/v1/``."""
        return f"{self.scheme}://{self.rm}:{self.rm_port}{self.gateway_path}/ws/v1/"

    def __repr__(self) -> str:
        return f"YARNAPI<{self.scheme}://{self.rm}:{self.rm_port}{self.gateway_path}>"

    # ------------------------------------------------------------ plumbing
    def _request(self, method: str, url: str, *, json_reply: bool = True, **kwargs) -> Any:
        """Send one request; map every failure to knit's exceptions. A path (not a
        whole URL) goes to the ResourceManager, whichever of an HA pair serves."""
        path = None if url.startswith(("http://", "https://")) else url.lstrip("/")
        params = dict(kwargs.pop("params", None) or {})
        if self.username and self.auth is None:
            # Hadoop's simple auth reads the user from user.name; with a password (a
            # gateway's basic auth) or SPNEGO, the login itself says who calls.
            params.setdefault("user.name", self.username)
        if self.do_as:
            params.setdefault("doAs", self.do_as)
        accept = "application/json" if json_reply else "text/plain"
        deadline = time.monotonic() + self.retry_for
        failing_over = path is not None and self.resourcemanagers.several
        # Of an HA pair, a dead one must not hold a call for the whole timeout.
        timeout = (min(self.timeout, HA_CONNECT_TIMEOUT), self.timeout) if failing_over else self.timeout
        while True:
            called = self.resourcemanagers.current
            url = self.url + path if path is not None else url
            try:
                reply = self.session.request(method, url, params=params, timeout=timeout,
                                             headers={"Accept": accept}, **kwargs)
                if failing_over and _not_active(reply):
                    if not self.resourcemanagers.turn_away(*called):
                        continue  # the other one at once
                elif failing_over:
                    self.resourcemanagers.answered(reply.url)
                if time.monotonic() >= deadline or not self._recovering(reply, url):
                    break
            except requests.ConnectionError as exc:
                if failing_over and not isinstance(exc, requests.exceptions.SSLError) and \
                        time.monotonic() < deadline and not self.resourcemanagers.turn_away(*called):
                    logger.info("%s did not answer (%s): trying %s:%s", called[0],
                                type(exc).__name__, *self.resourcemanagers.current)
                    continue
                # Refused: nothing was delivered; the daemon may be restarting (its
                # state is recovered), so try again for a while.
                if isinstance(exc, (requests.Timeout, requests.exceptions.SSLError)) or \
                        time.monotonic() >= deadline:
                    raise self._unreachable(url, exc) from exc
            except requests.RequestException as exc:
                raise self._unreachable(url, exc) from exc
            logger.debug("%s %s: not answering, retrying", method, url)
            time.sleep(1.0)
        if reply.status_code >= 400:
            raise _error_from_reply(reply, url)
        if not json_reply:
            # Byte-exact (parse_yarn_logs counts LogLength in bytes), whatever the charset.
            return reply.content.decode("utf-8", "surrogateescape")
        try:
            return reply.json() if reply.content else {}
        except ValueError as exc:
            raise YARNConnectionError(
                f"{url} answered with something that is not JSON ({reply.text[:80]!r}): "
                f"{_CONNECTION_HINT}") from exc

    def _recovering(self, reply: requests.Response, url: str) -> bool:
        """Whether ``reply`` comes from a ResourceManager that is not active yet (a 503,
        or a 404 for an application while it is still recovering its state)."""
        if _not_active(reply):
            return True
        if reply.status_code != 404 or not url.startswith(self.url) or "/apps/" not in url:
            return False
        try:
            info = self.session.get(self.url + "cluster/info", timeout=self.timeout,
                                    params={"user.name": self.username} if self.username else None)
            return info.json()["clusterInfo"].get("haState") != "ACTIVE"
        except (requests.RequestException, ValueError, KeyError):
            return True

    def _unreachable(self, url: str, exc: Exception) -> YARNConnectionError:
        if sessions.is_tls_failure(exc):
            return YARNConnectionError(sessions.tls_failure_message(url, self.session.trust.source))
        if isinstance(exc, requests.Timeout):
            return YARNConnectionError(
                f"no reply from {url} within {self.timeout:.0f} s: {_CONNECTION_HINT}")
        retried = f" (retried for {self.retry_for:.0f} s)" if self.retry_for else ""
        return YARNConnectionError(
            f"cannot reach {url}{retried} ({type(exc).__name__}): {_CONNECTION_HINT}")

    def _node_url(self, node_http_address: str, path: str) -> str:
        return f"{self.scheme}://{node_http_address}/ws/v1/node/{path.lstrip('/')}"

    # ---------------------------------------------------------- cluster-wide
    def cluster_info(self) -> dict:
        """The RM's ``clusterInfo``: state (``STARTED``), HA state, versions."""
        return self._request("GET", "cluster/info")["clusterInfo"]

    def cluster_metrics(self) -> dict:
        """Cluster-wide counts: apps, memory and vcores total/available, nodes."""
        return self._request("GET", "cluster/metrics")["clusterMetrics"]

    def scheduler(self) -> dict:
        """The scheduler's ``schedulerInfo`` (type, queues and their capacities)."""
        return self._request("GET", "cluster/scheduler")["scheduler"]["schedulerInfo"]

    def queues(self) -> list[str]:
        """Names of every queue (leaf or parent) the scheduler has."""
        names, pending = [], [self.scheduler()]
        while pending:
            queue = pending.pop()
            for child in _items(queue, "queues", "queue"):
                names.append(child["queueName"])
                pending.append(child)
        return names

    def nodes(self, states: str | None = None) -> list[dict]:
        """NodeManagers with health, state and resources (``states="RUNNING"`` filters)."""
        params = {"states": states} if states else None
        return _items(self._request("GET", "cluster/nodes", params=params), "nodes", "node")

    def system_logs(self) -> dict:
        """Trouble-shooting: where this cluster's ResourceManager and NodeManagers run
        and log, for those on this machine (knit 0.2.4's keys).

        Returns
        -------
        dict
            ``on_rm`` (the ResourceManager runs on this machine), ``single_node`` (so
            does the cluster's only NodeManager); for daemons of this cluster running
            here, ``rm_proc``/``nm_proc`` (a ``psutil.Process`` where psutil is
            installed, else the pid) and ``rm_logfile``/``nm_logfile``; and
            ``resourcemanager``/``nodemanager`` (every such log file) and ``url``
            (the ResourceManager's own log listing).
        """
        addresses = daemon_logs.local_addresses()
        nodes = self.nodes()
        on_rm = daemon_logs.is_local(self.rm, addresses)
        single_node = on_rm and len(nodes) == 1 and daemon_logs.is_local(
            nodes[0].get("nodeHostName", ""), addresses)
        found: dict[str, Any] = {"single_node": single_node, "on_rm": on_rm,
                                 "resourcemanager": [], "nodemanager": []}
        rm_pid = daemon_logs.listening_pid(self.rm_port) if on_rm else None
        if rm_pid is not None:
            found["rm_proc"] = daemon_logs.process(rm_pid)
            found["rm_logfile"] = daemon_logs.log_file(rm_pid)
            found["resourcemanager"] = [found["rm_logfile"]] if found["rm_logfile"] else []
        for node in nodes:
            host, _, port = node.get("nodeHTTPAddress", "").rpartition(":")
            if not port.isdigit() or not daemon_logs.is_local(host, addresses):
                continue
            pid = daemon_logs.listening_pid(int(port))
            if pid is None:
                continue
            logfile = daemon_logs.log_file(pid)
            if "nm_proc" not in found:
                found["nm_proc"], found["nm_logfile"] = daemon_logs.process(pid), logfile
            if logfile:
                found["nodemanager"].append(logfile)
        found["url"] = f"{self.scheme}://{self.rm}:{self.rm_port}{self.gateway_path}/logs/"
        return found

    # -------------------------------------------------------------- apps
    @property
    def apps(self) -> list[str]:
        """Ids of every application YARN knows."""
        return [app["id"] for app in self.apps_info()]

    def apps_info(self, app_id: str | None = None, **filters) -> dict | list[dict]:
        """Full report of one application, or of all (``states=``, ``applicationTypes=`` filter)."""
        if app_id is None:
            return _items(self._request("GET", "cluster/apps", params=filters or None), "apps", "app")
        _app_key(app_id)
        return self._request("GET", f"cluster/apps/{app_id}")["app"]

    def status(self, app_id: str) -> dict:
        """Report of an application (state, finalStatus, diagnostics, resources, ...)."""
        return self.apps_info(app_id)

    def state(self, app_id: str) -> str:
        """``NEW``, ``NEW_SAVING``, ``SUBMITTED``, ``ACCEPTED``, ``RUNNING``, ``FINISHED``,
        ``FAILED`` or ``KILLED``."""
        return self.apps_info(app_id)["state"]

    def app_attempts(self, app_id: str) -> list[dict]:
        """The attempts of an application, each with its AM container and node."""
        _app_key(app_id)
        return _items(self._request("GET", f"cluster/apps/{app_id}/appattempts"),
                      "appAttempts", "appAttempt")

    def am_container_ids(self, app_id: str) -> set[str]:
        """The ApplicationMaster's container of each attempt. (Not "the id ending in
        ``_000001``": after an HA failover the new ResourceManager numbers containers
        from 1 again under a new epoch, ``container_e01_..._000001``.)"""
        return {attempt["containerId"] for attempt in self.app_attempts(app_id)
                if attempt.get("containerId")}

    def app_containers(self, app_id: str | None = None, info: dict | None = None) -> list[dict]:
        """Containers alive on every NodeManager, as each NodeManager reports them.

        Parameters
        ----------
        app_id : str, optional
            Only this application's containers (default: all).
        info : dict, optional
            A report from :meth:`apps_info`, whose ``id`` is used if ``app_id`` is None.

        Returns
        -------
        list of dict
            NodeManager container records (``id``, ``state``, ``exitCode``,
            ``totalMemoryNeededMB``, ``totalVCoresNeeded``, ``containerLogsLink``, ...)
            with ``nodeHttpAddress`` added.
        """
        app_id = app_id or (info or {}).get("id")
        key = _app_key(app_id) if app_id else None
        containers = []
        for node in self.nodes(states="RUNNING"):
            address = node["nodeHTTPAddress"]
            reply = self._request("GET", self._node_url(address, "containers"))
            for container in _items(reply, "containers", "container"):
                if key is None or key in container["id"] + "_":
                    containers.append({**container, "nodeHttpAddress": address})
        return sorted(containers, key=lambda c: c["id"])

    def container_status(self, container_id: str) -> dict:
        """A live container's record from the NodeManager that runs it.

        Raises
        ------
        NotFoundError
            No running NodeManager has the container (it may have ended).
        """
        for node in self.nodes(states="RUNNING"):
            url = self._node_url(node["nodeHTTPAddress"], f"containers/{container_id}")
            try:
                record = self._request("GET", url)["container"]
            except YARNException as exc:
                if exc.status_code in (400, 404, 500):
                    continue
                raise
            return {**record, "nodeHttpAddress": node["nodeHTTPAddress"]}
        raise NotFoundError(f"no running NodeManager has container {container_id}; it may have "
                            "ended: its logs are in logs(app_id)", "NotFoundException")

    # --------------------------------------------------------------- logs
    def logs(self, app_id: str, shell: bool = False, retries: int = 10,
             delay: float = 1.0, aggregation_timeout: float = 120.0, tail: int | None = None,
             read_aggregated: yarn_logs.AggregatedReader | None = None
             ) -> dict[str, dict[str, str]]:
        """Logs of every container of an application, as plain text: live from the
        NodeManagers while it runs, aggregated (``yarn logs``, or ``read_aggregated``)
        after it ends or with ``shell=True``; only the last ``tail`` bytes of each file
        if given. See :func:`knit.yarn_logs.application_logs`.

        Returns
        -------
        dict
            ``{container_id: {"stdout": ..., "stderr": ..., other files..., "nodeId": ...}}``.
        """
        return yarn_logs.application_logs(self, app_id, shell=shell, retries=retries, delay=delay,
                                          aggregation_timeout=aggregation_timeout, tail=tail,
                                          read_aggregated=read_aggregated)

    def live_logs(self, app_id: str, tail: int | None = None) -> dict[str, dict[str, str]]:
        """``stdout`` and ``stderr`` of each container of a running application so
        far (the last ``tail`` bytes of each), read from the NodeManagers (``{}``
        before any container exists)."""
        return yarn_logs.live_logs(self, app_id, tail)

    def container_logs(self, container_id: str, node_http_address: str,
                       names: tuple[str, ...] = ("stdout", "stderr")) -> dict[str, str]:
        """The log files ``names`` of one container of a running application, read
        from its NodeManager (see :func:`knit.yarn_logs.container_logs`)."""
        return yarn_logs.container_logs(self, container_id, node_http_address, names)

    def read_node_file(self, node_http_address: str, path: str) -> str:
        """A text page of a NodeManager's web API (``""`` if it has none such)."""
        try:
            return self._request("GET", self._node_url(node_http_address, path), json_reply=False)
        except NotFoundError:
            return ""

    def run_yarn(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        """Run Hadoop's ``yarn`` command with this API's credentials."""
        return self._run_yarn(args, check=check)

    def _yarn_command(self) -> str:
        candidates = [self.yarn_cmd, shutil.which("yarn")]
        if os.environ.get("HADOOP_HOME"):
            candidates.append(str(Path(os.environ["HADOOP_HOME"]) / "bin" / "yarn"))
        for candidate in candidates:
            if candidate and Path(candidate).is_file():
                return candidate
        raise ToolNotFoundError(
            "reading aggregated logs needs Hadoop's `yarn` command: put Hadoop's bin/ on PATH "
            "(for the local cluster: eval \"$(knit cluster env)\") or pass yarn_cmd=")

    def _run_yarn(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess:
        command = [self._yarn_command(), *args]
        logger.debug("running %s", " ".join(command))
        env = {**os.environ, **(self.credentials.tool_environment() if self.credentials else {})}
        result = subprocess.run(command, capture_output=True, text=True, errors="surrogateescape",
                                timeout=300, check=False,
                                stdin=subprocess.DEVNULL, env=env)
        if check and result.returncode != 0:
            raise YARNException(f"`{' '.join(command)}` failed (exit {result.returncode}): "
                                f"{result.stderr.strip()[-500:]}")
        return result

    # --------------------------------------------------------------- kill
    def kill(self, app_id: str, timeout: float = 30.0) -> bool:
        """Kill an application and wait until YARN reports it KILLED.

        Uses the REST API (``PUT .../state``); only if REST refuses, the ``yarn`` CLI.

        Returns
        -------
        bool
            True once the application is KILLED; False if it had already ended otherwise.
        """
        state = self.state(app_id)
        if state in FINAL_STATES:
            return state == "KILLED"
        try:
            self._request("PUT", f"cluster/apps/{app_id}/state", json={"state": "KILLED"})
        except YARNException as exc:
            # 403 to a named user is YARN's answer (ACLs); 403 to no one, 401 and 405 mean
            # the REST API would not take it, so Hadoop's own client tries.
            anonymous = not self.username and self.auth is None
            fallback = (401, 403, 405) if anonymous else (401, 405)
            if isinstance(exc, YARNConnectionError) or exc.status_code not in fallback:
                raise
            logger.info("REST kill of %s refused (%s); using `yarn application -kill`", app_id, exc)
            self._run_yarn(["application", "-kill", app_id])
        state = wait_until(lambda: self.state(app_id), timeout, until=FINAL_STATES.__contains__,
                           what=lambda last: f"{app_id} still {last} after kill")
        return state == "KILLED"

    def kill_all(self, knit_only: bool = True) -> list[str]:
        """Kill every unfinished application (only knit's with ``knit_only``).

        Returns
        -------
        list of str
            The ids of the applications killed.
        """
        killed = []
        for app in self.apps_info(states="NEW,NEW_SAVING,SUBMITTED,ACCEPTED,RUNNING"):
            if knit_only and app.get("applicationType", "").lower() != KNIT_APPLICATION_TYPE:
                continue
            if self.kill(app["id"]):
                killed.append(app["id"])
        return killed


# ------------------------------------------------------------------- helpers
def registered(info: dict) -> bool:
    """Whether an application's report says its ApplicationMaster runs and has
    registered (its control address is known)."""
    return info["state"] == "RUNNING" and info.get("amRPCAddress", "N/A") not in ("", "N/A")


def _refuses_anonymous(conf: dict) -> bool:
    """Whether the cluster's web APIs use simple auth and refuse calls naming no user."""
    return (str(conf.get("hadoop.http.authentication.type", "simple")).lower() == "simple" and
            str(conf.get("hadoop.http.authentication.simple.anonymous.allowed", "true")).lower()
            == "false")


def _error_from_reply(reply: requests.Response, url: str) -> KnitError:
    try:
        remote = reply.json().get("RemoteException") or {}
    except ValueError:
        remote = {}
    exception, java_class = remote.get("exception", ""), remote.get("javaClassName", "")
    message = remote.get("message") or reply.text.strip()[:300] or reply.reason
    text = f"{reply.status_code} from {url}: {exception + ': ' if exception else ''}{message}"
    if reply.status_code == 401:
        return YARNAuthError(f"{text} -- the cluster wants authentication: pass username= "
                             "(simple auth, sent as user.name), password= as well for a gateway "
                             "with HTTP basic auth, or kerberos=True (with a ticket)",
                             exception, java_class, reply.status_code)
    refused = impersonation.refusal(message) if reply.status_code == 403 else None
    if refused:
        return refused
    if reply.status_code == 403:
        return YARNAuthError(f"{text} -- YARN refused this to the user it saw: only the "
                             "application's owner, the users its ACLs name (Knit.start(acls=...)) "
                             "and the cluster's administrators may", exception, java_class,
                             reply.status_code)
    if reply.status_code == 404 or exception == "NotFoundException":
        return NotFoundError(text, exception, java_class, reply.status_code)
    if reply.status_code == 400:
        return BadRequestError(text, exception, java_class, reply.status_code)
    return YARNException(text, exception, java_class, reply.status_code)
