"""Launch latency: submit -> all N worker containers RUNNING, knit vs Hadoop's
DistributedShell and vs Skein.

"RUNNING" is what the NodeManagers report (their REST API), not the RM's allocation
count. All run on the same local cluster in the same run; the ratios are the other
tool's time over knit's (above 1: knit is faster). Skein is measured when it is
installed (``pip install knit[bench]``); like knit, its driver JVM is started once.

Run: python benchmarks/launch_latency.py [--sizes 1 10 50] [--repeat 2] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time

from knit import Knit
from knit.cluster import LocalCluster, default_directory


def wait_running(knit: Knit, app_id: str, count: int, timeout: float = 300) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = [c for c in knit.yarn_api.app_containers(app_id) if c["state"] == "RUNNING"]
        if len(running) >= count + 1:  # the workers and the ApplicationMaster
            return time.monotonic()
        time.sleep(0.05)
    raise TimeoutError(f"{app_id}: fewer than {count} workers RUNNING after {timeout} s")


def time_knit(knit: Knit, count: int) -> float:
    started = time.monotonic()
    app_id = knit.start("sleep 120", num_containers=count, memory=128)
    elapsed = wait_running(knit, app_id, count) - started
    knit.kill()
    return elapsed


def time_distributedshell(knit: Knit, cluster: LocalCluster, count: int) -> float:
    jar = next((cluster.hadoop_home / "share/hadoop/yarn").glob(
        "hadoop-yarn-applications-distributedshell-*.jar"))
    name = f"ds-bench-{time.time_ns()}"
    started = time.monotonic()
    client = subprocess.Popen(
        ["yarn", "jar", str(jar), "org.apache.hadoop.yarn.applications.distributedshell.Client",
         "-jar", str(jar), "-shell_command", "sleep 120", "-num_containers", str(count),
         "-container_memory", "128", "-master_memory", "384", "-appname", name],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **cluster.env()})
    try:
        app_id = None
        while app_id is None:
            app_id = next((a["id"] for a in knit.yarn_api.apps_info() if a["name"] == name), None)
            time.sleep(0.05)
        elapsed = wait_running(knit, app_id, count) - started
        knit.yarn_api.kill(app_id)
        return elapsed
    finally:
        client.terminate()
        client.wait(timeout=60)


def time_skein(knit: Knit, client, count: int) -> float:
    import skein

    spec = skein.ApplicationSpec(
        name=f"skein-bench-{time.time_ns()}",
        services={"worker": skein.Service(instances=count, script="sleep 120",
                                          resources=skein.Resources(memory=128, vcores=1))})
    started = time.monotonic()
    app_id = client.submit(spec)
    elapsed = wait_running(knit, app_id, count) - started
    client.kill_application(app_id)
    return elapsed


def skein_client():
    """A Skein client (its driver JVM started), or None when Skein is not installed."""
    try:
        import skein
    except ImportError:
        print("Skein is not installed (pip install knit[bench]): no Skein column")
        return None
    return skein.Client()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--dir", default=str(default_directory()))
    args = parser.parse_args()
    cluster = LocalCluster(directory=args.dir, progress=print).up()
    os.environ.update(cluster.env())
    knit = Knit(progress=False)
    cold = time_knit(knit, 1)
    print(f"knit, first start in this process (client JVM start included): {cold:.2f} s")
    skein = skein_client()
    print(f"{'N':>4} {'knit s':>8} {'DistributedShell s':>19} {'DS/knit':>8} "
          f"{'Skein s':>8} {'Skein/knit':>11}")
    for count in args.sizes:
        ours = statistics.median(time_knit(knit, count) for _ in range(args.repeat))
        shell = statistics.median(time_distributedshell(knit, cluster, count) for _ in range(args.repeat))
        line = f"{count:>4} {ours:>8.2f} {shell:>19.2f} {shell / ours:>8.2f}"
        if skein is not None:
            theirs = statistics.median(time_skein(knit, skein, count) for _ in range(args.repeat))
            line += f" {theirs:>8.2f} {theirs / ours:>11.2f}"
        print(line, flush=True)
    if skein is not None:
        skein.close()


if __name__ == "__main__":
    main()
