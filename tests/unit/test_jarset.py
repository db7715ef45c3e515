"""The pinned jar set's pure parts: lock lines, repository paths, Maven's listing."""

from __future__ import annotations

import hashlib

from knit.jarset import LOCK_FILE, Jar, _parse_listing, read_lock


def test_a_lock_line_round_trips_and_names_the_repository_path():
    line = "org.apache.hadoop:hadoop-hdfs:3.4.2:tests 6352720 " + "ab" * 32
    jar = Jar.from_line(line)
    assert jar.to_line() == line
    assert jar.path == "org/apache/hadoop/hadoop-hdfs/3.4.2/hadoop-hdfs-3.4.2-tests.jar"
    plain = Jar.from_line("com.google.guava:guava:27.0-jre 1 " + "cd" * 32)
    assert plain.classifier == "" and plain.file_name == "guava-27.0-jre.jar"


def test_the_shipped_lock_pins_hadoop_of_the_pom_and_leaves_out_the_shaded_client():
    jars = read_lock()
    names = {jar.artifact for jar in jars}
    assert {"hadoop-common", "hadoop-yarn-server-resourcemanager", "hadoop-hdfs"} <= names
    assert not names & {"hadoop-client-api", "hadoop-client-runtime", "scala-library"}
    assert all(len(jar.sha256) == 64 and jar.size > 0 for jar in jars)
    assert LOCK_FILE.name == "hadoop-jars.lock"


def test_maven_listing_lines_become_hashed_jars(tmp_path):
    plain, tests_jar = tmp_path / "a-1.0.jar", tmp_path / "b-2.0-tests.jar"
    plain.write_bytes(b"one")
    tests_jar.write_bytes(b"two")
    lines = [
        "The following files have been resolved:",
        f"   org.x:a:jar:1.0:compile:{plain}",
        f"   org.y:b:jar:tests:2.0:compile:{tests_jar} -- module b [auto]",
        f"   org.apache.hadoop:hadoop-client-api:jar:3.4.2:provided:{plain}",
        "   org.z:c:pom:1.0:compile",
    ]
    jars = _parse_listing(lines)
    assert [jar.coordinates for jar in jars] == ["org.x:a:1.0", "org.y:b:2.0:tests"]
    assert jars[1].sha256 == hashlib.sha256(b"two").hexdigest() and jars[1].size == 3
