"""Wall time of a warm `knit cluster up` (jars cached in ~/.m2) and of `knit cluster down`.

Run: python benchmarks/cluster_startup.py [--rounds 3] [--nodemanagers 2]
The first round also pays for Maven resolving the jars (not a download once cached)
and for formatting HDFS; the figures that matter are the later rounds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--nodemanagers", type=int, default=2)
    args = parser.parse_args()
    knit = [sys.executable, "-m", "knit", "cluster"]
    with tempfile.TemporaryDirectory(prefix="knit-bench-") as tmp:
        folder = str(Path(tmp) / "cluster")
        ups, downs = [], []
        for round_number in range(args.rounds):
            ups.append(timed([*knit, "up", "--dir", folder, "--nodemanagers", str(args.nodemanagers)]))
            downs.append(timed([*knit, "down", "--dir", folder]))
            print(f"round {round_number + 1}: up {ups[-1]:.1f} s, down {downs[-1]:.1f} s", flush=True)
    warm = ups[1:] or ups
    print(f"warm up: median {statistics.median(warm):.1f} s (target < 30 s); "
          f"down: median {statistics.median(downs):.1f} s")


if __name__ == "__main__":
    main()
