"""The launch contract Python writes is the one the Scala side parses: both test
``tests/data/launch_contract.json`` (LaunchContractTest.scala reads it)."""

import json
import shlex
import subprocess
from pathlib import Path

from knit.contract import SCHEMA_VERSION, AppMasterSettings, Resource, launch_contract, to_json
from knit.spec import LaunchSpec, boot_script

EXAMPLE = Path(__file__).parent.parent / "data" / "launch_contract.json"
TRICKY = 'say "hi" $(touch /tmp/pwned) `id` \\ \' \n\ttab ünïcode 😀'


def example_contract() -> dict:
    spec = LaunchSpec(cmd='echo "$GREETING"', num_containers=3, virtual_cores=2, memory=256,
                      envvars={"GREETING": TRICKY, "PATH": "/opt/tools:/usr/bin"},
                      app_name="name with \"quotes\"", queue="root.batch", keep_alive=True,
                      acls={"view_users": ["bob"]}, max_restarts=-1, worker_kv=True)
    jar = Resource("knit.jar", "hdfs://nn:9000/user/u/.knitJars/knit-abc.jar", "FILE", "PUBLIC",
                   1234, 1700000000000)
    files = [Resource("data.csv", "hdfs://nn:9000/user/u/.knitDeps/1/data.csv", "FILE",
                      "PRIVATE", 10, 1700000000001)]
    return launch_contract(spec, AppMasterSettings(memory=512, vcores=1, max_attempts=2,
                                                   allocation_timeout=300, client_timeout=120.5),
                           jar, files, boot_script(spec, None), "hdfs://nn:9000/user/u/.knitApps",
                           spec.max_restarts, tags=("knit", "knit-submission-0"),
                           kerberos_principal="alice@EXAMPLE.COM",
                           nodes={"127.0.0.10": 12, "127.0.0.11": 0})


def test_the_example_file_is_what_python_writes():
    assert to_json(example_contract()) == EXAMPLE.read_text()


def test_schema_fields():
    contract = json.loads(EXAMPLE.read_text())
    assert contract["schema"] == SCHEMA_VERSION
    assert set(contract) == {"schema", "application", "am", "services", "driver", "keep_alive",
                             "allocation_timeout_s", "client_timeout_s", "records_folder",
                             "kerberos_principal"}
    assert list(contract["services"]) == ["worker"]
    assert set(contract["application"]) == {"name", "type", "queue", "tags", "acls", "max_attempts",
                                             "priority", "lifetime_s",
                                             "attempt_failures_validity_s", "file_systems",
                                             "rm_delegation_token"}
    assert set(contract["am"]) == {"memory_mb", "vcores", "jar", "heap_mb", "boot_script",
                                   "java_options", "resources", "node_label", "log_level"}
    assert set(contract["services"]["worker"]) == {
        "target", "memory_mb", "vcores", "resources", "priority", "max_restarts", "allow_failures",
        "fail_without_restarts",
        "max_start_failures", "start_grace_s", "kv_access", "env", "boot_script", "files",
        "depends", "node_label", "nodes", "racks", "relax_locality", "one_per_node", "room"}
    assert set(contract["services"]["worker"]["files"][0]) == {"name", "uri", "kind", "visibility",
                                                               "size", "timestamp"}


def test_envvars_reach_the_command_byte_for_byte(tmp_path):
    script = example_contract()["services"]["worker"]["boot_script"]
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path,
                         check=True).stdout
    assert out == TRICKY + "\n"
    assert not Path("/tmp/pwned").exists()


def test_the_boot_script_quotes_every_value():
    script = example_contract()["services"]["worker"]["boot_script"]
    assert f"export GREETING={shlex.quote(TRICKY)}" in script
