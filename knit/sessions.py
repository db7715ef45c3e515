"""HTTP(S) sessions as a company network needs them: whose CAs to trust, which proxy.

Every HTTP connection knit makes by itself (Hadoop jar downloads, the YARN REST API,
the local cluster's readiness checks, the ApplicationMaster's control endpoint) goes
through a :func:`session` of this module, so one policy holds everywhere:

Trust (``verify``)
    By default, the operating system's trust store, read through ``truststore`` as
    pip does: on Linux that is OpenSSL's default locations, which honour
    ``SSL_CERT_FILE`` and ``SSL_CERT_DIR``; on macOS and Windows the system's own
    store. A bundle named by ``REQUESTS_CA_BUNDLE`` or ``CURL_CA_BUNDLE`` is trusted
    too (added to the store, not instead of it, so a CA given either way works). An
    explicit ``verify=PATH`` trusts that bundle (or hashed folder) alone;
    ``verify=False`` turns verification off.
Proxies
    ``https_proxy``/``http_proxy``/``all_proxy`` and ``no_proxy`` (either case) are
    honoured as curl does, for every host but this machine's own: loopback
    addresses, ``localhost`` and this machine's host name are always reached
    directly, whatever the variables say.

:func:`java_proxy_options` turns the same variables into the JVM's ``-Dhttps.proxyHost``
family for the JVMs knit starts.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests.utils import get_environ_proxies

#: Environment variables naming an extra CA bundle, in the order requests and curl read them.
BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
HOW_TO_TRUST = ("give knit your company's CA: add it to the system trust store "
                "(Debian: /usr/local/share/ca-certificates + update-ca-certificates), or set "
                "SSL_CERT_FILE or REQUESTS_CA_BUNDLE to a PEM file holding it, or pass verify=PATH")


@dataclass(frozen=True)
class Trust:
    """Whose certificates a session trusts.

    Attributes
    ----------
    verify : bool or str
        What ``requests`` is given: True (``context`` decides), False, or a path.
    context : ssl.SSLContext or None
        The OS trust store plus any bundle from the environment, when ``verify`` is True.
    source : str
        A one-line description, for error messages.
    """

    verify: bool | str
    context: ssl.SSLContext | None
    source: str


def trust(verify: bool | str | None = None) -> Trust:
    """Resolve ``verify`` (None or True: the default policy) into a :class:`Trust`."""
    if verify is False:
        return Trust(False, None, "no verification (verify=False)")
    if isinstance(verify, (str, os.PathLike)) and not isinstance(verify, bool):
        path = os.fspath(verify)
        if not os.path.exists(path):
            raise FileNotFoundError(f"verify={path!r}: no such CA bundle or folder")
        return Trust(path, None, f"the CA bundle verify={path}")
    return _system_trust(os.environ)


def _system_context() -> ssl.SSLContext:
    """The operating system's trust store: ``truststore`` (Python 3.10+), else
    OpenSSL's default locations, which on Linux are the same store."""
    try:
        import truststore
    except ImportError:
        return ssl.create_default_context()
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def _system_trust(environ: Mapping[str, str]) -> Trust:
    context = _system_context()
    parts = ["the operating system's trust store"]
    defaults = ssl.get_default_verify_paths()
    files = [f"{name}={environ[name]}" for name in ("SSL_CERT_FILE", "SSL_CERT_DIR")
             if environ.get(name)]
    if files:
        parts.append(f"({', '.join(files)})")
    elif defaults.cafile or defaults.capath:
        parts.append(f"({defaults.cafile or defaults.capath})")
    loaded = {os.path.realpath(environ["SSL_CERT_FILE"])} if environ.get("SSL_CERT_FILE") else set()
    for name in BUNDLE_VARIABLES:
        bundle = environ.get(name)
        if bundle and os.path.exists(bundle) and os.path.realpath(bundle) not in loaded:
            loaded.add(os.path.realpath(bundle))
            if os.path.isdir(bundle):
                context.load_verify_locations(capath=bundle)
            else:
                context.load_verify_locations(cafile=bundle)
            parts.append(f"plus {name}={bundle}")
    return Trust(True, context, " ".join(parts))


def is_local_host(host: str | None) -> bool:
    """Whether ``host`` is this machine: loopback, ``localhost`` or its own host name."""
    if not host:
        return False
    host = host.strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    return host in {socket.gethostname().lower(), socket.getfqdn().lower()}


def proxies_for(url: str) -> dict[str, str]:
    """The proxies to reach ``url`` through: none for this machine, else those of the
    environment (``no_proxy`` applied, as curl does)."""
    if is_local_host(urlsplit(url).hostname):
        return {}
    return get_environ_proxies(url)


