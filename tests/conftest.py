"""Shared fixtures: one real local YARN + HDFS cluster for the whole test session."""

from __future__ import annotations

import ast
import getpass
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from knit.cluster import LocalCluster
from knit.cluster.config import impersonation

#: Where the session's cluster lives; .ci/run and the README command set it.
TEST_CLUSTER_DIR = Path(
    os.environ.get("KNIT_TEST_CLUSTER_DIR", Path(__file__).resolve().parent.parent / ".test-cluster")
)


def _serialize_ast_parse() -> None:
    """Let only one thread at a time run `ast.parse` on CPython 3.11 (Debian 12 has 3.11.2).

    Its releases up to 3.11.6 keep one AST recursion counter per interpreter, so two threads
    parsing at once (pytest formatting a failure while distributed's loop thread logs
    a traceback, whose carets Python 3.11 finds with `ast.parse`) can fail with
    "SystemError: AST constructor recursion depth mismatch"
    (https://github.com/python/cpython/issues/106905). pytest then stops with an
    INTERNALERROR and the real failure is never shown.
    """
    if sys.version_info[:2] != (3, 11):
        return
    parse, lock = ast.parse, threading.RLock()

    def parse_alone(*args, **kwargs):
        # A parse outside this lock (a library compiling with PyCF_ONLY_AST itself) can
        # still upset the shared counter: try again, then answer as a SyntaxError, which
        # both pytest's source lookup and traceback's carets take as "no AST" and go on.
        for attempt in range(5):
            with lock:
                try:
                    return parse(*args, **kwargs)
                except SystemError as exc:
                    if "recursion depth mismatch" not in str(exc):
                        raise
                    failure = exc
            time.sleep(0.05 * (attempt + 1))
        raise SyntaxError(f"CPython 3.11.2's AST counter was upset ({failure})")

    ast.parse = parse_alone


_serialize_ast_parse()


@pytest.fixture(scope="session")
def local_cluster():
    """The real cluster, started once (or reused if already up) and stopped at the end."""
    # Its owner may act as the second user (tests/integration/test_proxy_user.py) and
    # as a Hadoop-only user (no Unix account: tests/gateway/).
    service = impersonation(getpass.getuser(),
                            [os.environ.get("KNIT_OTHER_USER") or "knit-other", "knit-carol"])
    cluster = LocalCluster(directory=TEST_CLUSTER_DIR, nodemanagers=2, ports="free",
                           extra_conf=service, progress=print)
    with cluster:
        yield cluster


@pytest.fixture(scope="session")
def hadoop_env(local_cluster):
    """Environment for running the cluster's bin/ tools in a subprocess."""
    return {**os.environ, **local_cluster.env()}


@pytest.fixture(scope="session")
def cluster_environ(local_cluster):
    """Point this test process at the cluster, as `eval "$(knit cluster env)"` would.

    (Tests may set os.environ; knit's library code never does.)
    """
    saved = dict(os.environ)
    os.environ.update(local_cluster.env())
    yield local_cluster
    os.environ.clear()
    os.environ.update(saved)
