"""The application spec of one dask-gateway cluster on knit: a ``dask.scheduler``
service of one container and a ``dask.worker`` service the gateway grows and shrinks
one container at a time (see :mod:`knit.gateway_container` for how a worker container
gets its name and secrets)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .application_spec import ApplicationSpec, Service
from .dask_spec import SCHEDULER, WORKER, Environment, knit_files
from .gateway_container import SECRETS_FILE
from .spec_parts import File, Resources

#: The tag of every gateway cluster's application (``knit ls --tag dask-gateway``).
GATEWAY_TAG = "dask-gateway"

#: With ``python:///path/to/python``, that Python's folder (its ``dask`` command) first
#: on the PATH.
_PYTHON_ON_PATH = 'if [ -n "${KNIT_DASK_PYTHON:-}" ]; then export PATH="${KNIT_DASK_PYTHON%/*}:$PATH"; fi\n'


@dataclass(frozen=True)
class GatewayCluster:
    """What one gateway cluster's application is made of (from the gateway's cluster
    configuration, see :class:`knit.gateway.YarnClusterConfig`).

    Parameters
    ----------
    name : str
        The gateway's name for the cluster (the application's tag).
    scheduler_command, worker_command : list of str
        Dask's commands: words of shell text, joined with spaces.
    env : dict of str to str
        Variables of both services (no secret: those are in ``secrets``).
    secrets : str
        The private HDFS file of the TLS credentials and API token.
    queue, node_label : str
    scheduler_memory, worker_memory : int
        Bytes.
    scheduler_cores, worker_cores, worker_gpus : int
    scheduler_setup, worker_setup : str
        Shell lines run before Dask starts (dask-gateway's).
    localize_files : dict
        Name -> a path, an ``hdfs://`` URI, a :class:`~knit.File` or its dict
        (Skein's form, as dask-gateway's YARN backend took).
    python_environment : str, optional
        knit's: the Python environment, in dask-yarn's forms (a packed archive,
        ``conda://``, ``venv://``, ``python://``), shipped once by content.
    """

    name: str
    scheduler_command: list[str]
    worker_command: list[str]
    env: Mapping[str, str]
    secrets: str
    queue: str = "default"
    node_label: str = ""
    scheduler_memory: int = 2 * 2**30
    scheduler_cores: int = 1
    worker_memory: int = 2 * 2**30
    worker_cores: int = 1
    worker_gpus: int = 0
    scheduler_setup: str = ""
    worker_setup: str = ""
    localize_files: Mapping = field(default_factory=dict)
    python_environment: str | None = None

    def spec(self, user: str = "") -> ApplicationSpec:
        """The application, submitted as ``user``."""
        environment = (Environment.from_value(self.python_environment)
                       if self.python_environment else Environment({}, ""))
        files = {**knit_files(), **environment.files,
                 **{name: File.from_value(value, f"localize_files.{name}")
                    for name, value in self.localize_files.items()},
                 SECRETS_FILE: File(self.secrets, type="FILE", visibility="PRIVATE")}

        def service(role: str, command: list[str], setup: str, memory: int, cores: int,
                    gpus: int = 0, instances: int = 1, allow_failures: bool = False) -> Service:
            script = environment.script(_PYTHON_ON_PATH + setup + "\n" + _prepare(role) +
                                        "exec " + _shell_words(command))
            return Service(script=script, instances=instances, files=files, env=dict(self.env),
                           resources=Resources(memory=f"{memory} b", vcores=cores, gpus=gpus),
                           max_restarts=0, allow_failures=allow_failures)

        return ApplicationSpec(
            name=f"dask-gateway {self.name}", queue=self.queue, user=user,
            tags=(GATEWAY_TAG, cluster_tag(self.name)), node_label=self.node_label,
            services={
                SCHEDULER: service("scheduler", self.scheduler_command, self.scheduler_setup,
                                   self.scheduler_memory, self.scheduler_cores),
                WORKER: service("worker", self.worker_command, self.worker_setup,
                                self.worker_memory, self.worker_cores, self.worker_gpus,
                                instances=0, allow_failures=True)})


def cluster_tag(name: str) -> str:
    """The YARN tag naming gateway cluster ``name`` (YARN keeps tags lower case)."""
    return f"dask-gateway-cluster-{name}".lower()


def _prepare(role: str) -> str:
    """The line that writes the TLS files and sets the role's secrets and name."""
    return (f'knit_lines=$("${{KNIT_DASK_PYTHON:-python}}" -m knit.gateway_container {role}) '
            '|| exit 1\neval "$knit_lines"\n')


def _shell_words(command: list[str]) -> str:
    """``command`` as one shell line: its words joined as they are (shell text, as
    dask-gateway's own YARN backend ran them: ``"$VAR"`` words expand)."""
    return " ".join(command) + "\n"
