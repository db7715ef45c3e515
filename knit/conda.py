"""``CondaCreator``: build a self-contained environment, cache it, zip it.

Three ways to make an environment, chosen in this order unless ``backend=`` says:

1. ``conda``: a ``micromamba``, ``mamba`` or ``conda`` executable (on PATH or under
   ``conda_root``);
2. ``rattler``: py-rattler, which solves and installs conda packages itself, so no
   Miniconda download is needed (``pip install knit[conda]``);
3. ``pip``: a virtualenv filled by pip from requirement strings. It needs the same
   Python at the same path on every node; a conda environment does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import Callable

from .packing import zip_env as _zip_env
from .exceptions import EnvError, KnitTypeError, KnitValueError
from .progress import activity

logger = logging.getLogger(__name__)

BACKENDS = ("conda", "rattler", "pip")
_SPEC_FILE = ".knit-env.json"


def default_envs_dir() -> Path:
    return Path(os.environ.get("KNIT_ENVS_DIR", Path.home() / ".knit" / "envs"))


class CondaCreator:
    """Create, cache and zip environments.

    Parameters
    ----------
    conda_root : str, optional
        A conda installation whose ``bin/conda`` (or ``mamba``) to use.
    conda_envs : str, optional
        Where environments and their zips are kept (default ``~/.knit/envs``).
    miniconda_url : str, optional
        knit 0.2.4's Miniconda installer URL, accepted so 0.2.4 scripts run; knit
        never downloads Miniconda, so it only draws a warning (see docs/compat.rst).
    channels : list of str, optional
        Conda channels (default ``["conda-forge"]``); ``file://`` URLs work.
    conda_pkgs : str, optional
        Package cache folder (default: the tool's own).
    backend : {'conda', 'rattler', 'pip'}, optional
        Force one way of making environments.
    platforms : list of str
        Conda platforms to solve for (default: this machine's and ``noarch``).
    progress : callable, optional
        Told when a build starts and ends (and how long it took); while it runs, a
        terminal or notebook shows the time so far. Default: nothing is said.
    """

    def __init__(self, conda_root: str | None = None, conda_envs: str | None = None,
                 miniconda_url: str | None = None,
                 channels: list[str] | None = None, conda_pkgs: str | None = None,
                 backend: str | None = None, platforms: list[str] | None = None,
                 progress: Callable[[str], None] | None = None):
        if miniconda_url is not None:
            warnings.warn(f"miniconda_url={miniconda_url!r} is not used: knit never downloads "
                          "Miniconda (it makes environments with an installed conda, "
                          "py-rattler or pip)", DeprecationWarning, stacklevel=2)
        if backend is not None and backend not in BACKENDS:
            raise KnitValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        if channels is not None and (isinstance(channels, str) or not isinstance(channels, list)):
            raise KnitTypeError(f"channels must be a list of strings, not {channels!r}")
        self.conda_root = conda_root
        self.conda_envs = Path(conda_envs) if conda_envs else default_envs_dir()
        self.channels = list(channels or ["conda-forge"])
        self.conda_pkgs = conda_pkgs
        self.platforms = platforms or ["linux-64", "noarch"]
        self.backend = backend or self._choose_backend()
        self.progress = progress

    def __repr__(self) -> str:
        return f"CondaCreator<{self.backend}, envs={self.conda_envs}, channels={self.channels}>"

    # ------------------------------------------------------------ choosing
    def conda_executable(self) -> str | None:
        """A micromamba/mamba/conda executable, under ``conda_root`` first."""
        names = ("micromamba", "mamba", "conda")
        if self.conda_root:
            for name in names:
                path = Path(self.conda_root) / "bin" / name
                if path.is_file():
                    return str(path)
        return next((found for name in names if (found := shutil.which(name))), None)

    @property
    def conda_bin(self) -> str | None:
        """The conda (or mamba, micromamba) executable environments are made with,
        as knit 0.2.4 named it; None when there is none (knit never downloads
        Miniconda: py-rattler or pip make environments instead)."""
        return self.conda_executable()

    def _choose_backend(self) -> str:
        if self.conda_executable():
            return "conda"
        try:
            import rattler  # noqa: F401
        except ImportError:
            return "pip"
        return "rattler"

    # ------------------------------------------------------------- the API
    def find_env(self, env_name: str) -> str | None:
        """The folder of the environment ``env_name`` in ``conda_envs``, or None."""
        path = self.conda_envs / env_name
        return str(path) if path.is_dir() else None

    def zip_env(self, env_path: str | Path, out_file: str | Path | None = None) -> str:
        """Zip an environment folder (see :func:`knit.packing.zip_env`)."""
        return str(_zip_env(env_path, out_file))

    def create_env(self, env_name: str, packages: list[str] | None = None,
                   remove: bool = False) -> str:
        """Create (or reuse) an environment and return the path of its zip.

        The same name and package list give the same cached environment and zip;
        ``remove=True`` (or another package list) builds it anew. Without
        ``packages``, the environment ``env_name`` already in ``conda_envs`` (made by
        knit, conda or anything else) is zipped, as in knit 0.2.4.

        Raises
        ------
        TypeError
            ``packages`` is not a list of strings.
        EnvError
            The tool failed (unknown package, failed solve, pip error), or no
            ``packages`` and no environment ``env_name``.
        """
        if packages is None:
            return self._zip_existing(env_name)
        if isinstance(packages, str) or not isinstance(packages, list) or not all(
                isinstance(p, str) for p in packages):
            raise KnitTypeError(f"packages must be a list of strings, not {packages!r}")
        if not env_name or "/" in env_name:
            raise KnitValueError(f"env_name must be a plain name, not {env_name!r}")
        prefix = self.conda_envs / env_name
        zip_path = self.conda_envs / f"{env_name}.zip"
        wanted = {"backend": self.backend, "packages": sorted(packages), "channels": self.channels}
        self.conda_envs.mkdir(parents=True, exist_ok=True)
        # One builder per environment across processes; the others wait, then reuse it.
        with _locked(self.conda_envs / f".{env_name}.lock", env_name):
            if not remove and self._recorded(prefix) == wanted and zip_path.is_file():
                logger.info("reusing environment %s", prefix)
                return str(zip_path)
            shutil.rmtree(prefix, ignore_errors=True)
            zip_path.unlink(missing_ok=True)
            logger.info("creating environment %s with %s (%s)", prefix, packages, self.backend)
            say = self.progress or (lambda message: None)
            say(f"building environment {env_name} with {self.backend}: {' '.join(packages)}")
            started = time.monotonic()
            try:
                # Built in place: conda and venv environments embed their prefix.
                with activity(f"building environment {env_name}", enabled=self.progress is not None):
                    getattr(self, f"_create_{self.backend}")(prefix, packages)
            except BaseException:
                shutil.rmtree(prefix, ignore_errors=True)
                raise
            # The zip appears whole (renamed into place), the spec file last: a build
            # that died half-way is never mistaken for a finished one.
            partial = zip_path.with_name(f".{zip_path.name}.{os.getpid()}.partial")
            self.zip_env(prefix, partial)
            os.replace(partial, zip_path)
            (prefix / _SPEC_FILE).write_text(json.dumps(wanted))
            say(f"built environment {env_name} in {time.monotonic() - started:.0f} s "
                f"({zip_path.stat().st_size / 2**20:.0f} MB zipped)")
            return str(zip_path)

    def local_envs(self) -> list[dict]:
        """The environments in ``conda_envs``: ``name``, ``path``, ``zip`` (or None),
        ``zip_mb``, and the ``packages``, ``backend`` and ``channels`` knit made it
        with (None for environments made by other tools)."""
        found = []
        for prefix in sorted(self.conda_envs.glob("*")):
            if not prefix.is_dir() or prefix.name.startswith("."):
                continue
            zip_path = self.conda_envs / f"{prefix.name}.zip"
            spec = self._recorded(prefix) or {}
            found.append({
                "name": prefix.name, "path": str(prefix),
                "zip": str(zip_path) if zip_path.is_file() else None,
                "zip_mb": round(zip_path.stat().st_size / 2**20, 1) if zip_path.is_file() else 0,
                "packages": spec.get("packages"), "backend": spec.get("backend"),
                "channels": spec.get("channels"),
            })
        return found

    def remove_env(self, env_name: str) -> None:
        """Delete the environment ``env_name`` and its zip from ``conda_envs``.

        Raises
        ------
        EnvError
            There is no such environment.
        """
        if not env_name or "/" in env_name or env_name.startswith("."):
            raise KnitValueError(f"env_name must be a plain name, not {env_name!r}")
        prefix, zip_path = self.conda_envs / env_name, self.conda_envs / f"{env_name}.zip"
        if not prefix.is_dir() and not zip_path.is_file():
            names = ", ".join(env["name"] for env in self.local_envs()) or "none"
            raise EnvError(f"no environment {env_name!r} in {self.conda_envs} (there are: {names})")
        with _locked(self.conda_envs / f".{env_name}.lock", env_name):
            zip_path.unlink(missing_ok=True)  # the zip first: a half-removed env is no hit
            shutil.rmtree(prefix, ignore_errors=True)

    def _zip_existing(self, env_name: str) -> str:
        prefix = self.find_env(env_name)
        if prefix is None:
            raise EnvError(f"no environment {env_name!r} in {self.conda_envs}: pass packages=[...] "
                           "to create it, or conda_envs= where it is")
        zip_path = self.conda_envs / f"{env_name}.zip"
        if not zip_path.is_file() or zip_path.stat().st_mtime < Path(prefix).stat().st_mtime:
            partial = zip_path.with_name(f".{zip_path.name}.{os.getpid()}.partial")
            self.zip_env(prefix, partial)
            os.replace(partial, zip_path)
        return str(zip_path)

    @staticmethod
    def _recorded(prefix: Path) -> dict | None:
        try:
            return json.loads((prefix / _SPEC_FILE).read_text())
        except (FileNotFoundError, ValueError):
            return None

    # ------------------------------------------------------------- backends
    def _create_conda(self, prefix: Path, packages: list[str]) -> None:
        command = [self.conda_executable(), "create", "-y", "-p", str(prefix)]
        for channel in self.channels:
            command += ["-c", channel]
        env = dict(os.environ)
        if self.conda_pkgs:
            env["CONDA_PKGS_DIRS"] = self.conda_pkgs
        _run(command + packages, env=env)

    def _create_rattler(self, prefix: Path, packages: list[str]) -> None:
        import rattler

        async def solve_and_install():
            records = await rattler.solve(
                sources=[rattler.Channel(channel) for channel in self.channels],
                specs=packages, platforms=self.platforms,
                virtual_packages=rattler.VirtualPackage.detect())
            await rattler.install(records, target_prefix=str(prefix), show_progress=False,
                                  cache_dir=Path(self.conda_pkgs) if self.conda_pkgs else None)

        command = f"rattler solve+install {packages} from {self.channels} into {prefix}"
        try:
            asyncio.run(solve_and_install())
        except Exception as exc:  # rattler raises its own exception types
            raise EnvError(f"could not create {prefix.name}: {type(exc).__name__}", command,
                           str(exc)) from exc
        (prefix / "conda-meta").mkdir(exist_ok=True)

    def _create_pip(self, prefix: Path, packages: list[str]) -> None:
        _run([sys.executable, "-m", "venv", str(prefix)])
        if packages:
            _run([str(prefix / "bin" / "python"), "-m", "pip", "install", "--quiet", *packages])


@contextlib.contextmanager
def _locked(lock_file: Path, what: str):
    """Hold an exclusive ``flock`` on ``lock_file``, saying so when another holds it."""
    with open(lock_file, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.warning("waiting for another process building environment %s", what)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(command: list[str], env: dict | None = None) -> None:
    logger.info("running %s", " ".join(command))
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=3600,
                            check=False)
    if result.returncode != 0:
        raise EnvError(f"environment creation failed (exit {result.returncode})",
                       " ".join(command), result.stderr or result.stdout)
