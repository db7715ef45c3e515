"""knit's own Python code as one zip, shipped to the containers of Dask clusters and
put on their ``PYTHONPATH``: the dask-yarn services in them (``dask-yarn services
worker`` and so on) then run this client's version of knit, whether or not the nodes
(or the environment shipped to them) have knit installed. It needs ``requests`` and
``dask``'s own dependencies there, nothing else."""

from __future__ import annotations

import hashlib
import os
import zipfile
from pathlib import Path

import knit

#: The name the zip is localized under, in each container's working folder.
ZIP_NAME = "knit-py.zip"
_PACKAGES = ("knit", "dask_yarn")
_SUFFIXES = (".py", ".yaml")


def _sources() -> list[tuple[Path, str]]:
    """(file, name in the zip) of every module and data file knit's Python side needs."""
    root = Path(knit.__file__).resolve().parent.parent
    found = []
    for package in _PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.suffix in _SUFFIXES and "__pycache__" not in path.parts:
                found.append((path, path.relative_to(root).as_posix()))
    return found


def knit_zip(cache: str | Path | None = None) -> Path:
    """The zip of this knit's Python code, made once per content in ``cache``
    (default ``~/.cache/knit/self``)."""
    sources = _sources()
    digest = hashlib.sha256()
    for path, name in sources:
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    folder = Path(cache or Path.home() / ".cache" / "knit" / "self")
    out = folder / f"knit-py-{digest.hexdigest()[:16]}.zip"
    if out.is_file():
        return out
    folder.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.{os.getpid()}")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in sources:
            # a fixed date: the same code gives the same bytes, so it is uploaded once
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    partial.replace(out)
    return out
