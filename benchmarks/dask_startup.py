"""Dask on YARN: start-up time and per-task overhead, against a LocalCluster.

For N workers (default 2 and 8), in one run on the same machine:

* time from ``DaskYARNCluster(...)`` to N workers connected (the environment is
  built and shipped before, so this is the warm path a user sees every day), and
  the same for a ``LocalCluster`` of N worker processes, as a reference;
* per-task overhead: the time per task of ``client.gather(client.map(inc, ...))``
  on both clusters; the ratio is YARN's over LocalCluster's (1 = no overhead).

Each figure is the median of ``--repeat`` rounds.

Run: python benchmarks/dask_startup.py [--workers 2 8] [--tasks 2000] [--repeat 3] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from distributed import Client, LocalCluster

from knit.cluster import LocalCluster as LocalYARN
from knit.dask_env import worker_environment
from knit.dask_yarn import DaskYARNCluster


def inc(x: int) -> int:
    return x + 1


def per_task_seconds(client: Client, tasks: int) -> float:
    client.gather(client.map(inc, range(100), pure=False))  # warm up
    started = time.monotonic()
    results = client.gather(client.map(inc, range(tasks), pure=False))
    assert sum(results) == sum(range(1, tasks + 1))
    return (time.monotonic() - started) / tasks


def measure_yarn(workers: int, tasks: int) -> tuple[float, float]:
    started = time.monotonic()
    with DaskYARNCluster(progress=False, dashboard_address=":0") as cluster:
        cluster.start(workers, cpus=1, memory=768)
        startup = time.monotonic() - started
        with Client(cluster) as client:
            return startup, per_task_seconds(client, tasks)


def measure_local(workers: int, tasks: int) -> tuple[float, float]:
    started = time.monotonic()
    with LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0") as cluster:
        with Client(cluster) as client:
            client.wait_for_workers(workers)
            startup = time.monotonic() - started
            return startup, per_task_seconds(client, tasks)


def medians(measure, workers: int, args) -> tuple[float, float]:
    rounds = [measure(workers, args.tasks) for _ in range(args.repeat)]
    return (statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 8])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=os.path.expanduser("~/.knit/bench-cluster"))
    parser.add_argument("--keep-cluster", action="store_true", help="leave the cluster up")
    args = parser.parse_args()
    # As benchmarks/launch_latency.py: 4 NodeManagers, YARN's stock 1 s heartbeat.
    yarn = LocalYARN(directory=args.dir, nodemanagers=4, ports="free", progress=print,
                     extra_conf={"yarn-site.xml": {
                         "yarn.resourcemanager.nodemanagers.heartbeat-interval-ms": "1000"}}).up()
    os.environ.update(yarn.env())
    try:
        run(args)
    finally:
        if not args.keep_cluster:
            yarn.down()


def run(args) -> None:
    started = time.monotonic()
    worker_environment(None, None, None, None)
    print(f"worker environment ready (built or cached) in {time.monotonic() - started:.1f} s")
    measure_yarn(max(args.workers), 10)  # ship the environment to every node (NodeManagers cache it)
    print(f"{'N':>3} {'YARN start s':>13} {'Local start s':>14} {'YARN ms/task':>13} "
          f"{'Local ms/task':>14} {'overhead ratio':>15}")
    for workers in args.workers:
        yarn_start, yarn_task = medians(measure_yarn, workers, args)
        local_start, local_task = medians(measure_local, workers, args)
        print(f"{workers:>3} {yarn_start:>13.2f} {local_start:>14.2f} {yarn_task * 1000:>13.3f} "
              f"{local_task * 1000:>14.3f} {yarn_task / local_task:>15.2f}", flush=True)


if __name__ == "__main__":
    main()
