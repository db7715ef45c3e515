"""``Knit``: run a shell command in YARN containers, then watch, scale and stop it."""

from __future__ import annotations

import base64
import logging
import secrets
import sys
import tempfile
import time
from pathlib import Path

import requests

from . import checks as checks_module
from . import records
from .conf import load_conf
from .env import archive_top_folder, is_archive, zip_env
from .exceptions import ApplicationError, KnitError, KnitTimeoutError, NotFoundError
from .jvm import get_gateway, java_call
from .maven import JAVA_LIBS, installed_jar
from .spec import ACLs, LaunchSpec, boot_script, resource_name
from .staging import PUBLIC_STAGING, STAGING, Stager, file_digest
from .yarn_api import FINAL_STATES, YARNAPI

logger = logging.getLogger(__name__)

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
        auth (``kerberos``, ``username``, ``password``, ``verify``) and ApplicationMaster
        sizing (``am_memory`` MB, default 384; ``am_vcores``, default 1), waits
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
        api_options = {key: kwargs.pop(key) for key in ("kerberos", "username", "password", "verify")
                       if key in kwargs}
        self.am_memory = int(kwargs.pop("am_memory", 384))
        self.am_vcores = int(kwargs.pop("am_vcores", 1))
        self.start_timeout = float(kwargs.pop("start_timeout", 120))
        self.allocation_timeout = float(kwargs.pop("allocation_timeout", 300))
        self.client_timeout = float(kwargs.pop("client_timeout", 0))
        progress = kwargs.pop("progress", None)
        unknown = set(kwargs) - _SETTINGS
        if unknown:
            raise TypeError(f"unknown Knit argument(s): {', '.join(sorted(unknown))}")
        self.conf = load_conf(autodetect=autodetect, pars=pars, **kwargs)
        self.conf["hdfs_home"] = hdfs_home or self.conf.get("hdfs_home") or f"/user/{self.conf['user']}"
        self.upload_always = upload_always
        self.knit_home = Path(knit_home)
        self.hdfs = hdfs
        self._explicit_nn = "nn" in kwargs or "nn_port" in kwargs
        self._progress = (lambda message: None) if progress is False else (progress or _default_progress)
        self.yarn_api = YARNAPI(self.conf["rm"], self.conf["rm_port"], scheme=self.conf["scheme"],
                                gateway_path=self.conf.get("gateway_path", ""),
                                username=api_options.pop("username", self.conf["user"]), **api_options)
        self.app_id: str | None = None
        self._client = None
        self._stager: Stager | None = None
        self._secret = secrets.token_hex(24)

    def __repr__(self) -> str:
        rm = f"{self.conf['scheme']}://{self.conf['rm']}:{self.conf['rm_port']}"
        return f"Knit<{self.app_id or 'not started'}, rm={rm}>"

    def __enter__(self) -> "Knit":
        return self

    def __exit__(self, *exc_info) -> None:
        if self.app_id and self.yarn_api.state(self.app_id) not in FINAL_STATES:
            self.kill()

    # ---------------------------------------------------------------- JVM side
    @property
    def client(self):
        """This Knit's ``knit.client.Client`` in the process's gateway JVM."""
        if self._client is None:
            gateway = get_gateway(self._jar())
            client = java_call(gateway.entry.newClient)
            for key, value in self._hadoop_overrides().items():
                java_call(client.set, key, value)
            self._client = client
        return self._client

    def _hadoop_overrides(self) -> dict[str, str]:
        """Every Hadoop property ``load_conf`` resolved (files, then ``pars=``), so the
        JVM talks to the same cluster as the REST client, whatever XML its classpath
        holds (the process's JVM is shared by every Knit, of any cluster)."""
        overrides = {key: value for key, value in self.conf.items() if "." in key}
        if self.conf.get("nn_port") and (self._explicit_nn or "fs.defaultFS" not in overrides):
            overrides["fs.defaultFS"] = f"hdfs://{self.conf['nn']}:{self.conf['nn_port']}"
        return {str(k): str(v) for k, v in overrides.items() if v is not None}

    @property
    def stager(self) -> Stager:
        if self._stager is None:
            self._stager = Stager(self.client, self.conf["hdfs_home"],
                                  self.conf["replication_factor"], self.upload_always)
        return self._stager

    # ------------------------------------------------------------------ start
    def start(self, cmd: str, num_containers: int = 1, virtual_cores: int = 1, memory: int = 128,
              files: list[str] | None = None, envvars: dict[str, str] | None = None,
              app_name: str = "knit", queue: str = "default", checks: bool = True,
              env: str | None = None, env_visibility: str = "PRIVATE",
              keep_alive: bool = False, acls: ACLs | dict | None = None) -> str:
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
        envvars : dict of str to str
            Environment of the ApplicationMaster and every container.
        app_name, queue : str
            Name shown by YARN, and the scheduler queue.
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
        """
        if self.app_id and self.yarn_api.state(self.app_id) not in FINAL_STATES:
            raise KnitError(f"this Knit already runs {self.app_id}; kill() it or use another Knit")
        spec = LaunchSpec(cmd=cmd, num_containers=num_containers, virtual_cores=virtual_cores,
                          memory=memory, files=() if files is None else files,
                          envvars={} if envvars is None else envvars,
                          app_name=app_name, queue=queue, env=env, env_visibility=env_visibility,
                          lang=self.conf["lang"], keep_alive=keep_alive, acls=acls)
        if checks:
            checks_module.preflight(self.yarn_api, spec, self.conf, self.am_memory, self.am_vcores)
        self._secret = secrets.token_hex(24)  # one per application
        self._progress(f"submitting {app_name!r}: {num_containers} container(s)")
        resources, env_prefix, env_key = self._stage(spec)
        jar_uri, jar_visibility = self.stager.ship_jar(self._jar())
        secret_uri = records.write_secret(self.client, self.conf["hdfs_home"], self._secret,
                                          self.conf["replication_factor"])
        self.app_id = java_call(
            self.client.submit, spec.app_name, spec.queue, self.am_memory, self.am_vcores,
            jar_uri, jar_visibility, resources, self._am_environment(spec, env_prefix, env_key),
            ["knit"], spec.acls.to_yarn(), secret_uri)
        if keep_alive:  # a service: another process may attach to it later
            records.write_record(self.client, self.conf["hdfs_home"], self.app_id,
                                 {"secret": self._secret})
        self._progress(f"submitted {self.app_id}; waiting for it to run")
        self._wait_running()
        return self.app_id

    def _jar(self) -> Path:
        jar = installed_jar(self.knit_home)
        if jar is None:
            raise KnitError(f"no knit jar in {self.knit_home}: build it with "
                            "`pip install -e .` or `python setup.py install mvn`")
        return jar

    def _stage(self, spec: LaunchSpec) -> tuple[list[list[str]], str | None, str]:
        """Upload what must be uploaded; return container resources, the env prefix
        and a key naming the env's content."""
        resources = []
        for path in spec.files:
            uri = path if path.startswith("hdfs://") else self.stager.ship(path)
            kind = "ARCHIVE" if is_archive(path) else "FILE"
            resources.append([resource_name(path), uri, kind, "PRIVATE"])
        env_prefix, env_key = None, ""
        if spec.env:
            archive = self._pack_env(spec.env)
            if archive.startswith("hdfs://"):
                uri = archive
            else:
                uri = self.stager.ship(archive, spec.env_visibility)
                env_key = file_digest(archive)[1][:20]
            name = resource_name(archive)
            top = None if archive.startswith("hdfs://") else archive_top_folder(Path(archive))
            env_prefix = f"{name}/{top}" if top else name
            resources.append([name, uri, "ARCHIVE", spec.env_visibility])
        return resources, env_prefix, env_key

    def _pack_env(self, env: str) -> str:
        path = Path(env)
        if env.startswith("hdfs://") or path.is_file():
            return env
        folder = Path(tempfile.mkdtemp(prefix="knit-env-"))
        return str(zip_env(path, folder / f"{path.resolve().name}.zip"))

    def _am_environment(self, spec: LaunchSpec, env_prefix: str | None,
                        env_key: str) -> dict[str, str]:
        script = boot_script(spec, env_prefix, env_key)
        return {
            **spec.envvars,
            "KNIT_ENVVAR_NAMES": " ".join(spec.envvars),
            "KNIT_NUM_CONTAINERS": str(spec.num_containers),
            "KNIT_MEMORY_MB": str(spec.memory),
            "KNIT_VCORES": str(spec.virtual_cores),
            "KNIT_BOOT_B64": base64.b64encode(script.encode()).decode(),
            "KNIT_ALLOCATION_TIMEOUT": str(self.allocation_timeout),
            "KNIT_KEEP_ALIVE": "1" if spec.keep_alive else "0",
            "KNIT_CLIENT_TIMEOUT": str(self.client_timeout if spec.keep_alive else 0),
        }

    def _wait_running(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last = ""
        while True:
            info = self.yarn_api.status(self.app_id)
            state = info["state"]
            if state == "RUNNING" and info.get("amRPCAddress", "N/A") not in ("", "N/A"):
                self._progress(f"{self.app_id} is RUNNING")
                return
            if state in FINAL_STATES:
                raise ApplicationError(self.app_id, state, info.get("diagnostics", ""))
            if state != last:
                self._progress(f"{self.app_id} is {state}")
                last = state
            if time.monotonic() > deadline:
                raise KnitTimeoutError(
                    f"{self.app_id} still {state} after {self.start_timeout:.0f} s "
                    f"(diagnostics: {info.get('diagnostics') or 'none'}); it is left running: "
                    "kill() it or wait with wait_for_completion()")
            time.sleep(0.2)

    # ------------------------------------------------------------- monitoring
    def _require_app(self) -> str:
        if not self.app_id:
            raise KnitError("no application yet: call start() first")
        return self.app_id

    def status(self) -> dict:
        """YARN's report of the application (state, finalStatus, diagnostics, resources)."""
        return self.yarn_api.status(self._require_app())

    def runtime_status(self) -> str:
        """The application's state, e.g. ``RUNNING`` or ``FINISHED``."""
        return self.yarn_api.state(self._require_app())

    def wait_for_completion(self, timeout: float = 10) -> bool:
        """Wait up to ``timeout`` s for the application to end; True only if it
        FINISHED with SUCCEEDED."""
        app_id = self._require_app()
        deadline = time.monotonic() + timeout
        while True:
            info = self.yarn_api.status(app_id)
            if info["state"] in FINAL_STATES:
                records.delete_secret(self.client, self.conf["hdfs_home"], self._secret)
                return info["state"] == "FINISHED" and info["finalStatus"] == "SUCCEEDED"
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)

    def logs(self, shell: bool = False) -> dict[str, dict[str, str]]:
        """Logs of every container: live from the NodeManagers while running (the
        containers that already ended included), aggregated after the end (or with
        ``shell=True``, through ``yarn logs``)."""
        logs = self.yarn_api.logs(self._require_app(), shell=shell)
        if not shell and self.yarn_api.state(self.app_id) == "RUNNING":
            try:
                known = self.get_containers()  # YARN lists only the live ones
            except (KnitError, ValueError):
                known = []  # it ended meanwhile, its AM is not up yet, or not ours to ask
            for container in known:
                if container["id"] not in logs and container.get("nodeHttpAddress"):
                    logs[container["id"]] = self.yarn_api.container_logs(
                        container["id"], container["nodeHttpAddress"])
        return logs

    def print_logs(self, shell: bool = False, file=None) -> None:
        """Print :meth:`logs` in a console-friendly form."""
        out = file or sys.stdout
        for container, files in sorted(self.logs(shell=shell).items()):
            print(f"== {container}", file=out)
            for name in ("stdout", "stderr", "am.stdout", "am.stderr"):
                if files.get(name):
                    print(f"-- {name}\n{files[name].rstrip()}", file=out)

    def kill(self) -> bool:
        """Kill the application; True once YARN reports it KILLED."""
        killed = self.yarn_api.kill(self._require_app())
        records.delete_record(self.client, self.conf["hdfs_home"], self.app_id)  # if any
        records.delete_secret(self.client, self.conf["hdfs_home"], self._secret)
        return killed

    # ------------------------------------------------------------ attaching
    def attach(self, app_id: str) -> "Knit":
        """Take over a running ``keep_alive`` application that knit started, from any
        process of the same user: status, logs, containers, scaling and ``kill`` then work
        as if this Knit had started it.

        Raises
        ------
        NotFoundError
            knit holds no record of ``app_id`` (see :mod:`knit.records`).
        ApplicationError
            It has ended.
        """
        record = records.read_record(self.client, self.conf["hdfs_home"], app_id)
        info = self.yarn_api.status(app_id)
        if info["state"] in FINAL_STATES:
            raise ApplicationError(app_id, info["state"], info.get("diagnostics", ""))
        self.app_id, self._secret = app_id, record["secret"]
        return self

    @property
    def record(self) -> dict:
        """What knit keeps in HDFS about this application (see :meth:`attach`)."""
        return records.read_record(self.client, self.conf["hdfs_home"], self._require_app())

    def update_record(self, **fields) -> None:
        """Add JSON-serialisable fields to this application's record."""
        record = {**self.record, **fields}
        records.write_record(self.client, self.conf["hdfs_home"], self._require_app(), record)

    # ------------------------------------------------------ the running app
    def _control(self, method: str, path: str, **params) -> dict:
        info = self.status()
        if info["state"] != "RUNNING":
            raise ApplicationError(self.app_id, info["state"], info.get("diagnostics", ""))
        session = requests.Session()
        session.trust_env = False
        try:
            reply = session.request(method, f"http://{info['amRPCAddress']}/containers{path}",
                                    params=params, headers={"X-Knit-Secret": self._secret},
                                    timeout=30)
        except requests.RequestException as exc:
            raise KnitError(f"cannot reach the ApplicationMaster of {self.app_id} at "
                            f"{info['amRPCAddress']}: {exc}") from exc
        body = reply.json()
        if reply.status_code == 404:
            raise NotFoundError(body.get("error", reply.text), "NotFoundException")
        if reply.status_code >= 400:
            raise ValueError(body.get("error", reply.text))
        return body

    def get_containers(self) -> list[dict]:
        """The worker containers the ApplicationMaster holds or held: id, state
        (ALLOCATED, RUNNING, COMPLETE, REMOVED), node, memory, vcores, exit status."""
        return self.get_container_report()["containers"]

    def get_container_report(self) -> dict:
        """The ApplicationMaster's view in one call: ``containers`` (as
        :meth:`get_containers`) and ``pending``, the asks YARN has not granted yet."""
        return self._control("GET", "")

    def remove_pending_containers(self, count: int = 1) -> int:
        """Withdraw up to ``count`` container asks YARN has not granted yet.

        Returns
        -------
        int
            How many were withdrawn (fewer if fewer were pending).
        """
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise ValueError(f"count must be a whole number >= 1, not {count!r}")
        return int(self._control("DELETE", "/pending", count=count)["withdrawn"])

    def get_container_statuses(self) -> dict[str, str]:
        """``{container_id: state}`` for every worker container."""
        return {c["id"]: c["state"] for c in self.get_containers()}

    def add_containers(self, num_containers: int = 1, virtual_cores: int = 1, memory: int = 128) -> None:
        """Ask the running application for more containers running the same command."""
        LaunchSpec(cmd="-", num_containers=num_containers, virtual_cores=virtual_cores, memory=memory)
        self._control("POST", "", count=num_containers, memory=memory, vcores=virtual_cores)

    def remove_containers(self, container_id: str) -> None:
        """Stop one worker container; the ApplicationMaster's own is refused.

        Raises
        ------
        ValueError
            ``container_id`` is the ApplicationMaster's container.
        NotFoundError
            No live worker container has that id.
        """
        self._control("DELETE", f"/{container_id}")

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
        """Archives in ``.knitDeps`` and ``.knitPublic``, with path, size and
        modification time (through ``hdfs=`` when given, else the JVM)."""
        if self.hdfs is not None:
            found = []
            for folder in (STAGING, PUBLIC_STAGING):
                path = f"{self.conf['hdfs_home']}/{folder}"
                if self.hdfs.exists(path):
                    found += self.hdfs.find(path, detail=True).values()
            return [dict(f) for f in found if is_archive(str(f["name"]))]
        return [f for f in self.stager.list_files() if is_archive(str(f["path"]))]



def _default_progress(message: str) -> None:
    logger.info(message)

