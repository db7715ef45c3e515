"""Putting the knit jar, files and environments on HDFS, each only when it changed."""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import threading
import time
from functools import lru_cache
from pathlib import Path
from typing import Callable
from urllib.parse import urlsplit

from .exceptions import JVMError, KnitError, PreflightError
from .packing import is_archive
from .jvm import java_call_mapped
from .progress import byte_bar, interactive

logger = logging.getLogger(__name__)

STAGING = ".knitDeps"
PUBLIC_STAGING = ".knitPublic"
JARS = ".knitJars"
VISIBILITIES = ("PRIVATE", "PUBLIC")


@lru_cache(maxsize=256)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_digest(path: str | Path) -> tuple[int, str]:
    """(size, sha256) of a local file; cached while the file is unchanged."""
    stat = os.stat(path)
    return stat.st_size, _sha256(str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns)


class Stager:
    """Uploads through the client JVM's Hadoop FileSystem.

    Parameters
    ----------
    client : py4j object
        A ``knit.client.Client``.
    hdfs_home : str
        The user's HDFS folder; files go to ``hdfs_home/.knitDeps`` (mode 700).
    replication : int
        Replication factor of uploaded files.
    upload_always : bool
        Upload even when an identical file is already there.
    """

    #: Uploads at least this big get a progress bar (where someone watches).
    BAR_FROM_BYTES = 8 * 2**20

    def __init__(self, client, hdfs_home: str, replication: int, upload_always: bool = False,
                 progress: Callable[[str], None] | None = None):
        self.client = client
        self.hdfs_home = hdfs_home.rstrip("/")
        self.replication = replication
        self.upload_always = upload_always
        self.progress = progress
        self.uploaded: list[str] = []  # what this stager actually sent, for tests and logs

    @property
    def staging_dir(self) -> str:
        return f"{self.hdfs_home}/{STAGING}"

    def _folder(self, visibility: str) -> str:
        return f"{self.hdfs_home}/{PUBLIC_STAGING}" if visibility == "PUBLIC" else self.staging_dir

    def remote_path(self, local: str | Path, visibility: str = "PRIVATE") -> str:
        """Where ``local`` goes: a folder named by its content hash, so a new version
        never replaces a file that a running application may still localize."""
        _, digest = file_digest(local)
        return f"{self._folder(visibility)}/{digest[:20]}/{Path(local).name}"

    def needs_upload(self, local: str | Path, remote: str | None = None) -> bool:
        """Whether ``local``'s content is not yet in ``.knitDeps`` (same content hash,
        which names the folder, and same size)."""
        remote = remote or self.remote_path(local)
        status = java_call_mapped(self.client.fileStatus, remote)
        return status is None or status["size"] != os.path.getsize(local)

    def ship(self, local: str | Path, visibility: str = "PRIVATE") -> str:
        """Upload a local file unless its content is already in HDFS; returns its URI.

        Parameters
        ----------
        visibility : {'PRIVATE', 'PUBLIC'}
            PRIVATE files go to ``.knitDeps`` (mode 700/600). PUBLIC ones go to
            ``.knitPublic`` (755/644), readable by every user, so NodeManagers share
            one localized copy between all users' applications.

        Raises
        ------
        PreflightError
            PUBLIC was asked for but a folder above ``hdfs_home`` is not
            world-executable, so YARN would not treat the file as public.
        """
        folder_mode, file_mode = ("755", "644") if visibility == "PUBLIC" else ("700", "600")
        closed = self._first_closed_folder(self.hdfs_home) if visibility == "PUBLIC" else None
        if closed is not None:
            raise PreflightError(
                f"a PUBLIC environment needs every folder down to {self.hdfs_home} to be "
                f"world-executable, and {closed} is not: `hdfs dfs -chmod o+x {closed}`, "
                "or use env_visibility='PRIVATE'")
        remote = self.remote_path(local, visibility)
        if self.upload_always:
            # A fresh folder: replacing a file would break applications localizing it.
            folder, name = remote.rsplit("/", 1)
            remote = f"{folder}-{secrets.token_hex(4)}/{name}"
        if self.upload_always or self.needs_upload(local, remote):
            logger.info("uploading %s to %s", local, remote)
            java_call_mapped(self.client.mkdirs, self._folder(visibility), folder_mode)
            java_call_mapped(self.client.mkdirs, remote.rsplit("/", 1)[0], folder_mode)
            partial = remote + "._COPYING_"
            try:
                self._upload(os.path.abspath(local), partial, file_mode)  # the JVM has its own cwd
            except KnitError as exc:
                raise self._upload_failed(local, partial, exc) from None
            java_call_mapped(self.client.rename, partial, remote)
            self.uploaded.append(str(local))
        else:
            logger.info("%s is already in HDFS; not uploading it again", local)
        return java_call_mapped(self.client.fileStatus, remote)["path"]

    def _upload_failed(self, local: str, partial: str, exc: KnitError) -> KnitError:
        """The error of an upload that broke off (e.g. the NameNode died), its partial
        file removed if HDFS still answers."""
        try:
            java_call_mapped(self.client.delete, partial)
            left = "the partial file was removed"
        except KnitError:
            left = f"the partial file {partial} may be left: `hdfs dfs -rm` it"
        message = (f"uploading {local} to HDFS broke off ({exc}); nothing was submitted and "
                   f"{left}. If the NameNode or a DataNode was restarting, try again")
        return type(exc)(message, exc.java_class) if isinstance(exc, JVMError) else KnitError(message)

    def _upload(self, local: str, remote: str, file_mode: str) -> None:
        """Copy ``local`` to ``remote``, reporting its size, time and rate, with a bar
        of bytes sent for big files where someone watches."""
        size, name = os.path.getsize(local), Path(local).name
        say = self.progress or (lambda message: None)
        say(f"uploading {name} ({size / 2**20:.1f} MB)")
        started = time.monotonic()
        watched = self.progress is not None and size >= self.BAR_FROM_BYTES and interactive()
        if not watched:
            java_call_mapped(self.client.upload, local, remote, self.replication, file_mode)
        else:
            self._upload_with_bar(local, remote, file_mode, size, name)
        took = max(time.monotonic() - started, 1e-3)
        say(f"uploaded {name}: {size / 2**20:.1f} MB in {took:.1f} s "
            f"({size / 2**20 / took:.0f} MB/s)")

    def _upload_with_bar(self, local: str, remote: str, file_mode: str, size: int,
                         name: str) -> None:
        outcome: dict = {}

        def copy() -> None:
            try:
                java_call_mapped(self.client.upload, local, remote, self.replication, file_mode)
            except BaseException as exc:  # re-raised in the caller's thread
                outcome["error"] = exc

        worker = threading.Thread(target=copy, name="knit-upload", daemon=True)
        with byte_bar(size, f"uploading {name}") as bar:
            worker.start()
            while worker.is_alive():
                worker.join(0.2)
                bar.to(self.client.uploadProgress(remote))
            bar.to(size)
        if "error" in outcome:
            raise outcome["error"]

    def ship_jar(self, jar: Path) -> tuple[str, str]:
        """Put the knit jar at a content-hashed path; returns (uri, visibility).

        The jar is world-readable, and PUBLIC when every ancestor folder is
        world-executable, so NodeManagers cache it across applications.
        """
        size, digest = file_digest(jar)
        folder = f"{self.hdfs_home}/{JARS}"
        remote = f"{folder}/knit-{digest[:20]}.jar"
        status = java_call_mapped(self.client.fileStatus, remote)
        if status is None or status["size"] != size:
            java_call_mapped(self.client.mkdirs, folder, "755")
            partial = f"{remote}.{secrets.token_hex(6)}.partial"  # others see it whole or not
            java_call_mapped(self.client.upload, str(jar), partial, self.replication, "644")
            java_call_mapped(self.client.rename, partial, remote)
            self.uploaded.append(str(jar))
            status = java_call_mapped(self.client.fileStatus, remote)
        public = self._first_closed_folder(folder) is None
        return status["path"], "PUBLIC" if public else "PRIVATE"

    def _first_closed_folder(self, folder: str) -> str | None:
        """The first folder from the root down to ``folder`` that others cannot
        traverse (missing counts as closed), or None if all can."""
        parts = urlsplit(folder)
        base = f"{parts.scheme}://{parts.netloc}" if parts.scheme else ""
        names = [name for name in parts.path.split("/") if name]
        for depth in range(len(names) + 1):
            path = base + "/" + "/".join(names[:depth])
            status = java_call_mapped(self.client.fileStatus, path)
            if status is None or status["permission"][-1] not in ("x", "t"):
                return path
        return None

    def list_files(self) -> list[dict]:
        """Every file shipped to ``.knitDeps`` and ``.knitPublic``, with path, size and
        modification time."""
        found = []
        for staging in (self.staging_dir, self._folder("PUBLIC")):
            for folder in java_call_mapped(self.client.listFiles, staging):
                if folder["isDirectory"]:
                    found += [dict(f) for f in java_call_mapped(self.client.listFiles, folder["path"])]
        return found


def archives_through(hdfs, hdfs_home: str) -> list[dict]:
    """The archives in ``hdfs_home``'s ``.knitDeps`` and ``.knitPublic``, listed through
    an fsspec filesystem ``hdfs`` (each as it describes a file)."""
    found = []
    for folder in (STAGING, PUBLIC_STAGING):
        path = f"{hdfs_home}/{folder}"
        if hdfs.exists(path):
            found += hdfs.find(path, detail=True).values()
    return [dict(f) for f in found if is_archive(str(f["name"]))]
