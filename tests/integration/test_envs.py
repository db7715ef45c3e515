"""Packed environments on the real cluster: made by real tools, shipped once, localized
once per node, and unpacked (conda-pack's conda-unpack) in the containers."""

from __future__ import annotations

import re
import subprocess
import tempfile
import uuid
import venv
import zipfile
from collections import defaultdict
from pathlib import Path

import pytest

from knit import Knit
from knit.packing import zip_env
from knit.exceptions import PreflightError

from ..channel import make_channel
from .waiting import worker_logs

QUIET = {"progress": False}


@pytest.fixture(scope="module")
def knit(cluster_environ):
    return Knit(**QUIET)


@pytest.fixture(scope="module")
def channel(tmp_path_factory):
    return make_channel(tmp_path_factory.mktemp("channel"))


def stdout_lines(k: Knit) -> list[str]:
    assert k.wait_for_completion(180), k.status()["diagnostics"]
    return [line for files in worker_logs(k).values() for line in files["stdout"].splitlines()]


def test_env_folder_is_zipped_and_runs_python(knit, tmp_path):
    env_dir = tmp_path / "pyenv"
    venv.create(env_dir, with_pip=False, symlinks=True)
    (env_dir / "up").symlink_to(tmp_path)  # a link to a folder holding the environment
    scratch = Path(tempfile.gettempdir())
    zips_before = set(scratch.glob("knit-env-*"))
    knit.start('$PYTHON_BIN -c "import sys; print(sys.prefix)"; echo CONDA_PREFIX=$CONDA_PREFIX; '
               "python -c 'print(42)'", env=str(env_dir))
    assert set(scratch.glob("knit-env-*")) <= zips_before  # the zip went once staged
    prefix, conda_prefix, answer = stdout_lines(knit)
    assert conda_prefix == f"CONDA_PREFIX={prefix}"
    assert prefix.endswith("/pyenv.zip/pyenv") and "/filecache/" in prefix
    assert answer == "42"  # `python` resolves to the environment's
    envs = knit.list_envs()
    assert any(str(e["path"]).endswith("/pyenv.zip") and e["size"] > 0 for e in envs)
    import fsspec  # any fsspec filesystem can stand in for the JVM's HDFS client

    webhdfs = fsspec.filesystem("webhdfs", host="127.0.0.1", port=knit.conf["nn_http_port"],
                                user=knit.conf["user"])
    via_fsspec = Knit(hdfs=webhdfs, **QUIET).list_envs()
    assert any(str(e["name"]).endswith("/pyenv.zip") for e in via_fsspec)


def test_conda_env_made_by_rattler_runs_in_containers(knit, channel, tmp_path):
    env = Knit.create_env("hello", packages=["knit-hello"], channels=[channel],
                          conda_pars={"conda_envs": str(tmp_path / "envs"), "backend": "rattler"})
    knit.start("$CONDA_PREFIX/bin/knit-hello; knit-hello", num_containers=2, env=env)
    lines = stdout_lines(knit)
    assert len(lines) == 4
    for first, second in zip(lines[::2], lines[1::2]):
        assert first == second and first.startswith("hello from knit-hello in /")
        assert first.endswith("/hello.zip/hello")


def test_pip_env_runs_in_containers(knit, tmp_path):
    env = Knit.create_env("piped", packages=["six"],
                          conda_pars={"conda_envs": str(tmp_path), "backend": "pip"})
    knit.start('$PYTHON_BIN -c "import six, sys; print(sys.prefix)"', env=env)
    (prefix,) = stdout_lines(knit)
    assert prefix.endswith("/piped.zip/piped")


@pytest.mark.parametrize("visibility, mode", [("PRIVATE", "500"), ("PUBLIC", "555")])
def test_conda_pack_archive_is_unpacked_in_the_container(knit, channel, tmp_path, visibility, mode):
    import conda_pack

    creator_envs = tmp_path / "envs"
    Knit.create_env("where", packages=["knit-where"], channels=[channel],
                    conda_pars={"conda_envs": str(creator_envs), "backend": "rattler"})
    packed = tmp_path / f"where-{uuid.uuid4().hex[:8]}.tar.gz"
    conda_pack.pack(prefix=str(creator_envs / "where"), output=str(packed))
    knit.start(f'knit-where; echo "CONDA_PREFIX=$CONDA_PREFIX"; stat -L -c %a {packed.name}/bin/knit-where',
               num_containers=2, env=str(packed), env_visibility=visibility)
    lines = stdout_lines(knit)
    assert len(lines) == 6
    for where, prefix, localized_mode in zip(lines[::3], lines[1::3], lines[2::3]):
        # conda-pack wrote a placeholder; conda-unpack put the container's prefix in,
        # in a per-node, per-user copy: YARN's localized copy stays read-only
        prefix = prefix.removeprefix("CONDA_PREFIX=")
        assert where == f"knit-where installed in {prefix}"
        assert f"/usercache/{knit.conf['user']}/knit-envs/" in prefix
        assert localized_mode == mode


def test_venv_pack_archive_runs(knit, tmp_path):
    import venv_pack

    env_dir = tmp_path / "packed-venv"
    venv.create(env_dir, with_pip=True)
    subprocess.run([str(env_dir / "bin" / "python"), "-m", "pip", "install", "-q", "six"],
                   check=True, timeout=300)
    packed = tmp_path / "packed-venv.tar.gz"
    venv_pack.pack(prefix=str(env_dir), output=str(packed))
    knit.start('$PYTHON_BIN -c "import six; print(six.__name__)"', env=str(packed))
    assert stdout_lines(knit) == ["six"]


