"""Hadoop configuration: finding the XML files, parsing them, and knit's settings.

Precedence, resolved only in :func:`load_conf`: keyword arguments > the ``pars``
dict (Hadoop key names) > the XML files > documented defaults.
"""

from __future__ import annotations

import getpass
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from lxml import etree

from .exceptions import ConfigError, KnitTypeError

SITE_FILES = ("core-site.xml", "hdfs-site.xml", "yarn-site.xml")

#: knit's own settings with their documented defaults.
DEFAULTS = {
    "nn": "localhost",
    "nn_port": 9000,
    "nn_http_port": 9870,
    "rm": "localhost",
    "rm_port": 8088,
    "scheme": "http",
    "gateway_path": "",
    "replication_factor": 3,
    "user": None,  # filled with the login name
    "http_auth": "simple",
    "lang": "C.UTF-8",
    "hdfs_home": None,
}

_VAR = re.compile(r"\$\{([^}$\s]+)\}")


def find_conf_dir(environ: dict[str, str] | None = None) -> Path | None:
    """The folder holding the site files: ``HADOOP_CONF_DIR``, then
    ``HADOOP_INSTALL/hadoop/conf`` (knit 0.2's place), then ``HADOOP_HOME/etc/hadoop``
    (a Hadoop tarball's, if there), then ``/etc/hadoop/conf``.

    Raises
    ------
    ConfigError
        If an environment variable names a folder that does not exist.
    """
    environ = os.environ if environ is None else environ
    for variable, suffix in (("HADOOP_CONF_DIR", ""), ("HADOOP_INSTALL", "hadoop/conf")):
        value = environ.get(variable)
        if value:
            folder = Path(value) / suffix
            if not folder.is_dir():
                raise ConfigError(
                    f"{variable}={value} but {folder} is not a folder: point {variable} at the "
                    "folder holding core-site.xml and yarn-site.xml, or unset it"
                )
            if not any((folder / name).is_file() for name in ("core-site.xml", "yarn-site.xml")):
                raise ConfigError(
                    f"{variable}={value} but {folder} holds no core-site.xml or yarn-site.xml "
                    f"(knit would fall back to localhost): point {variable} at the cluster's "
                    "configuration folder, or unset it")
            return folder
    tarball = Path(environ["HADOOP_HOME"]) / "etc" / "hadoop" if environ.get("HADOOP_HOME") else None
    if tarball is not None and tarball.is_dir():
        return tarball
    system = Path("/etc/hadoop/conf")
    return system if system.is_dir() else None


def parse_site_file(path: Path) -> dict[str, str]:
    """The ``name -> value`` pairs of a Hadoop ``<configuration>`` file.

    Raises
    ------
    ConfigError
        If the file is not well-formed XML or not a Hadoop configuration.
    """
    try:
        root = etree.parse(str(path), etree.XMLParser(resolve_entities=False)).getroot()
    except (OSError, etree.XMLSyntaxError) as exc:
        raise ConfigError(f"cannot read Hadoop configuration {path}: {exc}") from exc
    if root.tag != "configuration":
        raise ConfigError(f"{path} is not a Hadoop configuration file (root <{root.tag}>)")
    props = {}
    for prop in root.iter("property"):
        name, value = prop.findtext("name"), prop.findtext("value")
        if name:
            props[name.strip()] = (value or "").strip()
    return props


def read_conf_dir(folder: Path) -> dict[str, str]:
    """Merge the site files present in ``folder`` (core, then hdfs, then yarn)."""
    props: dict[str, str] = {}
    for name in SITE_FILES:
        path = folder / name
        if path.exists():
            props.update(parse_site_file(path))
    return props


def expand(props: dict[str, str], environ: dict[str, str] | None = None) -> dict[str, str]:
    """Substitute ``${key}``, ``${env.VAR}`` and ``${user.name}`` as Hadoop does."""
    environ = os.environ if environ is None else environ

    def lookup(match: re.Match) -> str:
        key = match.group(1)
        if key.startswith("env."):
            return environ.get(key[4:], match.group(0))
        if key == "user.name":
            return getpass.getuser()
        return props.get(key, match.group(0))

    expanded = {}
    for key, value in props.items():
        for _ in range(20):  # Hadoop's own depth limit
            new = _VAR.sub(lookup, value)
            if new == value:
                break
            value = new
        expanded[key] = value
    return expanded


def split_address(address: str, default_port: int) -> tuple[str, int]:
    """``host:port`` (or ``host``, or a URL) -> (host, port)."""
    address = address.strip()
    if "://" in address:
        parts = urlsplit(address)
        return parts.hostname or "", parts.port or default_port
    host, sep, port = address.rpartition(":")
    if not sep:
        return address, default_port
    if not port.isdigit():
        raise ConfigError(f"bad address {address!r}: the port must be a number")
    return host, int(port)


