"""A second real Unix user of the session's cluster, for the two-user tests.

The suite runs as one unprivileged user (A); ``tools/test.sh`` creates a second one (B,
``$KNIT_OTHER_USER``) and lets A run commands as B through ``sudo -n -u B``. B uses
the same knit installation and the same cluster configuration, with B's own identity:
B's Unix login for HDFS and YARN RPC, ``user.name=B`` for the web APIs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass

import pytest


@dataclass
class OtherUser:
    name: str
    environ: dict[str, str]

    def run(self, args: list[str], timeout: float = 120) -> subprocess.CompletedProcess:
        """Run ``args`` as this user, with the cluster's environment."""
        assignments = [f"{key}={value}" for key, value in self.environ.items()]
        return subprocess.run(["sudo", "-n", "-u", self.name, "--", "env", "-i", *assignments,
                               *args], capture_output=True, text=True, errors="replace",
                              timeout=timeout,
                              check=False)

    def python(self, code: str, timeout: float = 180):
        """Run Python ``code`` as this user; it sets ``result``, returned from JSON."""
        program = textwrap.dedent(code) + "\nimport json as _j; print('RESULT=' + _j.dumps(result))"
        done = self.run([sys.executable, "-c", program], timeout=timeout)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT=")]
        assert done.returncode == 0 and lines, f"as {self.name}: {done.stderr[-3000:]}"
        return json.loads(lines[-1].removeprefix("RESULT="))

    def hdfs(self, *args: str, hadoop_home) -> subprocess.CompletedProcess:
        return self.run([str(hadoop_home / "bin" / "hdfs"), "dfs", *args])


def other_user(cluster) -> OtherUser:
    """The second user, given an HDFS home on ``cluster``; skipped (failed on CI) when
    the machine has none, as when not run through ``tools/test.sh``."""
    name = os.environ.get("KNIT_OTHER_USER", "")
    probe = subprocess.run(["sudo", "-n", "-u", name, "true"], capture_output=True, text=True,
                           timeout=30, check=False) if name else None
    if probe is None or probe.returncode != 0:
        why = ("no second user: run the suite through tools/test.sh (as root it creates "
               f"one), or set KNIT_OTHER_USER to a user you may `sudo -n -u` "
               f"({probe.stderr.strip() if probe else 'KNIT_OTHER_USER is not set'})")
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)
    cluster.add_user(name)
    environ = {"HOME": f"/home/{name}", "USER": name, "LOGNAME": name, "LANG": "C.UTF-8",
               **cluster.env(), "PATH": f"{cluster.hadoop_home / 'bin'}:/usr/local/bin:/usr/bin:/bin"}
    return OtherUser(name, environ)
