"""knit 0.2.4's ``knit.env``: :class:`CondaCreator` and :func:`zip_path`, kept where
0.2.4 scripts import them from. The work is done in :mod:`knit.conda` (making
environments) and :mod:`knit.packing` (archives)."""

from __future__ import annotations

from .conda import CondaCreator
from .packing import zip_env

#: knit 0.2.4's name of :func:`knit.packing.zip_env`.
zip_path = zip_env

__all__ = ["CondaCreator", "zip_path", "zip_env"]