def _rm_address(props: dict[str, str]) -> dict:
    https = props.get("yarn.http.policy", "HTTP_ONLY").upper() == "HTTPS_ONLY"
    suffix, port = ("webapp.https.address", 8090) if https else ("webapp.address", 8088)
    ids = [i.strip() for i in props.get("yarn.resourcemanager.ha.rm-ids", "").split(",") if i.strip()]
    ha = props.get("yarn.resourcemanager.ha.enabled", "false").lower() == "true" and ids
    addresses = []
    for rm_id in ids if ha else [None]:
        key_suffix = f".{rm_id}" if rm_id else ""
        address = props.get(f"yarn.resourcemanager.{suffix}{key_suffix}")
        hostname = props.get(f"yarn.resourcemanager.hostname{key_suffix}")
        if address:
            host, rm_port = split_address(address, port)
            if host in ("", "0.0.0.0") and hostname:
                host = hostname
        elif hostname:
            host, rm_port = hostname, port
        else:
            continue
        addresses.append((host, rm_port))
    found = {"scheme": "https" if https else "http"}
    if addresses:
        found.update(rm=addresses[0][0], rm_port=addresses[0][1])
        if len(addresses) > 1:
            found["rm_ha"] = addresses
    elif https:
        found["rm_port"] = 8090
    return found


def _nn_address(props: dict[str, str]) -> dict:
    default_fs = props.get("fs.defaultFS") or props.get("fs.default.name")
    if not default_fs or not default_fs.startswith("hdfs://"):
        return {}
    parts = urlsplit(default_fs)
    host = parts.hostname or ""
    nameservices = [n.strip() for n in props.get("dfs.nameservices", "").split(",") if n.strip()]
    if host in nameservices:
        namenodes = [n.strip() for n in props.get(f"dfs.ha.namenodes.{host}", "").split(",") if n.strip()]
        rpc = [props.get(f"dfs.namenode.rpc-address.{host}.{n}") for n in namenodes]
        http = [props.get(f"dfs.namenode.http-address.{host}.{n}") for n in namenodes]
        found = {"nn": host, "nn_port": None, "nn_ha": [split_address(a, 8020) for a in rpc if a]}
        if http and http[0]:
            found["nn_http_port"] = split_address(http[0], 9870)[1]
        return found
    found = {"nn": host, "nn_port": parts.port or 8020}
    http_address = props.get("dfs.namenode.http-address")
    if http_address:
        found["nn_http_port"] = split_address(http_address, 9870)[1]
    return found


def derive(props: dict[str, str]) -> dict:
    """knit's settings implied by Hadoop properties (only those the properties set)."""
    found = {**_rm_address(props), **_nn_address(props)}
    if "dfs.replication" in props:
        found["replication_factor"] = int(props["dfs.replication"])
    if "hadoop.http.authentication.type" in props:
        found["http_auth"] = props["hadoop.http.authentication.type"]
    return found


def overridden(given: dict, conf: dict) -> list[str]:
    """Where the addresses ``given`` to Knit (``nn``, ``nn_port``, ``rm``, ``rm_port``)
    differ from what the Hadoop configuration in ``conf`` says, one sentence each."""
    implied = derive({key: value for key, value in conf.items() if "." in key})
    where = conf.get("conf_dir") or "pars="
    return [f"{key}={given[key]!r} differs from {implied[key]!r} in the Hadoop configuration "
            f"({where}); knit uses {given[key]!r} (validate=False skips this check)"
            for key in ("nn", "nn_port", "rm", "rm_port")
            if given.get(key) is not None and key in implied and str(implied[key]) != str(given[key])]


def load_conf(autodetect: bool = True, pars: dict[str, str] | None = None,
              environ: dict[str, str] | None = None, **overrides) -> dict:
    """Resolve knit's configuration in one place.

    Parameters
    ----------
    autodetect : bool
        Read the Hadoop XML files found by :func:`find_conf_dir`; with False no
        file is read at all.
    pars : dict, optional
        Hadoop properties (XML key names) that take precedence over the files.
    environ : dict, optional
        Environment to search (default ``os.environ``); for tests.
    **overrides
        knit settings (``rm``, ``rm_port``, ``nn``, ``nn_port``, ``scheme``, ``user``,
        ``replication_factor``, ``lang``, ``hdfs_home``, ...), which win over everything.

    Returns
    -------
    dict
        The Hadoop properties used, plus knit's settings under their own names;
        ``conf_dir`` says which folder was read (None if none).

    Raises
    ------
    ConfigError
        A folder named by an environment variable is missing, or a file is malformed.
    TypeError
        ``pars`` is not a dict of strings.
    """
    if pars is not None and not isinstance(pars, dict):
        raise KnitTypeError(f"pars must be a dict of Hadoop properties, not {type(pars).__name__}")
    folder = find_conf_dir(environ) if autodetect else None
    props = read_conf_dir(folder) if folder else {}
    props.update({str(key): str(value) for key, value in (pars or {}).items()})
    props = expand(props, environ)
    conf = {**props, **DEFAULTS, **derive(props)}
    conf.update({key: value for key, value in overrides.items() if value is not None})
    conf["user"] = conf.get("user") or getpass.getuser()
    conf["conf_dir"] = str(folder) if folder else None
    for key in ("rm_port", "nn_port", "nn_http_port", "replication_factor"):
        if conf.get(key) is not None:
            conf[key] = int(conf[key])
    return conf


