"""CondaCreator with real tools: py-rattler on a local channel, and pip in a venv."""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import pytest

from knit import Knit
from knit.conda import CondaCreator
from knit.packing import zip_env
from knit.exceptions import EnvError

from ..channel import make_channel


@pytest.fixture(scope="module")
def channel(tmp_path_factory):
    return make_channel(tmp_path_factory.mktemp("conda"))


def test_rattler_env_is_created_cached_and_zipped(channel, tmp_path):
    creator = CondaCreator(conda_envs=str(tmp_path / "envs"), channels=[channel], backend="rattler")
    path = creator.create_env("hello", packages=["knit-hello"])
    with zipfile.ZipFile(path) as archive:
        assert "hello/bin/knit-hello" in archive.namelist()
    prefix = Path(creator.find_env("hello"))
    out = subprocess.run([str(prefix / "bin" / "knit-hello")], capture_output=True, text=True,
                         env={"CONDA_PREFIX": str(prefix)}, check=True).stdout
    assert out.strip() == f"hello from knit-hello in {prefix}"
    mtime = (tmp_path / "envs" / "hello.zip").stat().st_mtime_ns
    assert creator.create_env("hello", packages=["knit-hello"]) == path  # reused
    assert (tmp_path / "envs" / "hello.zip").stat().st_mtime_ns == mtime
    creator.create_env("hello", packages=["knit-hello"], remove=True)
    assert (tmp_path / "envs" / "hello.zip").stat().st_mtime_ns != mtime


def test_unknown_package_is_an_env_error(channel, tmp_path):
    creator = CondaCreator(conda_envs=str(tmp_path), channels=[channel], backend="rattler")
    with pytest.raises(EnvError, match="no-such-package") as caught:
        creator.create_env("bad", packages=["no-such-package"])
    assert "rattler" in caught.value.command
    assert creator.find_env("bad") is None


def test_pip_env_and_its_failure(tmp_path):
    creator = CondaCreator(conda_envs=str(tmp_path), backend="pip")
    path = creator.create_env("piped", packages=["six"])
    prefix = Path(creator.find_env("piped"))
    subprocess.run([str(prefix / "bin" / "python"), "-c", "import six"], check=True)
    assert path.endswith("piped.zip")
    with pytest.raises(EnvError) as caught:
        creator.create_env("broken", packages=["this-package-does-not-exist-knit-42"])
    assert "pip install" in caught.value.command and caught.value.stderr


def test_packages_must_be_a_list(tmp_path):
    creator = CondaCreator(conda_envs=str(tmp_path), backend="pip")
    with pytest.raises(TypeError, match="packages must be a list"):
        creator.create_env("x", packages="numpy")
    with pytest.raises(TypeError, match="packages must be a list"):
        Knit.create_env("x", packages="numpy", conda_pars={"conda_envs": str(tmp_path)})


def test_zip_env_follows_links_skips_dangling_refuses_roots(tmp_path):
    env = tmp_path / "myenv"
    (env / "bin").mkdir(parents=True)
    (env / "real.txt").write_text("data")
    (env / "bin" / "link.txt").symlink_to(env / "real.txt")
    (env / "bin" / "dangling").symlink_to(tmp_path / "gone")
    path = zip_env(env)
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert archive.read("myenv/bin/link.txt") == b"data"
    assert "myenv/bin/dangling" not in names
    root = tmp_path / "miniconda"
    (root / "envs").mkdir(parents=True)
    (root / "conda-meta").mkdir()
    with pytest.raises(ValueError, match="conda root"):
        zip_env(root)


def test_zip_env_stored_or_deflated(tmp_path):
    env = tmp_path / "e"
    env.mkdir()
    (env / "big.txt").write_text("x" * 100_000)
    deflated = zip_env(env, tmp_path / "d.zip")
    stored = zip_env(env, tmp_path / "s.zip", compress=False)
    with zipfile.ZipFile(stored) as archive:
        assert archive.getinfo("e/big.txt").compress_type == zipfile.ZIP_STORED
    assert deflated.stat().st_size < stored.stat().st_size


def test_zip_env_writes_zip64_records_past_the_limit(tmp_path, monkeypatch):
    # A 2 GB environment would take minutes to zip here: lower the limit instead, so
    # the same code path (Zip64 extra fields and end records) runs on a small file.
    env = tmp_path / "big"
    env.mkdir()
    payload = bytes(range(256)) * 40
    (env / "lib.so").write_bytes(payload)
    monkeypatch.setattr(zipfile, "ZIP64_LIMIT", 1000)
    path = zip_env(env, compress=False)
    assert b"PK\x06\x06" in path.read_bytes()  # the Zip64 end of central directory
    with zipfile.ZipFile(path) as archive:
        assert archive.read("big/lib.so") == payload
    with pytest.raises(zipfile.LargeZipFile):  # what zip_env avoids by allowing Zip64
        with zipfile.ZipFile(tmp_path / "no64.zip", "w", allowZip64=False) as archive:
            archive.write(env / "lib.so", "big/lib.so")


def test_zip_env_packs_a_folder_linked_inside_the_env_once(tmp_path):
    env = tmp_path / "venvlike"
    (env / "lib" / "site").mkdir(parents=True)
    (env / "lib" / "site" / "mod.py").write_text("x = 1\n")
    (env / "lib64").symlink_to("lib")  # what `python -m venv` makes
    outside = tmp_path / "shared-data"
    outside.mkdir()
    (outside / "table.csv").write_text("a,b\n")
    (env / "data").symlink_to(outside)  # a link out of the env is followed
    with zipfile.ZipFile(zip_env(env)) as archive:
        names = archive.namelist()
    assert names.count("venvlike/lib/site/mod.py") == 1
    assert not any(name.startswith("venvlike/lib64/") for name in names)
    assert "venvlike/data/table.csv" in names
