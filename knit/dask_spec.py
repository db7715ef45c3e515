"""The application spec of a dask-yarn-style Dask cluster: a ``dask.scheduler``
service (remote mode), a ``dask.worker`` service and, for ``dask-yarn submit``, a
``dask.client`` service running the user's script, each running ``dask-yarn
services ROLE`` as dask-yarn 0.9's specs do, so specs written for dask-yarn run too.
Unlike dask-yarn's, the workers do not depend on the scheduler: their containers
start beside its, and wait for its address in the key-value store (a scheduler
that fails fails the application, so none waits for ever).

Every value is the argument when given, else dask.config's ``yarn.*`` key.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping
from urllib.parse import urlparse

from .application_spec import ApplicationSpec, Service
from .dask_config import count, dask_memory_mib, lookup, string_map
from .exceptions import KnitTypeError, KnitValueError
from .self_zip import ZIP_NAME, knit_zip
from .spec_parts import File, Resources

SCHEDULER, WORKER, CLIENT = "dask.scheduler", "dask.worker", "dask.client"
#: The keys through which the scheduler's addresses reach workers and clients.
SCHEDULER_KEY, DASHBOARD_KEY = "dask.scheduler", "dask.dashboard"
DEPLOY_MODES = ("remote", "local")
#: Where an archived environment is unpacked in each container.
ENV_FOLDER = "environment"
#: Environments on the nodes already, by scheme: nothing is shipped.
_ON_NODES = ("conda", "venv", "python")

#: First lines of every dask service's script: knit's client (shipped as a zip) on
#: the Python path, and ``dask-yarn`` as a command that runs its services with the
#: environment's Python (a shell function, so it needs nothing on the PATH).
PRELUDE = f"""\
export PYTHONPATH="$PWD/{ZIP_NAME}${{PYTHONPATH:+:$PYTHONPATH}}"
dask-yarn() {{ "${{KNIT_DASK_PYTHON:-python}}" -m dask_yarn.cli "$@"; }}
"""

_NO_ENVIRONMENT = """no Python environment for the Dask workers: pass environment= (or set
yarn.environment in the Dask configuration) to one of
- a packed environment (conda-pack or venv-pack archive, .tar.gz or .zip),
- conda:///path/to/env or venv:///path/to/env (a conda or virtual environment at
  that path on every node),
- python:///path/to/bin/python (a Python on every node, with dask and requests)."""


@dataclass(frozen=True)
class Environment:
    """Where a dask service's Python comes from: the files it ships, the shell lines
    that set it up."""

    files: Mapping[str, File]
    setup: str

    @classmethod
    def from_value(cls, environment: str) -> "Environment":
        """From dask-yarn's forms: an archive (local path or Hadoop URI),
        ``conda:///path``, ``venv:///path``, ``python:///path/to/python``.

        Raises
        ------
        KnitTypeError, KnitValueError
        """
        if not isinstance(environment, str) or not environment:
            raise KnitTypeError(f"environment must be a path or URI string, not {environment!r}")
        scheme = urlparse(environment).scheme
        if scheme in _ON_NODES:
            path = environment[len(scheme) + 3:]
            if not path.startswith("/"):
                raise KnitValueError(f"environment={environment!r}: write an absolute path on the "
                                     f"nodes, as {scheme}:///opt/envs/dask")
            quoted = shlex.quote(path)
            if scheme == "python":
                return cls({}, f"export KNIT_DASK_PYTHON={quoted}\n")
            activate = (f"export CONDA_PREFIX={quoted}\n" if scheme == "conda"
                        else f"export VIRTUAL_ENV={quoted}\n")
            return cls({}, f'{activate}export PATH={quoted}/bin:"$PATH"\n'
                           f"export KNIT_DASK_PYTHON={quoted}/bin/python\n")
        if scheme == "" and not Path(environment).expanduser().is_file():
            raise FileNotFoundError(f"environment={environment!r}: no such archive here (for an "
                                    "environment on the nodes, write conda://, venv:// or python://)")
        source = str(Path(environment).expanduser()) if scheme == "" else environment
        return cls({ENV_FOLDER: File(source, type="ARCHIVE")}, _ARCHIVE_SETUP)

    def script(self, command: str) -> str:
        """A service script: the prelude, this environment, then ``command``."""
        return PRELUDE + self.setup + command + "\n"


