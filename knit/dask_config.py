"""dask.config's ``yarn.*`` keys, read as dask-yarn 0.9 read them: knit's defaults
(``knit/yarn.yaml``, the same keys and values as dask-yarn's) under whatever the
user's and the site's Dask configuration files set, and arguments over both."""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

import dask
import yaml

from .arguments import memory_mib
from .exceptions import KnitTypeError, KnitValueError

#: Above this, a number is bytes (dask-yarn's rule), below it MiB (knit's and Skein's).
_BYTES_FROM = 2**20


def _register_defaults() -> None:
    # read through importlib, so it works from knit-py.zip in a container too
    text = resources.files(__package__).joinpath("yarn.yaml").read_text()
    dask.config.update_defaults(yaml.safe_load(text))


_register_defaults()


def lookup(value: Any, key: str) -> Any:
    """``value`` when given (not None), else dask.config's ``key`` (``yarn.worker.memory``)."""
    return value if value is not None else dask.config.get(key)


def dask_memory_mib(name: str, value) -> int:
    """A container's MiB from ``"2 GiB"``-style strings, MiB numbers, or (as dask-yarn
    read them) byte counts of 1 MiB and more.

    Examples
    --------
    >>> dask_memory_mib("worker_memory", "2 GiB"), dask_memory_mib("worker_memory", 4096)
    (2048, 4096)
    >>> dask_memory_mib("worker_memory", 2 * 2**30)
    2048
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= _BYTES_FROM:
        return math.ceil(value / 2**20)
    return memory_mib(name, value)


def count(name: str, value, minimum: int = 0) -> int:
    """A whole number option (vcores, gpus, restarts) read from arguments or config."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise KnitTypeError(f"{name} must be a whole number, not {value!r}")
    if value < minimum:
        raise KnitValueError(f"{name} must be {minimum} or more, not {value!r}")
    return value


def string_map(name: str, value) -> dict[str, str]:
    """An environment-variable mapping (``worker_env``, ``yarn.client.env``)."""
    if not isinstance(value, dict):
        raise KnitTypeError(f"{name} must map names to values, not {value!r}")
    return {str(k): str(v) for k, v in value.items()}
