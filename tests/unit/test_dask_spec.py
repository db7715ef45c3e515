"""The spec of a dask-yarn-style cluster, from arguments and dask.config, with no
cluster: services, environments, sizes, worker settings, and the errors."""

from __future__ import annotations

import base64
import json
import subprocess

import pytest

dask = pytest.importorskip("dask")

from knit.dask_config import dask_memory_mib  # noqa: E402
from knit.dask_services import worker_spec  # noqa: E402
from knit.dask_spec import (PRELUDE, Environment, check_dask_spec, cluster_spec,  # noqa: E402
                            with_client)
from knit.dask_yarn_cli import build_parser, cluster_options, parse_env  # noqa: E402
from knit.exceptions import KnitError, KnitTypeError, KnitValueError  # noqa: E402
from knit.self_zip import ZIP_NAME, knit_zip  # noqa: E402

ON_NODES = "python:///opt/python/bin/python"


def test_dask_yarns_defaults_are_knits_defaults():
    assert dask.config.get("yarn.deploy-mode") == "remote"
    assert dask.config.get("yarn.worker.memory") == "2GiB"
    assert dask.config.get("yarn.worker.restarts") == -1
    assert dask.config.get("yarn.worker.worker_class") == "dask.distributed.Nanny"
    assert dask.config.get("yarn.dashboard-address") == ":0"


def test_remote_mode_has_a_scheduler_and_workers_that_start_beside_it():
    spec = cluster_spec(ON_NODES, n_workers=3)
    assert list(spec.services) == ["dask.scheduler", "dask.worker"]
    worker = spec.services["dask.worker"]
    assert worker.instances == 3 and worker.depends == ()  # they wait for its address instead
    assert worker.max_restarts == -1
    assert (worker.resources.memory, worker.resources.vcores) == (2048, 1)
    assert spec.services["dask.scheduler"].max_restarts == 0
    assert worker.script.startswith(PRELUDE) and worker.script.endswith("dask-yarn services worker\n")
    assert ZIP_NAME in worker.files and worker.files[ZIP_NAME].type == "FILE"
    assert (spec.name, spec.queue) == ("dask", "default")


def test_local_mode_has_only_workers():
    spec = cluster_spec(ON_NODES, deploy_mode="local")
    assert list(spec.services) == ["dask.worker"] and spec.services["dask.worker"].depends == ()


def test_arguments_win_over_the_configuration():
    with dask.config.set({"yarn.worker.memory": "3 GiB", "yarn.worker.vcores": 2,
                          "yarn.queue": "batch", "yarn.tags": ["b", "a"]}):
        spec = cluster_spec(ON_NODES, worker_memory=1024)
        worker = spec.services["dask.worker"]
        assert (worker.resources.memory, worker.resources.vcores) == (1024, 2)
        assert spec.queue == "batch" and spec.tags == ("a", "b")


def test_memory_as_dask_yarn_read_it():
    assert dask_memory_mib("m", "2 GiB") == 2048
    assert dask_memory_mib("m", "4096 MiB") == 4096
    assert dask_memory_mib("m", 512) == 512  # MiB, as knit and Skein
    assert dask_memory_mib("m", 3 * 2**30) == 3072  # bytes, as dask-yarn
    with pytest.raises(KnitValueError, match="cannot read 'much'"):
        dask_memory_mib("worker_memory", "much")


def test_environments_on_the_nodes_ship_nothing():
    for value, python in (("python:///usr/bin/python3", "/usr/bin/python3"),
                          ("conda:///opt/conda/envs/dask", "/opt/conda/envs/dask/bin/python"),
                          ("venv:///opt/venvs/dask", "/opt/venvs/dask/bin/python")):
        env = Environment.from_value(value)
        assert env.files == {}
        assert f"export KNIT_DASK_PYTHON={python}" in env.setup
    with pytest.raises(KnitValueError, match="absolute path"):
        Environment.from_value("python://bin/python")


def test_an_archive_is_unpacked_and_activated(tmp_path):
    archive = tmp_path / "env.tar.gz"
    archive.write_bytes(b"not checked here")
    env = Environment.from_value(str(archive))
    assert env.files["environment"].type == "ARCHIVE"
    assert Environment.from_value("hdfs:///envs/dask.tar.gz").files["environment"].source == \
        "hdfs:///envs/dask.tar.gz"
    with pytest.raises(FileNotFoundError, match="no such archive"):
        Environment.from_value(str(tmp_path / "missing.tar.gz"))


def test_the_archive_setup_finds_the_python_with_or_without_a_top_folder(tmp_path):
    for top in ("", "knit-dask-0123/"):
        work = tmp_path / (top.strip("/") or "flat")
        python = work / "environment" / top / "bin" / "python"
        python.parent.mkdir(parents=True)
        python.write_text("#!/bin/sh\necho from-the-archive\n")
        python.chmod(0o755)
        script = Environment.from_value(str(_archive(tmp_path))).script('"$KNIT_DASK_PYTHON"')
        out = subprocess.run(["bash", "-c", script], cwd=work, capture_output=True, text=True)
        assert out.stdout.strip() == "from-the-archive", out.stderr


