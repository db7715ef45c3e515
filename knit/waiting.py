"""One way to wait for something: poll until it holds or time runs out (in a thread,
or on an event loop), with the last value seen at hand for the message."""

from __future__ import annotations

import asyncio
import time
from typing import Awaitable, Callable, TypeVar

from .exceptions import KnitTimeoutError

T = TypeVar("T")


def _timed_out(what: str | Callable[[T | None], str], last: T | None, timeout: float) -> KnitTimeoutError:
    described = what(last) if callable(what) else f"{what} did not happen"
    return KnitTimeoutError(f"{described} (waited {timeout:.0f} s)")


def wait_until(check: Callable[[], T], timeout: float, interval: float = 0.2,
               what: str | Callable[[T | None], str] = "the condition",
               until: Callable[[T], bool] = bool) -> T:
    """Call ``check`` every ``interval`` s until ``until`` holds for what it returns;
    return that.

    Parameters
    ----------
    check : callable
        Returns the value looked at; may raise to stop the wait.
    timeout : float
        Seconds before giving up (``float('inf')`` waits for ever).
    what : str or callable
        What was awaited, for the timeout's message; a callable is given the last
        value ``check`` returned (None if it never returned), so the message can say
        what was seen.
    until : callable
        Whether a value ends the wait (default: it is true).

    Raises
    ------
    KnitTimeoutError
        ``until`` did not hold within ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = check()
        if until(last):
            return last
        if time.monotonic() >= deadline:
            raise _timed_out(what, last, timeout)
        time.sleep(max(0.0, min(interval, deadline - time.monotonic())))


async def async_wait_until(check: Callable[[], Awaitable[T]], timeout: float,
                           interval: float = 0.2,
                           what: str | Callable[[T | None], str] = "the condition",
                           until: Callable[[T], bool] = bool) -> T:
    """:func:`wait_until` on an event loop: ``check`` is a coroutine function, and the
    loop runs other tasks between looks."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last = None
    while True:
        last = await check()
        if until(last):
            return last
        if loop.time() >= deadline:
            raise _timed_out(what, last, timeout)
        await asyncio.sleep(max(0.0, min(interval, deadline - loop.time())))


def poll(check: Callable[[], T], timeout: float, interval: float = 0.1,
         until: Callable[[T], bool] = bool) -> T:
    """Like :func:`wait_until`, but at the timeout return the last value instead of
    raising (for waits that go on to act, such as a SIGKILL after a grace period)."""
    try:
        return wait_until(check, timeout, interval, until=until)
    except KnitTimeoutError:
        return check()
