"""The parts of a service's spec: :class:`Resources` (a container's size, any YARN
resource type) and :class:`File` (what is localized into it), and the checks of single
fields that name the field's path in their errors (see :mod:`knit.application_spec`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping

from .arguments import memory_mib, whole_number
from .exceptions import KnitTypeError, KnitValueError

#: File types YARN localizes, and what it does with them.
FILE_TYPES = ("FILE", "ARCHIVE")
#: Who shares the NodeManager's localized copy: this application only, every
#: application of the user, or every user (the file must be world-readable).
FILE_VISIBILITIES = ("APPLICATION", "PRIVATE", "PUBLIC")
#: The suffixes of a source that is unpacked when its type is inferred.
ARCHIVE_SOURCE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")
#: The resource types ``gpus`` and ``fpgas`` stand for.
GPU, FPGA = "yarn.io/gpu", "yarn.io/fpga"

_RESOURCE_TYPE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9.-]*/)?[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_keys(where: str, given: Mapping, known: tuple[str, ...], refused: Mapping[str, str] = {}) -> None:
    """Refuse keys of ``given`` that are unknown, or known but not honoured (with why)."""
    if not isinstance(given, Mapping):
        raise KnitTypeError(f"{where} must be a mapping, not {type(given).__name__} {given!r}")
    for key in given:
        if key in refused:
            raise KnitValueError(f"{where}.{key}: {refused[key]}")
        if key not in known:
            raise KnitValueError(f"{where}.{key}: no such field; {where} takes "
                                 f"{', '.join(known)}")


def text(where: str, value, empty: bool = True) -> str:
    if not isinstance(value, str) or "\0" in value or (not empty and not value.strip()):
        raise KnitTypeError(f"{where} must be a{' non-empty' if not empty else ''} string "
                            f"without NUL, not {value!r}")
    return value


def names(where: str, value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
        raise KnitTypeError(f"{where} must be a list of strings, not {value!r}")
    return tuple(text(f"{where}[{i}]", v, empty=False) for i, v in enumerate(sorted(value)
                                                                              if isinstance(value, (set, frozenset)) else value))


def flag(where: str, value) -> bool:
    if not isinstance(value, bool):
        raise KnitTypeError(f"{where} must be true or false, not {value!r}")
    return value


def env_vars(where: str, value) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise KnitTypeError(f"{where} must map names to strings, not {value!r}")
    for name, given in value.items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise KnitValueError(f"{where}: {name!r} is not a variable name")
        text(f"{where}.{name}", given)
    return dict(value)


@dataclass(frozen=True)
class Resources:
    """What each container of a service needs.

    Parameters
    ----------
    memory : int or str
        MiB, or a size with a unit (``"2 GiB"``, ``"1.5 GB"``).
    vcores : int
        Virtual cores.
    gpus, fpgas : int
        Counts of ``yarn.io/gpu`` and ``yarn.io/fpga`` (the cluster must declare them).
    other : dict of str to int
        Counts of any other resource type the cluster declares in its
        resource-types.xml, by name (``{"example.com/license": 1}``).

    Examples
    --------
    >>> Resources(memory="2 GiB", vcores=2, gpus=1).yarn_counts()
    {'yarn.io/gpu': 1}
    """

    memory: int | str = 128
    vcores: int = 1
    gpus: int = 0
    fpgas: int = 0
    other: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self):
        self.check("resources")

    def check(self, where: str) -> None:
        object.__setattr__(self, "memory", memory_mib(f"{where}.memory", self.memory))
        whole_number(f"{where}.vcores", self.vcores)
        whole_number(f"{where}.gpus", self.gpus, minimum=0)
        whole_number(f"{where}.fpgas", self.fpgas, minimum=0)
        if not isinstance(self.other, Mapping):
            raise KnitTypeError(f"{where}.other must map resource types to counts, not {self.other!r}")
        for name, count in self.other.items():
            if not isinstance(name, str) or not _RESOURCE_TYPE.match(name) or name in (
                    "memory-mb", "vcores", "memory"):
                raise KnitValueError(f"{where}.other: {name!r} is not the name of another resource "
                                     "type (such as 'yarn.io/gpu' or 'example.com/license')")
            whole_number(f"{where}.other.{name}", count, minimum=0)
        object.__setattr__(self, "other", dict(self.other))

    def yarn_counts(self) -> dict[str, int]:
        """The counts of resource types besides memory and vcores, by YARN's names (zeros left out)."""
        counts = {GPU: self.gpus, FPGA: self.fpgas, **self.other}
        return {name: count for name, count in counts.items() if count}

    @classmethod
    def from_dict(cls, value: Mapping, where: str = "resources") -> "Resources":
        check_keys(where, value, ("memory", "vcores", "gpus", "fpgas", "other"))
        try:
            return cls(**value)
        except (KnitTypeError, KnitValueError) as exc:
            raise type(exc)(str(exc).replace("resources", where, 1)) from None

    def to_dict(self) -> dict:
        out = {"memory": self.memory, "vcores": self.vcores}
        out.update({k: getattr(self, k) for k in ("gpus", "fpgas") if getattr(self, k)})
        if self.other:
            out["other"] = dict(self.other)
        return out


