"""Submitting one application: stage its files and environment, check the cluster can
run it, assemble the launch contract, submit it, and wait until it runs.

The :class:`Launcher` is what ``Knit.start`` hands a validated :class:`~knit.spec.LaunchSpec`
to; it knows nothing of :class:`~knit.Knit` itself.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterator

from . import checks as checks_module
from . import records
from .conf import hdfs_uri
from .contract import AppMasterSettings, Resource, launch_contract, to_json
from .exceptions import (ApplicationError, KnitError, KnitTimeoutError, KnitValueError,
                         YARNException)
from .java_client import JavaClient
from .kerberos import Credentials
from .packing import archive_top_folder, is_archive, zip_env
from .spec import LaunchSpec, boot_script, check_boot_script_size, resource_name
from .staging import file_digest
from .waiting import wait_until
from .yarn_api import FINAL_STATES, YARNAPI, registered

logger = logging.getLogger(__name__)

#: The jar's name in the ApplicationMaster's container (LaunchContract.JarName).
JAR_NAME = "knit.jar"


class Launcher:
    """Launches applications for one user's connection to a cluster.

    Parameters
    ----------
    java : JavaClient
        HDFS and YARN RPC.
    yarn_api : YARNAPI
        The ResourceManager's REST API.
    conf : dict
        The resolved configuration.
    am : AppMasterSettings
        The ApplicationMaster's size, attempts and waits.
    credentials : Credentials, optional
        The Kerberos login (a keytab's principal lets the AM renew tokens).
    start_timeout : float
        Seconds for a submitted application to run.
    progress : callable
        Progress messages.
    """

    def __init__(self, java: JavaClient, yarn_api: YARNAPI, conf: dict, am: AppMasterSettings,
                 credentials: Credentials | None, start_timeout: float,
                 progress: Callable[[str], None]):
        self.java, self.yarn_api, self.conf, self.am = java, yarn_api, conf, am
        self.credentials, self.start_timeout, self.progress = credentials, start_timeout, progress
        #: The application submitted by the last :meth:`launch` (None before it submits).
        self.app_id: str | None = None

    def launch(self, spec: LaunchSpec, secret: str, checks: bool = True) -> str:
        """Submit ``spec`` with the control ``secret`` and wait until it runs.

        :attr:`app_id` holds the application from its submission on, also when
        waiting fails. An interrupt kills what was submitted, then raises
        :class:`KeyboardInterrupt` saying so.
        """
        # The environment's prefix and key are not known before staging: the longest forms.
        check_boot_script_size(boot_script(spec, "x" * 255 if spec.env else None, "k" * 64))
        if checks:
            checks_module.preflight(self.yarn_api, spec, self.conf, self.am.memory,
                                    self.am.vcores, self.progress)
        self.progress(f"submitting {spec.app_name!r}: {spec.num_containers} container(s)")
        return self.submit(lambda tag: self.contract(spec, tag), secret)

    def submit(self, contract_of: Callable[[str], dict], secret: str) -> str:
        """Submit the contract ``contract_of(tag)`` stages and assembles (``tag``
        names this submission) with the control ``secret``; wait until it runs.

        :attr:`app_id` holds the application from its submission on, also when
        waiting fails. An interrupt kills what was submitted, then raises
        :class:`KeyboardInterrupt` saying so.
        """
        # Housekeeping off the critical path: records of ended applications go.
        threading.Thread(target=self.sweep_records, name="knit-sweep", daemon=True).start()
        self.app_id = None
        tag = f"knit-submission-{secrets.token_hex(8)}"
        submitting = False
        try:
            contract = contract_of(tag)
            keytab = self.credentials.keytab if self.renewing_principal else ""
            submitting = True
            self.app_id = self.java.call("submit", to_json(contract), secret, keytab)
            self.progress(f"submitted {self.app_id}; waiting for it to run")
            self.wait_running()
        except KeyboardInterrupt:
            raise KeyboardInterrupt(self.after_interrupt(tag)) from None
        except (ApplicationError, KnitTimeoutError):
            raise  # it ended by itself, or it is left running as documented
        except KnitError as exc:
            # YARN could not be asked (e.g. its ResourceManager failed over while the
            # submission was under way): leave nothing half-known behind.
            if submitting:
                exc.args = (f"{exc.args[0] if exc.args else exc} [{self.abandon(tag)}]",
                            *exc.args[1:])
            raise
        return self.app_id

    def jar_resource(self) -> Resource:
        """knit's jar, staged, as the ApplicationMaster's container localizes it."""
        jar_uri, jar_visibility = self.java.stager.ship_jar(self.java.jar())
        return Resource.from_status(JAR_NAME, self.java.call("fileStatus", jar_uri), "FILE",
                                    jar_visibility)

    @property
    def renewing_principal(self) -> str:
        """The principal the ApplicationMaster renews tokens as ('' without a keytab).
        Never a service's acting for a user (``proxy_user``): its keytab would be
        shipped into the user's application, for the user to read and act as the
        service; YARN renews the user's tokens up to their maximum lifetime."""
        renewing = (self.credentials is not None and self.credentials.uses_keytab
                    and not self.java.proxy_user)
        return self.credentials.principal if renewing else ""

    def contract(self, spec: LaunchSpec, tag: str) -> dict:
        """The launch contract of ``spec``, its files staged."""
        resources, env_prefix, env_key = self.stage(spec)
        return launch_contract(spec, self.am, self.jar_resource(),
                               resources, boot_script(spec, env_prefix, env_key),
                               records.folder(self.conf["hdfs_home"]), spec.max_restarts,
                               tags=("knit", tag), kerberos_principal=self.renewing_principal,
                               nodes=self.room_per_node(spec.memory, spec.virtual_cores))

    def room_per_node(self, memory: int, vcores: int) -> dict[str, int]:
        """How many containers of this size each running node could hold now (a hint
        for where the ApplicationMaster asks; empty if YARN would not say)."""
        try:
            nodes = self.yarn_api.nodes(states="RUNNING")
        except YARNException as exc:
            logger.debug("no node list for locality hints: %s", exc)
            return {}
        return {node["nodeHostName"]: max(0, min(
            int(node.get("availMemoryMB", 0)) // memory,
            int(node.get("availableVirtualCores", 0)) // vcores)) for node in nodes}

    def stage(self, spec: LaunchSpec) -> tuple[list[Resource], str | None, str]:
        """Upload what must be uploaded; return container resources, the env prefix
        and a key naming the env's content."""
        stager = self.java.stager
        resources = []
        for path in spec.files:
            uri = hdfs_uri(path, self.conf) if path.startswith("hdfs://") else stager.ship(path)
            kind = "ARCHIVE" if is_archive(path) else "FILE"
            resources.append(self.describe(resource_name(path), uri, kind, "PRIVATE", path))
        env_prefix, env_key = None, ""
        if spec.env:
            with packed_env(spec.env) as archive:
                if archive.startswith("hdfs://"):
                    uri = hdfs_uri(archive, self.conf)
                else:
                    uri = stager.ship(archive, spec.env_visibility)
                    env_key = file_digest(archive)[1][:20]
                name = resource_name(archive)
                top = None if archive.startswith("hdfs://") else archive_top_folder(Path(archive))
            env_prefix = f"{name}/{top}" if top else name
            resources.append(self.describe(name, uri, "ARCHIVE", spec.env_visibility, spec.env))
        return resources, env_prefix, env_key

    def describe(self, name: str, uri: str, kind: str, visibility: str, given: str) -> Resource:
        """The container resource of an HDFS file (``given`` is what the user named)."""
        status = self.java.call("fileStatus", uri)
        if status is None:
            raise FileNotFoundError(f"{given!r} does not exist in HDFS ({uri}); check the path "
                                    "with `hdfs dfs -ls`")
        if status["isDirectory"]:
            raise KnitValueError(f"{given!r} is an HDFS folder; ship files or archives")
        return Resource.from_status(name, status, kind, visibility)

    def wait_running(self) -> None:
        """Wait until the ApplicationMaster has registered, reporting each state."""
        said = {"state": ""}

        def status() -> dict:
            info = self.yarn_api.status(self.app_id)
            if info["state"] in FINAL_STATES:
                raise ApplicationError(self.app_id, info["state"], info.get("diagnostics", ""))
            if info["state"] != said["state"]:
                self.progress(f"{self.app_id} is {info['state']}")
                said["state"] = info["state"]
            return info

        def why(info: dict | None) -> str:
            info = info or {}
            return (f"{self.app_id} still {info.get('state', '?')} after {self.start_timeout:.0f} s "
                    f"(diagnostics: {info.get('diagnostics') or 'none'}); it is left running: "
                    "kill() it or wait with wait_for_completion()")

        wait_until(status, self.start_timeout, interval=0.05, what=why, until=registered)

    def after_interrupt(self, tag: str) -> str:
        """Kill what an interrupted launch submitted; say what happened."""
        return f"start() interrupted; {self.abandon(tag)}"

    def abandon(self, tag: str) -> str:
        """Kill what this launch submitted (found by ``app_id`` or by its tag), with
        its records; say what happened."""
        try:
            apps = [self.app_id] if self.app_id else [
                a["id"] for a in self.yarn_api.apps_info(applicationTags=tag)]
            for app_id in apps:
                self.yarn_api.kill(app_id)
                records.delete_app_files(self.java.client, self.conf["hdfs_home"], app_id)
            return f"killed {', '.join(apps)}" if apps else "nothing was submitted"
        except Exception as exc:  # noqa: BLE001 - the first failure is what matters
            where = self.app_id or f"the application tagged {tag}"
            return (f"could not kill {where} ({exc}): kill it with "
                    f"`yarn application -kill <id>` (find it with `yarn application -list`)")

    def sweep_records(self) -> None:
        """Forget the files of this user's applications that ended unseen."""
        try:
            cleaned = records.sweep(self.java.client, self.conf["hdfs_home"],
                                    lambda app_id: self.yarn_api.state(app_id) in FINAL_STATES)
            if cleaned:
                logger.debug("deleted knit's files of ended applications %s", ", ".join(cleaned))
        except KnitError as exc:
            logger.debug("could not sweep %s: %s", records.folder(self.conf["hdfs_home"]), exc)


@contextlib.contextmanager
def packed_env(env: str) -> Iterator[str]:
    """``env`` as an archive: itself, or an environment folder zipped into a temporary
    folder that is removed once the archive is staged."""
    path = Path(env)
    if env.startswith("hdfs://") or path.is_file():
        yield env
        return
    folder = Path(tempfile.mkdtemp(prefix="knit-env-"))
    try:
        yield str(zip_env(path, folder / f"{path.resolve().name}.zip"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
