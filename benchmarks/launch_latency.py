"""Launch latency: submit -> all N worker containers RUNNING, from a cold Python
process, knit against Hadoop's DistributedShell, Skein (when installed) and knit 0.2.4.

Every launch starts in a new process, as a user's script does: for knit a fresh
``python -c "from knit import Knit; Knit().start(...)"`` (so the Python import and the
client JVM's start are included), for DistributedShell ``yarn jar ...`` (its client
JVM), for Skein a fresh Python process with ``skein.Client()``. The clock starts when
the process is spawned and stops when the NodeManagers (their REST API) report all N
containers RUNNING. Tools run interleaved, on one cluster, in one run; the ratios are
the other tool's median over knit's (above 1: knit is faster).

Also reported: a second ``start()`` in a warm process (client-side time: everything
before YARN has the submission, and the wait until the ApplicationMaster registered).

The cluster is a local one of ``--nodemanagers`` NodeManagers (4 by default) with
distinct host identities, YARN's stock 1 s NodeManager heartbeat and room for 200+
containers of 128 MB. ``--trace`` breaks knit's launches into phases, from the
client's marks, the ResourceManager's reports and the ApplicationMaster's log.

With ``--knit024 VENV`` knit 0.2.4 from PyPI (the seeds' system) runs too, from a
cold process per launch, in a virtualenv of its own.

Run: python benchmarks/launch_latency.py [--sizes 1 10 50 200] [--repeat 3] [--trace]
     [--knit024 ~/.knit/knit024-venv]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import time
from datetime import datetime

import knit.cds
from knit import Knit
from knit.cluster import LocalCluster

#: Stock YARN: the NodeManagers heartbeat every second (the local cluster's default is faster).
STOCK = {"yarn-site.xml": {"yarn.resourcemanager.nodemanagers.heartbeat-interval-ms": "1000"}}

#: A user's script, with marks around the phases of start() (``--trace``).
KNIT_DRIVER = r"""
import json, sys, time
marks = {"process": time.time()}
from knit import Knit
import knit.checks, knit.java_client, knit.launch
marks["imported"] = time.time()
spans = []

def timed(owner, name, label=None):
    original = getattr(owner, name)
    def wrapper(*args, **kwargs):
        began = time.time()
        try:
            return original(*args, **kwargs)
        finally:
            spans.append((label or (args[1] if name == "call" else name), began, time.time()))
    setattr(owner, name, wrapper)

for owner, name in [(knit.java_client, "get_gateway"), (knit.checks, "preflight"),
                    (knit.launch.Launcher, "sweep_records"), (knit.launch.Launcher, "stage"),
                    (knit.launch.Launcher, "room_per_node"), (knit.java_client.JavaClient, "call"),
                    (knit.launch.Launcher, "wait_running")]:
    timed(owner, name)
if "locality" in sys.argv[2:]:  # measure without a lever (--without)
    knit.launch.Launcher.room_per_node = lambda self, *size: {}
if "prestart" in sys.argv[2:]:
    knit.java_client.JavaClient.warm_up_in_background = lambda self: None
k = Knit(progress=False)
marks["constructed"] = time.time()
app_id = k.start("sleep 300", num_containers=int(sys.argv[1]), memory=128)
marks["start_returned"] = time.time()
print(json.dumps({"app_id": app_id, "marks": marks, "spans": spans}))
"""

SKEIN_DRIVER = r"""
import sys, time, skein
spec = skein.ApplicationSpec(name="skein-bench", services={"worker": skein.Service(
    instances=int(sys.argv[1]), script="sleep 300", resources=skein.Resources(memory=128, vcores=1))})
with skein.Client() as client:
    print(client.submit(spec), flush=True)
"""


#: knit 0.2.4 from PyPI (the seeds' own system), in a virtualenv of its own. The RM of
#: the local cluster wants a user name, which 0.2.4 sends only with a password (any);
#: its pre-flight checks use the REST API without one, so they are off. It kills its
#: applications when its process exits: the driver waits on stdin until told.
KNIT024_DRIVER = r"""
import sys
from knit import Knit
k = Knit(autodetect=True, password="unused", replication_factor=1)
print(k.start("sleep 300", num_containers=int(sys.argv[1]), memory=128, checks=False), flush=True)
sys.stdin.read()
"""


#: Another knit (``--before``): a plain start() from a cold process, nothing instrumented.
PLAIN_KNIT_DRIVER = r"""
import sys
from knit import Knit
print(Knit(progress=False).start("sleep 300", num_containers=int(sys.argv[1]), memory=128), flush=True)
"""

#: Another knit's first runs (``--before``): short jobs, so its client JVM and the
#: NodeManagers hold its class-data sharing archives as they do knit's own.
PLAIN_KNIT_WARM_UP = r"""
from knit import Knit
k = Knit(progress=False)
for _ in range(8):
    k.start("true")
    k.wait_for_completion(300)
