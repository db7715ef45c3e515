"""Checks of single argument values, shared by the public constructors: each names the
argument and what it takes, before anything reaches the cluster."""

from __future__ import annotations

import math
import re

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


def launch_script_safe(name: str, value: str) -> str:
    """``value`` if YARN can pass it to the ApplicationMaster unquoted (in its launch
    script): no ``"``, ``$``, backquote, backslash or newline.

    Raises
    ------
    KnitValueError
    """
    if set(value) & set('"$`\\\n'):
        raise KnitValueError(f"{name} {value!r} cannot hold \", $, `, \\ or a newline: YARN "
                             "passes it to the ApplicationMaster unquoted")
    return value


#: A Hadoop user's short name, as YARN and HDFS accept and a launch script passes on.
_USER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,255}")


def hadoop_user_name(name: str, value) -> str | None:
    """``value``, a user's short name (``alice``, ``svc.etl``), or None.

    Raises
    ------
    KnitTypeError, KnitValueError
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise KnitTypeError(f"{name} must be a user name (str), not {type(value).__name__} {value!r}")
    if not _USER_NAME.fullmatch(value):
        raise KnitValueError(f"{name} {value!r} is not a user's short name: letters, digits, "
                             "'.', '_' and '-', not starting with '.' or '-' (no realm: "
                             "alice, not alice@EXAMPLE.COM)")
    return value


#: Bytes per unit of a memory size (Skein's units; none means MiB).
_BYTE_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12, "pb": 10**15,
               "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40, "pib": 2**50, "": 2**20}


def memory_mib(name: str, value) -> int:
    """A memory size in MiB, rounded up, from MiB as a number or a string with units
    (``"2 GiB"``, ``"512 MiB"``, ``"1.5 GB"``; a bare number is MiB).

    Raises
    ------
    KnitTypeError, KnitValueError

    Examples
    --------
    >>> memory_mib("memory", "2 GiB"), memory_mib("memory", "1 GB"), memory_mib("memory", 300)
    (2048, 954, 300)
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise KnitTypeError(f"{name} must be MiB as a number or a size such as '2 GiB', "
                            f"not {type(value).__name__} {value!r}")
    if isinstance(value, str):
        text = value.replace(" ", "").lower()
        number = text.rstrip("abcdefghijklmnopqrstuvwxyz")
        unit = text[len(number):]
        if unit not in _BYTE_UNITS or not number:
            raise KnitValueError(f"{name}: cannot read {value!r} as a memory size; write a number "
                                 "of MiB or one with a unit: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB")
        try:
            amount = float(number)
        except ValueError:
            raise KnitValueError(f"{name}: {number!r} in {value!r} is not a number") from None
        value = amount * _BYTE_UNITS[unit] / 2**20
    if not math.isfinite(value) or value < 1:
        raise KnitValueError(f"{name} must be at least 1 MiB, not {value!r}")
    return math.ceil(value)
