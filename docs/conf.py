"""Sphinx configuration: the guides in this folder and an API reference generated
from knit's numpydoc docstrings. Build with `sphinx-build -W -b html docs docs/_build`
(warnings are errors; tools/test.sh does it before the tests)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import knit  # noqa: E402

project = "knit"
copyright = "2016-2026, knit developers"
version = release = knit.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "sphinxarg.ext",
]
exclude_patterns = ["_build"]
nitpicky = False
autodoc_typehints = "none"  # the signatures carry them; numpydoc sections say the rest
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
intersphinx_mapping = {}
html_theme = "alabaster"
html_title = f"knit {release}"
