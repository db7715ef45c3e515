"""Knit's own settings are checked at construction, each naming itself (audit item 15:
they were coerced, then submitted, then timed out)."""

from __future__ import annotations

import math

import pytest

from knit import Knit
from knit.arguments import port, seconds
from knit.exceptions import KnitTypeError, KnitValueError


@pytest.mark.parametrize("kwargs, error, match", [
    ({"am_memory": 2.9}, KnitTypeError, "am_memory must be a whole number"),
    ({"am_memory": True}, KnitTypeError, "am_memory must be a whole number"),
    ({"am_memory": "abc"}, KnitTypeError, "am_memory must be a whole number"),
    ({"am_vcores": 0}, KnitValueError, "am_vcores must be at least 1"),
    ({"am_max_attempts": 0}, KnitValueError, "am_max_attempts must be at least 1"),
    ({"am_max_attempts": -1}, KnitValueError, "am_max_attempts must be at least 1"),
    ({"client_timeout": -5}, KnitValueError, "client_timeout must be a finite number"),
    ({"allocation_timeout": -1}, KnitValueError, "allocation_timeout must be a finite number"),
    ({"start_timeout": -1}, KnitValueError, "start_timeout must be a finite number"),
    ({"start_timeout": 0}, KnitValueError, "start_timeout must be a finite number"),
    ({"start_timeout": math.nan}, KnitValueError, "start_timeout must be a finite number"),
    ({"start_timeout": math.inf}, KnitValueError, "start_timeout must be a finite number"),
    ({"rm_port": "abc"}, KnitTypeError, "rm_port must be a port number"),
    ({"nn_port": 70000}, KnitValueError, "nn_port must be a port from 1 to 65535"),
    ({"replication_factor": 0}, KnitValueError, "replication_factor must be at least 1"),
])
def test_bad_settings_are_refused_at_construction(kwargs, error, match):
    with pytest.raises(error, match=match):
        Knit(autodetect=False, progress=False, **kwargs)


def test_ports_from_configuration_files_may_be_strings():
    assert port("rm_port", "8088") == 8088 and port("nn_port", 9000) == 9000
    assert seconds("client_timeout", 0, zero_means="no limit") == 0.0


def test_waits_see_the_last_value_and_polls_return_it():
    import asyncio

    from knit.exceptions import KnitTimeoutError
    from knit.waiting import async_wait_until, poll, wait_until

    values = iter(range(100))
    assert wait_until(lambda: next(values), 5, interval=0, until=lambda v: v >= 3) == 3
    with pytest.raises(KnitTimeoutError, match=r"still 0 \(waited 0 s\)"):
        wait_until(lambda: 0, 0.05, interval=0.01, what=lambda last: f"still {last}")
    assert poll(lambda: ["busy"], 0.05, interval=0.01, until=lambda left: not left) == ["busy"]

    async def count():
        count.n += 1
        return count.n
    count.n = 0
    assert asyncio.run(async_wait_until(count, 5, interval=0, until=lambda n: n == 4)) == 4
    with pytest.raises(KnitTimeoutError, match="seen 2"):
        asyncio.run(async_wait_until(count, 0, what=lambda n: f"seen {n - 3}", until=lambda n: False))


def test_crash_loop_settings_are_checked_before_submission():
    from knit.spec import LaunchSpec

    with pytest.raises(KnitValueError, match="max_start_failures must be at least 0"):
        LaunchSpec(cmd="true", max_start_failures=-1)
    with pytest.raises(KnitTypeError, match="start_grace must be a number of seconds"):
        LaunchSpec(cmd="true", start_grace="60")
    assert LaunchSpec(cmd="true", max_start_failures=3, start_grace=90).start_grace == 90.0


def test_unknown_knit_options_are_refused_by_name():
    with pytest.raises(TypeError, match="unexpected keyword argument 'rm_prot'"):
        Knit(autodetect=False, rm_prot=8088)
