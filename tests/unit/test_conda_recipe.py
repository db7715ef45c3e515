"""conda.recipe/meta.yaml, rendered as conda-build would (its Jinja2 functions
`load_file_regex` and `PYTHON`), checked against the package: conda-build and
rattler-build cannot be installed here (no conda channels, neither is on PyPI)."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import jinja2
import yaml

import knit

ROOT = Path(__file__).resolve().parents[2]


def render() -> dict:
    def load_file_regex(load_file: str, regex_pattern: str, from_recipe_dir: bool = False):
        base = ROOT / "conda.recipe" if from_recipe_dir else ROOT
        return re.search(regex_pattern, (base / load_file).read_text())

    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(
        (ROOT / "conda.recipe" / "meta.yaml").read_text())
    return yaml.safe_load(template.render(load_file_regex=load_file_regex, PYTHON="python"))


def _spec(requirement: str) -> tuple[str, str]:
    """``("name", "constraint")`` of a pip or conda requirement string (an environment
    marker such as ``; python_version >= '3.10'`` left out: noarch conda has none)."""
    name, spec = re.match(r"\s*([A-Za-z0-9_.-]+)\s*([^;]*)", requirement).groups()
    return name.lower(), spec.replace(" ", "")


def test_the_recipe_takes_the_package_version_and_its_entry_point():
    recipe = render()
    assert recipe["package"] == {"name": "knit", "version": knit.__version__}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    scripts = [f"{name} = {target}" for name, target in pyproject["project"]["scripts"].items()]
    assert recipe["build"]["entry_points"] == scripts


def test_the_recipe_runs_with_the_package_dependencies():
    recipe = render()
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wanted = dict(_spec(req) for req in pyproject["project"]["dependencies"])
    run = dict(_spec(req) for req in recipe["requirements"]["run"])
    assert {name: run.get(name) for name in wanted} == wanted
    assert "openjdk" in run and "maven" in [_spec(r)[0] for r in recipe["requirements"]["build"]]


def test_the_recipe_test_section_passes_against_the_installed_package():
    recipe = render()
    for module in recipe["test"]["imports"]:
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, timeout=60)
    assert recipe["test"]["commands"] == ["knit --help"]
    knit_cli = Path(sys.executable).parent / "knit"
    result = subprocess.run([str(knit_cli), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "cluster" in result.stdout
