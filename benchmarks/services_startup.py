"""A two-service application to all containers RUNNING: knit against Skein 0.8.2 on
the same spec file, in the same run, on a local cluster of its own.

The spec (Skein's format, which knit reads as is): a ``head`` service of one
container, and ``workers`` of N containers that depend on it (asked for once the head
runs). Each side runs in a fresh Python process (``Knit().submit(file)``, or
``skein.Client().submit(file)``); the clock starts when the process is spawned and
stops when YARN reports 1 + N containers of the application RUNNING (the
ApplicationMaster's not counted). Medians of ``--repeat`` runs, printed with the
ratio Skein / knit.

    python benchmarks/services_startup.py --sizes 1 10 --repeat 3
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from launch_latency import STOCK, kill_and_settle, wait_running  # noqa: E402

from knit import Knit  # noqa: E402
from knit.cluster import LocalCluster  # noqa: E402

SPEC = """\
name: two-services-bench
queue: default
services:
  head:
    instances: 1
    resources: {{memory: 128 MiB, vcores: 1}}
    script: sleep 300
  workers:
    instances: {count}
    depends: [head]
    resources: {{memory: 128 MiB, vcores: 1}}
    script: sleep 300
"""

KNIT_DRIVER = r"""
import sys
from knit import Knit
print(Knit(progress=False).submit(sys.argv[1]).id, flush=True)
"""

SKEIN_DRIVER = r"""
import sys, skein
with skein.Client() as client:
    print(client.submit(sys.argv[1]), flush=True)
"""


def time_cold(api, env: dict, driver: str, spec_file: str, count: int, what: str) -> float:
    spawned = time.time()
    child = subprocess.run([sys.executable, "-c", driver, spec_file], env=env, cwd="/tmp",
                           capture_output=True, text=True, timeout=600)
    if child.returncode != 0:
        raise RuntimeError(f"{what} failed: {child.stderr[-2000:]}")
    app_id = child.stdout.strip().splitlines()[-1]
    elapsed = wait_running(api, app_id, count + 1) - spawned
    kill_and_settle(api, app_id)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nodemanagers", type=int, default=4)
    parser.add_argument("--dir", default=os.path.expanduser("~/.knit/bench-cluster"))
    parser.add_argument("--keep-cluster", action="store_true", help="leave the cluster up")
    args = parser.parse_args()
    has_skein = importlib.util.find_spec("skein") is not None
    if not has_skein:
        print("Skein is not installed (pip install knit[bench]): knit only")
    cluster = LocalCluster(directory=args.dir, nodemanagers=args.nodemanagers, ports="free",
                           nodemanager_memory_mb=8192, nodemanager_vcores=64, extra_conf=STOCK,
                           progress=print).up()
    env = {**os.environ, **cluster.env()}
    os.environ.update(cluster.env())
    api = Knit(progress=False).yarn_api
    print(f"{args.nodemanagers} NodeManagers, 1 s heartbeat; medians of {args.repeat}")
    print(f"{'N':>4} {'knit':>7} {'Skein':>7} {'Sk/knit':>8}")
    try:
        with tempfile.TemporaryDirectory() as folder:
            for count in args.sizes:
                spec_file = os.path.join(folder, f"spec-{count}.yaml")
                Path(spec_file).write_text(SPEC.format(count=count))
                ours, theirs = [], []
                for _ in range(args.repeat):
                    ours.append(time_cold(api, env, KNIT_DRIVER, spec_file, count, "knit"))
                    if has_skein:
                        theirs.append(time_cold(api, env, SKEIN_DRIVER, spec_file, count, "Skein"))
                knit_s = statistics.median(ours)
                line = f"{count:>4} {knit_s:>7.2f}"
                line += (f" {statistics.median(theirs):>7.2f} {statistics.median(theirs) / knit_s:>8.2f}"
                         if theirs else f" {'-':>7} {'-':>8}")
                print(line, flush=True)
    finally:
        if not args.keep_cluster:
            cluster.down()


if __name__ == "__main__":
    main()
