"""Pointing the test process at a cluster of a test's own, as
`eval "$(knit cluster env)"` would (tests may set os.environ; knit's library never does)."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from knit.cluster import LocalCluster


@contextmanager
def running_and_pointed_at(cluster: LocalCluster) -> Iterator[LocalCluster]:
    """Start ``cluster``, point this process at it, and undo both afterwards."""
    with cluster:
        saved = dict(os.environ)
        os.environ.update(cluster.env())
        try:
            yield cluster
        finally:
            os.environ.clear()
            os.environ.update(saved)
