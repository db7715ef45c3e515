"""Packed environments: zipping a folder, and reading an archive's layout."""

from __future__ import annotations

import os
import tarfile
import zipfile
from pathlib import Path

#: Archive endings YARN's NodeManagers unpack (LocalResourceType.ARCHIVE).
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")


def is_archive(path: str) -> bool:
    return path.lower().endswith(ARCHIVE_SUFFIXES)


def zip_env(env_path: str | Path, out_file: str | Path | None = None,
            compress: bool = True) -> Path:
    """Zip an environment folder, its top folder named after it.

    Symbolic links are followed (their targets copied); dangling ones are
    skipped. Zip64 is on, so archives over 2 GB work. A conda root (a folder with
    ``envs/`` inside) is refused: zipping it would pack every environment.

    Parameters
    ----------
    compress : bool
        Deflate the members (smaller upload) or store them (faster to make and unpack).

    Returns
    -------
    Path
        The zip file (default: ``<env_path>.zip`` beside the folder).
    """
    env_path = Path(env_path).resolve()
    if not env_path.is_dir():
        raise FileNotFoundError(f"environment folder {env_path} does not exist")
    if (env_path / "envs").is_dir() and (env_path / "conda-meta").is_dir():
        raise ValueError(f"{env_path} is a conda root (it has envs/): zip one environment "
                         f"from {env_path / 'envs'} instead")
    out = Path(out_file) if out_file else env_path.with_name(env_path.name + ".zip")
    top = env_path.name
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, "w", method, allowZip64=True) as archive:
        for folder, _, files in os.walk(env_path, followlinks=True):
            for name in sorted(files):
                path = Path(folder) / name
                if not path.exists():  # a dangling symlink
                    continue
                archive.write(path, f"{top}/{path.relative_to(env_path)}")
    return out


def archive_top_folder(path: Path) -> str | None:
    """The single folder every member of an archive sits in, or None.

    Raises
    ------
    ValueError
        The archive is corrupt or of a kind YARN cannot unpack.
    """
    name = path.name.lower()
    try:
        if name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                bad = archive.testzip()
                if bad is not None:
                    raise ValueError(f"{path} is corrupt (bad member {bad}); re-create it")
                members = archive.namelist()
        elif name.endswith((".tar.gz", ".tgz", ".tar")):
            with tarfile.open(path) as archive:
                members = archive.getnames()
        else:
            raise ValueError(f"{path} is not an archive YARN can unpack; use one of "
                             f"{', '.join(ARCHIVE_SUFFIXES)} or pass the environment folder")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise ValueError(f"{path} is not a readable archive ({exc}); re-create it") from exc
    tops = {member.lstrip("./").split("/", 1)[0] for member in members if member.strip("./")}
    nested = any("/" in member.lstrip("./").rstrip("/") for member in members)
    return tops.pop() if len(tops) == 1 and nested else None