"""


def time_driver_cold(api, env: dict, count: int, python: str, driver: str, what: str) -> float:
    """A cold process running ``driver`` (which prints the application id): spawn to
    all ``count`` workers RUNNING."""
    spawned = time.time()
    child = subprocess.run([python, "-c", driver, str(count)], env=env, cwd="/tmp",
                           capture_output=True, text=True, timeout=600)
    if child.returncode != 0:
        raise RuntimeError(f"{what} failed: {child.stderr[-2000:]}")
    app_id = child.stdout.strip().splitlines()[-1]
    elapsed = wait_running(api, app_id, count) - spawned
    kill_and_settle(api, app_id)
    return elapsed


def knit024_python(folder: str) -> str:
    """The Python of a virtualenv holding knit 0.2.4 from PyPI, made on first use."""
    python = os.path.join(folder, "bin", "python")
    if not os.path.exists(python):
        print(f"installing knit 0.2.4 from PyPI into {folder}", flush=True)
        subprocess.run([sys.executable, "-m", "venv", folder], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", "knit==0.2.4"], check=True)
    return python


def running_count(api, app_id: str) -> int:
    """Worker containers RUNNING per the NodeManagers (the ApplicationMaster's excluded)."""
    return sum(1 for c in api.app_containers(app_id)
               if c["state"] == "RUNNING" and not c["id"].endswith("_000001"))


def wait_running(api, app_id: str, count: int, timeout: float = 600) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running_count(api, app_id) >= count:
            return time.time()
        time.sleep(0.05)
    raise TimeoutError(f"{app_id}: fewer than {count} workers RUNNING after {timeout} s")


def kill_and_settle(api, app_id: str, timeout: float = 180) -> None:
    """Kill ``app_id`` and wait until no NodeManager runs its containers, so the next
    launch does not compete with the teardown."""
    api.kill(app_id)
    deadline = time.monotonic() + timeout
    while api.app_containers(app_id) and time.monotonic() < deadline:
        time.sleep(0.2)


def app_named(api, name: str, after_ms: int) -> str | None:
    return next((a["id"] for a in api.apps_info() if a["name"] == name
                 and a["startedTime"] >= after_ms), None)


def prepare_client_archive(api, env: dict, timeout: float = 180) -> str:
    """One cold launch, then the wait for the class-data sharing archive its client
    JVM recorded (knit.cds): the state of a user's machine after its first start."""
    started, since = time.monotonic(), time.time()
    time_knit_cold(api, env, 1, False)
    folder = knit.cds.cache_dir()
    def building() -> bool:
        return any(time.time() - lock.stat().st_mtime < knit.cds.STALE_LOCK_SECONDS
                   for lock in folder.glob("*.lock"))

    while time.monotonic() - started < timeout and building():
        time.sleep(0.5)
    failed = [p for p in folder.glob("*.failed") if p.stat().st_mtime >= since]
    if failed:
        return f"failed (see {failed[0]})"
    return f"ready in {folder} ({time.monotonic() - started:.1f} s after the first launch)"


def prepare_node_archives(cluster: LocalCluster, tries: int = 16) -> str:
    """Short applications run to their end until every NodeManager holds an
    ApplicationMaster class-data sharing archive (the first ApplicationMaster on a
    node records and dumps one when it ends cleanly): the state of a cluster a user
    has run a few applications on."""
    def nodes_with_archive() -> int:
        return sum(1 for folder in cluster.directory.glob("nodemanager-*/local")
                   if any(folder.glob("usercache/*/knit-cds/*.jsa")))

    knit = Knit(progress=False)
    for _ in range(tries):
        if nodes_with_archive() == cluster.nodemanagers:
            break
        knit.start("true")
        knit.wait_for_completion(300)
    return f"{nodes_with_archive()} of {cluster.nodemanagers} NodeManagers"


def time_knit_cold(api, env: dict, count: int, trace: bool,
                   without: tuple[str, ...] = ()) -> tuple[float, dict]:
    spawned = time.time()
    if "cds" in without:
        env = {**env, "KNIT_CDS": "0"}
    child = subprocess.run([sys.executable, "-c", KNIT_DRIVER, str(count), *without], env=env,
                           capture_output=True, text=True, timeout=600)
    if child.returncode != 0:
        raise RuntimeError(f"knit driver failed: {child.stderr[-2000:]}")
    report = json.loads(child.stdout.strip().splitlines()[-1])
    done = wait_running(api, report["app_id"], count)
    phases = phases_of(api, report, spawned, done) if trace else {}
    kill_and_settle(api, report["app_id"])
    return done - spawned, phases


def time_knit_warm(knit: Knit, count: int) -> tuple[float, float]:
    """A second start() in this process: (client-side seconds, submit -> all RUNNING)."""
    began = time.time()
    app_id = knit.start("sleep 300", num_containers=count, memory=128)
    returned = time.time()
    done = wait_running(knit.yarn_api, app_id, count)
    accepted = knit.yarn_api.status(app_id)["startedTime"] / 1000
    am = am_log_times(knit.yarn_api, app_id)
    # Client-side: before the RM had the submission, and from the AM's registration
    # (in its log) to start() returning.
    client = (accepted - began) + max(0.0, returned - am.get("registered", returned))
    kill_and_settle(knit.yarn_api, app_id)
    return client, done - began


def time_distributedshell(api, cluster: LocalCluster, env: dict, count: int) -> float:
    jar = next((cluster.hadoop_home / "share/hadoop/yarn").glob(
        "hadoop-yarn-applications-distributedshell-*.jar"))
    name = f"ds-bench-{time.time_ns()}"
    spawned = time.time()
    client = subprocess.Popen(
        [str(cluster.hadoop_home / "bin" / "yarn"), "jar", str(jar),
         "org.apache.hadoop.yarn.applications.distributedshell.Client",
         "-jar", str(jar), "-shell_command", "sleep 300", "-num_containers", str(count),
         "-container_memory", "128", "-master_memory", "384", "-appname", name],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        app_id = None
        while app_id is None:
            app_id = app_named(api, name, int(spawned * 1000) - 1000)
            time.sleep(0.05)
        elapsed = wait_running(api, app_id, count) - spawned
        kill_and_settle(api, app_id)
        return elapsed
    finally:
        client.terminate()
        client.wait(timeout=60)


def time_skein_cold(api, env: dict, count: int) -> float:
    return time_driver_cold(api, env, count, sys.executable, SKEIN_DRIVER, "the Skein driver")


def time_knit024_cold(api, env: dict, count: int, python: str) -> float:
    spawned = time.time()
    driver = subprocess.Popen([python, "-c", KNIT024_DRIVER, str(count)], env=env, cwd="/tmp",
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    try:
        app_id = driver.stdout.readline().strip()
        if not app_id.startswith("application_"):
            raise RuntimeError(f"knit 0.2.4 driver failed (exit {driver.poll()})")
        elapsed = wait_running(api, app_id, count) - spawned
        kill_and_settle(api, app_id)
        return elapsed
    finally:
        driver.stdin.close()
        try:
            driver.wait(timeout=60)
        except subprocess.TimeoutExpired:
            driver.kill()


# ------------------------------------------------------------------ tracing
AM_MARKS = {"starting": "am_main", "registered;": "registered",
            "first container(s) granted": "first_granted",
            "all asked containers granted": "all_granted",
            "first container started": "first_started",
            "all granted containers started": "all_started"}


def am_log_times(api, app_id: str) -> dict[str, float]:
    attempt = api.app_attempts(app_id)[-1]
    logs = api.container_logs(attempt["containerId"], attempt["nodeHttpAddress"], ("am.stdout",))
    times = {}
    for line in logs["am.stdout"].splitlines():
        stamp, _, rest = line.partition(" knit-am: ")
        for prefix, key in AM_MARKS.items():
            if rest.startswith(prefix) and key not in times:
                times[key] = _epoch(stamp)
                jvm = re.search(r"JVM started (\S+?)\)", rest)
                if jvm:
                    times["am_jvm"] = _epoch(jvm.group(1))
    return times


def _epoch(stamp: str) -> float:
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{whole}.{(fraction or '0')[:6]:0<6}+00:00").timestamp()


def phases_of(api, report: dict, spawned: float, done: float) -> dict[str, float]:
    """Seconds since the process was spawned at which each phase ended."""
    marks, app_id = report["marks"], report["app_id"]
    points = {"python started": marks["process"], "knit imported": marks["imported"],
              "Knit() built": marks["constructed"]}
    for label, began, ended in report["spans"]:
        names = {"get_gateway": "client JVM ready", "preflight": "preflight checks",
                 "sweep_records": "records sweep", "stage": "staging checks",
                 "room_per_node": "node room", "fileStatus": "jar status",
                 "submit": "submitted (HDFS files + RPC)", "wait_running": "AM registered (seen)"}
        if label in names and names[label] not in points:
            points[names[label]] = ended
    info = api.status(app_id)
    points["RM accepted"] = info["startedTime"] / 1000
    am = am_log_times(api, app_id)
    for key, label in [("am_jvm", "AM JVM started"), ("am_main", "AM main()"),
                       ("registered", "AM registered"), ("first_granted", "first grant"),
                       ("all_granted", "last grant"), ("first_started", "first launch done"),
                       ("all_started", "last launch done")]:
        if key in am:
            points[label] = am[key]
    points["all RUNNING (NMs)"] = done
    return {label: at - spawned for label, at in sorted(points.items(), key=lambda p: p[1])}


def print_trace(count: int, phases: dict[str, float]) -> None:
    print(f"  trace, N={count} (seconds since the process was spawned):")
    previous = 0.0
    for label, at in phases.items():
        print(f"    {at:7.3f}  (+{at - previous:6.3f})  {label}")
        previous = at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 10, 50, 200])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--nodemanagers", type=int, default=4)
    parser.add_argument("--dir", default=os.path.expanduser("~/.knit/bench-cluster"))
    parser.add_argument("--trace", action="store_true", help="print knit's phases per size")
    parser.add_argument("--no-baselines", action="store_true", help="knit only (for --trace)")
    parser.add_argument("--keep-cluster", action="store_true", help="leave the cluster up")
    parser.add_argument("--without", nargs="*", default=[], choices=["locality", "prestart", "cds"],
                        help="measure knit without named asks / the background JVM start / the client JVM's class-data sharing archive")
    parser.add_argument("--knit024", metavar="VENV",
                        help="also time knit 0.2.4 from PyPI, installed into this virtualenv "
                             "if it is not there (e.g. ~/.knit/knit024-venv)")
    parser.add_argument("--before", metavar="PYTHON",
                        help="also time the knit that this Python imports (e.g. an earlier "
                             "commit installed in a virtualenv): the 'before' column")
    args = parser.parse_args()
    args.knit024_python = knit024_python(os.path.expanduser(args.knit024)) if args.knit024 else None
    cluster = LocalCluster(directory=args.dir, nodemanagers=args.nodemanagers, ports="free",
                           nodemanager_memory_mb=8192, nodemanager_vcores=64, extra_conf=STOCK,
                           progress=print).up()
    env = {**os.environ, **cluster.env()}
    os.environ.update(cluster.env())
    warm = Knit(progress=False)
    has_skein = importlib.util.find_spec("skein") is not None and not args.no_baselines
    if importlib.util.find_spec("skein") is None:
        print("Skein is not installed (pip install knit[bench]): no Skein column")
    print(f"{args.nodemanagers} NodeManagers, 1 s heartbeat; medians of {args.repeat}")
    print(f"{'N':>4} {'knit':>7} {'DS':>7} {'DS/knit':>8} {'Skein':>7} {'Sk/knit':>8} "
          f"{'0.2.4':>7} {'0.2.4/k':>8} {'warm':>7} {'client':>7}"
          + (f" {'before':>7} {'bef/knit':>8}" if args.before else ""))
    try:
        run(args, cluster, env, warm, has_skein)
    finally:
        if not args.keep_cluster:
            cluster.down()


def run(args, cluster: LocalCluster, env: dict, warm: Knit, has_skein: bool) -> None:
    api = warm.yarn_api
    time_knit_warm(warm, 1)  # the first start() of this process starts its JVM
    print(f"client JVM class-data sharing archive: {prepare_client_archive(api, env)}", flush=True)
    print(f"ApplicationMaster archives: {prepare_node_archives(cluster)}", flush=True)
    if args.before:
        subprocess.run([args.before, "-c", PLAIN_KNIT_WARM_UP], env=env, cwd="/tmp",
                       check=True, timeout=1800)
        print("the --before knit ran its first jobs (its archives made)", flush=True)
    for count in args.sizes:
        ours, shell, theirs, old, warm_total, client, before = [], [], [], [], [], [], []
        trace = {}
        for _ in range(args.repeat):
            elapsed, trace = time_knit_cold(api, env, count, args.trace, tuple(args.without))
            ours.append(elapsed)
            if not args.no_baselines:
                shell.append(time_distributedshell(api, cluster, env, count))
            if has_skein:
                theirs.append(time_skein_cold(api, env, count))
            if args.knit024_python:
                old.append(time_knit024_cold(api, env, count, args.knit024_python))
            if args.before:
                before.append(time_driver_cold(api, env, count, args.before, PLAIN_KNIT_DRIVER,
                                               "the --before knit"))
            overhead, total = time_knit_warm(warm, count)
            client.append(overhead)
            warm_total.append(total)
        knit_s = statistics.median(ours)
        line = f"{count:>4} {knit_s:>7.2f}"
        for other in (shell, theirs, old):
            line += (f" {statistics.median(other):>7.2f} {statistics.median(other) / knit_s:>8.2f}"
                     if other else f" {'-':>7} {'-':>8}")
        line += f" {statistics.median(warm_total):>7.2f} {statistics.median(client):>7.3f}"
        if before:
            line += f" {statistics.median(before):>7.2f} {statistics.median(before) / knit_s:>8.2f}"
        print(line, flush=True)
        if args.trace:
            print_trace(count, trace)


if __name__ == "__main__":
    main()
