"""The environment Dask workers run in: given, built from ``packages``, or one that
matches this process's Dask, made once and cached."""

from __future__ import annotations

import hashlib
import re
import sys
from importlib import metadata
from pathlib import Path

#: Packages whose versions distributed compares between client, scheduler and
#: workers (distributed.versions): pinned to the local versions when installed here.
MATCHED_PACKAGES = ("dask", "distributed", "msgpack", "cloudpickle", "tornado", "toolz",
                    "numpy", "pandas", "lz4")
#: Packages a worker cannot do without.
REQUIRED = ("dask", "distributed")


def local_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def package_name(requirement: str) -> str:
    """The distribution name in a pip or conda requirement (``dask>=2024``, ``numpy=2``)."""
    return re.split(r"[\s=<>!~\[;]", requirement.strip(), maxsplit=1)[0].lower()


def with_dask(packages: list[str]) -> list[str]:
    """``packages`` plus dask and distributed pinned to the local versions, when missing."""
    named = {package_name(p) for p in packages}
    extra = [f"{name}=={local_version(name)}" for name in REQUIRED
             if name not in named and local_version(name)]
    return list(packages) + extra


def matching_packages() -> list[str]:
    """Pins of every version-checked package installed here (see MATCHED_PACKAGES)."""
    return [f"{name}=={version}" for name in MATCHED_PACKAGES
            if (version := local_version(name)) is not None]


def is_conda_python() -> bool:
    """Whether this Python comes from a conda environment (it has ``conda-meta/``)."""
    return (Path(sys.prefix) / "conda-meta").is_dir()


def env_name(packages: list[str]) -> str:
    digest = hashlib.sha256("\n".join(sorted(packages)).encode()).hexdigest()[:10]
    return f"knit-dask-{digest}"


def worker_environment(env: str | None, packages: list[str] | None,
                       channels: list[str] | None, conda_pars: dict | None,
                       progress=None) -> str:
    """The packed environment for the workers, building (or reusing) it if needed.

    Parameters
    ----------
    env : str, optional
        A packed environment or folder: used as it is.
    packages : list of str, optional
        Built with :class:`~knit.conda.CondaCreator` (its backend chosen as usual),
        dask and distributed added at the local versions when missing.
    channels, conda_pars
        For the CondaCreator.
    progress : callable, optional
        Told about a build (see :class:`~knit.conda.CondaCreator`).

    Without either, an environment with this process's versions of the packages
    distributed checks (:func:`matching_packages`) and this Python: from conda if
    this Python is conda's, else a virtualenv filled by pip.
    """
    if env is not None:
        return env
    from .conda import CondaCreator

    pars = dict(conda_pars or {})
    if packages is not None:
        wanted = with_dask(packages)
    else:
        wanted = matching_packages()
        if is_conda_python():
            wanted.append(f"python={sys.version_info.major}.{sys.version_info.minor}")
        else:
            pars.setdefault("backend", "pip")
    pars.setdefault("progress", progress)
    creator = CondaCreator(channels=channels, **pars)
    return creator.create_env(env_name(wanted + [creator.backend]), packages=wanted)
