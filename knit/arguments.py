"""Checks of single argument values, shared by the public constructors: each names the
argument and what it takes, before anything reaches the cluster."""

from __future__ import annotations

import math

from .exceptions import KnitTypeError, KnitValueError


def whole_number(name: str, value, minimum: int = 1) -> int:
    """``value`` if it is an int (not a bool) of at least ``minimum``.

    Raises
    ------
    KnitTypeError, KnitValueError
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise KnitTypeError(f"{name} must be a whole number, not {type(value).__name__} {value!r}")
    if value < minimum:
        raise KnitValueError(f"{name} must be at least {minimum}, not {value}")
    return value


def seconds(name: str, value, zero_means: str | None = None) -> float:
    """``value`` as a finite, positive number of seconds (0 too, when ``zero_means``
    says what it means).

    Raises
    ------
    KnitTypeError, KnitValueError
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise KnitTypeError(f"{name} must be a number of seconds, not {type(value).__name__} "
                            f"{value!r}")
    if not math.isfinite(value) or value < 0 or (value == 0 and zero_means is None):
        allowed = f"0 ({zero_means}) or more" if zero_means else "more than 0"
        raise KnitValueError(f"{name} must be a finite number of seconds, {allowed}; not {value!r}")
    return float(value)


def port(name: str, value) -> int:
    """A TCP port given as an int or a string of digits (as configuration files give it).

    Raises
    ------
    KnitTypeError, KnitValueError
    """
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise KnitTypeError(f"{name} must be a port number, not {type(value).__name__} {value!r}")
    if not 1 <= value <= 65535:
        raise KnitValueError(f"{name} must be a port from 1 to 65535, not {value}")
    return value
