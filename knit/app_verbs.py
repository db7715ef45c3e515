"""Submitting an application of several services (:meth:`Knit.submit`), the mixin
:class:`~knit.Knit` offers it through."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any, Callable

from . import app_launch, records
from .am_client import AMClient
from .application import Application
from .application_spec import ApplicationSpec
from .exceptions import KnitError, KnitTypeError, KnitValueError
from .launch import Launcher


class ApplicationVerbs:
    """:meth:`submit` of an :class:`~knit.application_spec.ApplicationSpec`.

    A mixin: the class using it provides the launcher, its configuration and the
    running application's state (``app_id``, ``_secret``, ``am``).
    """

    conf: dict
    java: Any
    app_id: str | None
    _secret: str
    _am: AMClient | None
    _launcher: Callable[[], Launcher]
    _has_ended: Callable[[], bool]
    am: AMClient

    def submit(self, spec: ApplicationSpec | dict | str | Path, checks: bool = True,
               keep_alive: bool = False) -> Application:
        """Submit an application of services, and wait until it runs.

        Parameters
        ----------
        spec : ApplicationSpec, dict, or path
            The spec, its dict, or a YAML/JSON file of it (Skein's format reads as is).
        checks : bool
            Check the cluster can run it before uploading anything.
        keep_alive : bool
            Run until :meth:`Application.shutdown` or a kill even while no service
            has containers (by default, as in Skein, an application whose services
            are all done ends); the application then also ends if this Knit's
            ``client_timeout`` passes without a call from a client.

        Returns
        -------
        Application
            Its handle (``.id`` is the application id); this Knit's ``app_id``,
            ``kill``, ``logs`` and ``status`` are the application's too.

        Raises
        ------
        KnitTypeError, KnitValueError, FileNotFoundError
            A bad spec, naming the field; nothing was uploaded or submitted.
        PreflightError
            The cluster cannot run it (with ``checks=True``).
        ApplicationError, KnitTimeoutError, KeyboardInterrupt
            As :meth:`start`.
        """
        spec = as_spec(spec)
        if spec.user and spec.user != self.conf["user"]:
            raise KnitValueError(f"user: submitting as {spec.user!r} for {self.conf['user']!r} "
                                 "(a proxy user) is not supported yet; leave user out")
        if self.app_id and not self._has_ended():
            raise KnitError(f"this Knit already runs {self.app_id}; kill() it or use another Knit")
        app_launch.check_local_sources(spec)
        self.app_id, self._am = None, None
        self._secret = secrets.token_hex(24)
        launcher = self._launcher()
        if checks:
            app_launch.preflight(launcher, spec)
        launcher.progress(f"submitting {spec.name!r}: services " + ", ".join(
            f"{name} ({s.instances})" for name, s in spec.services.items()))
        try:
            launcher.submit(lambda tag: app_launch.contract(launcher, spec, tag, keep_alive),
                            self._secret)
        finally:
            self.app_id = launcher.app_id
        records.write_record(self.java.client, self.conf["hdfs_home"], self.app_id,
                             {"spec": spec.to_dict()})
        return Application(self.am, knit=self)

    @property
    def application(self) -> Application:
        """The running application's handle (after :meth:`submit`, :meth:`start` or
        :meth:`attach`)."""
        return Application(self.am, knit=self)


def as_spec(spec) -> ApplicationSpec:
    """An ApplicationSpec from itself, its dict, or a YAML/JSON file's path."""
    if isinstance(spec, ApplicationSpec):
        return spec
    if isinstance(spec, dict):
        return ApplicationSpec.from_dict(spec)
    if isinstance(spec, (str, Path)):
        return ApplicationSpec.from_file(spec)
    raise KnitTypeError(f"spec must be an ApplicationSpec, a dict or a file path, not "
                        f"{type(spec).__name__}")