#: An unpacked archive: its top folder (conda-pack and venv-pack have none; knit's
#: builds have one), activated if it has an activate script, first on the PATH.
_ARCHIVE_SETUP = f"""\
knit_env="$PWD/{ENV_FOLDER}"
if [ ! -x "$knit_env/bin/python" ]; then
  for knit_top in "$knit_env"/*/bin/python; do knit_env="${{knit_top%/bin/python}}"; break; done
fi
if [ -f "$knit_env/bin/activate" ]; then . "$knit_env/bin/activate"; fi
export PATH="$knit_env/bin:$PATH" KNIT_DASK_PYTHON="$knit_env/bin/python"
"""


def knit_files() -> dict[str, File]:
    """The files every dask service gets from knit: its client code."""
    return {ZIP_NAME: File(str(knit_zip()), type="FILE")}


def _resources(role: str, vcores, memory, gpus) -> Resources:
    return Resources(memory=dask_memory_mib(f"{role}_memory", lookup(memory, f"yarn.{role}.memory")),
                     vcores=count(f"{role}_vcores", lookup(vcores, f"yarn.{role}.vcores"), 1),
                     gpus=count(f"{role}_gpus", lookup(gpus, f"yarn.{role}.gpus")))


def _worker_env(worker_env, worker_class, worker_options) -> dict[str, str]:
    """The workers' variables, with their class and options as dask-yarn passes them."""
    env = string_map("worker_env", lookup(worker_env, "yarn.worker.env"))
    worker_class = lookup(worker_class, "yarn.worker.worker_class")
    if not isinstance(worker_class, str) or "." not in worker_class:
        raise KnitValueError(f"worker_class must be a dotted class name such as "
                             f"'dask.distributed.Nanny', not {worker_class!r}")
    options = lookup(worker_options, "yarn.worker.worker_options")
    if not isinstance(options, Mapping):
        raise KnitTypeError(f"worker_options must map keyword names to values, not {options!r}")
    try:
        encoded = base64.b64encode(json.dumps(dict(options)).encode()).decode()
    except TypeError as exc:
        raise KnitTypeError(f"worker_options must be JSON values: {exc}") from None
    return {**env, "worker_class": worker_class, "worker_options": encoded}


def _worker_files(worker_files) -> dict[str, File]:
    value = lookup(worker_files, "yarn.worker.files")
    if isinstance(value, (list, tuple)):  # paths: each under its own name
        value = {os.path.basename(str(v).rstrip("/")): v for v in value}
    if not isinstance(value, Mapping):
        raise KnitTypeError(f"worker_files must map names to paths (or list paths), not {value!r}")
    return {name: source if isinstance(source, File) else File(str(source))
            for name, source in value.items()}


def _scheduler_env(port, dashboard_address) -> dict[str, str]:
    """Fixed ports for a remote scheduler (dask-yarn honoured them in local mode only)."""
    env = {}
    port = lookup(port, "yarn.port")
    if port:
        env["KNIT_DASK_PORT"] = str(count("port", port))
    dashboard = lookup(dashboard_address, "yarn.dashboard-address")
    if dashboard is not None:
        env["KNIT_DASK_DASHBOARD"] = str(dashboard)
    return env


def deploy_mode_of(deploy_mode) -> str:
    mode = lookup(deploy_mode, "yarn.deploy-mode")
    if mode not in DEPLOY_MODES:
        raise KnitValueError(f"deploy_mode must be 'remote' or 'local', not {mode!r}")
    return mode


