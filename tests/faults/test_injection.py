"""Values reach containers byte-for-byte, and names YARN cannot carry are refused."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import pytest

from knit import Knit

from ..integration.waiting import worker_logs

QUIET = {"progress": False}
HOSTILE = ['say "hi"', "$(touch /tmp/knit-pwned-env)", "`touch /tmp/knit-pwned-env`",
           "back\\slash 'single' \"double\"", "line one\nline two\ttab", "ünïcode 😀", " "]


@pytest.fixture(scope="module")
def knit(cluster_environ):
    return Knit(**QUIET)


def test_envvars_arrive_byte_for_byte_and_run_nothing(knit):
    envvars = {f"V{i}": value for i, value in enumerate(HOSTILE)}
    # The AM gets its own environment: a PATH for the workers cannot break it.
    envvars["PATH"] = "/usr/bin:/bin:/knit/not/there"
    cmd = " ; ".join(f'printf %s "$V{i}" | sha256sum' for i in range(len(HOSTILE)))
    knit.start(cmd + ' ; echo "PATH=$PATH"', envvars=envvars)
    assert knit.wait_for_completion(120)
    out = next(iter(worker_logs(knit).values()))["stdout"]
    sums = [line.split()[0] for line in out.splitlines()[:-1]]
    assert sums == [hashlib.sha256(v.encode()).hexdigest() for v in HOSTILE]
    assert out.splitlines()[-1] == "PATH=/usr/bin:/bin:/knit/not/there"
    assert not Path("/tmp/knit-pwned-env").exists()


@pytest.mark.parametrize("name", ['say"hi".txt', "$(touch knit-pwned).txt", "`id`.txt",
                                  "back\\slash.txt", "colon:name.txt"])
def test_file_names_yarn_cannot_carry_are_refused_before_submission(knit, tmp_path, name):
    path = tmp_path / name
    path.write_text("x")
    before = len(knit.yarn_api.apps)
    with pytest.raises(ValueError, match="cannot be a file name in a YARN container"):
        knit.start("true", files=[str(path)])
    assert len(knit.yarn_api.apps) == before


def test_ordinary_odd_names_arrive_intact(knit, tmp_path):
    name = f"with space, comma & 'quote' {uuid.uuid4().hex[:6]}.txt"
    (tmp_path / name).write_text("content\n")
    knit.start("cat -- \"$(ls | grep -F 'with space')\"", files=[str(tmp_path / name)])
    assert knit.wait_for_completion(120)
    assert next(iter(worker_logs(knit).values()))["stdout"] == "content\n"