# ------------------------------------------------------------ knit 0.2.4 names
#: knit 0.2.4's ``knit.conf.DEFAULTS``: what :func:`get_config` gives without files.
DEFAULTS_024 = {"rm": "localhost", "rm_port": 8088, "rm_port_https": 8090,
                "replication_factor": 3}


def get_config(autodetect: bool = True, pars: dict[str, str] | None = None, **kwargs) -> dict:
    """knit 0.2.4's configuration dictionary, with exactly its keys.

    With ``autodetect``, the Hadoop properties of the configuration folder (found as
    :func:`find_conf_dir` finds it, and holding ``core-site.xml`` and
    ``yarn-site.xml``) plus :func:`infer_extra_params`; without such a folder, 0.2.4's
    defaults (``rm``, ``rm_port``, ``rm_port_https``, ``replication_factor``,
    ``user``). Without ``autodetect``, nothing (no ``user`` key). Then ``pars``, then
    ``kwargs``. knit itself uses the richer :func:`load_conf`.
    """
    config: dict = {}
    if autodetect:
        try:
            folder = find_conf_dir()
        except ConfigError:
            folder = None
        complete = folder is not None and all(
            (folder / name).is_file() for name in ("core-site.xml", "yarn-site.xml"))
        if complete:
            config = read_conf_dir(folder)
            config.update(infer_extra_params(config))
        else:
            config = {**DEFAULTS_024, "user": getpass.getuser()}
    config.update(pars or {})
    config.update(kwargs)
    return config


def get_host_port(address: str) -> tuple[str, int | None]:
    """``host:port``, ``host`` or a URL -> (host, port or None), as knit 0.2.4 had it."""
    host, port = split_address(address, 0)
    return host, port or None


def infer_extra_params(config: dict[str, str]) -> dict:
    """knit 0.2.4's settings implied by Hadoop properties, with exactly its keys and
    types: ``user``, ``replication_factor`` (``dfs.replication`` as given, else 3),
    ``rm`` and ``rm_port`` (from ``yarn.resourcemanager.webapp.address``, else
    ``yarn.resourcemanager.hostname`` and 8088), ``rm_port_https`` (from
    ``yarn.resourcemanager.webapp.https.address``, else 8090). knit itself uses
    :func:`derive`."""
    if "yarn.resourcemanager.webapp.address" in config:
        rm, rm_port = get_host_port(config["yarn.resourcemanager.webapp.address"])
    else:
        rm = config.get("yarn.resourcemanager.hostname", DEFAULTS_024["rm"])
        rm_port = DEFAULTS_024["rm_port"]
    if "yarn.resourcemanager.webapp.https.address" in config:
        rm_port_https = get_host_port(config["yarn.resourcemanager.webapp.https.address"])[1]
    else:
        rm_port_https = DEFAULTS_024["rm_port_https"]
    return {"user": getpass.getuser(),
            "replication_factor": config.get("dfs.replication", DEFAULTS_024["replication_factor"]),
            "rm": rm, "rm_port": rm_port, "rm_port_https": rm_port_https}


def hdfs_uri(uri: str, conf: dict) -> str:
    """An ``hdfs://`` URI with knit 0.2.4's two-slash paths read as paths.

    In ``hdfs://AUTHORITY/rest`` the authority is a NameNode when it has a port, is
    the default file system's host (``fs.defaultFS``, or ``nn``), or is one of the
    HA nameservices in ``dfs.nameservices``. Otherwise it is the first folder of a path
    on the default file system, as knit 0.2.4's docs wrote ``hdfs://user/NAME/file``:
    ``hdfs://tmp/x`` means ``hdfs:///tmp/x``. To name another NameNode, give its port.
    """
    parts = urlsplit(uri)
    if parts.scheme != "hdfs" or not parts.netloc or parts.port is not None:
        return uri
    default_host = urlsplit(str(conf.get("fs.defaultFS", ""))).hostname
    nameservices = str(conf.get("dfs.nameservices", "")).split(",")
    known = {default_host, conf.get("nn"), *(name.strip() for name in nameservices)} - {None, ""}
    if parts.hostname in known:
        return uri
    return f"hdfs:///{parts.netloc}{parts.path}"
