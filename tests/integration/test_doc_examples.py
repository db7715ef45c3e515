"""The examples of the README, docs/usage.rst and docs/dask.rst, run as written on the
real cluster."""

from __future__ import annotations

import subprocess
import textwrap
import zipfile
from pathlib import Path

import pytest

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[2]


def literal_blocks(path: Path) -> list[str]:
    """The reStructuredText literal blocks (after a line ending in ``::``, or a
    ``.. code-block:: python``) of a file."""
    blocks, current, inside = [], [], False
    for line in path.read_text().splitlines() + ["END"]:
        if inside and (not line.strip() or line.startswith(" ")):
            current.append(line)
            continue
        if inside:
            blocks.append(textwrap.dedent("\n".join(current)).strip())
            inside, current = False, []
        if (line.rstrip().endswith("::") and not line.lstrip().startswith("..")) or \
                line.strip() == ".. code-block:: python":
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


@pytest.mark.parametrize("path, marker", [
    (ROOT / "README.rst", "k = Knit()                      # finds the cluster"),
    (ROOT / "docs" / "usage.rst", "files=['data.csv', 'myarc.zip', 'hdfs:///shared/lookup.txt']"),
])
def test_knit_example_runs(cluster_environ, hadoop_env, path, marker, tmp_path, monkeypatch,
                           capsys):
    # What the examples expect around them: local files, and one already in HDFS.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data.csv").write_text("a,b\n1,2\n")
    with zipfile.ZipFile(tmp_path / "myarc.zip", "w") as archive:
        archive.writestr("stuff/readme.txt", "hello")
    (tmp_path / "lookup.txt").write_text("key=value\n")
    for command in (["hdfs", "dfs", "-mkdir", "-p", "/shared"],
                    ["hdfs", "dfs", "-put", "-f", "lookup.txt", "/shared/lookup.txt"]):
        subprocess.run(command, env=hadoop_env, check=True, capture_output=True, timeout=120)
    code = example(path, marker)
    namespace: dict = {}
    exec(compile(code, f"{path.name} example", "exec"), namespace)  # noqa: S102 - our own docs
    k = namespace["k"]
    assert k.status()["finalStatus"] == "SUCCEEDED"
    printed = capsys.readouterr().out
    workers = [line for line in printed.splitlines()
               if line.startswith("== container_") and not line.split()[1].endswith("_000001")]
    assert len(workers) == 3, printed


def test_async_dask_example_runs(cluster_environ, capsys):
    import asyncio

    from distributed import Client

    from knit.dask_yarn import DaskYARNCluster

    code = example(ROOT / "docs" / "dask.rst", "async with DaskYARNCluster(asynchronous=True)")
    namespace = {"Client": Client, "DaskYARNCluster": DaskYARNCluster}  # imported above it
    body = textwrap.indent(code, "    ")
    exec(compile(f"async def main():\n{body}\n", "dask.rst example", "exec"), namespace)  # noqa: S102
    asyncio.run(namespace["main"]())
    assert "6" in capsys.readouterr().out.splitlines()  # print(await client.submit(sum, [1, 2, 3]))
