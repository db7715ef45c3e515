"""The pure parts of knit.gateway: the worker-name protocol over a key-value store,
the secrets' shell lines, and the application spec of a gateway cluster."""

from __future__ import annotations

import json
import subprocess

import pytest

from knit import gateway_container as names
from knit.gateway_spec import GatewayCluster, cluster_tag


class Store(dict):
    """A key-value store with the methods of :class:`knit.application.KeyValueStore`
    the protocol uses (owners are recorded, not enforced)."""

    def put(self, key, value, owner=None):
        self[key] = value

    def prefix(self, start):
        return {k: v for k, v in sorted(self.items()) if k.startswith(start)}

    def compare_and_set(self, key, expected, value, owner=None):
        if self.get(key) != expected:
            return False
        self[key] = value
        return True


def test_each_wanted_name_is_taken_by_one_container_and_surplus_containers_get_none():
    kv = Store()
    names.want(kv, "w1")
    names.want(kv, "w2")
    taken = {names.claim(kv, "c1"), names.claim(kv, "c2")}
    assert taken == {"w1", "w2"} and names.claim(kv, "c3") is None
    assert names.workers(kv) == {"w1": "c1", "w2": "c2"}


def test_releasing_a_name_withdraws_it_or_names_its_container():
    kv = Store()
    names.want(kv, "early")
    assert names.release(kv, "early") == names.WITHDRAWN and names.workers(kv) == {}
    assert names.claim(kv, "c9") is None  # the container of a withdrawn ask finds nothing
    names.want(kv, "late")
    names.claim(kv, "c1")
    assert names.release(kv, "late") == "c1"
    assert names.release(kv, "gone") is None


def test_a_worker_script_gets_its_secrets_and_a_scheduler_its_token(tmp_path):
    (tmp_path / names.SECRETS_FILE).write_text(json.dumps(
        {"tls_cert": "CERT", "tls_key": "KEY", "api_token": "tok en'"}))
    lines = names.shell_lines("scheduler", tmp_path)
    assert (tmp_path / names.CERT_FILE).read_text() == "CERT"
    assert oct((tmp_path / names.KEY_FILE).stat().st_mode & 0o777) == "0o600"
    out = subprocess.run(["bash", "-c", lines + 'printf %s "$DASK_GATEWAY_API_TOKEN"'],
                         capture_output=True, text=True, check=True)
    assert out.stdout == "tok en'"


def test_the_spec_keeps_secrets_out_of_the_environment():
    cluster = GatewayCluster(
        name="ABC123", scheduler_command=["dask", "scheduler", "--dg-api-address", "0.0.0.0:0"],
        worker_command=["dask", "worker", '"$DASK_GATEWAY_SCHEDULER_ADDRESS"', "--name",
                        '"$DASK_GATEWAY_WORKER_NAME"', "--memory-limit", "536870912"],
        env={"DASK_GATEWAY_API_URL": "http://gw/api"}, secrets="hdfs:///user/a/.knitApps/s.json",
        worker_memory=512 * 2**20, worker_gpus=1, queue="q", python_environment="python:///usr/bin/python3")
    spec = cluster.spec()
    scheduler, worker = spec.services["dask.scheduler"], spec.services["dask.worker"]
    assert spec.queue == "q" and cluster_tag("ABC123") in spec.tags
    assert (scheduler.instances, worker.instances) == (1, 0)
    assert worker.allow_failures and worker.resources.memory == 512 and worker.resources.gpus == 1
    assert worker.files[names.SECRETS_FILE].visibility == "PRIVATE"
    assert "DASK_GATEWAY_API_TOKEN" not in worker.env
    assert 'exec dask worker "$DASK_GATEWAY_SCHEDULER_ADDRESS" --name "$DASK_GATEWAY_WORKER_NAME"' \
        in worker.script
    assert "knit.gateway_container worker" in worker.script
    assert "knit.gateway_container scheduler" in scheduler.script


def test_a_missing_environment_archive_is_refused():
    cluster = GatewayCluster(name="x", scheduler_command=["s"], worker_command=["w"], env={},
                             secrets="hdfs:///s", python_environment="relative/env.tar.gz")
    with pytest.raises(FileNotFoundError, match="no such archive"):
        cluster.spec()
