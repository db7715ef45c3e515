"""``YarnCluster(n_workers=N)`` to N workers connected: knit's against dask-yarn 0.9's,
the same script under each, in the same run, on a local cluster of its own.

dask-yarn 0.9 runs in a virtualenv of its own (``--dask-yarn-venv``, made if
missing) with the newest distributed it imports (2023.9.2) and Skein 0.8.2; knit runs
in this Python. Both use ``environment="python:///.../bin/python"``, the
environment already on the nodes (Dataproc's way), so nothing but each tool's own
files is shipped. Each round is a fresh Python process; the phases printed are:

* ``scheduler``: from the process's start to ``YarnCluster(...)`` returning (the
  scheduler runs in its container and its address is known);
* ``workers``: to N workers connected to it;
* ``total``: to the end of ``shutdown()``.

Medians of ``--repeat`` rounds, with the ratio dask-yarn / knit.

The script connects with ``Client(cluster.scheduler_address)``: dask-yarn 0.9's
``Client(cluster)`` fails with that distributed ("'YarnCluster' object has no
attribute 'status'", dask/dask-yarn issue 155).

    python benchmarks/dask_yarn_startup.py --workers 8 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from knit.cluster import LocalCluster

DASK_YARN_PINS = ["dask-yarn==0.9", "distributed==2023.9.2", "dask==2023.9.2", "skein==0.8.2"]

DRIVER = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
started = float(sys.argv[1])
from dask_yarn import YarnCluster
from distributed import Client
n = int(sys.argv[2])
cluster = YarnCluster(environment="python://" + sys.executable, n_workers=n,
                      worker_memory="512 MiB", worker_vcores=1, scheduler_memory="1 GiB",
                      deploy_mode="remote")
scheduler = time.time() - started
client = Client(cluster.scheduler_address)
client.wait_for_workers(n, timeout=300)
workers = time.time() - started
assert client.submit(lambda: 1).result() == 1
client.close()
cluster.shutdown()
print(json.dumps({"scheduler": scheduler, "workers": workers, "total": time.time() - started}))
"""


def dask_yarn_python(venv: Path) -> str:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"making {venv} with {' '.join(DASK_YARN_PINS)}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *DASK_YARN_PINS], check=True)
    return str(python)


def one_round(python: str, workers: int, env: dict) -> dict:
    started = time.time()
    # not from the repository's folder: its dask_yarn/ would shadow the peer's package
    out = subprocess.run([python, "-c", DRIVER, str(started), str(workers)], env=env,
                         capture_output=True, text=True, timeout=600, cwd=tempfile.gettempdir())
    if out.returncode != 0:
        raise RuntimeError(f"{python} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def medians(rounds: list[dict]) -> dict:
    return {phase: statistics.median(r[phase] for r in rounds) for phase in rounds[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=os.path.expanduser("~/.knit/bench-dask-yarn"))
    parser.add_argument("--dask-yarn-venv", default=os.path.expanduser("~/.knit/dask-yarn-0.9-venv"))
    args = parser.parse_args()
    sides = {"knit": sys.executable, "dask-yarn 0.9": dask_yarn_python(Path(args.dask_yarn_venv))}
    with LocalCluster(directory=args.dir, nodemanagers=4, ports="free", progress=print) as yarn:
        env = {**os.environ, **yarn.env()}
        for python in sides.values():  # warm: each tool's files uploaded and cached once
            one_round(python, args.workers, env)
        results = {name: medians([one_round(python, args.workers, env)
                                  for _ in range(args.repeat)])
                   for name, python in sides.items()}
    knit, peer = results["knit"], results["dask-yarn 0.9"]
    print(f"\nYarnCluster(n_workers={args.workers}), medians of {args.repeat} rounds (s):")
    print(f"{'phase':<12}{'knit':>10}{'dask-yarn':>12}{'ratio':>8}")
    for phase in knit:
        print(f"{phase:<12}{knit[phase]:>10.2f}{peer[phase]:>12.2f}{peer[phase] / knit[phase]:>7.2f}x")


if __name__ == "__main__":
    main()
