"""The Knits of a :class:`~knit.dask_yarn.DaskYARNCluster`: one for the workers'
application and, in remote mode, one for the scheduler's; made from the cluster's
Knit options, or from a ready Knit."""

from __future__ import annotations

import copy
import inspect

from .core import Knit
from .exceptions import KnitTypeError, KnitValueError

#: The options of Knit a DaskYARNCluster takes too (all but ``autodetect``), by name.
KNIT_OPTIONS = tuple(name for name in inspect.signature(Knit.__init__).parameters
                     if name not in ("self", "autodetect"))
#: ``client_timeout`` by deploy mode: a local scheduler's workers end soon after this
#: process; a remote cluster outlives it.
CLIENT_TIMEOUT = {"local": 120.0, "remote": 0.0}


def cluster_knits(deploy_mode: str, knit: Knit | None, autodetect: bool,
                  options: dict) -> tuple[Knit, Knit | None]:
    """The workers' Knit and (remote mode) the scheduler's.

    Parameters
    ----------
    deploy_mode : {'local', 'remote'}
    knit : Knit, optional
        A ready Knit for the workers; then ``options`` must hold only defaults.
    autodetect : bool
        Read the Hadoop configuration files.
    options : dict
        The Knit options given to the cluster (``client_timeout`` None: by mode).

    Raises
    ------
    KnitTypeError, KnitValueError
        ``knit`` is not a Knit, or options were given beside it.
    """
    if knit is None:
        if options.get("client_timeout") is None:
            options = {**options, "client_timeout": CLIENT_TIMEOUT[deploy_mode]}
        workers = Knit(autodetect=autodetect, **options)
        scheduler = Knit(autodetect=autodetect, **options) if deploy_mode == "remote" else None
        return workers, scheduler
    if not isinstance(knit, Knit):
        raise KnitTypeError(f"knit must be a knit.Knit, not {type(knit).__name__}")
    defaults = inspect.signature(Knit.__init__).parameters
    given = sorted(name for name, value in options.items()
                   if not _is_default(value, defaults[name].default) and
                   not (name == "client_timeout" and value is None))
    if given:
        raise KnitValueError(f"pass either knit= or Knit options ({', '.join(given)}), not both: "
                             "set them on the Knit you pass")
    return knit, (_twin(knit) if deploy_mode == "remote" else None)


def _is_default(value, default) -> bool:
    return value is default or (type(value) is type(default) and value == default)


def _twin(knit: Knit) -> Knit:
    """A Knit for the scheduler's application, connected as ``knit`` is (sharing its
    client JVM and web session), with no application yet."""
    twin = copy.copy(knit)
    twin.app_id, twin._am = None, None
    return twin
