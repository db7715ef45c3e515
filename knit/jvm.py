"""The client JVM of this Python process (the py4j gateway), and calls into it with
Java exceptions mapped to knit's."""

from __future__ import annotations

import atexit
import logging
import os
import re
import secrets
import select
import shlex
import shutil
import subprocess
import threading
import time
from pathlib import Path

from .cds import SharedArchive, sharing_order
from .cds import enabled as cds_enabled
from . import impersonation
from .exceptions import (ClusterUnreachableError, JVMError, KnitError, KnitTimeoutError,
                         RemoteFileNotFoundError, RemotePermissionError)
from .java import LEAN_FLAGS, java_executable, java_opens_flags, kerberos_flags

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_gateway: "Gateway | None" = None
#: Gateways of Kerberos logins, by login (Hadoop's login user is one per JVM).
_kerberos_gateways: dict[tuple, "Gateway"] = {}


def hadoop_classpath() -> list[str]:
    """The Hadoop jars for the client JVM: ``hadoop classpath`` where a ``hadoop``
    command exists (the cluster's own Hadoop), else knit's pinned jar set
    (downloaded once, see :mod:`knit.jarset`).

    Without ``--glob``: Hadoop's script then prints its folders as ``dir/*``
    wildcards, which ``java -cp`` expands itself, instead of starting a JVM of its
    own to list every jar (half a second of every cold start).
    """
    candidates = [shutil.which("hadoop")]
    if os.environ.get("HADOOP_HOME"):
        candidates.append(str(Path(os.environ["HADOOP_HOME"]) / "bin" / "hadoop"))
    for hadoop in filter(None, candidates):
        if Path(hadoop).is_file():
            result = subprocess.run([hadoop, "classpath"], capture_output=True,
                                    text=True, timeout=120, check=False)
            if result.returncode == 0 and result.stdout.strip():
                return result.stdout.strip().splitlines()[-1].split(os.pathsep)
            logger.warning("`%s classpath` failed: %s", hadoop, result.stderr.strip()[-300:])
    from .jarset import hadoop_jars

    return [str(jar) for jar in hadoop_jars(progress=logger.warning)]


class Gateway:
    """The client JVM of this Python process, driven over py4j.

    It listens on 127.0.0.1 only, demands a random auth token (passed in its
    environment), and exits when its stdin closes, so it never outlives Python.
    One gateway serves every ``Knit`` of the process without Kerberos; each
    Kerberos login (ticket cache, or principal and keytab) has a gateway of its own,
    since Hadoop keeps one login user per JVM. ``KRB5_CONFIG``, which MIT tools
    read, is passed on to the JVM (which by itself reads only /etc/krb5.conf), and
    ``HADOOP_CLIENT_OPTS`` adds JVM flags, as for Hadoop's own commands;
    ``https_proxy``/``http_proxy``/``no_proxy`` become the JVM's proxy properties
    (:func:`knit.sessions.java_proxy_options`). Its Hadoop
    classes come from a class-data sharing archive once one is built
    (:mod:`knit.cds`): about 0.6 s less for every cold start.
    """

    def __init__(self, knit_jar: Path, timeout: float = 120.0):
        from py4j.java_gateway import GatewayParameters, JavaGateway

        from .sessions import java_proxy_options  # requests: not at import (setup.py imports this module)

        _set_py4j_log_level(logging.NOTSET)
        java = java_executable()
        classpath = sharing_order([str(knit_jar), *hadoop_classpath()])
        flags = ["-Xmx512m", *LEAN_FLAGS, *java_opens_flags(), *kerberos_flags(),
                 *java_proxy_options(), *shlex.split(os.environ.get("HADOOP_CLIENT_OPTS", ""))]
        self.shared_archive = SharedArchive(java, classpath, flags) if cds_enabled() else None
        sharing = self.shared_archive.flags() if self.shared_archive else []
        token = secrets.token_hex(24)
        command = [java, *flags, *sharing, "-cp", os.pathsep.join(classpath),
                   "knit.client.GatewayMain"]
        # Its own session: a Ctrl-C or a service manager's signal to this process group
        # must not end the JVM under a call in progress (a kill() as the service stops);
        # it ends with this process, when its stdin closes.
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env={**os.environ, "KNIT_GATEWAY_TOKEN": token}, start_new_session=True,
        )
        self._stderr: list[str] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        port = self._read_port(timeout)
        self.java = JavaGateway(gateway_parameters=GatewayParameters(
            address="127.0.0.1", port=port, auth_token=token, auto_convert=True,
            auto_close=True))
        self.entry = self.java.entry_point

    def _drain_stderr(self) -> None:
        for raw in self.process.stderr:
            line = raw.decode(errors="replace").rstrip()
            self._stderr = (self._stderr + [line])[-50:]
            logger.debug("jvm: %s", line)

    def _read_port(self, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.process.stdout], [], [], 0.2)
            if ready:
                line = self.process.stdout.readline().decode().strip()
                if line.isdigit():
                    return int(line)
            if self.process.poll() is not None:
                if self.shared_archive is not None:
                    self.shared_archive.jvm_exited(self.process.returncode)
                time.sleep(0.2)  # let the stderr thread catch the last lines
                raise JVMError("the knit client JVM exited at start-up (exit "
                               f"{self.process.returncode}):\n" + "\n".join(self._stderr[-20:]))
        self.close()
        raise KnitTimeoutError(f"the knit client JVM did not start within {timeout:.0f} s")

    def close(self) -> None:
        """Stop the JVM: closing its stdin is enough (kill if it lingers)."""
        # Java objects still referenced from Python would log failed release calls
        # to the dead JVM when garbage-collected: silence py4j until a new gateway.
        _set_py4j_log_level(logging.CRITICAL)
        if self.process.stdin and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.java.close()
        if self.shared_archive is not None:
            self.shared_archive.jvm_exited(self.process.returncode)


