"""The shape the code keeps (docs/architecture.rst): small modules, no import cycle,
every public constructor's options named."""

import ast
import inspect
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "knit"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path) -> set[str]:
    """The knit modules ``name`` imports, anywhere in it (lazily too)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            submodules = {f"{target}.{alias.name}" for alias in node.names} & set(MODULES)
            found |= submodules or ({target} & set(MODULES))
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names} & set(MODULES)
    return found - {name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in graph[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in graph:
        if node not in index:
            visit(node)
    return groups


def test_no_import_cycle_in_knit():
    graph = {name: _imports(name, path) for name, path in MODULES.items()}
    assert _cycles(graph) == []


def test_the_build_time_module_is_imported_by_nothing_at_run_time():
    importers = [name for name, path in MODULES.items()
                 if "knit.maven" in _imports(name, path) and name not in ("knit.jarset",)]
    assert importers == []  # knit.jarset's maintainer command (lock_from_pom) runs Maven


@pytest.mark.parametrize("path", sorted([*PACKAGE.rglob("*.py"), *(ROOT / "java_src").rglob("*.scala")]),
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_over_600_lines(path):
    assert len(path.read_text().splitlines()) <= 600


def test_core_stays_the_face():
    assert len((PACKAGE / "core.py").read_text().splitlines()) < 450


def _constructors():
    from knit import CondaCreator, Knit, YARNAPI
    from knit.dask_yarn import DaskYARNCluster
    return [Knit, DaskYARNCluster, YARNAPI, CondaCreator]


@pytest.mark.parametrize("cls", _constructors(), ids=lambda c: c.__name__)
def test_every_option_is_a_named_keyword(cls):
    kinds = {p.kind for p in inspect.signature(cls.__init__).parameters.values()}
    assert inspect.Parameter.VAR_KEYWORD not in kinds
    assert inspect.Parameter.VAR_POSITIONAL not in kinds


def test_the_dask_cluster_takes_every_knit_option_with_its_default():
    from knit import Knit
    from knit.dask_yarn import DaskYARNCluster
    knit = inspect.signature(Knit.__init__).parameters
    dask = inspect.signature(DaskYARNCluster.__init__).parameters
    for name, parameter in knit.items():
        if name in ("self", "client_timeout"):
            continue
        assert name in dask, name
        assert dask[name].default == parameter.default, name
    assert dask["client_timeout"].default is None  # by deploy mode: 120 s local, 0 remote


def test_knit_0_2_4_positional_arguments_keep_their_places():
    from knit import CondaCreator, Knit
    assert list(inspect.signature(Knit.__init__).parameters)[1:7] == [
        "autodetect", "upload_always", "hdfs_home", "knit_home", "hdfs", "pars"]
    assert list(inspect.signature(CondaCreator.__init__).parameters)[1:6] == [
        "conda_root", "conda_envs", "miniconda_url", "channels", "conda_pkgs"]
