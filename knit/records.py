"""What knit keeps in HDFS about its running applications, so another process of
the same user can attach to them: ``hdfs_home/.knitApps/<app id>.json`` (the folder
is mode 700), holding the ApplicationMaster's control secret and any fields the
caller adds (a Dask cluster adds its scheduler's address and its workers'
application)."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile

from .exceptions import NotFoundError
from .jvm import java_call

FOLDER = ".knitApps"


def record_path(hdfs_home: str, app_id: str) -> str:
    return f"{hdfs_home.rstrip('/')}/{FOLDER}/{app_id}.json"


def write_record(client, hdfs_home: str, app_id: str, record: dict) -> None:
    java_call(client.mkdirs, f"{hdfs_home.rstrip('/')}/{FOLDER}", "700")
    java_call(client.writeText, record_path(hdfs_home, app_id), json.dumps(record))


def read_record(client, hdfs_home: str, app_id: str) -> dict:
    """The record of ``app_id``.

    Raises
    ------
    NotFoundError
        knit holds no record of it: not started by knit as this user (with this
        ``hdfs_home``), or already killed through knit.
    """
    text = java_call(client.readText, record_path(hdfs_home, app_id))
    if text is None:
        raise NotFoundError(f"knit has no record of {app_id} in {hdfs_home}/{FOLDER}: only "
                            "applications knit started as this user can be attached to",
                            "NotFoundException")
    return json.loads(text)


def delete_record(client, hdfs_home: str, app_id: str) -> None:
    java_call(client.delete, record_path(hdfs_home, app_id))


def write_secret(client, hdfs_home: str, secret: str, replication: int) -> str:
    """Put an application's control secret in ``.knitApps`` (mode 600) for its
    ApplicationMaster to localize PRIVATE; returns its URI."""
    folder = f"{hdfs_home.rstrip('/')}/{FOLDER}"
    java_call(client.mkdirs, folder, "700")
    handle, local = tempfile.mkstemp(prefix="knit-secret-")  # mode 600
    try:
        with os.fdopen(handle, "w") as out:
            out.write(secret)
        status = java_call(client.upload, local, _secret_path(hdfs_home, secret), replication, "600")
    finally:
        os.unlink(local)
    return status["path"]


def delete_secret(client, hdfs_home: str, secret: str) -> None:
    java_call(client.delete, _secret_path(hdfs_home, secret))


def _secret_path(hdfs_home: str, secret: str) -> str:
    name = hashlib.sha256(secret.encode()).hexdigest()[:20]
    return f"{hdfs_home.rstrip('/')}/{FOLDER}/{name}.secret"