def _set_py4j_log_level(level: int) -> None:
    for name in ("py4j", "py4j.java_gateway", "py4j.clientserver"):
        logging.getLogger(name).setLevel(level)


def gateway_alive() -> bool:
    """Whether this process has a running gateway JVM."""
    return _gateway is not None and _gateway.process.poll() is None


def get_gateway(knit_jar: Path, login: tuple | None = None) -> Gateway:
    """The process's gateway (or that of a Kerberos ``login``), started on first use."""
    global _gateway
    with _lock:
        if login is not None:
            gateway = _kerberos_gateways.get(login)
            if gateway is None or gateway.process.poll() is not None:
                gateway = _kerberos_gateways[login] = Gateway(knit_jar)
                atexit.register(gateway.close)
            return gateway
        if _gateway is None or _gateway.process.poll() is not None:
            _gateway = Gateway(knit_jar)
            atexit.register(_gateway.close)
        return _gateway


def java_call(function, *args):
    """Call a Java method; a Java exception becomes a :class:`JVMError`."""
    from py4j.protocol import Py4JError, Py4JJavaError

    try:
        return function(*args)
    except Py4JJavaError as exc:
        java = exc.java_exception
        name = java.getClass().getName()
        raise JVMError(f"{name}: {java.getMessage()}", java_class=name) from None
    except Py4JError as exc:
        raise JVMError(f"py4j call failed: {exc}") from exc


#: Java exceptions meaning "nothing answers at that address".
_UNREACHABLE = ("java.net.ConnectException", "java.net.NoRouteToHostException",
                "java.net.UnknownHostException", "java.net.SocketTimeoutException",
                "org.apache.hadoop.net.ConnectTimeoutException")
#: Where a Hadoop client's addresses come from, to name in messages.
_ADDRESS_KEYS = ("yarn.resourcemanager.address", "fs.defaultFS", "yarn.resourcemanager.scheduler.address")


def java_call_mapped(function, *args, conf: dict | None = None):
    """:func:`java_call`, with the Java exceptions users meet mapped to knit's, each
    with one line of cause and the fix instead of a Java stack trace.

    Raises
    ------
    ClusterUnreachableError
        Nothing answered at the ResourceManager's or NameNode's address (named,
        with the property it came from).
    RemoteFileNotFoundError, RemotePermissionError
        An HDFS path is missing, or not ours to read or write.
    JVMError
        Any other Java exception (first line of its message).
    """
    try:
        return java_call(function, *args)
    except JVMError as exc:
        raise _mapped(exc, conf or {}) from None


def _mapped(exc: JVMError, conf: dict) -> KnitError:
    text = str(exc).split("; For more details see", 1)[0]
    first = text.strip().splitlines()[0] if text.strip() else exc.java_class
    cause = first.split(": ", 1)[-1] if first.startswith(exc.java_class) else first
    if exc.java_class in _UNREACHABLE or any(name in text for name in _UNREACHABLE):
        address = re.search(r" to ([^\s:]+:\d+)", text)
        where = address.group(1) if address else "the cluster"
        port = address.group(1).rsplit(":", 1)[1] if address else None  # hosts get renamed
        keys = [k for k in _ADDRESS_KEYS if port and str(conf.get(k, "")).endswith(f":{port}")]
        hint = f" (from {keys[0]})" if keys else ""
        return ClusterUnreachableError(
            f"nothing answers at {where}{hint}: {cause}; check the address and that the "
            "daemon runs (`yarn node -list`, `hdfs dfsadmin -report`)", exc.java_class)
    refused = impersonation.refusal(text)
    if refused:
        return refused
    if exc.java_class.endswith("FileNotFoundException"):
        return RemoteFileNotFoundError(f"HDFS: {cause}", exc.java_class)
    if exc.java_class.endswith("AccessControlException"):
        return RemotePermissionError(f"HDFS refused: {cause}; check the path's owner and mode "
                                     "with `hdfs dfs -ls`", exc.java_class)
    if "could only be written to 0" in text or "BlockMissingException" in text:
        return JVMError(f"HDFS has no DataNode to read or write the file ({cause}); check "
                        "`hdfs dfsadmin -report`", exc.java_class)
    return JVMError(f"{exc.java_class.rsplit('.', 1)[-1]}: {cause}", exc.java_class)
