"""The client JVM's class-data sharing archive (knit.cds), on the real cluster: the
first process records the classes its session loads, a background build dumps them,
and the next process's JVM maps Hadoop's client classes from the archive."""

import subprocess
import sys

from .waiting import wait_for

SESSION = ("from knit import Knit; k = Knit(progress=False); k.start('true'); "
           "print(k.wait_for_completion(120))")


def run_session(env):
    done = subprocess.run([sys.executable, "-c", SESSION], env=env, capture_output=True,
                          text=True, timeout=240, check=False)
    assert done.returncode == 0 and done.stdout.strip().endswith("True"), done.stderr[-2000:]


def test_the_second_process_maps_hadoop_s_classes_from_the_archive(hadoop_env, tmp_path):
    cache, logs = tmp_path / "cds", tmp_path / "logs"
    logs.mkdir()
    env = {**hadoop_env, "KNIT_CDS_DIR": str(cache), "KNIT_CDS": "1",
           "HADOOP_CLIENT_OPTS": f"-Xlog:class+load=info:file={logs}/jvm-%p.log"}
    run_session(env)
    archive = wait_for(lambda: [p for p in cache.iterdir() if p.suffix == ".jsa"], timeout=180,
                       what="the archive built in the background")[0]
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    wait_for(lambda: [p.name for p in cache.iterdir()] == [archive.name],
             what="the class list and the lock removed after the build")
    before = set(logs.iterdir())

    run_session(env)
    (log,) = set(logs.iterdir()) - before  # the second session's JVM; nothing rebuilt
    loaded = log.read_text()
    for name in ("org.apache.hadoop.fs.FileSystem", "org.apache.hadoop.yarn.client.api.YarnClient",
                 "org.apache.hadoop.hdfs.DistributedFileSystem", "knit.client.Client"):
        assert f" {name} source: shared objects file" in loaded, name
    assert [p.name for p in cache.iterdir()] == [archive.name]


def test_knit_cds_0_records_nothing(hadoop_env, tmp_path):
    cache = tmp_path / "cds"
    run_session({**hadoop_env, "KNIT_CDS_DIR": str(cache), "KNIT_CDS": "0"})
    assert not cache.exists()
