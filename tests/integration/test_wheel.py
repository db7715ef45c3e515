"""knit as users install it: `python -m build` makes an sdist and a wheel holding the
knit jar; the wheel, in a fresh virtualenv, with Maven and javac booby-trapped and no
~/.m2, starts its own local cluster and runs applications on it, fetching Hadoop's
jars once from a Maven mirror."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from knit import jarset

from .maven_mirror import MavenMirror

ROOT = Path(__file__).resolve().parents[2]

APP = """
import knit, sys
from knit import Knit
assert "site-packages" in knit.__file__, knit.__file__
k = Knit(progress=False)
k.start("grep -q from-the-wheel payload.txt", num_containers=2, memory=128,
        files=[sys.argv[1]])
finished = k.wait_for_completion(180)
print(k.app_id, k.status()["finalStatus"] if finished else "NOT FINISHED")
"""


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=900)
    return out


def test_the_sdist_has_the_sources_and_the_wheel_has_the_jar(dist):
    with zipfile.ZipFile(next(dist.glob("*.whl"))) as wheel:
        names = wheel.namelist()
    assert [n for n in names if n.startswith("knit/java_libs/knit-") and n.endswith(".jar")]
    assert {"knit/java_libs/hadoop-jars.lock", "knit/java_libs/pom.xml"} <= set(names)
    with tarfile.open(next(dist.glob("*.tar.gz"))) as sdist:
        members = [name.split("/", 1)[-1] for name in sdist.getnames()]
    assert {"pom.xml", "knit/java_libs/hadoop-jars.lock"} <= set(members)
    assert any(name.startswith("java_src/knit/am/") for name in members)
    assert not [name for name in members if name.endswith(".jar")]


def test_the_wheel_starts_a_cluster_and_runs_applications_without_maven(dist, tmp_path):
    venv, bin_ = tmp_path / "venv", tmp_path / "venv" / "bin"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    subprocess.run([str(bin_ / "pip"), "install", "-q", str(next(dist.glob("*.whl")))],
                   check=True, capture_output=True, timeout=600)
    # Maven and javac, if anything ran them, would leave a mark and fail.
    traps, mark = tmp_path / "traps", tmp_path / "maven-was-run"
    traps.mkdir()
    for tool in ("mvn", "javac"):
        (traps / tool).write_text(f"#!/bin/sh\necho {tool} >> {mark}\nexit 1\n")
        (traps / tool).chmod(0o755)
    home = tmp_path / "home"  # no ~/.m2, an empty jar cache
    home.mkdir()
    (tmp_path / "payload.txt").write_text("from-the-wheel\n")
    cluster_dir = tmp_path / "cluster"
    with MavenMirror(Path.home() / ".m2" / "repository") as mirror:
        env = {"HOME": str(home), "USER": os.environ["USER"], "LANG": "C.UTF-8",
               "PATH": f"{bin_}:{traps}:/usr/local/bin:/usr/bin:/bin",
               "KNIT_MAVEN_MIRROR": mirror.url}

        def knit(*args: str, **extra: str) -> subprocess.CompletedProcess:
            return subprocess.run([str(bin_ / "knit"), *args], env={**env, **extra},
                                  cwd=tmp_path, capture_output=True, text=True, timeout=600)

        up = knit("cluster", "up", "--dir", str(cluster_dir), "--free-ports",
                  "--nodemanagers", "1")
        try:
            assert up.returncode == 0, up.stderr[-3000:]
            assert f"downloading {len(jarset.read_lock())} Hadoop jar(s)" in up.stderr
            assert len(mirror.requests) == len(jarset.read_lock())
            conf = {"HADOOP_CONF_DIR": str(cluster_dir / "conf")}
            # Knit alone: no `hadoop` command, so the client JVM uses the cached jars.
            app = subprocess.run([str(bin_ / "python"), "-c", APP, "payload.txt"],
                                 env={**env, **conf}, cwd=tmp_path, capture_output=True,
                                 text=True, timeout=600)
            assert app.returncode == 0, app.stderr[-3000:]
            assert app.stdout.split()[-1] == "SUCCEEDED", app.stdout + app.stderr[-3000:]
            # The quick start's `knit run`, with the cluster's environment.
            cluster_env = dict(line.removeprefix("export ").split("=", 1) for line in
                               knit("cluster", "env", "--dir", str(cluster_dir)).stdout.split("\n")
                               if line.startswith("export "))
            run = knit("run", "-n", "2", "--file", "payload.txt",
                       "grep -q from-the-wheel payload.txt && echo hello from $CONTAINER_ID",
                       **{**cluster_env, "PATH": f"{cluster_dir / 'hadoop' / 'bin'}:{env['PATH']}"})
            assert run.returncode == 0, run.stderr[-3000:]
            assert run.stdout.count("hello from container_") == 2, run.stdout
        finally:
            knit("cluster", "down", "--dir", str(cluster_dir))
    assert not mark.exists(), mark.read_text()
    assert len(mirror.requests) == len(jarset.read_lock())  # downloaded once, then cached
