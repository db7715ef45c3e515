"""What knit keeps in HDFS about its applications, in ``hdfs_home/.knitApps`` (mode
700, every file 600), named after the application:

- ``<app>.launch.json``: the launch contract (:mod:`knit.contract`), and
  ``<app>.secret``: the control secret, both written at submission and read by
  the ApplicationMaster (the secret is also localized PRIVATE for workers started
  with ``worker_kv=True``);
- ``<app>.keytab``: the user's keytab, when ``Knit(principal=, keytab=)`` was given
  one, for the ApplicationMaster to renew delegation tokens (Kerberos only);
- ``<app>.am.json``: the ApplicationMaster's saved state (target, restarts,
  key-value store) for its next attempt, written as ``<app>.am.json.partial``
  and renamed over it, and ``<app>.am.json.journal.<attempt>.<n>``: the key-value
  store's changes since (see ``StateStore.scala``);
- ``<app>.json``: fields a caller adds (a Dask cluster adds its workers'
  application), read by another process of the same user that attaches.

They live as long as the application: :func:`delete_app_files` when it is seen
ended, and :func:`sweep` for those of applications that ended unseen (client
timeout, crash), before every submission.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import time

from .exceptions import NotFoundError, YARNException
from .jvm import java_call, java_call_mapped

logger = logging.getLogger(__name__)

FOLDER = ".knitApps"
#: Seconds after which the files of an application YARN does not know are stale.
UNKNOWN_GRACE_S = 600
_APP_FILE = re.compile(r"^(application_\d+_\d+)\.")


def folder(hdfs_home: str) -> str:
    return f"{hdfs_home.rstrip('/')}/{FOLDER}"


def record_path(hdfs_home: str, app_id: str, suffix: str = "json") -> str:
    return f"{folder(hdfs_home)}/{app_id}.{suffix}"


def write_record(client, hdfs_home: str, app_id: str, record: dict) -> None:
    java_call(client.mkdirs, folder(hdfs_home), "700")
    java_call(client.writePrivate, record_path(hdfs_home, app_id), json.dumps(record))


def read_record(client, hdfs_home: str, app_id: str) -> dict:
    """The fields added to ``app_id``'s record (empty if none were)."""
    text = java_call(client.readText, record_path(hdfs_home, app_id))
    return {} if text is None else json.loads(text)


def read_secret(client, hdfs_home: str, app_id: str) -> str:
    """The control secret of ``app_id``.

    Raises
    ------
    NotFoundError
        knit holds no secret of it: not started by knit as this user (with this
        ``hdfs_home``), or already ended.
    """
    text = java_call(client.readText, record_path(hdfs_home, app_id, "secret"))
    if text is None:
        raise NotFoundError(f"knit has no record of {app_id} in {folder(hdfs_home)}: only "
                            "running applications knit started as this user can be attached to",
                            "NotFoundException")
    return text.strip()


def write_private_file(client, hdfs_home: str, stem: str, data: dict) -> str:
    """Write ``data`` as JSON to a new file only its owner reads in the records folder
    (for credentials a container localizes as a PRIVATE resource); its URI."""
    path = f"{folder(hdfs_home)}/{stem}-{secrets.token_hex(8)}.json"
    java_call_mapped(client.mkdirs, folder(hdfs_home), "700")  # a refused impersonation: here
    java_call_mapped(client.writePrivate, path, json.dumps(data))
    return f"hdfs://{path}"


def delete_app_files(client, hdfs_home: str, app_id: str) -> None:
    """Delete every file knit keeps about ``app_id`` (named ``<app_id>.*``)."""
    java_call(client.deleteStartingWith, folder(hdfs_home), f"{app_id}.")


def sweep(client, hdfs_home: str, is_finished) -> list[str]:
    """Delete the files of applications that have ended.

    Parameters
    ----------
    is_finished : callable
        ``is_finished(app_id) -> bool``; an application YARN does not know
        (:class:`NotFoundError`) counts as ended once its files are older than
        :data:`UNKNOWN_GRACE_S` (younger ones may belong to a submission under way).

    Returns
    -------
    list of str
        The applications whose files were deleted.
    """
    newest: dict[str, int] = {}
    for status in java_call(client.listFiles, folder(hdfs_home)):
        match = status and _APP_FILE.match(str(status["path"]).rsplit("/", 1)[-1])
        if match:
            app_id = match.group(1)
            newest[app_id] = max(newest.get(app_id, 0), int(status["modificationTime"]))
    cleaned = []
    for app_id, modified in sorted(newest.items()):
        try:
            ended = is_finished(app_id)
        except NotFoundError:
            # YARN knows it only once submitted: young files may be a submission under way.
            ended = time.time() * 1000 - modified > UNKNOWN_GRACE_S * 1000
        except YARNException as exc:  # not ours to judge now: keep it
            logger.debug("not sweeping %s: %s", app_id, exc)
            continue
        if ended:
            delete_app_files(client, hdfs_home, app_id)
            cleaned.append(app_id)
    return cleaned
