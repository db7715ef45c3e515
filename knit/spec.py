"""What ``Knit.start`` was asked for: validated before anything touches the cluster."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field, fields
from pathlib import Path

from .arguments import seconds, whole_number
from .exceptions import KnitTypeError, KnitValueError
from .packing import ARCHIVE_SUFFIXES, archive_top_folder, is_archive
from .staging import VISIBILITIES

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ACLs:
    """Who besides the owner may see or change an application (YARN application ACLs).

    The owner and the cluster's administrators always may. ``"*"`` in a list means
    everyone. YARN enforces them when the cluster has ``yarn.acl.enable=true``
    (logs, status and kill through the ResourceManager and NodeManagers).

    Parameters
    ----------
    view_users, view_groups : list of str
        May read the application's status and logs.
    modify_users, modify_groups : list of str
        May kill it (and change its priority or queue).

    Examples
    --------
    >>> ACLs(view_users=["bob"], modify_groups=["ops"]).to_yarn()
    {'VIEW_APP': 'bob ', 'MODIFY_APP': ' ops'}
    """

    view_users: tuple[str, ...] = ()
    view_groups: tuple[str, ...] = ()
    modify_users: tuple[str, ...] = ()
    modify_groups: tuple[str, ...] = ()

    def __post_init__(self):
        for name in ("view_users", "view_groups", "modify_users", "modify_groups"):
            value = getattr(self, name)
            if isinstance(value, str) or not isinstance(value, (list, tuple)):
                raise KnitTypeError(f"acls {name} must be a list of names, not {value!r}")
            for entry in value:
                if not isinstance(entry, str) or not _ACL_NAME.match(entry):
                    raise KnitValueError(f"acls {name}: {entry!r} is not a user or group name "
                                     "(no spaces or commas; '*' for everyone)")
            object.__setattr__(self, name, tuple(value))

    @classmethod
    def from_value(cls, value: "ACLs | dict | None") -> "ACLs":
        """An ACLs from itself, a dict of its fields, or None (owner only)."""
        if value is None or isinstance(value, cls):
            return value or cls()
        if not isinstance(value, dict):
            raise KnitTypeError(f"acls must be a dict or knit.ACLs, not {type(value).__name__}")
        unknown = set(value) - {f.name for f in fields(cls)}
        if unknown:
            raise KnitTypeError(f"unknown acls key(s) {', '.join(sorted(unknown))}; use view_users, "
                            "view_groups, modify_users, modify_groups")
        return cls(**value)

    def to_yarn(self) -> dict[str, str]:
        """YARN's form: ``{"VIEW_APP": "users groups", "MODIFY_APP": ...}``."""
        def acl(users, groups):
            return "*" if "*" in users or "*" in groups else f"{','.join(users)} {','.join(groups)}"
        return {"VIEW_APP": acl(self.view_users, self.view_groups),
                "MODIFY_APP": acl(self.modify_users, self.modify_groups)}


