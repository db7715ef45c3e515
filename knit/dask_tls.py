"""TLS for a Dask cluster's own traffic (``security=True``, ``dask-yarn submit
--temporary-security-credentials``): a certificate made for the cluster
(distributed's ``Security.temporary()``), shipped privately to its containers.

The credentials go to HDFS as a file only the user can read (in knit's records
folder, mode 600), are localized as a PRIVATE resource, and never appear in the
key-value store (its status page shows values), in a launch script or in an
environment variable YARN writes down. Each container turns the file into
distributed's TLS settings for its role; scheduler, workers and client then speak
``tls://`` only, and refuse plain TCP.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

from .application_spec import ApplicationSpec
from .jvm import java_call
from .records import write_private_file
from .spec_parts import File

#: The credentials' name in each container's working folder.
TLS_FILE = "knit-dask-tls.json"
#: The variable telling a container's dask-yarn service that its cluster uses TLS.
TLS_VARIABLE = "KNIT_DASK_TLS"
_ROLES = ("scheduler", "worker", "client")


def temporary_security():
    """Fresh credentials for one cluster (needs the ``cryptography`` package)."""
    from distributed.security import Security

    return Security.temporary()


def _pem(value: str | None) -> str:
    """PEM text from a Security field, which holds the text or a file's path."""
    if not value:
        raise ValueError("the Security object lacks a certificate or key: use "
                         "Security.temporary(), or give every role's cert and key")
    return value if "\n" in value else Path(value).read_text()


def credentials(security) -> dict[str, str]:
    """The PEM texts a cluster's containers need, from a ``distributed.Security``."""
    out = {"ca": _pem(security.tls_ca_file)}
    for role in _ROLES:
        out[f"{role}_cert"] = _pem(getattr(security, f"tls_{role}_cert"))
        out[f"{role}_key"] = _pem(getattr(security, f"tls_{role}_key"))
    return out


def ship(knit, security) -> str:
    """Write the credentials to a private HDFS file; return its URI."""
    return write_private_file(knit.java.client, knit.conf["hdfs_home"], "dask-tls",
                              credentials(security))


def _path(uri: str) -> str:
    return uri[len("hdfs://"):] if uri.startswith("hdfs:///") else uri


def remove(knit, uri: str) -> None:
    java_call(knit.java.client.delete, _path(uri))


def with_tls(spec: ApplicationSpec, path: str) -> ApplicationSpec:
    """``spec`` with the credentials at ``path`` localized into its dask services."""
    tls = File(path, type="FILE", visibility="PRIVATE")
    services = {name: replace(s, files={**s.files, TLS_FILE: tls},
                              env={**s.env, TLS_VARIABLE: TLS_FILE})
                for name, s in spec.services.items() if name.startswith("dask.")}
    return replace(spec, services={**spec.services, **services})


def _security(found: dict, role: str):
    from distributed.security import Security

    return Security(tls_ca_file=found["ca"], require_encryption=True,
                    **{f"tls_{role}_cert": found[f"{role}_cert"],
                       f"tls_{role}_key": found[f"{role}_key"]})


def client_security_of(knit, spec: ApplicationSpec):
    """The client's ``Security`` of a running TLS cluster (read from its private file),
    or None if it has no TLS."""
    shipped = next((s.files[TLS_FILE] for s in spec.services.values() if TLS_FILE in s.files), None)
    if shipped is None:
        return None
    return _security(json.loads(java_call(knit.java.client.readText, _path(shipped.source))), "client")


def role_security(role: str, environ: dict | None = None):
    """This container's ``Security`` for ``role``, or None if its cluster has no TLS."""
    env = os.environ if environ is None else environ
    name = env.get(TLS_VARIABLE)
    if not name:
        return None
    return _security(json.loads(Path(name).read_text()), role)


def role_settings(role: str, environ: dict | None = None) -> dict:
    """dask.config's settings for ``role``'s TLS ({} if its cluster has none)."""
    security = role_security(role, environ)
    if security is None:
        return {}
    return {"distributed.comm.require-encryption": True,
            "distributed.comm.tls.ca-file": security.tls_ca_file,
            f"distributed.comm.tls.{role}.cert": getattr(security, f"tls_{role}_cert"),
            f"distributed.comm.tls.{role}.key": getattr(security, f"tls_{role}_key")}


def role_config(role: str, environ: dict | None = None) -> dict[str, str]:
    """The same settings as dask.config's variables, for a process this one starts."""
    return {"DASK_" + key.upper().replace(".", "__").replace("-", "_"): str(value)
            for key, value in role_settings(role, environ).items()}
