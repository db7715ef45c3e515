"""Small helpers knit 0.2.4 scripts import from ``knit.utils``."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .exceptions import KnitTypeError

#: The format :func:`set_logging` gives knit's log lines.
LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"


def set_logging(level: int | str = logging.INFO) -> None:
    """Show knit's log messages (progress, the JVM's lines at DEBUG) at ``level`` and
    above on stderr; other libraries' loggers are left as they are.

    Parameters
    ----------
    level : int or str
        A :mod:`logging` level, e.g. ``logging.DEBUG`` or ``"DEBUG"``.
    """
    logger = logging.getLogger("knit")
    logger.setLevel(level)
    if not any(getattr(h, "_knit", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        handler._knit = True  # one handler, however often this is called
        logger.addHandler(handler)


def triple_slash(path: str) -> str:
    """``hdfs://a/b`` -> ``hdfs:///a/b``: a path of the default file system, written as
    knit 0.2.4's docs did (``hdfs://user/<name>/``); other strings are returned as given.

    knit itself tells such a path from a NameNode's address when a file is shipped
    (see :func:`knit.spec.default_fs_path`); this is the plain rewriting 0.2.4 offered.
    """
    if not isinstance(path, str):
        raise KnitTypeError(f"path must be a string, not {type(path).__name__}")
    if path.startswith("hdfs://") and not path.startswith("hdfs:///"):
        return "hdfs:///" + path[len("hdfs://"):]
    return path


def cache_folder(name: str, override: str) -> Path:
    """A folder of knit's per-user cache: ``$override`` when set, else
    ``$XDG_CACHE_HOME/knit/<name>`` (``~/.cache/knit/<name>``)."""
    if os.environ.get(override):
        return Path(os.environ[override])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "knit" / name
