"""What importing knit costs: no JVM, no dask, no bokeh until they are needed."""

from __future__ import annotations

import subprocess
import sys

import pytest


def imported_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print(' '.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    return set(out.split())


def test_importing_knit_starts_nothing_heavy():
    modules = imported_after("from knit import Knit")
    assert not {"py4j", "dask", "distributed", "bokeh"} & modules


def test_the_dask_cluster_module_leaves_bokeh_for_the_dashboard():
    pytest.importorskip("distributed")
    modules = imported_after("import knit.dask_yarn")
    assert "distributed" in modules and "bokeh" not in modules


def test_setup_py_can_import_the_jar_builder_without_the_runtime_dependencies():
    """setup.py imports knit.maven in pip's isolated build environment, where requests,
    lxml, py4j and the rest are not installed; an import of one of them there made
    `pip install -e .` skip building the jar (setuptools only warns)."""
    guard = (
        "import builtins, sys\n"
        "real = builtins.__import__\n"
        "def guarded(name, *args, **kwargs):\n"
        "    if name.split('.')[0] in {'requests', 'lxml', 'py4j', 'tqdm', 'truststore', 'argcomplete'}:\n"
        "        raise ModuleNotFoundError(name)\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = guarded\n"
        "from knit.maven import build_knit_jar\n"
    )
    subprocess.run([sys.executable, "-c", guard], check=True, timeout=120)
