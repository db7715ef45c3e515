"""Many applications at once on a full cluster, and environments built concurrently."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
import traceback

from knit import Knit

QUIET = {"progress": False}


def test_twenty_applications_from_four_threads_on_a_full_cluster(cluster_environ):
    filler = Knit(**QUIET)
    total = filler.yarn_api.cluster_metrics()["totalMB"]
    # Hold nearly all memory: the others are accepted and wait, not refused.
    filler.start("sleep 600", num_containers=max(1, total // 1024 - 2), memory=1024,
                 keep_alive=True)
    results, errors = [], []

    def submit_five():
        try:
            for _ in range(5):
                k = Knit(**QUIET)
                k.start("echo ok", memory=128)
                results.append(k.wait_for_completion(300))
        except Exception:  # noqa: BLE001 - reported below
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=submit_five) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(10)
    filler.kill()  # room frees up; the waiting applications run
    for thread in threads:
        thread.join(600)
    assert not errors
    assert results == [True] * 20


def test_two_processes_building_one_environment_both_get_it(tmp_path):
    code = textwrap.dedent(f"""
        from knit.conda import CondaCreator
        print(CondaCreator(conda_envs={str(tmp_path)!r}, backend="pip").create_env("shared", packages=[]))
    """)
    children = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [child.communicate(timeout=600) for child in children]
    assert [child.returncode for child in children] == [0, 0], outputs
    paths = {out.strip().splitlines()[-1] for out, _ in outputs}
    assert paths == {str(tmp_path / "shared.zip")}
