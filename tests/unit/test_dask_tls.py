"""TLS credentials of a Dask cluster: what each role's container gets, with no cluster."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("cryptography")
pytest.importorskip("distributed")

from knit import dask_tls  # noqa: E402
from knit.dask_spec import cluster_spec  # noqa: E402


def test_each_role_gets_the_ca_its_cert_and_key(tmp_path):
    creds = dask_tls.credentials(dask_tls.temporary_security())
    assert set(creds) == {"ca", "scheduler_cert", "scheduler_key", "worker_cert", "worker_key",
                          "client_cert", "client_key"}
    assert "PRIVATE KEY" in creds["worker_key"] and "CERTIFICATE" in creds["ca"]
    (tmp_path / dask_tls.TLS_FILE).write_text(json.dumps(creds))
    env = {dask_tls.TLS_VARIABLE: str(tmp_path / dask_tls.TLS_FILE)}
    worker = dask_tls.role_config("worker", env)
    assert worker["DASK_DISTRIBUTED__COMM__REQUIRE_ENCRYPTION"] == "True"
    assert worker["DASK_DISTRIBUTED__COMM__TLS__WORKER__KEY"] == creds["worker_key"]
    assert dask_tls.role_security("scheduler", env).require_encryption
    assert dask_tls.role_config("worker", {}) == {} and dask_tls.role_security("client", {}) is None


def test_only_the_dask_services_get_the_private_file():
    spec = cluster_spec("python:///usr/bin/python3")
    spec = spec.__class__.from_dict({**spec.to_dict(), "services": {
        **spec.to_dict()["services"], "other": {"script": "sleep 1"}}})
    shipped = dask_tls.with_tls(spec, "hdfs:///user/u/.knitApps/dask-tls-1.json")
    for name in ("dask.scheduler", "dask.worker"):
        tls = shipped.services[name].files[dask_tls.TLS_FILE]
        assert (tls.visibility, tls.type) == ("PRIVATE", "FILE")
        assert shipped.services[name].env[dask_tls.TLS_VARIABLE] == dask_tls.TLS_FILE
    assert dask_tls.TLS_FILE not in shipped.services["other"].files


def test_a_security_without_credentials_is_refused():
    from distributed.security import Security

    with pytest.raises(ValueError, match="lacks a certificate"):
        dask_tls.credentials(Security())