class TrustAdapter(HTTPAdapter):
    """An adapter that verifies against a given :class:`ssl.SSLContext` when
    ``verify`` is True, instead of the bundle ``requests`` ships (certifi)."""

    def __init__(self, context: ssl.SSLContext | None, **kwargs):
        self._context = context
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        if self._context is not None:
            kwargs["ssl_context"] = self._context
        return super().init_poolmanager(*args, **kwargs)

    def proxy_manager_for(self, proxy, **kwargs):
        if self._context is not None:
            kwargs["ssl_context"] = self._context
        return super().proxy_manager_for(proxy, **kwargs)

    def build_connection_pool_key_attributes(self, request, verify, cert=None):
        host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
        if verify is True and self._context is not None:
            pool.pop("ca_certs", None)
            pool.pop("ca_cert_dir", None)
            pool["ssl_context"] = self._context
        return host, pool

    def cert_verify(self, conn, url, verify, cert):
        super().cert_verify(conn, url, verify, cert)
        if verify is True and self._context is not None:
            conn.ca_certs = None
            conn.ca_cert_dir = None


class Session(requests.Session):
    """A ``requests`` session that applies knit's trust and proxy policy.

    The environment is read by knit, not by ``requests`` (``trust_env`` is off), so a
    proxy variable never captures a loopback call and ``REQUESTS_CA_BUNDLE`` adds to
    the system store rather than replacing it. ``trust.source`` names what was
    trusted, for error messages. The trust store is read at the first HTTPS request
    (tens of ms), so a session that only speaks HTTP never pays for it.
    """

    def __init__(self, verify: bool | str | None = None, *, use_proxies: bool = True):
        super().__init__()
        self.trust_env = False
        self.use_proxies = use_proxies
        self._asked_verify = verify
        self._trust: Trust | None = None
        if verify in (None, True, False):
            self.verify = verify is not False
        else:
            self._trust = trust(verify)  # a missing bundle is an error at once
            self.verify = self._trust.verify
        self._https_ready = False

    @property
    def trust(self) -> Trust:
        """Whose certificates HTTPS requests trust (resolved on first use)."""
        if self._trust is None:
            self._trust = trust(self._asked_verify)
        return self._trust

    def get_adapter(self, url: str):
        if not self._https_ready and url.lower().startswith("https://"):
            self.mount("https://", TrustAdapter(self.trust.context))
            self._https_ready = True
        return super().get_adapter(url)

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        settings["proxies"] = self._proxies(url, settings.get("proxies") or {})
        return settings

    def rebuild_proxies(self, prepared_request, proxies):
        chosen = self._proxies(prepared_request.url, {})
        prepared_request.headers.pop("Proxy-Authorization", None)
        return chosen

    def _proxies(self, url: str, explicit: dict) -> dict[str, str]:
        if not self.use_proxies or is_local_host(urlsplit(url).hostname):
            return {}  # explicit proxies too: this machine is never reached through one
        return {**proxies_for(url), **explicit}


def session(verify: bool | str | None = None, *, use_proxies: bool = True) -> Session:
    """A new :class:`Session` (see the module's docstring for the policy)."""
    return Session(verify, use_proxies=use_proxies)


def is_tls_failure(exc: BaseException) -> bool:
    """Whether ``exc`` (a ``requests`` error) is a failed certificate verification."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
            return True
        exc = exc.__cause__ or exc.__context__ or (exc.args[0] if exc.args and
                                                   isinstance(exc.args[0], BaseException) else None)
        seen += 1
    return False


def tls_failure_message(url: str, source: str) -> str:
    """The one-line explanation of a failed certificate verification."""
    host = urlsplit(url).netloc
    return (f"the TLS certificate of {host} could not be verified against {source}: "
            f"{HOW_TO_TRUST}")


def java_proxy_options(environ: Mapping[str, str] | None = None) -> list[str]:
    """JVM flags giving the JVMs knit starts the proxy settings of the environment.

    ``https_proxy``/``http_proxy`` become ``-Dhttps.proxyHost``/``-Dhttp.proxyHost``
    (and ports), ``no_proxy`` becomes ``-Dhttp.nonProxyHosts``, which always holds
    this machine's own names. Nothing is added when no proxy is set.
    """
    environ = os.environ if environ is None else environ

    def variable(name: str) -> str:
        return environ.get(name.lower()) or environ.get(name.upper()) or ""

    flags = []
    for scheme in ("https", "http"):
        value = variable(f"{scheme}_proxy") or variable("all_proxy")
        if not value:
            continue
        parts = urlsplit(value if "://" in value else f"http://{value}")
        if not parts.hostname:
            continue
        flags.append(f"-D{scheme}.proxyHost={parts.hostname}")
        flags.append(f"-D{scheme}.proxyPort={parts.port or (443 if parts.scheme == 'https' else 80)}")
    if not flags:
        return []
    bypass = ["localhost", "127.*", "[::1]", socket.gethostname()]
    for entry in variable("no_proxy").split(","):
        entry = entry.strip()
        if entry and entry != "*":
            bypass.append("*" + entry if entry.startswith(".") else entry)
    return flags + [f"-Dhttp.nonProxyHosts={'|'.join(dict.fromkeys(bypass))}"]
