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