@dataclass(frozen=True)
class File:
    """A file or archive localized into each container of a service.

    Parameters
    ----------
    source : str
        A local path (uploaded once, by content) or a URI of a Hadoop file system
        (``hdfs://...``, used in place).
    type : {'infer', 'FILE', 'ARCHIVE'}
        ARCHIVE is unpacked into a folder of the destination's name; inferred from
        the source's suffix (.zip, .tar.gz, .tgz, .tar).
    visibility : {'APPLICATION', 'PRIVATE', 'PUBLIC'}
        Who shares the NodeManager's localized copy (default: this application).
    size, timestamp : int
        Of a file already in a Hadoop file system (0: looked up). A local file's
        are those of its upload.
    """

    source: str
    type: str = "infer"
    visibility: str = "APPLICATION"
    size: int = 0
    timestamp: int = 0

    def __post_init__(self):
        self.check("file")

    def check(self, where: str) -> None:
        text(f"{where}.source", self.source, empty=False)
        kind = str(self.type).upper()
        if kind == "INFER":
            kind = "ARCHIVE" if self.source.endswith(ARCHIVE_SOURCE_SUFFIXES) else "FILE"
        if kind not in FILE_TYPES:
            raise KnitValueError(f"{where}.type must be FILE or ARCHIVE (or left out), not {self.type!r}")
        visibility = str(self.visibility).upper()
        if visibility not in FILE_VISIBILITIES:
            raise KnitValueError(f"{where}.visibility must be one of {', '.join(FILE_VISIBILITIES)}, "
                                 f"not {self.visibility!r}")
        whole_number(f"{where}.size", self.size, minimum=0)
        whole_number(f"{where}.timestamp", self.timestamp, minimum=0)
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "visibility", visibility)

    @property
    def is_local(self) -> bool:
        """Whether the source is on this machine (no scheme, or ``file://``)."""
        return "://" not in self.source or self.source.startswith("file://")

    @property
    def local_path(self) -> Path:
        return Path(self.source.removeprefix("file://"))

    @classmethod
    def from_value(cls, value, where: str, origin: Path | None = None) -> "File":
        """From a File, a source string, or a dict of the fields; relative local
        sources are relative to ``origin`` (the spec file's folder)."""
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            value = {"source": value}
        check_keys(where, value, tuple(f.name for f in fields(cls)))
        if "source" not in value:
            raise KnitValueError(f"{where}.source: required (a local path or an hdfs:// URI)")
        source = value["source"]
        if isinstance(source, str) and origin is not None and "://" not in source and \
                not source.startswith("/"):
            source = str(origin / source)
        try:
            return cls(**{**value, "source": source})
        except (KnitTypeError, KnitValueError) as exc:
            raise type(exc)(str(exc).replace("file", where, 1)) from None

    def to_dict(self) -> dict:
        return {"source": self.source, "type": self.type, "visibility": self.visibility,
                **({"size": self.size, "timestamp": self.timestamp} if self.size else {})}


