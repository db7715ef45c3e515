"""``from dask_yarn import YarnCluster``: dask-yarn 0.9's API, on knit.

:class:`YarnCluster` is dask-yarn's cluster manager (:mod:`knit.yarn_cluster`);
``DaskYARNCluster`` is knit 0.2.4's, under the import name the knit 0.2.4 wheel
installed. Installing the separate dask-yarn project beside knit puts two packages
in one place (whichever was installed last wins): uninstall dask-yarn, as
docs/migrating.rst says.

Both are imported on first use, so ``python -m dask_yarn.cli services worker`` in a
container loads only what a worker needs.
"""

from knit import __version__

__all__ = ["YarnCluster", "DaskYARNCluster", "__version__"]


def __getattr__(name):
    if name == "YarnCluster":
        from knit.yarn_cluster import YarnCluster

        return YarnCluster
    if name == "DaskYARNCluster":
        from knit.dask_yarn import DaskYARNCluster

        return DaskYARNCluster
    raise AttributeError(f"module 'dask_yarn' has no attribute {name!r}")