@pytest.mark.parametrize("visibility, cache", [("PRIVATE", "/usercache/"), ("PUBLIC", "/filecache/")])
def test_env_is_uploaded_once_and_localized_once_per_node(cluster_environ, tmp_path,
                                                          visibility, cache):
    env_dir = tmp_path / "shared"
    (env_dir / "bin").mkdir(parents=True)
    (env_dir / "version.txt").write_text(uuid.uuid4().hex)  # new content: a first upload
    archive = str(zip_env(env_dir))
    cmd = 'readlink -f "$CONDA_PREFIX"'

    first = Knit(**QUIET)
    first.start(cmd, num_containers=4, env=archive, env_visibility=visibility.lower())
    assert archive in first.stager.uploaded
    remote = first.stager.remote_path(archive, visibility)
    (shipped,) = [e for e in first.list_envs() if str(e["path"]).endswith(remote)]
    paths = stdout_lines(first)

    second = Knit(**QUIET)  # as another process would: it checks HDFS
    second.start(cmd, num_containers=4, env=archive, env_visibility=visibility)
    assert second.stager.uploaded == []
    (again,) = [e for e in second.list_envs() if e["path"] == shipped["path"]]
    assert again["modificationTime"] == shipped["modificationTime"]
    paths += stdout_lines(second)
    (env_dir / "version.txt").write_text("changed")  # a changed environment ships again
    assert second.check_needs_upload(str(zip_env(env_dir)))
    second.stager.ship(archive, visibility)
    assert second.stager.uploaded == [archive]

    by_node = defaultdict(set)
    for path in paths:
        node_dir = re.match(r"(.*?)/(usercache|filecache)/", path).group(1)
        by_node[node_dir].add(path)
    assert all(len(copies) == 1 for copies in by_node.values()), by_node  # one copy per node
    if visibility == "PUBLIC":
        assert all("/usercache/" not in path for path in paths)
        assert shipped["permission"].endswith("r--")
    else:
        assert all(cache in path for path in paths)


@pytest.mark.parametrize("env, kwargs, match", [
    ("env.tar.bz2", {}, r"YARN can unpack; use one of \.zip, \.tar\.gz, \.tgz, \.tar"),
    ("env.7z", {}, "YARN can unpack"),
    ("hdfs:///user/x/env.rar", {}, "YARN can unpack"),
    ("env.zip", {"env_visibility": "world"}, "env_visibility must be one of PRIVATE, PUBLIC"),
])
def test_unsupported_archives_are_refused_before_submission(knit, tmp_path, env, kwargs, match):
    if not env.startswith("hdfs://"):
        path = tmp_path / env
        if env.endswith(".zip"):
            (tmp_path / "e").mkdir()
            (tmp_path / "e" / "marker").write_text("an environment")
            zip_env(tmp_path / "e", path)
        else:
            path.write_bytes(b"some archive")
        env = str(path)
    before = len(knit.yarn_api.apps)
    with pytest.raises(ValueError, match=match):
        knit.start("true", env=env, **kwargs)
    assert len(knit.yarn_api.apps) == before


def test_corrupt_or_empty_env_is_refused(knit, tmp_path):
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 this is not really a zip")
    empty_folder = tmp_path / "empty-env"
    empty_folder.mkdir()
    empty_zip = tmp_path / "empty.zip"
    zipfile.ZipFile(empty_zip, "w").close()
    before = len(knit.yarn_api.apps)
    with pytest.raises(ValueError, match="not a readable archive"):
        knit.start("true", env=str(broken))
    with pytest.raises(ValueError, match="holds no files"):
        knit.start("true", env=str(empty_folder))
    with pytest.raises(ValueError, match="empty archive"):
        knit.start("true", env=str(empty_zip))
    assert len(knit.yarn_api.apps) == before


def test_public_env_needs_world_executable_folders(cluster_environ, tmp_path):
    probe = Knit(**QUIET)
    home = f"/user/{probe.conf['user']}/closed-{uuid.uuid4().hex[:6]}"
    from knit.jvm import java_call

    java_call(probe.client.mkdirs, home, "700")
    (tmp_path / "e").mkdir()
    (tmp_path / "e" / "marker").write_text("an environment")
    archive = str(zip_env(tmp_path / "e"))
    closed = Knit(hdfs_home=home, **QUIET)
    before = len(closed.yarn_api.apps)
    with pytest.raises(PreflightError, match=f"{home} is not: `hdfs dfs -chmod o\\+x {home}`"):
        closed.start("true", env=archive, env_visibility="PUBLIC")
    assert len(closed.yarn_api.apps) == before
    closed.start("true", env=archive)  # PRIVATE needs no such thing
    assert closed.wait_for_completion(120)


@pytest.mark.parametrize("visibility, folders, files", [("PRIVATE", "700", "500"),
                                                        ("PUBLIC", "755", "555")])
def test_unpacked_env_has_yarns_permissions(cluster_environ, tmp_path, visibility, folders, files):
    # The local NodeManagers set them through java.nio (knit.cluster.NioLocalFs), not
    # chmod: the result must be what Hadoop's localizer asks for.
    env = tmp_path / "permenv"
    (env / "bin").mkdir(parents=True)
    (env / "bin" / "tool").write_text("#!/bin/sh\necho hi\n")
    (env / "bin" / "tool").chmod(0o755)
    (env / "table.csv").write_text(uuid.uuid4().hex)
    k = Knit(**QUIET)
    k.start('cd "$CONDA_PREFIX" && stat -c "%a %n" . bin bin/tool table.csv', env=str(env),
            env_visibility=visibility)
    assert stdout_lines(k) == [f"{folders} .", f"{folders} bin", f"{files} bin/tool",
                               f"{files} table.csv"]
