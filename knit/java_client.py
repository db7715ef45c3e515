"""One Knit's client in the process's gateway JVM: made on first use (again if that JVM
died), given the Knit's Hadoop configuration, logged in to Kerberos when asked, and
called with Java exceptions mapped to knit's."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Callable

from .exceptions import JVMError, KerberosError, KnitError
from .java import installed_jar
from .jvm import get_gateway, java_call, java_call_mapped
from .kerberos import Credentials
from .staging import Stager

logger = logging.getLogger(__name__)


class JavaClient:
    """A ``knit.client.Client`` (HDFS and YARN RPC) for one Knit.

    Parameters
    ----------
    conf : dict
        The Knit's resolved configuration (:func:`knit.conf.load_conf`).
    knit_home : Path
        Folder holding knit's jar.
    credentials : Credentials, optional
        Whose Kerberos login the JVM uses (None: no Kerberos).
    start_timeout : float
        Bounds the Hadoop client's connection retries.
    explicit_nn : bool
        ``nn``/``nn_port`` were given, so they win over ``fs.defaultFS``.
    upload_always : bool
        The stager uploads even files already in HDFS.
    progress : callable, optional
        Upload progress messages (None for none).
    proxy_user : str, optional
        The user the client acts as through impersonation (None: the login user).
    """

    def __init__(self, conf: dict, knit_home: Path, credentials: Credentials | None,
                 start_timeout: float, explicit_nn: bool, upload_always: bool,
                 progress: Callable[[str], None] | None, proxy_user: str | None = None):
        self.conf, self.knit_home, self.credentials = conf, knit_home, credentials
        self.proxy_user = proxy_user
        self.start_timeout, self.explicit_nn = start_timeout, explicit_nn
        self.upload_always, self.progress = upload_always, progress
        self._client = None
        self._gateway = None
        self._stager: Stager | None = None
        self._lock = threading.RLock()

    def acting_as(self, proxy_user: str | None) -> "JavaClient":
        """A client like this one acting as ``proxy_user`` (None: the login user), in
        the same JVM."""
        return JavaClient(self.conf, self.knit_home, self.credentials, self.start_timeout,
                          self.explicit_nn, self.upload_always, self.progress, proxy_user)

    def warm_up_in_background(self) -> None:
        """Start the JVM, open its HDFS connection and make its YARN client on a thread
        (the first use of each loads their classes: a few hundred ms); a failure is
        raised again by the first call that needs the JVM."""
        def warm():
            try:
                self.call("warm", self.conf["hdfs_home"])
            except Exception as exc:  # noqa: BLE001 - the caller's own call reports it
                logger.debug("starting the client JVM in the background failed: %s", exc)
        threading.Thread(target=warm, name="knit-client-jvm", daemon=True).start()

    @property
    def client(self):
        """The ``knit.client.Client`` object (a new one, in a new JVM, if the JVM died)."""
        login = self.credentials.gateway_key() if self.credentials else None
        with self._lock:
            gateway = get_gateway(self.jar(), login)
            if self._client is None or self._gateway is not gateway:
                if self._gateway is not None:
                    logger.warning("the knit client JVM had died; continuing with a new one")
                client = java_call(gateway.entry.newClient)
                java_call(client.setAll, json.dumps(self.hadoop_overrides()))
                if self.credentials is not None:
                    self._login(client)
                if self.proxy_user:
                    java_call(client.impersonate, self.proxy_user)
                self._client, self._gateway, self._stager = client, gateway, None
            return self._client

    def call(self, method: str, *args):
        """Call a method of :attr:`client`, mapping Java exceptions to knit's."""
        return java_call_mapped(getattr(self.client, method), *args, conf=self.conf)

    @property
    def stager(self) -> Stager:
        """Uploads to the Knit's ``hdfs_home`` through this client."""
        client = self.client
        if self._stager is None:
            self._stager = Stager(client, self.conf["hdfs_home"], self.conf["replication_factor"],
                                  self.upload_always, progress=self.progress)
        return self._stager

    def jar(self) -> Path:
        """knit's jar in ``knit_home``."""
        jar = installed_jar(self.knit_home)
        if jar is None:
            raise KnitError(f"no knit jar in {self.knit_home}: build it with "
                            "`pip install -e .` or `python setup.py install mvn`")
        return jar

    def _login(self, client) -> None:
        """Log the JVM in to Kerberos, or raise :class:`KerberosError` saying why not."""
        credentials = self.credentials
        try:
            info = java_call(client.login, credentials.principal or "", credentials.keytab or "")
        except JVMError as exc:
            raise KerberosError(credentials.explain(str(exc))) from None
        if not info["kerberos"]:
            raise KerberosError(credentials.no_ticket("none valid in the ticket cache"))
        credentials.check_holder(info["principal"])

    def hadoop_overrides(self) -> dict[str, str]:
        """Every Hadoop property the configuration resolved (files, then ``pars=``), so
        the JVM talks to the same cluster as the REST client, whatever XML its classpath
        holds (the process's JVM is shared by every Knit, of any cluster); and
        connection retries bounded by ``start_timeout`` where the files leave Hadoop's
        defaults (15 minutes and more for an address nothing listens on)."""
        overrides = {**bounded_retries(self.start_timeout),
                     **{key: value for key, value in self.conf.items() if "." in key}}
        if self.conf.get("nn_port") and (self.explicit_nn or "fs.defaultFS" not in overrides):
            overrides["fs.defaultFS"] = f"hdfs://{self.conf['nn']}:{self.conf['nn_port']}"
        return {str(k): str(v) for k, v in overrides.items() if v is not None}


def bounded_retries(timeout: float) -> dict[str, str]:
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
