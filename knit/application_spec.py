"""Applications of several services, declared: :class:`ApplicationSpec` of named
:class:`Service` objects, each with its :class:`Resources` and :class:`File` objects.

A Skein 0.8.2 specification (YAML or JSON, or the dict of one) reads as it is, with
:meth:`ApplicationSpec.from_file` or ``knit submit spec.yaml``; what knit cannot honour
is refused with the field named (docs/specification.rst lists every field).

Every check runs on construction, so a spec that exists is one knit can submit:
errors are :class:`~knit.exceptions.KnitTypeError` or
:class:`~knit.exceptions.KnitValueError` whose message starts with the field's path,
such as ``services.worker.resources.memory``.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from .arguments import hadoop_user_name, seconds, whole_number
from .exceptions import KnitTypeError, KnitValueError
from .spec import ACLs, check_resource_name
from .spec_parts import File, Resources, check_keys, env_vars, flag, names, text

__all__ = ["ApplicationSpec", "Service", "Master", "Resources", "File"]

_SERVICE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

def _files(where: str, value, origin: Path | None) -> dict[str, File]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise KnitTypeError(f"{where} must map destination names to sources, not {value!r}")
    out = {}
    for dest, source in value.items():
        name = dest[2:] if isinstance(dest, str) and dest.startswith("./") else dest
        if not isinstance(name, str) or "/" in name:
            raise KnitValueError(f"{where}: {dest!r} must be a file name in the container's "
                                 "working folder (no folders: put them in an archive)")
        check_resource_name(name, f"{where}.{name}")
        out[name] = File.from_value(source, f"{where}.{name}", origin)
    return out


@dataclass(frozen=True)
class Service:
    """One kind of container of an application, and how many of it.

    Parameters
    ----------
    script : str
        The bash script each container runs.
    instances : int
        Containers at the start (0 or more; scale later).
    resources : Resources
        What each needs.
    files : dict of str to File or str
        Destination name in the working folder -> what to localize there.
    env : dict of str to str
        Environment variables, byte-exact.
    depends : list of str
        Services that must have started (all their first containers running)
        before this one asks for containers.
    max_restarts : int
        Failed containers replaced over the application's life (-1: always).
    allow_failures : bool
        Whether the application runs on when failures exceed ``max_restarts``.
    node_label : str
        A node label expression its containers must match (default: the
        application's).
    nodes, racks : list of str
        Hosts or racks to ask for.
    relax_locality : bool
        Whether YARN may place containers elsewhere when those are full.
    one_per_node : bool
        Never two of its containers on one node (anti-affinity through YARN's
        placement constraints; knit's).
    """

    script: str
    instances: int = 1
    resources: Resources = field(default_factory=Resources)
    files: Mapping[str, File | str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    depends: tuple[str, ...] = ()
    max_restarts: int = 0
    allow_failures: bool = False
    node_label: str = ""
    nodes: tuple[str, ...] = ()
    racks: tuple[str, ...] = ()
    relax_locality: bool = False
    one_per_node: bool = False

    def __post_init__(self):
        self.check("service")

    def check(self, where: str, origin: Path | None = None) -> None:
        text(f"{where}.script", self.script, empty=False)
        whole_number(f"{where}.instances", self.instances, minimum=0)
        if isinstance(self.resources, Mapping):
            object.__setattr__(self, "resources", Resources.from_dict(self.resources, f"{where}.resources"))
        if not isinstance(self.resources, Resources):
            raise KnitTypeError(f"{where}.resources must be knit.Resources or a mapping, "
                                f"not {self.resources!r}")
        object.__setattr__(self, "files", _files(f"{where}.files", self.files, origin))
        object.__setattr__(self, "env", env_vars(f"{where}.env", self.env))
        object.__setattr__(self, "depends", names(f"{where}.depends", self.depends))
        if isinstance(self.max_restarts, bool) or not isinstance(self.max_restarts, int) \
                or self.max_restarts < -1:
            raise KnitValueError(f"{where}.max_restarts must be -1 (always), 0 (never) or a "
                                 f"limit, not {self.max_restarts!r}")
        flag(f"{where}.allow_failures", self.allow_failures)
        flag(f"{where}.relax_locality", self.relax_locality)
        if flag(f"{where}.one_per_node", self.one_per_node) and (
                self.node_label or self.nodes or self.racks):
            raise KnitValueError(f"{where}.one_per_node cannot be combined with node_label, "
                                 "nodes or racks yet; use one or the other")
        text(f"{where}.node_label", self.node_label)
        object.__setattr__(self, "nodes", names(f"{where}.nodes", self.nodes))
        object.__setattr__(self, "racks", names(f"{where}.racks", self.racks))
        if self.node_label and (self.nodes or self.racks):
            raise KnitValueError(f"{where}: node_label cannot be combined with nodes or racks "
                                 "(YARN refuses such asks); use one or the other")

    @classmethod
    def from_dict(cls, value: Mapping, where: str, origin: Path | None = None) -> "Service":
        known = tuple(f.name for f in fields(cls))
        value = dict(value) if isinstance(value, Mapping) else value
        if isinstance(value, dict) and "commands" in value:  # Skein < 0.5
            warnings.warn(f"{where}.commands is deprecated (as in Skein 0.5); write them as script",
                          DeprecationWarning, stacklevel=3)
            if "script" in value:
                raise KnitValueError(f"{where}: give script or commands, not both")
            value["script"] = "\n".join(names(f"{where}.commands", value.pop("commands")))
        check_keys(where, value, known)
        if "script" not in value:
            raise KnitValueError(f"{where}.script: required (the bash script its containers run)")
        service = _unchecked(cls, value)
        service.check(where, origin)
        return service

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"instances": self.instances, "resources": self.resources.to_dict(),
                               "script": self.script}
        if self.files:
            out["files"] = {k: v.to_dict() for k, v in self.files.items()}  # type: ignore[union-attr]
        for name in ("env", "depends", "nodes", "racks"):
            if getattr(self, name):
                out[name] = dict(self.env) if name == "env" else list(getattr(self, name))
        for name, default in (("max_restarts", 0), ("allow_failures", False), ("node_label", ""),
                              ("relax_locality", False), ("one_per_node", False)):
            if getattr(self, name) != default:
                out[name] = getattr(self, name)
        return out


#: Fields of Skein's ``master`` that knit refuses, and why.
_MASTER_REFUSED = {
    "log_config": "knit's ApplicationMaster logs through its container's stdout/stderr with a "
                  "fixed format; leave log_config out",
    "security": "knit's control channel is protected by a per-application secret, not by "
                "Skein's TLS certificates; leave security out",
}


@dataclass(frozen=True)
class Master:
    """The ApplicationMaster's container, and a driver script run in it.

    Parameters
    ----------
    resources : Resources
        The container's size (default 512 MiB, 1 vcore, as Skein's).
    script : str
        A driver: a bash script run beside the ApplicationMaster; the application
        ends when it exits, SUCCEEDED with exit code 0, FAILED otherwise.
    files, env
        The driver's, as a service's.
    log_level : str
        The log4j level of the ApplicationMaster's Hadoop libraries (DEBUG, INFO, ...).
    """

    resources: Resources = field(default_factory=lambda: Resources(memory=512, vcores=1))
    script: str = ""
    files: Mapping[str, File | str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    log_level: str = "INFO"

    def __post_init__(self):
        self.check("master")

    def check(self, where: str, origin: Path | None = None) -> None:
        if isinstance(self.resources, Mapping):
            object.__setattr__(self, "resources", Resources.from_dict(self.resources, f"{where}.resources"))
        text(f"{where}.script", self.script)
        object.__setattr__(self, "files", _files(f"{where}.files", self.files, origin))
        object.__setattr__(self, "env", env_vars(f"{where}.env", self.env))
        level = str(self.log_level).upper()
        if level not in ("ALL", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF"):
            raise KnitValueError(f"{where}.log_level must be a log4j level such as INFO, not {self.log_level!r}")
        object.__setattr__(self, "log_level", level)
        if not self.script and (self.files or self.env):
            raise KnitValueError(f"{where}: files and env are the driver's, and there is no "
                                 f"{where}.script; give a script or leave them out")

    @classmethod
    def from_dict(cls, value: Mapping, where: str = "master", origin: Path | None = None) -> "Master":
        check_keys(where, value, tuple(f.name for f in fields(cls)), _MASTER_REFUSED)
        master = _unchecked(cls, value)
        master.check(where, origin)
        return master

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"resources": self.resources.to_dict()}
        if self.script:
            out["script"] = self.script
        if self.files:
            out["files"] = {k: v.to_dict() for k, v in self.files.items()}  # type: ignore[union-attr]
        if self.env:
            out["env"] = dict(self.env)
        if self.log_level != "INFO":
            out["log_level"] = self.log_level
        return out


def _unchecked(cls, value: Mapping):
    """An instance of dataclass ``cls`` with the fields of ``value`` (defaults for the
    rest), not checked yet: its ``check`` then checks them where they came from."""
    made = cls.__new__(cls)
    for f in fields(cls):
        default = f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]
        object.__setattr__(made, f.name, value.get(f.name, default))
    return made


def _acls(where: str, value) -> ACLs:
    """knit's ACLs from knit's form or Skein's (with ``enable`` and ``ui_users``)."""
    if value is None or isinstance(value, ACLs):
        return value or ACLs()
    if not isinstance(value, Mapping):
        raise KnitTypeError(f"{where} must be a mapping or knit.ACLs, not {value!r}")
    value = dict(value)
    enable = flag(f"{where}.enable", value.pop("enable", True))
    ui_users = names(f"{where}.ui_users", value.pop("ui_users", None))
    if ui_users and not ({"*"} & set(value.get("view_users", ())) or
                         set(ui_users) <= set(value.get("view_users", ()))):
        raise KnitValueError(f"{where}.ui_users: knit's status page shows to the users YARN's view "
                             "ACL allows; list these users in view_users as well")
    acls = ACLs.from_value(value)
    return acls if enable else ACLs()


@dataclass(frozen=True)
class ApplicationSpec:
    """A whole application: its services, its ApplicationMaster, and how YARN runs it.

    Parameters
    ----------
    services : dict of str to Service
        By name (letters, digits, ``_.-``). At least one, unless ``master.script``.
    master : Master
        The ApplicationMaster's size, and an optional driver script.
    name, queue : str
        As YARN shows it, and the scheduler queue.
    tags : list of str
        Application tags (``knit ls --tag``).
    user : str
        Submit and manage the application as this user through Hadoop's impersonation
        (a service acting for a person; the cluster must allow it, see
        docs/gateway.rst); '' or the login user: as oneself.
    node_label : str
        The default node label expression of the services (and of the
        ApplicationMaster's container).
    file_systems : list of str
        Other Hadoop file systems (``hdfs://other-nn:8020``) to get delegation
        tokens for (Kerberos).
    acls : ACLs or dict
        knit's :class:`~knit.spec.ACLs`, or Skein's form with ``enable`` and ``ui_users``.
    max_attempts : int
        Attempts YARN makes to run the ApplicationMaster (a later one takes over
        the containers; default 1, as Skein's).
    priority : int
        The application's priority in its queue (YARN's; higher runs first).
    lifetime : float
        Seconds after which YARN kills the application (0: no limit).
    attempt_failures_validity_interval : float
        Seconds: ApplicationMaster failures older than this do not count against
        ``max_attempts`` (0: all count).

    Examples
    --------
    >>> spec = ApplicationSpec(name="demo", services={
    ...     "server": Service(script="python -m http.server 8000", resources=Resources(memory="256 MiB")),
    ...     "client": Service(script="curl ...", depends=["server"])})
    >>> sorted(spec.services), spec.services["server"].resources.memory
    (['client', 'server'], 256)
    """

    services: Mapping[str, Service] = field(default_factory=dict)
    master: Master = field(default_factory=Master)
    name: str = "knit"
    queue: str = "default"
    tags: tuple[str, ...] = ()
    user: str = ""
    node_label: str = ""
    file_systems: tuple[str, ...] = ()
    acls: ACLs | Mapping | None = None
    max_attempts: int = 1
    priority: int = 0
    lifetime: float = 0
    attempt_failures_validity_interval: float = 0

    def __post_init__(self):
        self.check()

    def check(self, origin: Path | None = None) -> None:
        text("name", self.name, empty=False)
        text("queue", self.queue, empty=False)
        object.__setattr__(self, "tags", names("tags", self.tags))
        for tag in self.tags:
            if len(tag) > 100 or "," in tag:
                raise KnitValueError(f"tags: {tag!r}: YARN takes tags of at most 100 characters, without commas")
        text("user", self.user)
        hadoop_user_name("user", self.user or None)
        text("node_label", self.node_label)
        object.__setattr__(self, "file_systems", names("file_systems", self.file_systems))
        object.__setattr__(self, "acls", _acls("acls", self.acls))
        whole_number("max_attempts", self.max_attempts)
        if isinstance(self.priority, bool) or not isinstance(self.priority, int):
            raise KnitTypeError(f"priority must be a whole number, not {self.priority!r}")
        seconds("lifetime", self.lifetime, zero_means="no limit")
        seconds("attempt_failures_validity_interval", self.attempt_failures_validity_interval,
                zero_means="every failure counts")
        master = self.master
        if isinstance(master, Mapping):
            master = Master.from_dict(master, "master", origin)
        if not isinstance(master, Master):
            raise KnitTypeError(f"master must be knit.Master or a mapping, not {master!r}")
        object.__setattr__(self, "master", master)
        self._check_services(origin)

    def _check_services(self, origin: Path | None) -> None:
        if not isinstance(self.services, Mapping):
            raise KnitTypeError(f"services must map names to services, not {self.services!r}")
        if not self.services and not self.master.script:
            raise KnitValueError("services: there must be at least one service (or a master.script)")
        services = {}
        for name, service in self.services.items():
            if not isinstance(name, str) or not _SERVICE_NAME.match(name):
                raise KnitValueError(f"services: {name!r} is not a service name (letters, digits "
                                     "and _.-, at most 64, starting with a letter or digit)")
            where = f"services.{name}"
            if isinstance(service, Mapping):
                service = Service.from_dict(service, where, origin)
            elif isinstance(service, Service):
                service.check(where, origin)
            else:
                raise KnitTypeError(f"{where} must be knit.Service or a mapping, not {service!r}")
            if self.node_label and not (service.node_label or service.nodes or service.racks
                                        or service.one_per_node):
                service = replace(service, node_label=self.node_label)
            services[name] = service
        for name, service in services.items():
            for dep in service.depends:
                if dep not in services:
                    raise KnitValueError(f"services.{name}.depends: no service {dep!r} in this "
                                         f"application (it has {', '.join(services)})")
        _refuse_cycles(services)
        object.__setattr__(self, "services", services)

    # ------------------------------------------------------------ reading
    @classmethod
    def from_dict(cls, value: Mapping, origin: Path | None = None) -> "ApplicationSpec":
        """From the dict of a spec (knit's or Skein's): relative local file sources
        are relative to ``origin`` (default: the current folder)."""
        check_keys("spec", value, tuple(f.name for f in fields(cls)))
        spec = _unchecked(cls, value)
        spec.check(origin)
        return spec

    @classmethod
    def from_yaml(cls, text: str, origin: Path | None = None) -> "ApplicationSpec":
        import yaml
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise KnitValueError(f"the spec is not valid YAML: {exc}") from None
        return cls.from_dict(value or {}, origin)

    @classmethod
    def from_json(cls, text: str, origin: Path | None = None) -> "ApplicationSpec":
        try:
            value = json.loads(text)
        except ValueError as exc:
            raise KnitValueError(f"the spec is not valid JSON: {exc}") from None
        return cls.from_dict(value, origin)

    @classmethod
    def from_file(cls, path: str | Path, format: str = "infer") -> "ApplicationSpec":
        """From a YAML or JSON file (by its suffix, or ``format='yaml'``/``'json'``);
        relative local file sources are relative to the file's folder."""
        path = Path(path)
        kind = format if format != "infer" else ("json" if path.suffix == ".json" else "yaml")
        if kind not in ("yaml", "json"):
            raise KnitValueError(f"format must be 'infer', 'yaml' or 'json', not {format!r}")
        text = path.read_text()
        origin = path.resolve().parent
        return cls.from_json(text, origin) if kind == "json" else cls.from_yaml(text, origin)

    # ------------------------------------------------------------ writing
    def to_dict(self) -> dict:
        """The spec as plain data (what :meth:`from_dict` reads back)."""
        out: dict[str, Any] = {"name": self.name, "queue": self.queue,
                               "services": {k: v.to_dict() for k, v in self.services.items()},
                               "master": self.master.to_dict(), "max_attempts": self.max_attempts}
        acls = self.acls
        if acls != ACLs():
            out["acls"] = {k: list(getattr(acls, k)) for k in ("view_users", "view_groups",
                                                               "modify_users", "modify_groups")}
        for name, default in (("tags", ()), ("node_label", ""), ("file_systems", ()), ("priority", 0),
                              ("lifetime", 0), ("attempt_failures_validity_interval", 0)):
            value = getattr(self, name)
            if value != default:
                out[name] = list(value) if isinstance(value, tuple) else value
        return out

    def to_yaml(self) -> str:
        import yaml
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1)


def _refuse_cycles(services: Mapping[str, Service]) -> None:
    """Refuse services that depend on each other in a circle, naming it."""
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "open":
            circle = path[path.index(name):] + [name]
            raise KnitValueError(f"services.{name}.depends: the services depend on each other in a "
                                 f"circle ({' -> '.join(circle)}), so none could start")
        state[name] = "open"
        for dep in services[name].depends:
            visit(dep, path + [name])
        state[name] = "done"

    for name in services:
        visit(name, [])
