"""Shipping an environment: pack, upload, cache hit, and localization on the nodes.

Builds a pip environment of a few hundred MB (numpy, pandas, pyarrow by default),
then measures, in one run on the same local cluster:

* packing it with ``zip_env`` (deflated and stored);
* knit's upload of the zip against ``hdfs dfs -put`` of the same file (the ratio is
  put's time over knit's: above 1, knit is faster);
* the cache-hit path: a second ``ship`` of the unchanged zip (a metadata check);
* start -> worker RUNNING for a first application (the NodeManager downloads and
  unpacks the environment) and a second one (its cached copy is reused).

Run: python benchmarks/env_shipping.py [--packages numpy pandas pyarrow] [--dir DIR]
(on a cluster folder of its own: it starts a one-NodeManager cluster there).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

from launch_latency import wait_running

from knit import Knit
from knit.cluster import LocalCluster, default_directory
from knit.packing import tar_env, zip_env


def timed(function, *args, **kwargs):
    started = time.monotonic()
    result = function(*args, **kwargs)
    return time.monotonic() - started, result


def build_env(folder: Path, packages: list[str]) -> Path:
    env = folder / "benchenv"
    venv.create(env, with_pip=True)
    subprocess.run([str(env / "bin" / "python"), "-m", "pip", "install", "-q", *packages],
                   check=True, timeout=1800)
    return env


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def hdfs_put(cluster: LocalCluster, local: Path) -> float:
    target = f"/tmp/env-bench-{time.time_ns()}.zip"
    env = {**os.environ, **cluster.env()}
    elapsed, _ = timed(subprocess.run, ["hdfs", "dfs", "-put", str(local), target],
                       check=True, env=env, timeout=1800)
    subprocess.run(["hdfs", "dfs", "-rm", "-skipTrash", target], env=env, check=True,
                   capture_output=True, timeout=300)
    return elapsed


def time_start(knit: Knit, archive: Path) -> float:
    started = time.monotonic()
    app_id = knit.start('"$PYTHON_BIN" -c "import numpy" && sleep 60', env=str(archive))
    elapsed = wait_running(knit, app_id, 1) - started
    knit.kill()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--packages", nargs="+", default=["numpy", "pandas", "pyarrow"])
    parser.add_argument("--dir", default=str(default_directory().with_name("bench-env-cluster")))
    args = parser.parse_args()
    # One NodeManager, so the second application lands where the first localized.
    cluster = LocalCluster(directory=args.dir, nodemanagers=1, progress=print).up()
    os.environ.update(cluster.env())
    with tempfile.TemporaryDirectory(prefix="knit-env-bench-") as work:
        work = Path(work)
        env = build_env(work, args.packages)
        print(f"environment: {' '.join(args.packages)}, {folder_mb(env):.0f} MB on disk")
        stored_s, stored = timed(zip_env, env, work / "stored.zip", compress=False)
        tar_s, tarred = timed(tar_env, env, work / "benchenv.tar.gz")
        deflated_s, archive = timed(zip_env, env, work / "benchenv.zip")
        size_mb = archive.stat().st_size / 1e6
        print(f"zip_env deflated: {deflated_s:.1f} s -> {size_mb:.0f} MB; "
              f"stored: {stored_s:.1f} s -> {stored.stat().st_size / 1e6:.0f} MB; "
              f"tar_env: {tar_s:.1f} s -> {tarred.stat().st_size / 1e6:.0f} MB")

        fresh = Knit(upload_always=True, progress=False)
        fresh.client  # start the client JVM outside the timings
        upload_s, _ = timed(fresh.stager.ship, archive)
        put_s = hdfs_put(cluster, archive)
        print(f"upload {size_mb:.0f} MB: knit {upload_s:.2f} s ({size_mb / upload_s:.0f} MB/s), "
              f"hdfs dfs -put {put_s:.2f} s ({size_mb / put_s:.0f} MB/s), "
              f"ratio put/knit {put_s / upload_s:.2f}")

        knit = Knit(progress=False)
        knit.stager.ship(archive)  # make sure the content-addressed copy exists
        before = len(knit.stager.uploaded)
        hit_s, _ = timed(knit.stager.ship, archive)
        print(f"cache hit (unchanged zip already in HDFS): {hit_s * 1000:.0f} ms, "
              f"{len(knit.stager.uploaded) - before} bytes-moving uploads")

        for packed in (archive, tarred):
            first = time_start(knit, packed)
            second = time_start(knit, packed)
            print(f"{packed.name}: start -> worker RUNNING: first application {first:.2f} s "
                  f"(download + unpack), second {second:.2f} s (NodeManager's cached copy), "
                  f"ratio {first / second:.2f}", flush=True)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
