"""Packing environments into archives YARN unpacks, and reading an archive's layout."""

from __future__ import annotations

import os
import tarfile
import zipfile
from pathlib import Path

from .exceptions import KnitValueError

#: Archive endings YARN's NodeManagers unpack (LocalResourceType.ARCHIVE).
ARCHIVE_SUFFIXES = (".zip", ".tar.gz", ".tgz", ".tar")


def is_archive(path: str) -> bool:
    return path.lower().endswith(ARCHIVE_SUFFIXES)


def zip_env(env_path: str | Path, out_file: str | Path | None = None,
            compress: bool = True, top: str | None = None) -> Path:
    """Zip an environment folder, its top folder named after it (or ``top``).

    Symbolic links to files are followed (their targets copied), dangling ones
    and links to folders inside the environment skipped (see :func:`env_files`).
    Zip64 is on, so archives over 2 GB work. A conda root (a folder with
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
    env_path = _env_folder(env_path)
    out = Path(out_file) if out_file else env_path.with_name(env_path.name + ".zip")
    top = top or env_path.name
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(out, "w", method, allowZip64=True) as archive:
        for path in env_files(env_path):
            archive.write(path, f"{top}/{path.relative_to(env_path)}")
    return out


def tar_env(env_path: str | Path, out_file: str | Path | None = None) -> Path:
    """Pack an environment folder as a ``.tar.gz`` with the same layout and file
    selection as :func:`zip_env` (measured here: slightly smaller, and unpacked by
    the NodeManagers about as fast; see docs/performance.rst).

    Returns
    -------
    Path
        The archive (default: ``<env_path>.tar.gz`` beside the folder).
    """
    env_path = _env_folder(env_path)
    out = Path(out_file) if out_file else env_path.with_name(env_path.name + ".tar.gz")
    with tarfile.open(out, "w:gz", compresslevel=6, dereference=True) as archive:
        for path in env_files(env_path):
            archive.add(path, f"{env_path.name}/{path.relative_to(env_path)}", recursive=False)
    return out


def _env_folder(env_path: str | Path) -> Path:
    env_path = Path(env_path).resolve()
    if not env_path.is_dir():
        raise FileNotFoundError(f"environment folder {env_path} does not exist")
    if (env_path / "envs").is_dir() and (env_path / "conda-meta").is_dir():
        raise KnitValueError(f"{env_path} is a conda root (it has envs/): pack one environment "
                         f"from {env_path / 'envs'} instead")
    return env_path


def env_files(env_path: Path) -> list[Path]:
    """The files to pack from an environment folder, in a stable order.

    Symbolic links to files are followed (archives that YARN unpacks cannot hold
    links); dangling links are skipped. A link to a folder *inside* the
    environment (a venv's ``lib64 -> lib``) is skipped, as its files are packed
    under their real path, and following it would pack them twice; a link to a
    folder outside the environment is followed once, unless it leads to a folder
    already packed or to one holding the environment (a loop: each such link is
    skipped, so nothing is packed twice and the walk ends).
    """
    found = []
    seen = {env_path.resolve()}
    for folder, subfolders, files in os.walk(env_path, followlinks=True):
        here = Path(folder)
        kept = []
        for name in sorted(subfolders):
            path = here / name
            if _links_inside(path, env_path):
                continue
            real = path.resolve()
            if real in seen or env_path.resolve().is_relative_to(real):
                continue
            seen.add(real)
            kept.append(name)
        subfolders[:] = kept
        for name in sorted(files):
            path = here / name
            if path.exists():  # not a dangling symlink
                found.append(path)
    if not found:
        raise KnitValueError(f"environment folder {env_path} holds no files: nothing to pack")
    return found


def _links_inside(path: Path, env_path: Path) -> bool:
    return path.is_symlink() and path.resolve().is_relative_to(env_path)


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
                    raise KnitValueError(f"{path} is corrupt (bad member {bad}); re-create it")
                members = archive.namelist()
        elif name.endswith((".tar.gz", ".tgz", ".tar")):
            with tarfile.open(path) as archive:
                members = archive.getnames()
        else:
            raise KnitValueError(f"{path} is not an archive YARN can unpack; use one of "
                             f"{', '.join(ARCHIVE_SUFFIXES)} or pass the environment folder")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
        raise KnitValueError(f"{path} is not a readable archive ({exc}); re-create it") from exc
    if not any(member.strip("./") for member in members):
        raise KnitValueError(f"{path} is an empty archive: YARN cannot unpack it; pack a real "
                         "environment")
    tops = {member.lstrip("./").split("/", 1)[0] for member in members if member.strip("./")}
    nested = any("/" in member.lstrip("./").rstrip("/") for member in members)
    return tops.pop() if len(tops) == 1 and nested else None
