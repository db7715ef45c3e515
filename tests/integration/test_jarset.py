"""Hadoop's jars without Maven: the pinned set downloaded from a repository over
HTTP, verified, cached, and a clear error for every way a download goes wrong."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from knit import jarset
from knit.exceptions import JarDownloadError

from .maven_mirror import MavenMirror

M2 = Path.home() / ".m2" / "repository"


@pytest.fixture
def three_jars(tmp_path, monkeypatch):
    """A lock of three small pinned jars, a mirror holding them, and a user with an
    empty jar cache and no ~/.m2."""
    pinned = sorted(jarset.read_lock(), key=lambda jar: jar.size)[:3]
    repo = tmp_path / "repo"
    for jar in pinned:
        (repo / jar.path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(M2 / jar.path, repo / jar.path)
    lock = tmp_path / "small.lock"
    jarset.write_lock(pinned, lock)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KNIT_JARS_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KNIT_MAVEN_MIRROR", raising=False)
    with MavenMirror(repo) as mirror:
        yield pinned, lock, mirror, repo


def cache_files() -> list[Path]:
    return sorted(path for path in jarset.cache_dir().rglob("*") if path.is_file())


def test_the_lock_is_in_step_with_the_pom():
    assert jarset.main(["--check"]) == 0


def test_jars_already_in_m2_are_used_without_any_download():
    closed = f"http://127.0.0.1:{_closed_port()}"
    paths = jarset.hadoop_jars(mirror=closed)
    assert len(paths) == len(jarset.read_lock()) and all(M2 in path.parents for path in paths)


def test_missing_jars_come_from_the_mirror_verified_and_are_cached(three_jars, monkeypatch):
    pinned, lock, mirror, _ = three_jars
    monkeypatch.setenv("KNIT_MAVEN_MIRROR", mirror.url)  # the setting, not the argument
    lines = []
    paths = jarset.hadoop_jars(progress=lines.append, lock=lock)
    assert [path.name for path in paths] == [jar.file_name for jar in pinned]
    assert all(path.is_file() and path.stat().st_size == jar.size
               for path, jar in zip(paths, pinned))
    assert cache_files() == sorted(paths)  # nothing else: no partial files
    assert len(mirror.requests) == 3 and mirror.url in lines[0] and "3 Hadoop jar(s)" in lines[0]
    assert jarset.hadoop_jars(lock=lock) == paths and len(mirror.requests) == 3  # cached


def test_a_jar_that_does_not_match_its_checksum_is_refused_and_not_kept(three_jars):
    pinned, lock, mirror, repo = three_jars
    bad = repo / pinned[1].path
    bad.write_bytes(bytes(reversed(bad.read_bytes())))  # same size, other content
    with pytest.raises(JarDownloadError, match="does not match the SHA-256") as info:
        jarset.hadoop_jars(mirror=mirror.url, lock=lock)
    assert pinned[1].coordinates in str(info.value) and "KNIT_MAVEN_MIRROR" in str(info.value)
    assert pinned[1].file_name not in [path.name for path in cache_files()]
    assert not [path for path in cache_files() if path.name.endswith(".part")]


def test_a_download_cut_short_is_an_error_and_leaves_nothing(three_jars):
    pinned, lock, mirror, _ = three_jars
    mirror.cut_short.add(pinned[2].path)
    with pytest.raises(JarDownloadError, match=pinned[2].file_name):
        jarset.hadoop_jars(mirror=mirror.url, lock=lock)
    assert pinned[2].file_name not in [path.name for path in cache_files()]
    assert not [path for path in cache_files() if path.name.endswith(".part")]
    mirror.cut_short.clear()
    assert len(jarset.hadoop_jars(mirror=mirror.url, lock=lock)) == 3  # a retry works


def test_no_network_and_a_wrong_mirror_name_the_fix(three_jars, tmp_path):
    _, lock, mirror, _ = three_jars
    with pytest.raises(JarDownloadError, match="Connection refused|Errno 111") as info:
        jarset.hadoop_jars(mirror=f"http://127.0.0.1:{_closed_port()}", lock=lock)
    assert "KNIT_MAVEN_MIRROR" in str(info.value) and "~/.m2" in str(info.value)
    with pytest.raises(JarDownloadError, match="HTTP 404"):
        jarset.hadoop_jars(mirror=f"{mirror.url}/no-such-repository", lock=lock)
    assert cache_files() == []


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
