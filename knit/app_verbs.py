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
from .exceptions import KnitError, KnitTypeError
from .launch import Launcher


class ApplicationVerbs:
    """:meth:`submit` of an :class:`~knit.application_spec.ApplicationSpec`.

    A mixin: the class using it provides the launcher, its configuration and the
    running application's state (``app_id``, ``_secret``, ``am``).
    """

    conf: dict
    java: Any
    yarn_api: Any
    proxy_user: str | None
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
            Its ``user``, if another, makes this Knit act as that user from now on,
            as ``Knit(proxy_user=user)`` does.
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
        ImpersonationError
            The login user may not act as the spec's ``user``.
        ApplicationError, KnitTimeoutError, KeyboardInterrupt
            As :meth:`start`.
        """
        spec = as_spec(spec)
        if self.app_id and not self._has_ended():
            raise KnitError(f"this Knit already runs {self.app_id}; kill() it or use another Knit")
        if spec.user and spec.user != (self.proxy_user or self.conf["user"]):
            self._act_as(spec.user)
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

    def _act_as(self, user: str) -> None:
        """Act as ``user`` from now on (a spec's ``user:``): as oneself if it is the
        login user, else as its proxy, as ``Knit(proxy_user=user)`` would (the spec
        checked the name)."""
        if self.conf["hdfs_home"] == f"/user/{self.proxy_user or self.conf['user']}":
            self.conf["hdfs_home"] = f"/user/{user}"  # the default follows the user
        self.proxy_user = None if user == self.conf["user"] else user
        self.yarn_api.do_as = self.proxy_user
        self.java = self.java.acting_as(self.proxy_user)
        self.java.warm_up_in_background()

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