def _archive(tmp_path):
    path = tmp_path / "env.zip"
    path.write_bytes(b"")
    return path


def test_dask_yarn_is_a_command_in_every_service_script(tmp_path):
    script = Environment.from_value("python:///bin/echo").script("dask-yarn services worker")
    out = subprocess.run(["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert out.stdout.strip() == "-m dask_yarn.cli services worker"


def test_worker_class_and_options_travel_as_dask_yarn_passes_them():
    spec = cluster_spec(ON_NODES, worker_class="dask_cuda.CUDAWorker",
                        worker_options={"resources": {"GPU": 1}}, worker_env={"A": "1"},
                        worker_gpus=1)
    worker = spec.services["dask.worker"]
    assert worker.env["worker_class"] == "dask_cuda.CUDAWorker" and worker.env["A"] == "1"
    assert json.loads(base64.b64decode(worker.env["worker_options"])) == {"resources": {"GPU": 1}}
    assert worker.resources.yarn_counts() == {"yarn.io/gpu": 1}
    with pytest.raises(KnitValueError, match="dotted class name"):
        cluster_spec(ON_NODES, worker_class="Nanny")
    with pytest.raises(KnitTypeError, match="JSON values"):
        cluster_spec(ON_NODES, worker_options={"x": object()})


def test_a_workers_spec_takes_its_containers_size_and_name():
    options = base64.b64encode(json.dumps({"nthreads": 8}).encode()).decode()
    spec = worker_spec({"CONTAINER_ID": "container_1_0001_01_000002", "NM_HOST": "10.0.0.5",
                        "KNIT_RESOURCE_VCORES": "2", "KNIT_RESOURCE_MEMORY_MB": "2048",
                        "worker_class": "distributed.Worker", "worker_options": options})
    assert spec["cls"] == "distributed.Worker"
    assert spec["opts"] == {"name": "container_1_0001_01_000002", "host": "10.0.0.5",
                            "nthreads": 8, "memory_limit": "1744MiB"}


def test_worker_files_by_name_or_as_a_list(tmp_path):
    data = tmp_path / "lookup.csv"
    data.write_text("x")
    by_name = cluster_spec(ON_NODES, worker_files={"table.csv": str(data)}).services["dask.worker"]
    assert by_name.files["table.csv"].source == str(data)
    listed = cluster_spec(ON_NODES, worker_files=[str(data)]).services["dask.worker"]
    assert "lookup.csv" in listed.files


def test_no_environment_at_all_says_what_to_pass():
    with pytest.raises(KnitValueError, match="python:///path/to/bin/python"):
        cluster_spec(None)


def test_submit_adds_a_client_service_running_the_script(tmp_path):
    script = tmp_path / "job.py"
    script.write_text("print('hi')")
    spec = with_client(cluster_spec(ON_NODES), str(script), ["--day", "it's"],
                       environment=ON_NODES, client_memory="1 GiB", client_env={"K": "v"})
    client = spec.services["dask.client"]
    assert client.depends == ("dask.scheduler",) and client.max_restarts == 0
    assert client.script.endswith("dask-yarn services client job.py --day 'it'\"'\"'s'\n")
    assert "job.py" in client.files and client.resources.memory == 1024 and client.env == {"K": "v"}


def test_a_spec_of_the_user_gets_knit_added_to_its_dask_services():
    spec = check_dask_spec({"services": {"dask.worker": {"script": "dask-yarn services worker"},
                                         "other": {"script": "sleep 1"}}})
    assert spec.services["dask.worker"].script.startswith(PRELUDE)
    assert ZIP_NAME in spec.services["dask.worker"].files
    assert spec.services["other"].script == "sleep 1"
    with pytest.raises(KnitValueError, match="must have a 'dask.worker' service"):
        check_dask_spec({"services": {"web": {"script": "x"}}})


def test_the_knit_zip_is_made_once_per_content(tmp_path):
    first = knit_zip(tmp_path)
    assert knit_zip(tmp_path) == first
    import zipfile
    names = zipfile.ZipFile(first).namelist()
    assert "knit/dask_services.py" in names and "dask_yarn/cli.py" in names and "knit/yarn.yaml" in names
    assert not any(n.endswith(".jar") for n in names)


def test_the_cli_reads_dask_yarns_flags():
    args = build_parser().parse_args([
        "submit", "--worker-count", "4", "--worker-memory", "4 GiB", "--worker-env", "A=1",
        "--worker-env", "B=x=y", "--tags", "etl, daily", "--deploy-mode", "local", "job.py", "--flag"])
    options = cluster_options(args)
    assert options["n_workers"] == 4 and options["worker_memory"] == "4 GiB"
    assert options["worker_env"] == {"A": "1", "B": "x=y"}
    assert options["tags"] == ["daily", "etl"] and options["deploy_mode"] == "local"
    assert args.script == "job.py" and args.args == ["--flag"]
    with pytest.raises(KnitError, match="write KEY=VALUE"):
        parse_env("--worker-env", ["nothing"])
