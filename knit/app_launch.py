"""Submitting an :class:`~knit.application_spec.ApplicationSpec`: check it against the
cluster, stage every service's files, and assemble the launch contract of its services
(the :class:`~knit.launch.Launcher` submits it)."""

from __future__ import annotations

from .application_spec import ApplicationSpec, Service
from .checks import (check_fits, check_node_labels, check_one_per_node, check_resource_types,
                     check_rm_rpc_reachable, find_queue)
from .conf import hdfs_uri
from .contract import ApplicationSettings, Resource, application_contract, service_entry
from .exceptions import KnitValueError
from .launch import Launcher
from .records import folder as records_folder
from .spec import LaunchSpec, check_boot_script_size, command_boot_script
from .spec_parts import File


def check_local_sources(spec: ApplicationSpec) -> None:
    """Refuse local files that are not there, naming the field, before any upload.

    Raises
    ------
    FileNotFoundError
    """
    parts = [(f"services.{name}", s.files) for name, s in spec.services.items()]
    parts.append(("master", spec.master.files))
    for where, files in parts:
        for dest, f in files.items():
            if f.is_local and not f.local_path.is_file():
                raise FileNotFoundError(f"{where}.files.{dest}: {f.source!r} is not a file here "
                                        "(folders: ship an archive)")


def preflight(launcher: Launcher, spec: ApplicationSpec) -> None:
    """Raise :class:`~knit.exceptions.PreflightError` if the cluster could never run
    ``spec``: its queue, each service's container size, its resource types, its node
    labels."""
    check_rm_rpc_reachable(launcher.conf, progress=launcher.progress)
    queue = find_queue(launcher.yarn_api.scheduler(), spec.queue)
    for name, service in spec.services.items():
        r = service.resources
        check_fits(launcher.yarn_api, LaunchSpec(cmd="-", num_containers=max(1, service.instances),
                                                 memory=r.memory, virtual_cores=r.vcores),
                   launcher.conf)
    check_resource_types(launcher.yarn_api, {
        f"services.{name}.resources": s.resources.yarn_counts() for name, s in spec.services.items()}
        | {"master.resources": spec.master.resources.yarn_counts()})
    check_one_per_node(launcher.yarn_api, launcher.conf, {
        f"services.{name}": s.instances for name, s in spec.services.items() if s.one_per_node})
    check_node_labels(launcher.yarn_api, queue, {
        f"services.{name}.node_label": s.node_label for name, s in spec.services.items()}
        | {"node_label": spec.node_label})


def boot_script(launcher: Launcher, script: str, env: dict[str, str], where: str) -> str:
    """The boot script of one service's (or the driver's) ``script``."""
    text = command_boot_script(script, env, launcher.conf["lang"])
    try:
        check_boot_script_size(text)
    except KnitValueError as exc:
        raise KnitValueError(f"{where}: {exc}") from None
    return text


def stage(launcher: Launcher, files: dict[str, File]) -> list[Resource]:
    """Upload the local files (each content once); describe them all for YARN."""
    resources = []
    for dest, f in files.items():
        visibility = "PUBLIC" if f.visibility == "PUBLIC" else "PRIVATE"
        if f.is_local:
            uri = launcher.java.stager.ship(str(f.local_path), visibility)
        else:
            uri = hdfs_uri(f.source, launcher.conf) if f.source.startswith("hdfs://") else f.source
        if f.size and f.timestamp and not f.is_local:
            resources.append(Resource(dest, uri, f.type, f.visibility, f.size, f.timestamp))
        else:
            described = launcher.describe(dest, uri, f.type, f.visibility, f.source)
            resources.append(described)
    return resources


def contract(launcher: Launcher, spec: ApplicationSpec, tag: str, keep_alive: bool = False) -> dict:
    """The launch contract of ``spec``, its files staged (each container gets its own
    credential, so :func:`knit.current` works in it; none gets the secret);
    ``keep_alive`` as for :meth:`knit.Knit.submit`."""
    services = {name: _service(launcher, name, service, priority)
                for priority, (name, service) in enumerate(spec.services.items(), start=1)}
    driver = None
    if spec.master.script:
        driver = {"boot_script": boot_script(launcher, spec.master.script, dict(spec.master.env),
                                             "master.script"),
                  "env": dict(spec.master.env),
                  "files": [vars(r) for r in stage(launcher, dict(spec.master.files))]}
    app = ApplicationSettings(
        name=spec.name, queue=spec.queue, tags=("knit", tag, *spec.tags), acls=spec.acls.to_yarn(),
        priority=spec.priority, lifetime=spec.lifetime,
        attempt_failures_validity=spec.attempt_failures_validity_interval,
        file_systems=spec.file_systems, node_label=spec.node_label,
        am_resources=spec.master.resources.yarn_counts(), am_log_level=spec.master.log_level,
        rm_delegation_token=True)  # as Skein: a container may submit applications
    return application_contract(app, launcher.am, launcher.jar_resource(), services,
                                records_folder(launcher.conf["hdfs_home"]),
                                keep_alive=keep_alive, kerberos_principal=launcher.renewing_principal,
                                driver=driver)


def _service(launcher: Launcher, name: str, service: Service, priority: int) -> dict:
    r = service.resources
    return service_entry(
        target=service.instances, memory_mb=r.memory, vcores=r.vcores, resources=r.yarn_counts(),
        boot_script=boot_script(launcher, service.script, dict(service.env), f"services.{name}.script"),
        files=stage(launcher, dict(service.files)), priority=priority, env=dict(service.env),
        max_restarts=service.max_restarts, allow_failures=service.allow_failures,
        fail_without_restarts=not service.allow_failures,
        depends=service.depends, node_label=service.node_label, nodes=service.nodes,
        racks=service.racks, relax_locality=service.relax_locality,
        one_per_node=service.one_per_node,
        room={} if (service.nodes or service.racks or service.node_label or service.one_per_node)
        else launcher.room_per_node(r.memory, r.vcores))
