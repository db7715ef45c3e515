"""The Dask examples of the README and docs/dask.rst, run as written on the real cluster."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[2]


def literal_blocks(path: Path) -> list[str]:
    """The reStructuredText literal blocks (after a line ending in ``::``) of a file."""
    blocks, current, inside = [], [], False
    for line in path.read_text().splitlines() + ["END"]:
        if inside and (not line.strip() or line.startswith(" ")):
            current.append(line)
            continue
        if inside:
            blocks.append(textwrap.dedent("\n".join(current)).strip())
            inside, current = False, []
        if line.rstrip().endswith("::") and not line.lstrip().startswith(".."):
            inside = True
    return [block for block in blocks if block]


def example(path: Path, marker: str) -> str:
    return next(block for block in literal_blocks(path) if marker in block)


@pytest.mark.parametrize("path, marker, printed", [
    (ROOT / "README.rst", "with DaskYARNCluster() as cluster", "\n11\n"),
    (ROOT / "docs" / "dask.rst", "cluster = DaskYARNCluster()             # scheduler here", ""),
])
def test_dask_example_runs(cluster_environ, path, marker, printed, capsys):
    code = example(path, marker)
    namespace: dict = {}
    exec(compile(code, f"{path.name} example", "exec"), namespace)  # noqa: S102 - our own docs
    cluster = namespace["cluster"]
    assert cluster.status.name == "closed"
    assert cluster.knit.yarn_api.state(cluster.knit.app_id) == "KILLED"
    assert printed in capsys.readouterr().out
