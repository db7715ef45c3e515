"""Scale: one application of up to 1,000 containers of 128 MB.

For each size N (default 100, 250, 500, 1000), one knit application of N ``sleep``
containers on a local cluster sized for it (4 NodeManagers, stock 1 s heartbeat):
seconds from ``start()`` to all N RUNNING (as the NodeManagers report), the
ApplicationMaster's resident memory and CPU time at that moment (read from /proc:
the cluster runs on this machine), and the slope in seconds per 100 containers
between consecutive sizes (flat = linear).

Run: python benchmarks/scale.py [--sizes 100 250 500 1000] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from knit import Knit
from knit.cluster import LocalCluster

STOCK = {"yarn-site.xml": {"yarn.resourcemanager.nodemanagers.heartbeat-interval-ms": "1000"}}


def running(api, app_id: str) -> int:
    return sum(1 for c in api.app_containers(app_id)
               if c["state"] == "RUNNING" and not c["id"].endswith("_000001"))


def am_process(container_id: str) -> int | None:
    """The pid of the ApplicationMaster's JVM: the java process running
    ``knit.am.ApplicationMaster`` whose environment names its container."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            if not argv[0].endswith(b"java") or b"knit.am.ApplicationMaster" not in argv:
                continue
            if f"CONTAINER_ID={container_id}".encode() in (entry / "environ").read_bytes().split(b"\0"):
                return int(entry.name)
        except OSError:
            continue
    return None


def am_usage(pid: int) -> tuple[float, float]:
    """(resident MB, CPU seconds) of a process."""
    rss_kb = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if line.startswith("VmRSS:"))
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return rss_kb / 1024, (int(fields[11]) + int(fields[12])) / ticks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 250, 500, 1000])
    parser.add_argument("--dir", default=os.path.expanduser("~/.knit/scale-cluster"))
    parser.add_argument("--keep-cluster", action="store_true")
    args = parser.parse_args()
    per_node = max(args.sizes) // 4 + 8
    cluster = LocalCluster(directory=args.dir, nodemanagers=4, ports="free",
                           nodemanager_memory_mb=per_node * 128 + 1024, nodemanager_vcores=per_node + 8,
                           extra_conf=STOCK, progress=print).up()
    os.environ.update(cluster.env())
    try:
        measure(args.sizes)
    finally:
        if not args.keep_cluster:
            cluster.down()


def measure(sizes: list[int]) -> None:
    k = Knit(progress=False, allocation_timeout=600, start_timeout=300)
    api = k.yarn_api
    print(f"{'N':>5} {'to RUNNING':>11} {'s/100':>7} {'AM RSS MB':>10} {'AM CPU s':>9}")
    previous = None
    for count in sizes:
        began = time.time()
        app_id = k.start("sleep 900", num_containers=count, memory=128)
        while running(api, app_id) < count:
            time.sleep(0.2)
        elapsed = time.time() - began
        pid = am_process(api.app_attempts(app_id)[-1]["containerId"])
        rss, cpu = am_usage(pid) if pid else (float("nan"), float("nan"))
        slope = "" if previous is None else \
            f"{(elapsed - previous[1]) / ((count - previous[0]) / 100):7.2f}"
        print(f"{count:>5} {elapsed:>10.2f}s {slope:>7} {rss:>10.0f} {cpu:>9.1f}", flush=True)
        previous = (count, elapsed)
        k.kill()
        while api.app_containers(app_id):
            time.sleep(0.5)


if __name__ == "__main__":
    main()
