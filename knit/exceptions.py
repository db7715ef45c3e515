"""The one exception hierarchy of knit.

Every error knit raises on purpose derives from :class:`KnitError`; where a
caller would naturally catch a builtin (``TimeoutError``, ``FileNotFoundError``,
``ConnectionError``, ``ValueError`` and ``TypeError`` for bad arguments) the knit
class inherits that builtin too.

knit 0.2.4's names are the same classes: :data:`KnitException` is
:class:`KnitError` (so ``except KnitException:`` catches every knit error),
:class:`YARNException` is the root of the REST errors, :data:`CondaException` is
:class:`EnvError` and :data:`HDFSConfigException` is :class:`ConfigError`.
"""

from __future__ import annotations


class KnitError(Exception):
    """Root of every error knit raises on purpose."""


class KnitValueError(KnitError, ValueError):
    """An argument has a wrong value; nothing was submitted."""


class KnitTypeError(KnitError, TypeError):
    """An argument has a wrong type; nothing was submitted."""


class KnitTimeoutError(KnitError, TimeoutError):
    """A wait ran past its timeout; the message says what was last seen."""


class ToolNotFoundError(KnitError, FileNotFoundError):
    """An external program knit needs (``java``, ``mvn``) is not installed."""


class MavenError(KnitError):
    """Maven could not build the knit jar or resolve the Hadoop jars.

    Attributes
    ----------
    command : list of str
        The Maven command that failed.
    output : str
        The tail of what Maven printed.
    """

    def __init__(self, message: str, command: list[str], output: str):
        super().__init__(message)
        self.command = command
        self.output = output


class JarDownloadError(KnitError):
    """A pinned Hadoop jar could not be downloaded, or did not match its SHA-256."""


class ClusterError(KnitError):
    """The local YARN + HDFS cluster could not be started, found or stopped."""


class PortInUseError(ClusterError, OSError):
    """A port the local cluster needs is already bound by another process."""


class DaemonDiedError(ClusterError):
    """A Hadoop daemon of the local cluster exited while it was starting.

    Attributes
    ----------
    daemon : str
        Name of the daemon (``namenode``, ``nodemanager-1``, ...).
    log_tail : str
        The last lines of the daemon's log.
    """

    def __init__(self, message: str, daemon: str, log_tail: str):
        super().__init__(message)
        self.daemon = daemon
        self.log_tail = log_tail


class KerberosError(KnitError, PermissionError):
    """No usable Kerberos credentials (no or expired ticket, bad keytab, unknown
    principal, python-gssapi missing); the message says how to get them."""


class ConfigError(KnitValueError):
    """Hadoop configuration files are missing, unreadable or malformed."""


class YARNException(KnitError):
    """The ResourceManager (or a NodeManager) refused a request.

    Attributes
    ----------
    exception : str
        The Java exception's simple class name, from YARN's ``RemoteException``.
    java_class : str
        Its fully qualified class name.
    status_code : int or None
        The HTTP status of the reply.
    """

    def __init__(self, message: str, exception: str = "", java_class: str = "",
                 status_code: int | None = None):
        super().__init__(message)
        self.exception = exception
        self.java_class = java_class
        self.status_code = status_code


class YARNConnectionError(YARNException, ConnectionError):
    """The REST endpoint could not be reached (refused, timed out, wrong scheme)."""


class YARNAuthError(YARNException, PermissionError):
    """The REST endpoint refused our credentials (HTTP 401/403)."""


class NotFoundError(YARNException, KeyError):
    """YARN knows no such application, attempt or container."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class BadRequestError(YARNException, ValueError):
    """A malformed request: an application id that is not one, or an HTTP 400 reply."""


class JVMError(KnitError):
    """The client JVM could not start, or a call into it raised a Java exception.

    Attributes
    ----------
    java_class : str
        The Java exception's class name ('' if the JVM itself failed).
    """

    def __init__(self, message: str, java_class: str = ""):
        super().__init__(message)
        self.java_class = java_class


class ClusterUnreachableError(JVMError, ConnectionError):
    """The client JVM could not reach the ResourceManager or NameNode."""


class RemoteFileNotFoundError(JVMError, FileNotFoundError):
    """An HDFS path does not exist."""


class RemotePermissionError(JVMError, PermissionError):
    """HDFS refused access to a path."""


class ImpersonationError(KnitError, PermissionError):
    """The cluster does not let this user (a service) act as the ``proxy_user`` asked
    for: Hadoop's ``hadoop.proxyuser.<service>.*`` settings do not allow it."""


class PreflightError(KnitValueError):
    """A pre-flight check against the live cluster failed; nothing was submitted."""


class RequestRefusedError(KnitValueError):
    """The ApplicationMaster refused a request (an ask YARN could never grant, a bad key)."""


class KeyConflictError(RequestRefusedError):
    """A compare-and-set of the key-value store found another value than expected."""


class ApplicationError(KnitError):
    """A YARN application failed or was killed.

    Attributes
    ----------
    app_id : str
    state : str
        YARN's state (``FAILED``, ``KILLED``, ...).
    diagnostics : str
        What YARN and the ApplicationMaster said.
    """

    def __init__(self, app_id: str, state: str, diagnostics: str):
        super().__init__(
            f"{app_id} ended {state}: {diagnostics.strip() or 'no diagnostics'} -- read the "
            f"container logs with Knit.print_logs() or `yarn logs -applicationId {app_id}`"
        )
        self.app_id = app_id
        self.state = state
        self.diagnostics = diagnostics


class EnvError(KnitError):
    """An environment could not be created (unknown package, failed solve, pip error).

    Attributes
    ----------
    command : str
        What was run.
    stderr : str
        What it said.
    """

    def __init__(self, message: str, command: str = "", stderr: str = ""):
        ran = f"\ncommand: {command}" if command else ""
        super().__init__(f"{message}{ran}\n{stderr.strip()[-3000:]}".rstrip())
        self.command = command
        self.stderr = stderr


# ------------------------------------------------------------ knit 0.2.4 names
#: knit 0.2.4's root exception: the same class as :class:`KnitError`.
KnitException = KnitError
#: knit 0.2.4's error of conda environments: :class:`EnvError`.
CondaException = EnvError
#: knit 0.2.4's error of the Hadoop configuration: :class:`ConfigError`.
HDFSConfigException = ConfigError
