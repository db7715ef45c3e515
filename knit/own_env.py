"""The default environment of a :class:`~knit.yarn_cluster.YarnCluster`'s
containers: the virtualenv or conda environment this Python runs in, packed once
per content, so the workers import whatever the user's tasks import here.

A system Python (no environment to pack) gets knit's matching environment instead,
with the packages dask's collections need when they are installed here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Callable

from .dask_env import is_conda_python, local_version, matching_packages
from .packing import zip_env

logger = logging.getLogger(__name__)

#: Installed here, these go into a built environment too: dask.dataframe needs
#: pandas and pyarrow, knit's services in the containers need requests.
COLLECTION_PACKAGES = ("pandas", "pyarrow", "numpy", "requests")
#: The top folder in the packed archive.
TOP = "env"
#: Where packed environments are kept, by content.
CACHE = Path.home() / ".cache" / "knit" / "own-envs"


def is_packable(prefix: str | None = None, base_prefix: str | None = None) -> bool:
    """Whether this Python runs in a virtualenv or conda environment (not the system's)."""
    prefix = prefix or sys.prefix
    base_prefix = base_prefix or sys.base_prefix
    return prefix != base_prefix or is_conda_python()


def fingerprint(prefix: str | Path | None = None) -> str:
    """What identifies an environment's content cheaply: its Python, its location,
    and each installed distribution's name, version and metadata file time (a
    reinstall or an edit of an installed package's metadata changes it)."""
    prefix = Path(prefix or sys.prefix)
    digest = hashlib.sha256(f"{sys.version}\n{prefix.resolve()}\n".encode())
    site = [str(p) for p in sys.path if p.startswith(str(prefix))]
    entries = []
    for dist in metadata.distributions(path=site):
        path = getattr(dist, "_path", None)
        stamp = os.stat(path).st_mtime_ns if path is not None and os.path.exists(path) else 0
        entries.append(f"{dist.metadata['Name']}=={dist.version}@{stamp}")
    digest.update("\n".join(sorted(entries)).encode())
    return digest.hexdigest()[:16]


def pack_own_environment(cache: str | Path | None = None,
                         progress: Callable[[str], None] | None = None) -> str:
    """This Python's environment as a zip (top folder ``env``), made once per
    :func:`fingerprint` in ``cache`` (default :data:`CACHE`).

    Its interpreter is the environment's (a venv's points at the base Python, which
    the nodes must have at the same path, as for venv-pack).
    """
    prefix = Path(sys.prefix)
    folder = Path(cache or CACHE)
    out = folder / f"{prefix.resolve().name.lstrip('.') or 'env'}-{fingerprint(prefix)}.zip"
    if out.is_file():
        return str(out)
    folder.mkdir(parents=True, exist_ok=True)
    say = progress or logger.info
    say(f"packing this Python's environment {prefix} for the containers (once: it is cached "
        f"as {out})")
    started = time.monotonic()
    partial = out.with_name(f".{out.name}.{os.getpid()}")
    zip_env(prefix, partial, top=TOP)
    partial.replace(out)
    say(f"packed {prefix} in {time.monotonic() - started:.0f} s ({out.stat().st_size >> 20} MiB)")
    return str(out)


def default_environment(progress: Callable[[str], None] | None = None) -> str:
    """The containers' environment when none is given: this one packed, or (a
    system Python) knit's matching environment with the collections' packages."""
    if is_packable():
        return pack_own_environment(progress=progress)
    from .conda import CondaCreator
    from .dask_env import env_name

    wanted = matching_packages() + [f"{name}=={version}" for name in COLLECTION_PACKAGES
                                    if (version := local_version(name)) and
                                    not any(p.startswith(f"{name}==") for p in matching_packages())]
    creator = CondaCreator(backend="pip", progress=progress)
    return creator.create_env(env_name(wanted + ["pip"]), packages=wanted)