_ACL_NAME = re.compile(r"^(\*|[A-Za-z0-9_.@$-][A-Za-z0-9_.@$-]*)$")


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
    acls: ACLs | dict | None = None
    max_restarts: int = 0
    worker_kv: bool = False
    max_start_failures: int = 0
    start_grace: float = 60.0

    def __post_init__(self):
        if not isinstance(self.cmd, str) or not self.cmd.strip():
            raise KnitValueError("cmd must be a non-empty shell command string")
        if "\0" in self.cmd:
            raise KnitValueError("cmd cannot hold a NUL character (bash would drop it)")
        if not (self.keep_alive and self.num_containers == 0):  # a service may start empty
            whole_number("num_containers", self.num_containers)
        whole_number("virtual_cores", self.virtual_cores)
        whole_number("memory", self.memory)
        if isinstance(self.max_restarts, bool) or not isinstance(self.max_restarts, int):
            raise KnitTypeError(f"max_restarts must be a whole number, not {self.max_restarts!r}")
        if self.max_restarts < -1:
            raise KnitValueError(f"max_restarts must be -1 (always replace failed containers), 0 "
                             f"(never) or a limit, not {self.max_restarts}")
        whole_number("max_start_failures", self.max_start_failures, minimum=0)
        object.__setattr__(self, "start_grace", seconds("start_grace", self.start_grace))
        for name in ("app_name", "queue", "lang"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise KnitValueError(f"{name} must be a non-empty string, not {value!r}")
            if "\0" in value:
                raise KnitValueError(f"{name} cannot hold a NUL character, not {value!r}")
        for name in ("keep_alive", "worker_kv"):
            if not isinstance(getattr(self, name), bool):
                raise KnitTypeError(f"{name} must be True or False, not {getattr(self, name)!r} "
                                    "(a string such as 'no' would count as true)")
        self._check_envvars()
        self._check_files()
        object.__setattr__(self, "files", tuple(self.files))
        object.__setattr__(self, "envvars", dict(self.envvars))
        if self.env is not None:
            self._check_env()
        visibility = str(self.env_visibility).upper()
        if visibility not in VISIBILITIES:
            raise KnitValueError(f"env_visibility must be one of {', '.join(VISIBILITIES)}, "
                             f"not {self.env_visibility!r}")
        object.__setattr__(self, "env_visibility", visibility)
        object.__setattr__(self, "acls", ACLs.from_value(self.acls))

    def _check_envvars(self) -> None:
        if not isinstance(self.envvars, dict):
            raise KnitTypeError(f"envvars must be a dict of str to str, not {type(self.envvars).__name__}")
        for key, value in self.envvars.items():
            if not isinstance(key, str) or not isinstance(value, str):
                raise KnitTypeError(f"envvars must map strings to strings; {key!r}: {value!r} is not "
                                "(convert values with str())")
            if not _ENV_NAME.match(key):
                raise KnitValueError(f"envvars key {key!r} is not a valid variable name")
            if "\0" in value:
                raise KnitValueError(f"envvars {key!r}: a value cannot hold a NUL character")

    def _check_files(self) -> None:
        if isinstance(self.files, str) or not isinstance(self.files, (list, tuple)):
            raise KnitTypeError(f"files must be a list of paths, not {type(self.files).__name__} "
                            f"{self.files!r} (wrap a single path in a list)")
        names = {}
        for path in self.files:
            if not isinstance(path, str):
                raise KnitTypeError(f"files must be strings, not {path!r}")
            if not path.startswith("hdfs://") and not Path(path).is_file():
                raise FileNotFoundError(f"file to ship {path!r} does not exist (or is not a file)")
            name = resource_name(path)
            check_resource_name(name, "files")
            if name in names:
                raise KnitValueError(f"files {names[name]!r} and {path!r} would both appear as {name!r} "
                                 "in the container; rename one")
            names[name] = path

    def _check_env(self) -> None:
        if not isinstance(self.env, str):
            raise KnitTypeError(f"env must be a path string, not {type(self.env).__name__}")
        path = Path(self.env)
        check_resource_name(resource_name(self.env), "env")
        if self.env.startswith("hdfs://"):
            if not is_archive(self.env):
                raise KnitValueError(f"env {self.env!r} is not an archive YARN can unpack; use one "
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


#: Characters YARN cannot carry in a resource's name: the NodeManager writes
#: ``ln -sf -- "<path>" "<name>"`` into the container's launch script unescaped, and
#: Hadoop paths take ``:`` for a scheme.
UNSAFE_NAME_CHARACTERS = set('"$`\\:') | {chr(c) for c in range(32)} | {chr(127)}


def check_resource_name(name: str, what: str) -> None:
    """Refuse a file name YARN's launch script could not carry byte-for-byte.

    Raises
    ------
    ValueError
        Naming the characters and the fix.
    """
    bad = sorted(set(name) & UNSAFE_NAME_CHARACTERS)
    if bad or name in ("", ".", ".."):
        shown = " ".join(repr(c) for c in bad) or repr(name)
        raise KnitValueError(f"{what}: {name!r} cannot be a file name in a YARN container ({shown}): "
                         "YARN writes names unquoted into its launch script; rename the file "
                         "or put it inside an archive")


#: The largest boot script knit submits, base64-encoded (bytes). YARN hands it to the
#: container in one environment variable, and Linux caps one such string at 128 KiB
#: (MAX_ARG_STRLEN): above that the launch fails with "Argument list too long".
MAX_BOOT_SCRIPT_B64 = 120 * 1024


def check_boot_script_size(script: str) -> None:
    """Refuse a boot script the container could not receive.

    Raises
    ------
    KnitValueError
        Naming the size, the limit and the fix.
    """
    encoded = 4 * -(-len(script.encode()) // 3)
    if encoded > MAX_BOOT_SCRIPT_B64:
        raise KnitValueError(
            f"cmd and envvars make a container boot script of {encoded // 1024} KiB (encoded); "
            f"a container can receive at most {MAX_BOOT_SCRIPT_B64 // 1024} KiB (Linux's limit "
            "on one environment string is 128 KiB): ship large values as files (files=[...]) "
            "and read them in the command")


def boot_script(spec: LaunchSpec, env_prefix: str | None, env_key: str = "") -> str:
    """The bash script every container runs: environment set-up, then ``cmd``.

    Parameters
    ----------
    spec : LaunchSpec
    env_prefix : str, optional
        Where the unpacked environment's root is, relative to the working directory.
    env_key : str
        What identifies the environment's content (its archive's hash), naming the
        relocated copy of a conda-pack environment (see :data:`CONDA_UNPACK`).
    """
    return command_boot_script(spec.cmd, spec.envvars, spec.lang, env_prefix, env_key)


#: The boot script's line that applies one container's environment overrides (the
#: ApplicationMaster quotes them, in ``KNIT_ENV_B64``, for ``add_container(env=)``).
OVERRIDES_LINE = ('if [ -n "${KNIT_ENV_B64:-}" ]; then eval "$(printf %s "$KNIT_ENV_B64" | '
                  'base64 -d)"; unset KNIT_ENV_B64; fi')


def command_boot_script(cmd: str, envvars: dict[str, str], lang: str, env_prefix: str | None = None,
                        env_key: str = "") -> str:
    """The boot script of ``cmd`` with ``envvars`` exported byte-exact (see :func:`boot_script`)."""
    lines = ["# written by knit: set up the environment, then run the command"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in envvars.items()]
    for variable in ("LANG", "LC_ALL"):
        if variable not in envvars:
            lines.append(f"export {variable}={shlex.quote(lang)}")
    lines.append(OVERRIDES_LINE)
    if env_prefix:
        # The real path of the NodeManager's localized copy, shared by the node's
        # containers and kept for later applications (not this container's symlink).
        lines += [
            f'export CONDA_PREFIX="$(cd "$PWD/{env_prefix}" && pwd -P)"',
            *CONDA_UNPACK.splitlines(),
            f"[ -f \"$CONDA_PREFIX/bin/conda-unpack\" ] && knit_conda_unpack {shlex.quote(env_key)}",
            'export PYTHON_BIN="$CONDA_PREFIX/bin/python"',
            'export PATH="$CONDA_PREFIX/bin:$PATH"',
        ]
    lines.append(cmd)
    return "\n".join(lines) + "\n"


#: conda-pack archives hold ``bin/conda-unpack``, which rewrites the packing machine's
#: prefix to the environment's new location. YARN's localized copy is read-only (500
#: or 555; only root could write into it), so the environment is copied once per node
#: and user into ``usercache/$USER/knit-envs/KEY`` beside YARN's own per-user cache
#: (the container's working folder if that is not writable), relocated there under a
#: lock the node's containers share, and used from there by every later container.
CONDA_UNPACK = """\
knit_conda_unpack() {
  local key="$1" root dest python
  root="${LOCAL_DIRS%%,*}"; root="${root%/appcache/*}/knit-envs"
  if ! mkdir -p "$root" 2>/dev/null || [ ! -w "$root" ]; then
    root="$PWD/.knit-envs"; mkdir -p "$root"
  fi
  [ -n "$key" ] || key="$(printf %s "$CONDA_PREFIX" | sha256sum | cut -c1-20)"
  dest="$root/$key"
  python="$CONDA_PREFIX/bin/python"
  [ -x "$python" ] || python="$(command -v python3 || command -v python)"
  (
    flock 9
    if [ ! -e "$dest/.knit-unpacked" ]; then
      rm -rf "$dest" && cp -R "$CONDA_PREFIX" "$dest" && chmod -R u+w "$dest" &&
        "$python" "$dest/bin/conda-unpack" && : > "$dest/.knit-unpacked"
    fi
  ) 9> "$dest.lock"
  if [ -e "$dest/.knit-unpacked" ]; then
    export CONDA_PREFIX="$dest"
  else
    echo "knit: conda-unpack of $CONDA_PREFIX into $dest failed; using it unrelocated" >&2
  fi
}"""
