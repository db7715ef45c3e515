"""``Knit``: run a shell command in YARN containers, then watch, scale and stop it."""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import shutil
import sys
import tempfile
import threading
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

from . import checks as checks_module
from . import records
from .am_client import AMClient
from .arguments import port, seconds, whole_number
from .conf import hdfs_uri, load_conf
from .contract import AppMasterSettings, Resource, launch_contract, to_json
from .env import archive_top_folder, is_archive, zip_env
from .exceptions import (
    ApplicationError,
    JVMError,
    KerberosError,
    KnitError,
    KnitTypeError,
    KnitValueError,
    NotFoundError,
    YARNException,
)
from .jvm import get_gateway, java_call, java_call_mapped
from .kerberos import Credentials, is_kerberos
from .maven import JAVA_LIBS, installed_jar
from .spec import ACLs, LaunchSpec, boot_script, check_boot_script_size, resource_name
from .staging import PUBLIC_STAGING, STAGING, Stager, file_digest
from .waiting import wait_until
from .yarn_api import FINAL_STATES, YARNAPI

logger = logging.getLogger(__name__)

#: The jar's name in the ApplicationMaster's container (LaunchContract.JarName).
JAR_NAME = "knit.jar"

#: Keyword arguments of Knit that are knit settings (the rest go to load_conf's pars check).
_SETTINGS = {"nn", "nn_port", "nn_http_port", "rm", "rm_port", "scheme", "gateway_path", "user",
             "replication_factor", "lang", "http_auth"}


