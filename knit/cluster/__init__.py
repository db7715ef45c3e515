"""A real single-machine YARN + HDFS cluster built from Maven Central jars."""

from .local import LocalCluster
from .state import default_directory

__all__ = ["LocalCluster", "default_directory"]
