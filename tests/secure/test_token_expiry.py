"""A keep-alive application outlives its delegation tokens' maximum lifetime when knit
has the user's keytab: the ApplicationMaster fetches new tokens, and containers it
starts late still read HDFS. (The cluster's tokens here live 2 minutes, renewable
every minute; a real cluster's live days.)"""

from __future__ import annotations

import getpass
import time

from knit import Knit

from ..integration.waiting import wait_for
from .conftest import TOKEN_MAX_LIFETIME_MS
from .test_secure_knit import hdfs

QUIET = {"progress": False}


def probe_command(path: str) -> str:
    """Read ``path`` from HDFS every few seconds, printing ok/failed each time."""
    read = f"hdfs dfs -cat {path} >/dev/null 2>&1"
    return f"while true; do if {read}; then echo ok; else echo failed; fi; sleep 5; done"


def lines(k: Knit) -> dict[str, list[str]]:
    """Each worker's stdout lines (live, from its NodeManager)."""
    return {c: f["stdout"].split() for c, f in k.logs().items()
            if not c.endswith("_000001") and f.get("stdout")}


def test_a_keytab_keeps_a_long_running_application_reading_hdfs(secure_environ):
    cluster, user = secure_environ, getpass.getuser()
    path = f"/user/{user}/token-probe.txt"
    hdfs(cluster, "-put", "-f", "-", path, stdin="probe\n")
    with_keytab = Knit(principal=cluster.realm.user_principal(user),
                       keytab=str(cluster.realm.keytab(user)), **QUIET)
    with_ticket = Knit(**QUIET)  # tokens from submission only, renewed by YARN
    started = time.monotonic()
    try:
        for k in (with_keytab, with_ticket):
            k.start(probe_command(path), num_containers=1, keep_alive=True)
        for k in (with_keytab, with_ticket):
            first = wait_for(lambda: (seen := lines(k)) and seen, timeout=90,
                             what="the first probe's output")
            assert list(first.values())[0][0] == "ok"
        # Past the tokens' maximum lifetime, no token issued at the start works.
        time.sleep(max(0.0, TOKEN_MAX_LIFETIME_MS / 1000 + 15 - (time.monotonic() - started)))
        for k in (with_keytab, with_ticket):
            k.add_containers(1)
        for k, expected in ((with_keytab, "ok"), (with_ticket, "failed")):
            late = wait_for(lambda: len(seen := lines(k)) == 2 and seen, timeout=90,
                            what="the late container's first probe")
            newest = max(late)  # container ids grow: the one added last
            assert late[newest][0] == expected, (expected, late)
        # The first container's own tokens lapsed too, whoever started it.
        early = min(lines(with_ticket).items())[1]
        assert early[0] == "ok" and early[-1] == "failed"
    finally:
        for k in (with_keytab, with_ticket):
            k.kill()
