"""``from dask_yarn import DaskYARNCluster``, as the knit 0.2.x docs wrote it.

This is knit's Dask cluster manager (:class:`knit.dask_yarn.DaskYARNCluster`) under
the import name the knit 0.2.4 wheel installed. The later, separate dask-yarn
project (built on Skein) uses the same name: installing both puts two packages in one
place, and whichever was installed last wins. See docs/compat.rst.
"""

from knit.dask_yarn import DaskYARNCluster

__all__ = ["DaskYARNCluster"]
