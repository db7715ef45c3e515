"""Class-data sharing archives of the client JVM (knit.cds): naming, flags, and a real
dump with this machine's Java (the JVM of a real session: tests/integration/test_cds.py)."""

import os
import subprocess
import zipfile

import pytest

from knit import cds
from knit.java import java_executable


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KNIT_CDS_DIR", str(tmp_path / "cds"))
    monkeypatch.delenv("KNIT_CDS", raising=False)
    return tmp_path / "cds"


@pytest.fixture
def jars(tmp_path):
    """A folder of two jars; a.jar holds the class ``Hello``."""
    folder = tmp_path / "lib"
    folder.mkdir()
    (tmp_path / "Hello.java").write_text("public class Hello {}\n")
    javac = os.path.join(os.path.dirname(java_executable()), "javac")
    subprocess.run([javac, "-d", str(tmp_path), str(tmp_path / "Hello.java")], check=True)
    with zipfile.ZipFile(folder / "a.jar", "w") as jar:
        jar.write(tmp_path / "Hello.class", "Hello.class")
    with zipfile.ZipFile(folder / "b.jar", "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
    return folder


def test_folders_go_after_the_jars(tmp_path, jars):
    conf = tmp_path / "conf"
    conf.mkdir()
    order = cds.sharing_order([str(conf), "knit.jar", f"{jars}/*", str(jars / "a.jar")])
    assert order == ["knit.jar", f"{jars}/*", str(jars / "a.jar"), str(conf)]


def test_the_key_follows_every_jar_of_a_wildcard(jars):
    java = java_executable()
    key = cds.archive_key(java, [f"{jars}/*"], ["-Xmx512m"])
    assert cds.archive_key(java, [f"{jars}/*"], ["-Xmx512m"]) == key
    assert cds.archive_key(java, [f"{jars}/*"], ["-Xmx256m"]) != key
    stat = os.stat(jars / "b.jar")
    os.utime(jars / "b.jar", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert cds.archive_key(java, [f"{jars}/*"], ["-Xmx512m"]) != key
    (jars / "c.jar").write_bytes(b"")
    assert len({key, cds.archive_key(java, [f"{jars}/*"], ["-Xmx512m"])}) == 2


def test_a_jvm_records_then_maps_the_archive(cache, jars):
    archive = cds.SharedArchive(java_executable(), [f"{jars}/*"], [])
    flags = archive.flags()
    assert flags == [f"-XX:DumpLoadedClassList={archive.recording}"]
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    archive.archive.write_bytes(b"")
    assert archive.flags()[0] == f"-XX:SharedArchiveFile={archive.archive}"


def test_no_recording_while_a_build_runs_or_after_one_failed(cache, jars):
    archive = cds.SharedArchive(java_executable(), [f"{jars}/*"], [])
    cache.mkdir(mode=0o700)
    archive.lock.touch()
    assert archive.flags() == []
    os.utime(archive.lock, (0, 0))  # a build that died long ago
    assert archive.flags() != []
    archive.failed.touch()
    assert cds.SharedArchive(java_executable(), [f"{jars}/*"], []).flags() == []


def test_a_killed_jvm_builds_nothing(cache, jars):
    archive = cds.SharedArchive(java_executable(), [f"{jars}/*"], [])
    archive.flags()
    archive.recording.write_text("java/lang/Object\n")
    recording = archive.recording
    archive.jvm_exited(-9)
    assert not recording.exists() and not archive.lock.exists()


def test_knit_cds_0_turns_it_off(monkeypatch):
    monkeypatch.setenv("KNIT_CDS", "0")
    assert not cds.enabled()
    monkeypatch.setenv("KNIT_CDS", "1")
    assert cds.enabled()


def _spec(archive: cds.SharedArchive, classlist) -> dict:
    archive.lock.touch()
    return {"java": archive.java, "classpath": archive.classpath, "flags": ["-XX:+UseSerialGC"],
            "classlist": str(classlist), "archive": str(archive.archive),
            "failed": str(archive.failed), "lock": str(archive.lock)}


def test_a_dump_writes_an_archive_java_maps(cache, jars):
    archive = cds.SharedArchive(java_executable(), [f"{jars}/*"], ["-XX:+UseSerialGC"])
    cache.mkdir(mode=0o700)
    classlist = cache / "x.classlist"
    classlist.write_text("java/lang/Object\njava/util/ArrayList\nHello\n")
    assert cds.build(_spec(archive, classlist))
    assert archive.archive.stat().st_size > 0
    assert not classlist.exists() and not archive.lock.exists() and not archive.failed.exists()
    # -Xshare:on: Java refuses to start unless it can map this very archive.
    used = subprocess.run([archive.java, "-XX:+UseSerialGC", "-Xshare:on",
                           f"-XX:SharedArchiveFile={archive.archive}", "-cp", f"{jars}/*",
                           "-version"], capture_output=True, text=True, check=False)
    assert used.returncode == 0, used.stdout + used.stderr
    other_jars = subprocess.run([archive.java, "-XX:+UseSerialGC", "-Xshare:on",
                                 f"-XX:SharedArchiveFile={archive.archive}", "-cp",
                                 str(jars / "b.jar"), "-version"], capture_output=True, check=False)
    assert other_jars.returncode != 0  # the check is real: another classpath cannot map it


def test_a_failed_dump_leaves_java_s_message(cache, jars):
    archive = cds.SharedArchive(java_executable(), [f"{jars}/*"], [])
    cache.mkdir(mode=0o700)
    assert not cds.build(_spec(archive, cache / "missing.classlist"))
    assert not archive.archive.exists() and not archive.lock.exists()
    assert "missing.classlist" in archive.failed.read_text()


def test_only_the_newest_archives_are_kept(tmp_path):
    for age, name in enumerate("abcdef"):
        (tmp_path / f"{name}.jsa").write_bytes(b"")
        os.utime(tmp_path / f"{name}.jsa", (1000 - age, 1000 - age))
    (tmp_path / "x.failed").write_text("")
    cds.prune(tmp_path, keep=4)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jsa", "b.jsa", "c.jsa", "d.jsa", "x.failed"]


def test_two_jvms_of_one_process_record_to_files_of_their_own(cache, jars):
    first = cds.SharedArchive(java_executable(), [f"{jars}/*"], [])
    second = cds.SharedArchive(java_executable(), [f"{jars}/*"], [])
    first.flags(), second.flags()
    assert first.recording != second.recording  # a dead JVM's clean-up spares the new one's


def test_a_failed_dump_is_tried_again_a_day_later(cache, jars):
    archive = cds.SharedArchive(java_executable(), [f"{jars}/*"], [])
    cache.mkdir(mode=0o700)
    archive.failed.write_text("exit 1")
    assert archive.flags() == []
    os.utime(archive.failed, (0, 0))
    assert archive.flags() == [f"-XX:DumpLoadedClassList={archive.recording}"]


def test_a_build_stopped_by_sigterm_cleans_up_and_blames_nobody(cache, tmp_path):
    import json
    import signal
    import sys
    import time

    slow_java = tmp_path / "java"
    slow_java.write_text("#!/bin/sh\nexec sleep 60\n")
    slow_java.chmod(0o755)
    cache.mkdir(mode=0o700)
    classlist, lock = cache / "k.1.classlist", cache / "k.lock"
    classlist.write_text("java/lang/Object\n")
    lock.touch()
    spec = {"java": str(slow_java), "classpath": ["x.jar"], "flags": [], "classlist": str(classlist),
            "archive": str(cache / "k.jsa"), "failed": str(cache / "k.failed"), "lock": str(lock)}
    builder = subprocess.Popen([sys.executable, "-m", "knit.cds", json.dumps(spec)])
    time.sleep(1.5)
    builder.send_signal(signal.SIGTERM)
    assert builder.wait(timeout=30) == 128 + signal.SIGTERM
    assert sorted(p.name for p in cache.iterdir()) == []


def test_a_lock_left_by_a_killed_build_does_not_block_the_next(cache, jars):
    import time

    archive = cds.SharedArchive(java_executable(), [f"{jars}/*"], ["-XX:+UseSerialGC"])
    archive.flags()
    archive.recording.write_text("java/lang/Object\nHello\n")
    archive.lock.touch()
    os.utime(archive.lock, (0, 0))
    archive.jvm_exited(0)  # builds in the background
    deadline = time.monotonic() + 60
    while not archive.archive.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert archive.archive.exists()


def test_the_application_master_follows_the_clients_sharing_policy(monkeypatch):
    from knit.cds import KEEP_NODE_ARCHIVES, RETRY_FAILED_SECONDS, am_boot_script

    monkeypatch.setenv("KNIT_CDS", "1")
    on = am_boot_script()
    assert "SHARING=1 " in on and f"KEEP={KEEP_NODE_ARCHIVES} " in on
    assert f"RETRY_MINUTES={RETRY_FAILED_SECONDS // 60} " in on
    for off in ("0", "false", "off"):  # every spelling the client takes (the AM took only 0)
        monkeypatch.setenv("KNIT_CDS", off)
        assert "SHARING=0 " in am_boot_script()
    checked = subprocess.run(["bash", "-n"], input=on, text=True, capture_output=True, check=False)
    assert checked.returncode == 0, checked.stderr


def test_the_application_masters_heap_leaves_room_for_the_jvm():
    from knit.cds import am_heap_mb

    assert am_heap_mb(384) == 230 and am_heap_mb(512) == 307 and am_heap_mb(64) == 64
