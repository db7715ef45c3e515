"""Class-data sharing archives on the real cluster. The client JVM's (knit.cds): the
first process records the classes its session loads, a background build dumps them,
and the next process's JVM maps Hadoop's client classes from the archive. The
ApplicationMaster's (knit.client.AmLaunch): the first on a node records and dumps,
the next on that node maps."""

import shutil
import subprocess
import sys

from knit import Knit
from knit.exceptions import NotFoundError

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


def am_log(knit) -> str:
    logs = wait_for(lambda: _logs_or_none(knit), what="the aggregated logs")
    return next(files["am.stdout"] for cid, files in logs.items() if cid.endswith("_000001"))


def _logs_or_none(knit):
    try:
        return knit.logs()
    except NotFoundError:
        return None


def test_application_masters_map_their_node_s_archive(cluster_environ):
    folders = lambda: sorted(cluster_environ.directory.glob("nodemanager-*/local/usercache/*/knit-cds"))  # noqa: E731
    for folder in folders():
        shutil.rmtree(folder)
    logs = []
    for _ in range(6):  # until an ApplicationMaster lands on a node that has its archive
        knit = Knit(progress=False)
        knit.start("true")
        assert knit.wait_for_completion(180)
        logs.append(am_log(knit))
        if "classes mapped from this node's archive" in logs[-1]:
            break
    assert "recording the classes it loads" in logs[0], logs[0]
    assert "class-data sharing archive written" in logs[0], logs[0]
    assert "classes mapped from this node's archive" in logs[-1], logs
    for folder in folders():
        assert oct(folder.stat().st_mode & 0o777) == "0o700"
        assert [p.suffix for p in folder.iterdir()] == [".jsa"], list(folder.iterdir())
