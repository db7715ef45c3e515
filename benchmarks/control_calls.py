"""Calls to a running application: key-value set and get and the container list,
knit's control endpoint against Skein 0.8.2's ApplicationMaster (gRPC), in the same
run, on a local cluster of its own.

Each side starts one application of one ``sleep`` container and connects to it once
(``Knit().start(..., keep_alive=True)``; ``skein.Client().submit_and_connect(spec)``);
then ``--calls`` calls of each kind are timed one after another from this process.
Printed: the median and the 95th percentile of each, in milliseconds, with the ratio
Skein / knit of the medians (above 1: knit is faster).

knit saves a key in HDFS before it acknowledges it (a new ApplicationMaster attempt
finds it); Skein keeps its store in memory only, lost with its ApplicationMaster.

    python benchmarks/control_calls.py --calls 200
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))

from launch_latency import STOCK  # noqa: E402

from knit import Knit  # noqa: E402
from knit.cluster import LocalCluster  # noqa: E402


def timed(call: Callable[[int], object], count: int) -> tuple[float, float]:
    """Median and 95th percentile of ``count`` calls, in ms."""
    spent = []
    for i in range(count):
        started = time.perf_counter()
        call(i)
        spent.append((time.perf_counter() - started) * 1000)
    spent.sort()
    return statistics.median(spent), spent[int(0.95 * (len(spent) - 1))]


def knit_calls(count: int) -> dict[str, tuple[float, float]]:
    knit = Knit(progress=False)
    knit.start("sleep 600", num_containers=1, memory=128, keep_alive=True)
    try:
        knit.set_value("warm", "up")
        return {"kv set": timed(lambda i: knit.set_value(f"key{i}", f"value {i}"), count),
                "kv get": timed(lambda i: knit.get_value(f"key{i}"), count),
                "containers": timed(lambda i: knit.get_containers(), count)}
    finally:
        knit.kill()


def skein_calls(count: int) -> dict[str, tuple[float, float]]:
    import skein

    spec = skein.ApplicationSpec(name="control-calls-bench", queue="default", services={
        "sleeper": skein.Service(resources=skein.Resources(memory=128, vcores=1),
                                 script="sleep 600")})
    with skein.Client() as client:
        app = client.submit_and_connect(spec)
        try:
            app.kv["warm"] = b"up"
            return {"kv set": timed(lambda i: app.kv.__setitem__(f"key{i}", f"value {i}".encode()),
                                    count),
                    "kv get": timed(lambda i: app.kv[f"key{i}"], count),
                    "containers": timed(lambda i: app.get_containers(), count)}
        finally:
            app.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--dir", default=os.path.expanduser("~/.knit/bench-cluster"))
    parser.add_argument("--keep-cluster", action="store_true", help="leave the cluster up")
    args = parser.parse_args()
    has_skein = importlib.util.find_spec("skein") is not None
    if not has_skein:
        print("Skein is not installed (pip install knit[bench]): knit only")
    cluster = LocalCluster(directory=args.dir, nodemanagers=2, ports="free", extra_conf=STOCK,
                           progress=print).up()
    os.environ.update(cluster.env())
    try:
        ours = knit_calls(args.calls)
        theirs = skein_calls(args.calls) if has_skein else {}
    finally:
        if not args.keep_cluster:
            cluster.down()
    print(f"{args.calls} calls each; ms: median / 95th percentile")
    print(f"{'call':<11} {'knit':>13} {'Skein':>13} {'Sk/knit':>8}")
    for kind, (median, p95) in ours.items():
        line = f"{kind:<11} {median:>6.1f} /{p95:>5.1f}"
        if kind in theirs:
            other, other_p95 = theirs[kind]
            line += f" {other:>6.1f} /{other_p95:>5.1f} {other / median:>8.2f}"
        print(line)


if __name__ == "__main__":
    main()
