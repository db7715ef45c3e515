"""knit: launch, monitor and destroy distributed programs on Apache Hadoop YARN."""

__version__ = "0.3.0"

__all__ = ["Knit", "YARNAPI", "CondaCreator", "DaskYARNCluster", "ACLs", "zip_path",
           "ApplicationSpec", "Service", "Master", "Resources", "File", "Application", "current",
           "__version__"]

#: Names of the application spec, and where they live.
_SPEC_NAMES = {"ApplicationSpec": "application_spec", "Service": "application_spec",
               "Master": "application_spec", "Resources": "spec_parts", "File": "spec_parts",
               "Application": "application", "current": "application"}


def __getattr__(name):
    # Imported lazily so that `setup.py` can import knit.maven without the runtime
    # dependencies installed.
    if name == "Knit":
        from .core import Knit

        return Knit
    if name == "YARNAPI":
        from .yarn_api import YARNAPI

        return YARNAPI
    if name == "ACLs":
        from .spec import ACLs

        return ACLs
    if name == "CondaCreator":
        from .conda import CondaCreator

        return CondaCreator
    if name == "DaskYARNCluster":  # needs the `dask` extra
        from .dask_yarn import DaskYARNCluster

        return DaskYARNCluster
    if name in _SPEC_NAMES:
        import importlib

        return getattr(importlib.import_module(f".{_SPEC_NAMES[name]}", __name__), name)
    if name == "zip_path":
        from .packing import zip_env

        return zip_env
    raise AttributeError(f"module 'knit' has no attribute {name!r}")