def cluster_spec(environment: str | None = None, *, n_workers=None, worker_vcores=None,
                 worker_memory=None, worker_restarts=None, worker_env=None, worker_class=None,
                 worker_options=None, worker_gpus=None, worker_files=None,
                 scheduler_vcores=None, scheduler_memory=None, scheduler_gpus=None,
                 deploy_mode=None, name=None, queue=None, tags=None, user=None, port=None,
                 dashboard_address=None) -> ApplicationSpec:
    """The spec of a Dask cluster, from dask-yarn's arguments (None: from dask.config).

    ``environment`` None means dask.config's ``yarn.environment``; the caller resolves
    "none at all" before (see :mod:`knit.yarn_cluster`).

    Raises
    ------
    KnitTypeError, KnitValueError, FileNotFoundError
        A bad value, named; nothing is submitted.
    """
    environment = lookup(environment, "yarn.environment")
    if environment is None:
        raise KnitValueError(_NO_ENVIRONMENT)
    env = Environment.from_value(environment)
    files = {**knit_files(), **env.files}
    restarts = count("worker_restarts", lookup(worker_restarts, "yarn.worker.restarts"), -1)
    services = {}
    remote = deploy_mode_of(deploy_mode) == "remote"
    if remote:
        services[SCHEDULER] = Service(
            script=env.script("dask-yarn services scheduler"), instances=1, files=files,
            resources=_resources("scheduler", scheduler_vcores, scheduler_memory, scheduler_gpus),
            env=_scheduler_env(port, dashboard_address))
    services[WORKER] = Service(
        script=env.script("dask-yarn services worker"),
        instances=count("n_workers", lookup(n_workers, "yarn.worker.count")),
        resources=_resources("worker", worker_vcores, worker_memory, worker_gpus),
        files={**files, **_worker_files(worker_files)}, max_restarts=restarts,
        env=_worker_env(worker_env, worker_class, worker_options))
    tags = lookup(tags, "yarn.tags")
    if isinstance(tags, str) or not isinstance(tags, (list, tuple, set, frozenset)):
        raise KnitTypeError(f"tags must be a list of strings, not {tags!r}")
    return ApplicationSpec(services=services, name=lookup(name, "yarn.name"),
                           queue=lookup(queue, "yarn.queue"), tags=tuple(sorted(map(str, tags))),
                           user=lookup(user, "yarn.user") or "")


def with_client(spec: ApplicationSpec, script: str, args: list[str], *, environment=None,
                client_vcores=None, client_memory=None, client_gpus=None,
                client_env=None) -> ApplicationSpec:
    """``spec`` plus a ``dask.client`` service running ``script args`` (``dask-yarn
    submit`` in remote mode): it starts once the scheduler runs, and the application
    ends with the script, SUCCEEDED if it exits 0, else FAILED."""
    if not Path(script).is_file():
        raise FileNotFoundError(f"{script!r}: no such script here")
    env = Environment.from_value(lookup(environment, "yarn.environment"))
    name = os.path.basename(script)
    command = " ".join(shlex.quote(a) for a in ["dask-yarn", "services", "client", name, *args])
    client = Service(
        script=env.script(command), instances=1, depends=(SCHEDULER,),
        files={**knit_files(), **env.files, name: File(str(Path(script).resolve()), type="FILE")},
        resources=_resources("client", client_vcores, client_memory, client_gpus),
        env=string_map("client_env", lookup(client_env, "yarn.client.env")))
    return replace(spec, services={**spec.services, CLIENT: client})


def check_dask_spec(spec: ApplicationSpec | Mapping | str) -> ApplicationSpec:
    """A spec (object, dict or file) for :meth:`YarnCluster.from_specification`: it must have a
    ``dask.worker`` service; knit's client code is added to its dask services, and
    ``dask-yarn`` is defined in their scripts.

    Raises
    ------
    KnitTypeError, KnitValueError
    """
    from .app_verbs import as_spec

    spec = as_spec(spec)
    if WORKER not in spec.services:
        raise KnitValueError(f"the spec must have a {WORKER!r} service (its services: "
                             f"{', '.join(spec.services) or 'none'}); see docs/dask_yarn.rst")
    services = dict(spec.services)
    for name, service in spec.services.items():
        if name.startswith("dask.") and not service.script.startswith(PRELUDE):
            services[name] = replace(service, script=PRELUDE + service.script,
                                     files={**knit_files(), **service.files})
    return replace(spec, services=services)
