"""knit 0.2.4's environment helpers of :class:`~knit.Knit`: making a packed
environment, listing the ones shipped, and whether a file needs uploading."""

from __future__ import annotations

from urllib.parse import urlparse

from . import staging
from .packing import is_archive
from .staging import Stager


class EnvironmentVerbs:
    """Environments and uploads, as :class:`~knit.Knit` offers them (a mixin: the class
    using it provides its stager, configuration and optional fsspec ``hdfs``)."""

    stager: Stager
    conf: dict
    hdfs: object

    def check_needs_upload(self, path: str) -> bool:
        """Whether ``path``'s content is not yet in HDFS (content hash and size)."""
        return self.stager.needs_upload(path)

    @staticmethod
    def create_env(env_name: str, packages: list[str] | None = None, remove: bool = False,
                   channels: list[str] | None = None, conda_pars: dict | None = None) -> str:
        """Create (or reuse) a zipped environment with :class:`~knit.conda.CondaCreator`.

        Returns
        -------
        str
            Path of the zip, ready for ``start(..., env=...)``.

        Examples
        --------
        >>> env = Knit.create_env('analysis', packages=['numpy', 'pandas'])  # doctest: +SKIP
        >>> Knit().start('$PYTHON_BIN -c "import pandas"', env=env)          # doctest: +SKIP
        """
        from .conda import CondaCreator

        creator = CondaCreator(channels=channels, **(conda_pars or {}))
        return creator.create_env(env_name, packages=packages, remove=remove)

    def list_envs(self) -> list[dict]:
        """Archives in ``.knitDeps`` and ``.knitPublic``, with ``name`` (the HDFS
        path, as knit 0.2.4 listed them), ``path`` (the full URI), size and
        modification time (through ``hdfs=`` when given, else the JVM)."""
        if self.hdfs is not None:
            return staging.archives_through(self.hdfs, self.conf["hdfs_home"])
        return [{"name": urlparse(f["path"]).path, **f} for f in self.stager.list_files()
                if is_archive(str(f["path"]))]