class Knit:
    """Connection to HDFS/YARN; launches one ApplicationMaster with worker containers.

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
    **kwargs
        knit settings (``rm``, ``rm_port``, ``nn``, ``nn_port``, ``user``,
        ``replication_factor``, ``lang``, ``scheme``, ``gateway_path``), YARNAPI
        auth (``username``, ``password``, ``verify``), Kerberos (``kerberos``: True,
        False, or None to follow the cluster's configuration; ``principal`` and
        ``keytab`` to log in from a keytab instead of the ticket cache, which also
        lets long-running applications renew their delegation tokens; see
        docs/security.rst) and ApplicationMaster
        sizing (``am_memory`` MB, default 384; ``am_vcores``, default 1;
        ``am_max_attempts``, default 2: a new attempt takes over the running
        containers if the ApplicationMaster dies), waits
        (``start_timeout`` s, default 120; ``allocation_timeout`` s, default 300;
        ``client_timeout`` s, default 0 = none: a ``keep_alive`` application ends
        when this process has not called its ApplicationMaster for that long), and
        ``progress`` (a callable for progress messages, or False for none).

    Examples
    --------
    >>> k = Knit()                                                   # doctest: +SKIP
    >>> app_id = k.start('sleep 100', num_containers=5, memory=1024) # doctest: +SKIP
    """

    def __init__(self, autodetect: bool = True, upload_always: bool = False,
                 hdfs_home: str | None = None, knit_home: str = str(JAVA_LIBS), hdfs=None,
                 pars: dict | None = None, **kwargs):
        api_options = {key: kwargs.pop(key) for key in ("username", "password", "verify")
                       if key in kwargs}
        kerberos = kwargs.pop("kerberos", None)
        principal, keytab = kwargs.pop("principal", None), kwargs.pop("keytab", None)
        if principal and "user" not in kwargs:  # HDFS and YARN know the user by its short name
            kwargs["user"] = principal.split("@")[0].split("/")[0]
        self.am_memory = whole_number("am_memory", kwargs.pop("am_memory", 384), minimum=32)
        self.am_vcores = whole_number("am_vcores", kwargs.pop("am_vcores", 1))
        self.am_max_attempts = whole_number("am_max_attempts", kwargs.pop("am_max_attempts", 2))
        self.start_timeout = seconds("start_timeout", kwargs.pop("start_timeout", 120))
        self.allocation_timeout = seconds("allocation_timeout",
                                          kwargs.pop("allocation_timeout", 300))
        self.client_timeout = seconds("client_timeout", kwargs.pop("client_timeout", 0),
                                      zero_means="no limit")
        for name in ("rm_port", "nn_port"):
            if kwargs.get(name) is not None:
                kwargs[name] = port(name, kwargs[name])
        if kwargs.get("replication_factor") is not None:
            kwargs["replication_factor"] = whole_number("replication_factor",
                                                        kwargs["replication_factor"])
        progress = kwargs.pop("progress", None)
        unknown = set(kwargs) - _SETTINGS
        if unknown:
            raise KnitTypeError(f"unknown Knit argument(s): {', '.join(sorted(unknown))}")
        self.conf = load_conf(autodetect=autodetect, pars=pars, **kwargs)
        self.conf["hdfs_home"] = hdfs_home or self.conf.get("hdfs_home") or f"/user/{self.conf['user']}"
        if set(self.conf["hdfs_home"]) & set('"$`\\\n'):  # it reaches YARN's launch script
            raise KnitValueError(f"hdfs_home {self.conf['hdfs_home']!r} cannot hold \", $, `, \\ "
                             "or a newline: YARN passes it to the ApplicationMaster unquoted")
        self.upload_always = upload_always
        self.knit_home = Path(knit_home)
        self.hdfs = hdfs
        self._explicit_nn = "nn" in kwargs or "nn_port" in kwargs
        self._quiet = progress is False
        self._progress = (lambda message: None) if self._quiet else (progress or _default_progress)
        secure = is_kerberos(self.conf) if kerberos is None else bool(kerberos)
        #: Whose Kerberos credentials knit uses (None: the cluster has no Kerberos).
        self.credentials = Credentials(principal, keytab) if secure or principal or keytab else None
        web_kerberos = self.credentials is not None and (
            kerberos or str(self.conf.get("hadoop.http.authentication.type", "")).lower() == "kerberos")
        username = api_options.pop("username", self.conf["user"])
        if not (username or web_kerberos) and _refuses_anonymous(self.conf):
            raise KnitValueError(
                "the cluster's web APIs refuse anonymous calls (hadoop.http.authentication"
                ".simple.anonymous.allowed=false): pass user= or username= (sent as user.name), "
                "with password= if a gateway asks for one")
        self.yarn_api = YARNAPI(self.conf["rm"], self.conf["rm_port"], scheme=self.conf["scheme"],
                                gateway_path=self.conf.get("gateway_path", ""),
                                username=username,
                                kerberos=bool(web_kerberos), principal=principal, keytab=keytab,
                                **api_options)
        self.app_id: str | None = None
        self._client = None
        self._client_gateway = None
        self._stager: Stager | None = None
        self._secret = secrets.token_hex(24)
        self._am: AMClient | None = None
        self._client_lock = threading.RLock()
        # The client JVM starts while the caller does other things (a cold start()
        # would otherwise wait for it); a failure here is raised again by the first
        # call that needs the JVM.
        threading.Thread(target=self._warm_up, name="knit-client-jvm", daemon=True).start()

    def _warm_up(self) -> None:
        """Start the client JVM, open its HDFS connection and make its YARN client (the
        first use of each loads their classes: a few hundred ms)."""
        try:
            self._java("warm", self.conf["hdfs_home"])
        except Exception as exc:  # noqa: BLE001 - the caller's own call reports it
            logger.debug("starting the client JVM in the background failed: %s", exc)

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
        return f"Knit<{self.app_id or 'not started'}, rm={rm}>"

    def __enter__(self) -> "Knit":
        return self

    def __exit__(self, *exc_info) -> None:
        if self.app_id and not self._has_ended():
            self.kill()

    # ---------------------------------------------------------------- JVM side
    @property
    def client(self):
        """This Knit's ``knit.client.Client`` in the process's gateway JVM (a new
        one, in a new JVM, if that JVM died)."""
        login = self.credentials.gateway_key() if self.credentials else None
        with self._client_lock:
            gateway = get_gateway(self._jar(), login)
            if self._client is None or self._client_gateway is not gateway:
                if self._client_gateway is not None:
                    logger.warning("the knit client JVM had died; continuing with a new one")
                client = java_call(gateway.entry.newClient)
                java_call(client.setAll, json.dumps(self._hadoop_overrides()))
                if self.credentials is not None:
                    self._login(client)
                self._client, self._client_gateway, self._stager = client, gateway, None
            return self._client

    def _login(self, client) -> None:
        """Log the client JVM in to Kerberos, or raise :class:`KerberosError` saying why not."""
        credentials = self.credentials
        try:
            info = java_call(client.login, credentials.principal or "", credentials.keytab or "")
        except JVMError as exc:
            raise KerberosError(credentials.explain(str(exc))) from None
        if not info["kerberos"]:
            raise KerberosError(credentials.no_ticket("none valid in the ticket cache"))
        credentials.check_holder(info["principal"])

    def _hadoop_overrides(self) -> dict[str, str]:
        """Every Hadoop property ``load_conf`` resolved (files, then ``pars=``), so the
        JVM talks to the same cluster as the REST client, whatever XML its classpath
        holds (the process's JVM is shared by every Knit, of any cluster); and
        connection retries bounded by ``start_timeout`` where the files leave
        Hadoop's defaults (15 minutes and more for an address nothing listens on)."""
        overrides = {**_bounded_retries(self.start_timeout),
                     **{key: value for key, value in self.conf.items() if "." in key}}
        if self.conf.get("nn_port") and (self._explicit_nn or "fs.defaultFS" not in overrides):
            overrides["fs.defaultFS"] = f"hdfs://{self.conf['nn']}:{self.conf['nn_port']}"
        return {str(k): str(v) for k, v in overrides.items() if v is not None}

    @property
    def stager(self) -> Stager:
        client = self.client
        if self._stager is None:
            self._stager = Stager(client, self.conf["hdfs_home"],
                                  self.conf["replication_factor"], self.upload_always,
                                  progress=None if self._quiet else self._progress)
        return self._stager

    def _java(self, function_name: str, *args):
        """Call a method of :attr:`client`, mapping Java exceptions to knit's."""
        return java_call_mapped(getattr(self.client, function_name), *args, conf=self.conf)

    # ------------------------------------------------------------------ start
    def start(self, cmd: str, num_containers: int = 1, virtual_cores: int = 1, memory: int = 128,
              files: list[str] | None = None, envvars: dict[str, str] | None = None,
              app_name: str = "knit", queue: str = "default", checks: bool = True,
              env: str | None = None, env_visibility: str = "PRIVATE",
              keep_alive: bool = False, acls: ACLs | dict | None = None,
              max_restarts: int = 0, worker_kv: bool = False) -> str:
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
                          max_restarts=max_restarts, worker_kv=worker_kv)
        # The environment's prefix and key are not known before staging: the longest forms.
        check_boot_script_size(boot_script(spec, "x" * 255 if spec.env else None, "k" * 64))
        if checks:
            checks_module.preflight(self.yarn_api, spec, self.conf, self.am_memory, self.am_vcores,
                                    self._progress)
        # Housekeeping off the critical path: records of ended applications go.
        threading.Thread(target=self._sweep_records, name="knit-sweep", daemon=True).start()
        self.app_id, self._am = None, None
        self._secret = secrets.token_hex(24)  # one per application
        tag = f"knit-submission-{secrets.token_hex(8)}"
        self._progress(f"submitting {app_name!r}: {num_containers} container(s)")
        try:
            contract = self._contract(spec, tag)
            keytab = self.credentials.keytab if self.credentials and self.credentials.keytab else ""
            self.app_id = self._java("submit", to_json(contract), self._secret, keytab)
            self._progress(f"submitted {self.app_id}; waiting for it to run")
            self._wait_running()
        except KeyboardInterrupt:
            raise KeyboardInterrupt(self._after_interrupt(tag)) from None
        return self.app_id

    def _contract(self, spec: LaunchSpec, tag: str) -> dict:
        resources, env_prefix, env_key = self._stage(spec)
        jar_uri, jar_visibility = self.stager.ship_jar(self._jar())
        jar = Resource.from_status(JAR_NAME, self._java("fileStatus", jar_uri), "FILE", jar_visibility)
        am = AppMasterSettings(self.am_memory, self.am_vcores, self.am_max_attempts,
                               self.allocation_timeout, self.client_timeout)
        renewing = self.credentials is not None and self.credentials.uses_keytab
        return launch_contract(spec, am, jar, resources, boot_script(spec, env_prefix, env_key),
                               records.folder(self.conf["hdfs_home"]), spec.max_restarts,
                               tags=("knit", tag),
                               kerberos_principal=self.credentials.principal if renewing else "",
                               nodes=self._room_per_node(spec))

    def _room_per_node(self, spec: LaunchSpec) -> dict[str, int]:
        """How many worker containers each running node could hold now (a hint for
        where the ApplicationMaster asks; empty if YARN would not say)."""
        try:
            nodes = self.yarn_api.nodes(states="RUNNING")
        except YARNException as exc:
            logger.debug("no node list for locality hints: %s", exc)
            return {}
        return {node["nodeHostName"]: max(0, min(
            int(node.get("availMemoryMB", 0)) // spec.memory,
            int(node.get("availableVirtualCores", 0)) // spec.virtual_cores)) for node in nodes}

    def _after_interrupt(self, tag: str) -> str:
        """Kill what an interrupted start() submitted; say what happened."""
        try:
            apps = [self.app_id] if self.app_id else [
                a["id"] for a in self.yarn_api.apps_info(applicationTags=tag)]
            for app_id in apps:
                self.yarn_api.kill(app_id)
                records.delete_app_files(self.client, self.conf["hdfs_home"], app_id)
            return (f"start() interrupted; killed {', '.join(apps)}" if apps
                    else "start() interrupted before anything was submitted")
        except Exception as exc:  # noqa: BLE001 - the interrupt is what matters
            where = self.app_id or f"the application tagged {tag}"
            return (f"start() interrupted; could not kill {where} ({exc}): kill it with "
                    f"`yarn application -kill <id>` (find it with `yarn application -list`)")

    def _sweep_records(self) -> None:
        """Forget the files of this user's applications that ended unseen."""
        try:
            cleaned = records.sweep(self.client, self.conf["hdfs_home"],
                                    lambda app_id: self.yarn_api.state(app_id) in FINAL_STATES)
            if cleaned:
                logger.debug("deleted knit's files of ended applications %s", ", ".join(cleaned))
        except KnitError as exc:
            logger.debug("could not sweep %s: %s", records.folder(self.conf["hdfs_home"]), exc)

    def _jar(self) -> Path:
        jar = installed_jar(self.knit_home)
        if jar is None:
            raise KnitError(f"no knit jar in {self.knit_home}: build it with "
                            "`pip install -e .` or `python setup.py install mvn`")
        return jar

    def _stage(self, spec: LaunchSpec) -> tuple[list[Resource], str | None, str]:
        """Upload what must be uploaded; return container resources, the env prefix
        and a key naming the env's content."""
        resources = []
        for path in spec.files:
            uri = hdfs_uri(path, self.conf) if path.startswith("hdfs://") else self.stager.ship(path)
            kind = "ARCHIVE" if is_archive(path) else "FILE"
            resources.append(self._describe(resource_name(path), uri, kind, "PRIVATE", path))
        env_prefix, env_key = None, ""
        if spec.env:
            with self._packed_env(spec.env) as archive:
                if archive.startswith("hdfs://"):
                    uri = hdfs_uri(archive, self.conf)
                else:
                    uri = self.stager.ship(archive, spec.env_visibility)
                    env_key = file_digest(archive)[1][:20]
                name = resource_name(archive)
                top = None if archive.startswith("hdfs://") else archive_top_folder(Path(archive))
            env_prefix = f"{name}/{top}" if top else name
            resources.append(self._describe(name, uri, "ARCHIVE", spec.env_visibility, spec.env))
        return resources, env_prefix, env_key

    def _describe(self, name: str, uri: str, kind: str, visibility: str, given: str) -> Resource:
        status = self._java("fileStatus", uri)
        if status is None:
            raise FileNotFoundError(f"{given!r} does not exist in HDFS ({uri}); check the path "
                                    "with `hdfs dfs -ls`")
        if status["isDirectory"]:
            raise KnitValueError(f"{given!r} is an HDFS folder; ship files or archives")
        return Resource.from_status(name, status, kind, visibility)

    @contextlib.contextmanager
    def _packed_env(self, env: str) -> Iterator[str]:
        """``env`` as an archive: itself, or an environment folder zipped into a
        temporary folder that is removed once the archive is staged."""
        path = Path(env)
        if env.startswith("hdfs://") or path.is_file():
            yield env
            return
        folder = Path(tempfile.mkdtemp(prefix="knit-env-"))
        try:
            yield str(zip_env(path, folder / f"{path.resolve().name}.zip"))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _wait_running(self) -> None:
        seen = {"state": ""}

        def running() -> bool:
            info = seen["info"] = self.yarn_api.status(self.app_id)
            state = info["state"]
            if state in FINAL_STATES:
                raise ApplicationError(self.app_id, state, info.get("diagnostics", ""))
            if state != seen["state"]:
                self._progress(f"{self.app_id} is {state}")
                seen["state"] = state
            return state == "RUNNING" and info.get("amRPCAddress", "N/A") not in ("", "N/A")

        def why() -> str:
            info = seen.get("info", {})
            return (f"{self.app_id} still {info.get('state', '?')} after {self.start_timeout:.0f} s "
                    f"(diagnostics: {info.get('diagnostics') or 'none'}); it is left running: "
                    "kill() it or wait with wait_for_completion()")

        wait_until(running, self.start_timeout, interval=0.05, what=why)

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

    def logs(self, shell: bool = False) -> dict[str, dict[str, str]]:
        """Logs of every container: live from the NodeManagers while running (the
        containers that already ended included), aggregated after the end (or with
        ``shell=True``, through ``yarn logs``): ``{container_id: {"stdout": ...,
        "stderr": ..., other files..., "nodeId": "host:port"}}``."""
        logs = self.yarn_api.logs(self._require_app(), shell=shell)
        if not shell and self.yarn_api.state(self.app_id) == "RUNNING":
            try:
                known = self.worker_containers()  # YARN lists only the live ones
            except (KnitError, ValueError):
                known = []  # it ended meanwhile, its AM is not up yet, or not ours to ask
            for container in known:
                if container["id"] not in logs and container.get("nodeHttpAddress"):
                    logs[container["id"]] = {
                        **self.yarn_api.container_logs(container["id"], container["nodeHttpAddress"]),
                        "nodeId": container.get("node", "")}
        return logs

    def print_logs(self, shell: bool = False, file=None) -> None:
        """Print :meth:`logs` in a console-friendly form."""
        out = file or sys.stdout
        for container, files in sorted(self.logs(shell=shell).items()):
            print(f"== {container} on {files.get('nodeId') or 'an unknown node'}", file=out)
            for name in ("stdout", "stderr", "am.stdout", "am.stderr"):
                if files.get(name):
                    print(f"-- {name}\n{files[name].rstrip()}", file=out)

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

    # ------------------------------------------------------ the running app
    @property
    def am(self) -> AMClient:
        """The control endpoint of the running application's ApplicationMaster."""
        app_id = self._require_app()
        if self._am is None or self._am.app_id != app_id:
            self._am = AMClient(self.yarn_api, app_id, self._secret,
                                reconnect_timeout=max(self.start_timeout, 30.0))
        return self._am

    def get_containers(self) -> list[dict]:
        """Every container of the application, as knit 0.2.4 listed them: the
        ApplicationMaster's own first (``"am": True``), then each worker container
        (``"am": False``) the ApplicationMaster holds or held: id, state (ALLOCATED,
        RUNNING, COMPLETE, REMOVED), node, memory, vcores, exit status.

        :meth:`worker_containers` lists the workers alone."""
        workers = [{**c, "am": False} for c in self.worker_containers()]
        return [self._am_container_entry(), *workers]

    def worker_containers(self) -> list[dict]:
        """The worker containers the ApplicationMaster holds or held (not its own):
        id, state (ALLOCATED, RUNNING, COMPLETE, REMOVED), node, memory, vcores, exit
        status."""
        return self.get_container_report()["containers"]

    def _am_container_entry(self) -> dict:
        """The running attempt's ApplicationMaster container, shaped as a worker's entry."""
        attempt = self.yarn_api.app_attempts(self._require_app())[-1]
        return {"id": attempt.get("containerId", ""), "state": "RUNNING",
                "node": attempt.get("nodeId", ""), "nodeHttpAddress": attempt.get("nodeHttpAddress", ""),
                "memory": self.am_memory, "vcores": self.am_vcores, "exitStatus": None, "am": True}

    def get_container_report(self) -> dict:
        """The ApplicationMaster's view in one call: ``containers`` (as
        :meth:`get_containers`), ``pending`` (asks YARN has not granted yet),
        ``target`` (containers it keeps live or asked for), ``restarts`` and
        ``max_restarts``, ``attempt`` (its attempt number), ``am`` (its own
        container's id) and ``ended_not_listed`` (ended containers no longer listed:
        only the newest 100 ended ones are kept, counted in the totals)."""
        return self.am.call("GET", "/containers")

    def remove_pending_containers(self, count: int = 1) -> int:
        """Withdraw up to ``count`` container asks YARN has not granted yet.

        Returns
        -------
        int
            How many were withdrawn (fewer if fewer were pending).
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise KnitValueError(f"count must be a whole number >= 1, not {count!r}")
        return int(self.am.call("DELETE", "/containers/pending", count=count)["withdrawn"])

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
        spec = LaunchSpec(cmd="-", num_containers=num_containers, virtual_cores=virtual_cores,
                          memory=memory)
        checks_module.check_fits(self.yarn_api, spec, self.conf)
        self.am.call("POST", "/containers", count=num_containers, memory=memory,
                     vcores=virtual_cores)

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
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise KnitValueError(f"n must be a whole number >= 0, not {n!r}")
        params = {"n": n}
        if virtual_cores is not None or memory is not None:
            spec = LaunchSpec(cmd="-", num_containers=max(n, 1),
                              virtual_cores=1 if virtual_cores is None else virtual_cores,
                              memory=128 if memory is None else memory)
            checks_module.check_fits(self.yarn_api, spec, self.conf)
            params.update({k: v for k, v in (("vcores", virtual_cores), ("memory", memory)) if v})
        return int(self.am.call("PUT", "/containers/target", **params)["target"])

    def remove_containers(self, container_id: str | dict) -> None:
        """Stop one worker container; the ApplicationMaster's own is refused.

        Parameters
        ----------
        container_id : str or dict
            Its id, or its entry from :meth:`get_containers`.

        Raises
        ------
        RequestRefusedError
            ``container_id`` is the ApplicationMaster's container (the entry of
            :meth:`get_containers` marked ``"am": True``).
        NotFoundError
            No live worker container has that id.
        """
        if isinstance(container_id, dict):
            container_id = container_id["id"]
        self.am.call("DELETE", f"/containers/{container_id}")

    def set_value(self, key: str, value: str) -> None:
        """Put ``value`` under ``key`` in the application's key-value store (kept by
        its ApplicationMaster, across its attempts; containers can set keys too)."""
        if not isinstance(value, str):
            raise KnitTypeError(f"value must be a string, not {type(value).__name__}")
        self.am.call("PUT", f"/kv/{key}", data=value.encode())

    def get_value(self, key: str, wait: float = 0) -> str:
        """The value of ``key``, waiting up to ``wait`` seconds for it to be set.

        Raises
        ------
        NotFoundError
            Not set (within ``wait``).
        """
        remaining, step = float(wait), 50.0  # the endpoint holds a request up to 60 s
        while True:
            try:
                return self.am.call("GET", f"/kv/{key}", wait=min(remaining, step))["value"]
            except NotFoundError:
                remaining -= step
                if remaining <= 0:
                    raise

    # ------------------------------------------------------------- staging
    def check_needs_upload(self, path: str) -> bool:
        """Whether ``path``'s content is not yet in HDFS (content hash and size)."""
        return self.stager.needs_upload(path)

    @staticmethod
    def create_env(env_name: str, packages: list[str] | None = None, remove: bool = False,
                   channels: list[str] | None = None, conda_pars: dict | None = None) -> str:
        """Create (or reuse) a zipped environment with :class:`~knit.conda.CondaCreator`.

        Returns
        -------
        str
            Path of the zip, ready for ``start(..., env=...)``.

        Examples
        --------
        >>> env = Knit.create_env('analysis', packages=['numpy', 'pandas'])  # doctest: +SKIP
        >>> Knit().start('$PYTHON_BIN -c "import pandas"', env=env)          # doctest: +SKIP
        """
        from .conda import CondaCreator

        creator = CondaCreator(channels=channels, **(conda_pars or {}))
        return creator.create_env(env_name, packages=packages, remove=remove)

    def list_envs(self) -> list[dict]:
        """Archives in ``.knitDeps`` and ``.knitPublic``, with ``name`` (the HDFS
        path, as knit 0.2.4 listed them), ``path`` (the full URI), size and
        modification time (through ``hdfs=`` when given, else the JVM)."""
        if self.hdfs is not None:
            found = []
            for folder in (STAGING, PUBLIC_STAGING):
                path = f"{self.conf['hdfs_home']}/{folder}"
                if self.hdfs.exists(path):
                    found += self.hdfs.find(path, detail=True).values()
            return [dict(f) for f in found if is_archive(str(f["name"]))]
        return [{"name": urlparse(f["path"]).path, **f} for f in self.stager.list_files()
                if is_archive(str(f["path"]))]


def _default_progress(message: str) -> None:
    logger.info(message)


def _if_final(info: dict) -> dict | None:
    return info if info["state"] in FINAL_STATES else None


def _raise_if_final(app_id: str, info: dict) -> None:
    if info["state"] in FINAL_STATES:
        raise ApplicationError(app_id, info["state"], info.get("diagnostics", ""))


def _bounded_retries(timeout: float) -> dict[str, str]:
    """Hadoop client settings that give up on an unreachable ResourceManager or
    NameNode within about ``timeout`` seconds, and do not sleep longer than needed
    on the way (the cluster's files may still set their own)."""
    timeout_ms = str(int(max(timeout, 10) * 1000))
    return {
        "yarn.resourcemanager.connect.max-wait.ms": timeout_ms,
        "yarn.resourcemanager.connect.retry-interval.ms": "1000",
        "yarn.client.failover-max-attempts": "3",
        "ipc.client.connect.max.retries": "3",
        "ipc.client.connect.max.retries.on.timeouts": "3",
        "ipc.client.connect.timeout": "10000",
        "dfs.client.failover.max.attempts": "3",
        # Latency: submitApplication polls for the ResourceManager's acceptance (200 ms
        # by default), and closing a file waits 400 ms before asking again whether the
        # DataNode reported its block; both are waits on a reply that comes in ms.
        "yarn.client.application-client-protocol.poll-interval-ms": "20",
        "dfs.client.block.write.locateFollowingBlock.initial.delay.ms": "20",
        "dfs.client.block.write.locateFollowingBlock.retries": "10",
    }


def _refuses_anonymous(conf: dict) -> bool:
    """Whether the cluster's web APIs use simple auth and refuse calls naming no user."""
    return (str(conf.get("hadoop.http.authentication.type", "simple")).lower() == "simple" and
            str(conf.get("hadoop.http.authentication.simple.anonymous.allowed", "true")).lower()
            == "false")
