"""What ``Knit.start`` was asked for: validated before anything touches the cluster."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from .env import ARCHIVE_SUFFIXES, archive_top_folder, is_archive
from .staging import VISIBILITIES

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be a whole number, not {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be at least 1, not {value}")
    return value


@dataclass(frozen=True)
class LaunchSpec:
    """The validated arguments of one application.

    Raises (on construction)
    ------------------------
    TypeError, ValueError
        Wrong types or values, naming the argument and the fix.
    FileNotFoundError
        A local file or environment that does not exist.
    """

    cmd: str
    num_containers: int = 1
    virtual_cores: int = 1
    memory: int = 128
    files: tuple[str, ...] = ()
    envvars: dict[str, str] = field(default_factory=dict)
    app_name: str = "knit"
    queue: str = "default"
    env: str | None = None
    env_visibility: str = "PRIVATE"
    lang: str = "C.UTF-8"
    keep_alive: bool = False

    def __post_init__(self):
        if not isinstance(self.cmd, str) or not self.cmd.strip():
            raise ValueError("cmd must be a non-empty shell command string")
        if not (self.keep_alive and self.num_containers == 0):  # a service may start empty
            _positive_int("num_containers", self.num_containers)
        _positive_int("virtual_cores", self.virtual_cores)
        _positive_int("memory", self.memory)
        for name in ("app_name", "queue", "lang"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{name} must be a non-empty string, not {value!r}")
        self._check_envvars()
        self._check_files()
        object.__setattr__(self, "files", tuple(self.files))
        object.__setattr__(self, "envvars", dict(self.envvars))
        if self.env is not None:
            self._check_env()
        visibility = str(self.env_visibility).upper()
        if visibility not in VISIBILITIES:
            raise ValueError(f"env_visibility must be one of {', '.join(VISIBILITIES)}, "
                             f"not {self.env_visibility!r}")
        object.__setattr__(self, "env_visibility", visibility)

    def _check_envvars(self) -> None:
        if not isinstance(self.envvars, dict):
            raise TypeError(f"envvars must be a dict of str to str, not {type(self.envvars).__name__}")
        for key, value in self.envvars.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise TypeError(f"envvars must map strings to strings; {key!r}: {value!r} is not "
                                "(convert values with str())")
            if not _ENV_NAME.match(key):
                raise ValueError(f"envvars key {key!r} is not a valid variable name")

    def _check_files(self) -> None:
        if isinstance(self.files, str) or not isinstance(self.files, (list, tuple)):
            raise TypeError(f"files must be a list of paths, not {type(self.files).__name__} "
                            f"{self.files!r} (wrap a single path in a list)")
        names = {}
        for path in self.files:
            if not isinstance(path, str):
                raise TypeError(f"files must be strings, not {path!r}")
            if not path.startswith("hdfs://") and not Path(path).is_file():
                raise FileNotFoundError(f"file to ship {path!r} does not exist (or is not a file)")
            name = resource_name(path)
            if name in names:
                raise ValueError(f"files {names[name]!r} and {path!r} would both appear as {name!r} "
                                 "in the container; rename one")
            names[name] = path

    def _check_env(self) -> None:
        path = Path(self.env)
        if not isinstance(self.env, str):
            raise TypeError(f"env must be a path string, not {type(self.env).__name__}")
        if self.env.startswith("hdfs://"):
            if not is_archive(self.env):
                raise ValueError(f"env {self.env!r} is not an archive YARN can unpack; use one "
                                 f"of {', '.join(ARCHIVE_SUFFIXES)}")
            return
        if not path.exists():
            raise FileNotFoundError(f"env {self.env!r} does not exist: pass a packed environment "
                                    f"({', '.join(ARCHIVE_SUFFIXES)}) or an environment folder")
        if path.is_file():
            archive_top_folder(path)  # raises for corrupt or unsupported archives

    def container_env_name(self) -> str | None:
        return resource_name(self.env) if self.env else None


def resource_name(path: str) -> str:
    """The name a shipped file has in the container's working directory."""
    return path.rstrip("/").rsplit("/", 1)[-1]


def boot_script(spec: LaunchSpec, env_prefix: str | None) -> str:
    """The bash script every container runs: environment set-up, then ``cmd``.

    Parameters
    ----------
    spec : LaunchSpec
    env_prefix : str, optional
        Where the unpacked environment's root is, relative to the working directory.
    """
    lines = ["# written by knit: set up the environment, then run the command"]
    for variable in ("LANG", "LC_ALL"):
        if variable not in spec.envvars:
            lines.append(f"export {variable}={shlex.quote(spec.lang)}")
    if env_prefix:
        # The real path of the NodeManager's localized copy, shared by the node's
        # containers and kept for later applications (not this container's symlink).
        lines += [
            f'export CONDA_PREFIX="$(cd "$PWD/{env_prefix}" && pwd -P)"',
            'export PYTHON_BIN="$CONDA_PREFIX/bin/python"',
            'export PATH="$CONDA_PREFIX/bin:$PATH"',
            *_CONDA_UNPACK.splitlines(),
        ]
    lines.append(spec.cmd)
    return "\n".join(lines) + "\n"


#: conda-pack archives hold ``bin/conda-unpack``, which rewrites the packing machine's
#: prefix to the new location: run once per node (under a lock, as the node's
#: containers share the copy), with the environment's Python or the node's.
_CONDA_UNPACK = """\
if [ -f "$CONDA_PREFIX/bin/conda-unpack" ] && [ ! -e "$CONDA_PREFIX/.knit-unpacked" ]; then
  (
    flock 9 2>/dev/null
    if [ ! -e "$CONDA_PREFIX/.knit-unpacked" ]; then
      knit_python="$PYTHON_BIN"
      [ -x "$knit_python" ] || knit_python="$(command -v python3 || command -v python)"
      "$knit_python" "$CONDA_PREFIX/bin/conda-unpack" && : > "$CONDA_PREFIX/.knit-unpacked"
    fi
  ) 9> "$CONDA_PREFIX/.knit-unpack.lock"
fi"""
