"""One way to wait for something: poll a check until it holds or time runs out."""

from __future__ import annotations

import time
from typing import Callable, TypeVar

from .exceptions import KnitTimeoutError

T = TypeVar("T")


def wait_until(check: Callable[[], T], timeout: float, interval: float = 0.2,
               what: str | Callable[[], str] = "the condition") -> T:
    """Call ``check`` every ``interval`` s until it returns something true; return that.

    Parameters
    ----------
    check : callable
        Returns a false value to go on waiting; may raise to stop the wait.
    timeout : float
        Seconds before giving up (``float('inf')`` waits for ever).
    what : str or callable
        What was awaited, for the timeout's message (a callable is asked only
        then, so it can describe the last state seen).

    Raises
    ------
    KnitTimeoutError
        ``check`` stayed false for ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() >= deadline:
            described = what() if callable(what) else f"{what} did not happen"
            raise KnitTimeoutError(f"{described} (waited {timeout:.0f} s)")
        time.sleep(max(0.0, min(interval, deadline - time.monotonic())))
