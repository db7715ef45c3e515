"""``Knit``: run a shell command in YARN containers, then watch, scale and stop it."""

from __future__ import annotations

import logging
import secrets
import sys
from pathlib import Path
from typing import Any, Callable

from . import cds, records, yarn_logs
from .am_client import AMClient
from .am_verbs import ApplicationMasterVerbs
from .app_verbs import ApplicationVerbs
from .env_verbs import EnvironmentVerbs
from .arguments import hadoop_user_name, launch_script_safe, port, seconds, whole_number
from .conf import load_conf, overridden
from .contract import AppMasterSettings
from .exceptions import ApplicationError, KnitError, KnitTypeError, NotFoundError
from .java import JAVA_LIBS
from .java_client import JavaClient
from .kerberos import Credentials, is_kerberos
from .launch import Launcher
from .spec import ACLs, LaunchSpec
from .staging import Stager
from .waiting import wait_until
from .yarn_api import FINAL_STATES, YARNAPI

logger = logging.getLogger(__name__)

#: ``username``'s default: the user knit runs as (``None`` sends no user at all).
_THE_USER: Any = type("TheUser", (), {"__repr__": lambda self: "<the user>"})()


class Knit(ApplicationMasterVerbs, EnvironmentVerbs, ApplicationVerbs):
    """Connection to HDFS/YARN; launches one ApplicationMaster with worker containers.

    It starts (or :meth:`submit` s a spec of services), watches, attaches to and
    kills its application; the calls its
    running application answers (containers, scaling, the key-value store) are
    those of :class:`~knit.am_verbs.ApplicationMasterVerbs`, and its environment
    helpers those of :class:`~knit.env_verbs.EnvironmentVerbs`.

    Parameters
    ----------
    autodetect : bool
        Read the Hadoop configuration files (``HADOOP_CONF_DIR``, ...).
    upload_always : bool
        Upload files and environments even if an identical copy is in HDFS.
    hdfs_home : str, optional
        A writable HDFS folder for knit's files (default ``/user/<user>``).
    knit_home : str
        Folder holding knit's jar.
    hdfs : fsspec filesystem, optional
        Used by :meth:`list_envs` instead of the JVM's HDFS client.
    pars : dict, optional
        Hadoop properties overriding the files.
    nn, nn_port, nn_http_port, rm, rm_port : str, int, optional
        The NameNode and ResourceManager (web) addresses, overriding the files.
    scheme : {'http', 'https'}, optional
        Of the ResourceManager's web API (default: from ``yarn.http.policy``).
    gateway_path : str, optional
        Path prefix of a gateway (such as Apache Knox) in front of the web APIs.
    user : str, optional
        The Hadoop user (default: the login name, or the principal's short name).
    replication_factor : int, optional
        HDFS replication of uploaded files.
    lang : str, optional
        ``LANG`` and ``LC_ALL`` of the containers (default C.UTF-8).
    http_auth : {'simple', 'kerberos'}, optional
        The web APIs' authentication (default: ``hadoop.http.authentication.type``).
    username : str or None
        Sent as ``user.name`` to web APIs with simple auth (default: ``user``; None
        sends none), and the basic-auth user with ``password``.
    password : str, optional
        For a gateway's basic auth.
    verify : bool or str, optional
        TLS verification of the web APIs: a CA bundle path, or False (see
        docs/company_cluster.rst; default: the OS trust store).
    kerberos : bool, optional
        True, False, or None to follow the cluster's configuration.
    principal, keytab : str, optional
        Log in from a keytab instead of the ticket cache; this also lets
        long-running applications renew their delegation tokens (docs/security.rst).
    proxy_user : str, optional
        Act as this user through Hadoop's impersonation: a service acting for people,
        as the cluster allows (docs/gateway.rst).
    am_memory, am_vcores : int
        The ApplicationMaster's container: MB (default 384) and vcores (default 1).
    am_max_attempts : int
        Attempts YARN makes at the ApplicationMaster (default 2): a new attempt
        takes over the running containers if one dies.
    start_timeout : float
        Seconds for a submitted application to run (default 120).
    allocation_timeout : float
        Seconds a job waits for containers YARN does not grant (default 300).
    client_timeout : float
        Seconds (default 0 = none) after which a ``keep_alive`` application ends
        when this process has not called its ApplicationMaster (any call, or
        :meth:`heartbeat`).
    progress : callable or False, optional
        Called with progress messages (default: logged at INFO); False for none.
    validate : bool
        Warn (in the log) when ``nn``, ``nn_port``, ``rm`` or ``rm_port`` differ from
        what the Hadoop configuration files say (the older knit documentation's
        option); the given values are used either way.

    Examples
    --------
    >>> k = Knit()                                                   # doctest: +SKIP
    >>> app_id = k.start('sleep 100', num_containers=5, memory=1024) # doctest: +SKIP
    """

    def __init__(self, autodetect: bool = True, upload_always: bool = False,
                 hdfs_home: str | None = None, knit_home: str = str(JAVA_LIBS), hdfs=None,
                 pars: dict | None = None, *,
                 nn: str | None = None, nn_port: int | str | None = None,
                 nn_http_port: int | str | None = None, rm: str | None = None,
                 rm_port: int | str | None = None, scheme: str | None = None,
                 gateway_path: str | None = None, user: str | None = None,
                 replication_factor: int | None = None, lang: str | None = None,
                 http_auth: str | None = None,
                 username: str | None = _THE_USER, password: str | None = None,
                 verify: bool | str | None = None,
                 kerberos: bool | None = None, principal: str | None = None,
                 keytab: str | None = None, proxy_user: str | None = None,
                 am_memory: int = 384, am_vcores: int = 1, am_max_attempts: int = 2,
                 start_timeout: float = 120, allocation_timeout: float = 300,
                 client_timeout: float = 0,
                 progress: Callable[[str], None] | bool | None = None, validate: bool = True):
        if principal and user is None:  # HDFS and YARN know the user by its short name
            user = principal.split("@")[0].split("/")[0]
        self.proxy_user = hadoop_user_name("proxy_user", proxy_user)  # None: act as oneself
        self.am_memory = whole_number("am_memory", am_memory, minimum=32)
        self.am_vcores = whole_number("am_vcores", am_vcores)
        self.am_max_attempts = whole_number("am_max_attempts", am_max_attempts)
        self.start_timeout = seconds("start_timeout", start_timeout)
        self.allocation_timeout = seconds("allocation_timeout", allocation_timeout)
        self.client_timeout = seconds("client_timeout", client_timeout, zero_means="no limit")
        if progress is not None and progress is not False and not callable(progress):
            raise KnitTypeError(f"progress must be a callable, False or None, not {progress!r}")
        settings = {"nn": nn, "nn_http_port": nn_http_port, "rm": rm, "scheme": scheme,
                    "gateway_path": gateway_path, "user": user, "lang": lang,
                    "http_auth": http_auth,
                    "rm_port": None if rm_port is None else port("rm_port", rm_port),
                    "nn_port": None if nn_port is None else port("nn_port", nn_port),
                    "replication_factor": None if replication_factor is None else
                    whole_number("replication_factor", replication_factor)}
        self.conf = load_conf(autodetect=autodetect, pars=pars, **settings)
        for mismatch in overridden(settings, self.conf) if validate else ():
            logger.warning(mismatch)
        self.conf["hdfs_home"] = launch_script_safe("hdfs_home", hdfs_home or self.conf.get(
            "hdfs_home") or f"/user/{self.proxy_user or self.conf['user']}")
        self.upload_always = upload_always
        self.knit_home = Path(knit_home)
        self.hdfs = hdfs
        self._quiet = progress is False
        self._progress = (lambda message: None) if self._quiet else (progress or _default_progress)
        secure = is_kerberos(self.conf) if kerberos is None else bool(kerberos)
        #: Whose Kerberos credentials knit uses (None: the cluster has no Kerberos).
        self.credentials = Credentials(principal, keytab) if secure or principal or keytab else None
        self.yarn_api = self._make_yarn_api(username, password, verify, kerberos, principal, keytab)
        self.app_id: str | None = None
        self._secret = secrets.token_hex(24)
        self._am: AMClient | None = None
        self.java = JavaClient(self.conf, self.knit_home, self.credentials, self.start_timeout,
                               explicit_nn=nn is not None or nn_port is not None,
                               upload_always=upload_always, proxy_user=self.proxy_user,
                               progress=None if self._quiet else self._progress)
        self.java.warm_up_in_background()  # while the caller does other things

    def _make_yarn_api(self, username, password, verify, kerberos, principal, keytab) -> YARNAPI:
        web_kerberos = self.credentials is not None and (
            kerberos or str(self.conf.get("hadoop.http.authentication.type", "")).lower() == "kerberos")
        return YARNAPI.from_conf(
            self.conf, kerberos=bool(web_kerberos), principal=principal, keytab=keytab,
            username=self.conf["user"] if username is _THE_USER else username,
            password=password, verify=True if verify is None else verify, do_as=self.proxy_user)

    @property
    def lang(self) -> str:
        """``LANG`` and ``LC_ALL`` of the containers (``Knit(lang=...)``, default
        C.UTF-8); ``start(envvars={"KNIT_LANG": ...})`` overrides it for one start."""
        return self.conf["lang"]

    @lang.setter
    def lang(self, value: str) -> None:
        self.conf["lang"] = value

    def __repr__(self) -> str:
        rm = f"{self.conf['scheme']}://{self.conf['rm']}:{self.conf['rm_port']}"
        acting = f", as {self.proxy_user}" if self.proxy_user else ""
        return f"Knit<{self.app_id or 'not started'}, rm={rm}{acting}>"

    def __enter__(self) -> "Knit":
        return self

    def __exit__(self, *exc_info) -> None:
        if self.app_id and not self._has_ended():
            self.kill()

    @property
    def client(self):
        """This Knit's ``knit.client.Client`` in the process's gateway JVM (a new
        one, in a new JVM, if that JVM died)."""
        return self.java.client

    @property
    def stager(self) -> Stager:
        """Uploads to ``hdfs_home`` (content-addressed: each file once)."""
        return self.java.stager

    # ------------------------------------------------------------------ start
    def start(self, cmd: str, num_containers: int = 1, virtual_cores: int = 1, memory: int = 128,
              files: list[str] | None = None, envvars: dict[str, str] | None = None,
              app_name: str = "knit", queue: str = "default", checks: bool = True,
              env: str | None = None, env_visibility: str = "PRIVATE",
              keep_alive: bool = False, acls: ACLs | dict | None = None,
              max_restarts: int = 0, worker_kv: bool = False, *, max_start_failures: int = 0,
              start_grace: float = 60.0) -> str:
        """Start a YARN application running ``cmd`` in ``num_containers`` containers.

        Parameters
        ----------
        cmd : str
            Shell command for each container; ``$CONDA_PREFIX`` and ``$PYTHON_BIN``
            point into ``env`` when one is given.
        num_containers, virtual_cores, memory : int
            Containers, and vcores and MB for each.
        files : list of str
            Local files (uploaded once) or ``hdfs://`` paths (used in place), which
            appear in the working directory under their base names; archives
            (.zip, .tar.gz, .tgz, .tar) appear unpacked as a folder of that name.
            Names with ``"``, ``$``, a backtick, ``\\`` or ``:`` are refused (YARN's
            launch script cannot carry them).
        envvars : dict of str to str
            Environment of every worker container, exactly as given (no shell
            expands ``$VAR`` in a value). The ApplicationMaster keeps its own.
        app_name, queue : str
            Name shown by YARN, and the scheduler queue (a leaf name, or its full
            path such as ``root.analytics.batch``).
        checks : bool
            Check the cluster can run it before uploading anything.
        env : str
            A packed environment (.zip, .tar.gz, .tgz, .tar, e.g. from
            :meth:`create_env`, conda-pack or venv-pack) or an environment folder
            (zipped for you), or an ``hdfs://`` archive.
        env_visibility : {'PRIVATE', 'PUBLIC'}
            How YARN localizes ``env``. Either way each NodeManager keeps the
            unpacked copy for later applications: PRIVATE ones of the same user,
            PUBLIC ones of every user (the archive is then world-readable in HDFS).
        keep_alive : bool
            Run until killed, even with no container left (a service, such as a
            Dask cluster, that adds and removes containers); ``num_containers``
            may then be 0; asks YARN cannot grant wait (``allocation_timeout``
            does not apply) until granted or withdrawn. With the Knit's
            ``client_timeout``, the application ends by itself when this process
            stops calling it. Another process can take it over with
            :meth:`attach`.
        acls : dict or ACLs, optional
            Who else may view (status, logs) or modify (kill) the application:
            ``{"view_users": [...], "view_groups": [...], "modify_users": [...],
            "modify_groups": [...]}``; ``"*"`` is everyone. Default: only you (and
            the cluster's administrators). See :class:`~knit.spec.ACLs`.
        max_restarts : int
            Failed containers (non-zero exit, lost node) the ApplicationMaster
            replaces over the application's life: 0 never (the application ends
            FAILED when the others are done), -1 always; once a positive limit is
            used up, the next failure ends the application FAILED with the reason.
        worker_kv : bool
            Let the containers set values in the application's key-value store
            (:meth:`set_value`): they get the control secret as a PRIVATE file
            ``knit-control.secret``, and ``$KNIT_AM_ADDRESS``. Off by default: the
            file costs each node one more localization per application.
        max_start_failures, start_grace : int, float
            Crash-loop protection: when ``max_start_failures`` containers in a row
            fail within ``start_grace`` seconds of starting (with none running longer
            in between), the ApplicationMaster stops replacing them and ends the
            application FAILED, saying so. 0 (the default) sets no such limit.

        Returns
        -------
        str
            The application id.

        Raises
        ------
        TypeError, ValueError, FileNotFoundError
            Bad arguments; nothing was uploaded or submitted.
        PreflightError
            The cluster cannot run it (with ``checks=True``).
        ApplicationError
            The application failed before it started running.
        KnitTimeoutError
            It did not start running within ``start_timeout`` seconds.
        KeyboardInterrupt
            Interrupted: an application already submitted is killed first.
        """
        if self.app_id and not self._has_ended():
            raise KnitError(f"this Knit already runs {self.app_id}; kill() it or use another Knit")
        spec = LaunchSpec(cmd=cmd, num_containers=num_containers, virtual_cores=virtual_cores,
                          memory=memory, files=() if files is None else files,
                          envvars={} if envvars is None else envvars,
                          app_name=app_name, queue=queue, env=env, env_visibility=env_visibility,
                          lang=(envvars or {}).get("KNIT_LANG", self.lang),  # 0.2.4's variable
                          keep_alive=keep_alive, acls=acls,
                          max_restarts=max_restarts, worker_kv=worker_kv,
                          max_start_failures=max_start_failures, start_grace=start_grace)
        self.app_id, self._am = None, None
        self._secret = secrets.token_hex(24)  # one per application
        launcher = self._launcher()
        try:
            return launcher.launch(spec, self._secret, checks=checks)
        finally:
            self.app_id = launcher.app_id

    def _launcher(self) -> Launcher:
        am = AppMasterSettings(self.am_memory, self.am_vcores, self.am_max_attempts,
                               self.allocation_timeout, self.client_timeout, cds.enabled())
        return Launcher(self.java, self.yarn_api, self.conf, am, self.credentials,
                        self.start_timeout, self._progress)

    # ------------------------------------------------------------- monitoring
    def _require_app(self) -> str:
        if not self.app_id:
            raise KnitError("no application yet: call start() first")
        return self.app_id

    def _has_ended(self) -> bool:
        """Whether our application has ended (or YARN forgot it, e.g. after an RM
        restart without recovery)."""
        try:
            return self.yarn_api.state(self.app_id) in FINAL_STATES
        except NotFoundError:
            return True

    def status(self) -> dict:
        """YARN's report of the application (state, finalStatus, diagnostics, resources)."""
        return self.yarn_api.status(self._require_app())

    @property
    def dashboard_link(self) -> str:
        """The application's status page (containers by node, target, pending asks,
        recent events), through the ResourceManager's web proxy: the link YARN's own
        UI shows as its ApplicationMaster. After the application ends the proxy sends
        you to YARN's page of the finished application."""
        app_id = self._require_app()
        return f"{self.yarn_api.url.removesuffix('/ws/v1/')}/proxy/{app_id}/"

    def runtime_status(self) -> str:
        """The application's state, e.g. ``RUNNING`` or ``FINISHED``; ``NONE`` before
        :meth:`start` (as knit 0.2.4)."""
        if not self.app_id:
            return "NONE"
        return self.yarn_api.state(self.app_id)

    def wait_for_completion(self, timeout: float = 10) -> bool:
        """Wait up to ``timeout`` s for the application to end; True only if it
        FINISHED with SUCCEEDED."""
        app_id = self._require_app()
        try:
            info = wait_until(lambda: _if_final(self.yarn_api.status(app_id)), timeout)
        except KnitError:
            return False
        records.delete_app_files(self.client, self.conf["hdfs_home"], app_id)
        return info["state"] == "FINISHED" and info["finalStatus"] == "SUCCEEDED"

    def logs(self, shell: bool = False, tail: int | None = None) -> dict[str, dict[str, str]]:
        """Logs of every container: live from the NodeManagers while running (the
        containers that already ended included), aggregated after the end (or with
        ``shell=True``; read by the client JVM): ``{container_id: {"stdout": ...,
        "stderr": ..., other files..., "nodeId": "host:port"}}``; with ``tail``, the
        last ``tail`` bytes of each file only."""
        logs = self.yarn_api.logs(self._require_app(), shell=shell, tail=tail,
                                  read_aggregated=yarn_logs.client_jvm_reader(self.client, self.yarn_api))
        if not shell and self.yarn_api.state(self.app_id) == "RUNNING":
            try:
                known = self.worker_containers()  # YARN lists only the live ones
            except (KnitError, ValueError):
                known = []  # it ended meanwhile, its AM is not up yet, or not ours to ask
            yarn_logs.add_ended_containers(self.yarn_api, logs, known, tail)
        return logs

    def print_logs(self, shell: bool = False, file=None) -> None:
        """Print :meth:`logs` in a console-friendly form."""
        print(yarn_logs.format_logs(self.logs(shell=shell)), file=file or sys.stdout)

    def kill(self) -> bool:
        """Kill the application.

        Returns
        -------
        bool
            True if it was running and YARN now reports it KILLED; False if there
            was nothing to kill (no :meth:`start` yet, or it had already ended), as
            in knit 0.2.4. A failure to reach YARN still raises.
        """
        if not self.app_id:
            return False
        try:
            killed = not self._has_ended() and self.yarn_api.kill(self.app_id)
        except NotFoundError:
            killed = False  # YARN forgot it (a ResourceManager restart without recovery)
        # The AM's process may answer for a moment after YARN says KILLED: later calls
        # resolve the endpoint again, and YARN's final state makes them raise.
        self._am = None
        records.delete_app_files(self.client, self.conf["hdfs_home"], self.app_id)
        return killed

    # ------------------------------------------------------------ attaching
    def attach(self, app_id: str) -> "Knit":
        """Take over a running application that knit started (typically a
        ``keep_alive`` service), from any process of the same user: status, logs,
        containers, scaling and ``kill`` then work as if this Knit had started it.

        Raises
        ------
        NotFoundError
            knit holds no record of ``app_id`` (see :mod:`knit.records`).
        ApplicationError
            It has ended.
        """
        secret = records.read_secret(self.client, self.conf["hdfs_home"], app_id)
        _raise_if_final(app_id, self.yarn_api.status(app_id))
        self.app_id, self._secret, self._am = app_id, secret, None
        return self

    @property
    def record(self) -> dict:
        """Fields added to this application's record with :meth:`update_record`."""
        return records.read_record(self.client, self.conf["hdfs_home"], self._require_app())

    def update_record(self, **fields) -> None:
        """Add JSON-serialisable fields to this application's record."""
        record = {**self.record, **fields}
        records.write_record(self.client, self.conf["hdfs_home"], self._require_app(), record)


def _default_progress(message: str) -> None:
    logger.info(message)


def _if_final(info: dict) -> dict | None:
    return info if info["state"] in FINAL_STATES else None


def _raise_if_final(app_id: str, info: dict) -> None:
    if info["state"] in FINAL_STATES:
        raise ApplicationError(app_id, info["state"], info.get("diagnostics", ""))
