"""Pure helpers of the Dask integration: worker command, memory, addresses, pins."""

from __future__ import annotations

import pytest

from knit.dask_env import env_name, matching_packages, package_name, with_dask
from knit.dask_workers import scheduler_ip, worker_command, worker_memory_limit


def test_worker_memory_limit_leaves_room_for_the_nanny_and_overhead():
    assert worker_memory_limit(2048) == 2048 - 100 - 204
    assert worker_memory_limit(512) == 512 - 100 - 51
    assert worker_memory_limit(128) == 128 - 12  # a lone worker: no nanny


def test_small_workers_run_without_a_nanny():
    assert "--no-nanny" in worker_command("tcp://10.0.0.5:8786", cpus=1, memory=128)
    assert "--no-nanny" not in worker_command("tcp://10.0.0.5:8786", cpus=1, memory=512)


def test_worker_command_names_the_worker_after_its_container():
    command = worker_command("tcp://10.0.0.5:8786", cpus=3, memory=4096)
    assert command.startswith('exec "$PYTHON_BIN" -m distributed.cli.dask_worker tcp://10.0.0.5:8786 ')
    assert '--name "$CONTAINER_ID"' in command
    assert "--nthreads 3" in command and f"--memory-limit {worker_memory_limit(4096)}MiB" in command


def test_scheduler_ip_is_loopback_only_when_the_nodes_are_this_machine():
    def route(address):
        assert address == "192.0.2.44"  # the first node that is not this machine
        return "10.1.2.3"

    assert scheduler_ip(["localhost", "127.0.0.1"], route=route) == "127.0.0.1"
    assert scheduler_ip(["localhost", "192.0.2.44"], route=route) == "10.1.2.3"
    assert scheduler_ip(["no-such-host.invalid"], route=route) == "127.0.0.1"


def test_scheduler_ip_falls_back_to_the_host_name_without_a_route():
    def unroutable(address):
        raise OSError("Network is unreachable")

    import socket

    hostname_address = socket.gethostbyname(socket.gethostname())
    assert scheduler_ip(["192.0.2.44"], route=unroutable) == hostname_address


@pytest.mark.parametrize("requirement, name", [
    ("dask", "dask"), ("Dask>=2024.1", "dask"), ("numpy=2.1", "numpy"),
    ("distributed[all] ==2026.1", "distributed"), ("pandas ; python_version>'3'", "pandas")])
def test_package_name(requirement, name):
    assert package_name(requirement) == name


def test_dask_is_added_at_the_local_version_unless_named():
    from importlib.metadata import version

    added = with_dask(["six"])
    assert added[0] == "six"
    assert f"dask=={version('dask')}" in added and f"distributed=={version('distributed')}" in added
    assert with_dask(["dask>=2024", "distributed"]) == ["dask>=2024", "distributed"]
    pins = matching_packages()
    assert f"cloudpickle=={version('cloudpickle')}" in pins
    assert env_name(["b", "a"]) == env_name(["a", "b"]) != env_name(["a"])
