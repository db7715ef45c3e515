"""Without ``environment=``, the workers run this process's own environment, packed
once per content: whatever the client imports, they import."""

from __future__ import annotations

import sys
import time

import pytest

pytest.importorskip("distributed")
from distributed import Client  # noqa: E402

from dask_yarn import YarnCluster  # noqa: E402
from knit import own_env  # noqa: E402
from knit.own_env import fingerprint, is_packable  # noqa: E402

SIZES = {"worker_memory": "1 GiB", "deploy_mode": "local", "host": "127.0.0.1", "n_workers": 1}


@pytest.mark.skipif(not is_packable(), reason="the tests run in a system Python: nothing to pack")
def test_the_clients_own_environment_is_shipped_once(cluster_environ, tmp_path, monkeypatch):
    monkeypatch.setattr(own_env, "CACHE", tmp_path)  # an empty cache
    messages = []
    with YarnCluster(**SIZES) as cluster, Client(cluster) as client:
        client.wait_for_workers(1, timeout=180)
        ((executable, prefix, tqdm_file),) = client.run(
            lambda: (sys.executable, sys.prefix, __import__("tqdm").__file__)).values()
        assert "/environment/env/bin/python" in executable
        assert tqdm_file.startswith(prefix)  # a package of this venv, from the shipped copy
        messages = [m for m in cluster._cluster_manager_logs if "packed" in str(m)]
    assert messages, "packing was reported"
    # Unchanged, it is not packed again.
    started = time.monotonic()
    with YarnCluster(**SIZES) as cluster:
        assert not [m for m in cluster._cluster_manager_logs if "packing" in str(m)]
    assert time.monotonic() - started < 60
    assert fingerprint() == fingerprint()
