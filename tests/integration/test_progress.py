"""Progress on long waits: one-line messages for logs and pipes, a live bar where a
person watches (a terminal), nothing with ``progress=False``."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import time

from knit import Knit

SCRIPT = """
import sys
from knit import Knit
big = sys.argv[1]
k = Knit(progress=print, upload_always=True)
k.start("true", files=[big])
k.wait_for_completion(120)
print("QUIET-FROM-HERE", flush=True)
quiet = Knit(progress=False, upload_always=True)
quiet.start("true", files=[big])
quiet.wait_for_completion(120)
print("DONE", flush=True)
"""


def test_uploads_say_size_time_and_rate(cluster_environ, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * 2**20))
    lines: list[str] = []
    with Knit(progress=lines.append, upload_always=True) as k:
        k.start("test -s big.bin", files=[str(big)])
        assert k.wait_for_completion(120)
    assert "uploading big.bin (12.0 MB)" in lines
    uploaded = next(line for line in lines if line.startswith("uploaded big.bin"))
    assert "12.0 MB in" in uploaded and uploaded.endswith("MB/s)")


def in_terminal(args: list[str], timeout: float = 300) -> str:
    """Run ``args`` with a terminal (30 x 120) as stdout and stderr; what it showed."""
    main, terminal = pty.openpty()
    # A new pty is 0 x 0, where tqdm draws nothing.
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 120, 0, 0))
    child = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=terminal, stderr=terminal,
                             close_fds=True)
    os.close(terminal)
    seen = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    os.close(main)
    text = seen.decode(errors="replace")
    assert child.wait(timeout=60) == 0, text[-3000:]
    return text


def test_a_terminal_gets_a_bar_and_progress_false_gets_nothing(cluster_environ, tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(12 * 2**20))
    loud, quiet = in_terminal([sys.executable, "-c", SCRIPT, str(big)]).split("QUIET-FROM-HERE", 1)
    assert "uploading big.bin: " in loud and "12.0M/12.0M" in loud  # tqdm's bar, finished
    assert "uploaded big.bin: 12.0 MB in" in loud
    assert "DONE" in quiet and "big.bin" not in quiet and "%|" not in quiet


def test_cluster_start_and_containers_starting_show_bars(tmp_path):
    knit = [sys.executable, "-m", "knit"]
    folder = str(tmp_path / "cluster")
    up = in_terminal([*knit, "cluster", "up", "--dir", folder, "--free-ports",
                      "--nodemanagers", "1"])
    try:
        assert "cluster starting: " in up and "4/4" in up
        env = dict(line.removeprefix("export ").split("=", 1) for line in subprocess.run(
            [*knit, "cluster", "env", "--dir", folder], capture_output=True, text=True,
            check=True, timeout=60).stdout.splitlines())
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            ran = in_terminal([*knit, "run", "-n", "2", "echo ran"])
        finally:
            os.environ.clear()
            os.environ.update(saved)
        assert "containers started: " in ran and "2/2" in ran and ran.count("ran\r\n") >= 2
    finally:
        subprocess.run([*knit, "cluster", "down", "--dir", folder], capture_output=True,
                       timeout=120)
