"""dask-yarn's ``dask_yarn.core`` module name: :class:`YarnCluster` is knit's."""

from knit.yarn_cluster import YarnCluster

__all__ = ["YarnCluster"]
