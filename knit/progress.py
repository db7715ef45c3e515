"""Progress bars for long waits: live on a terminal and in Jupyter, silent elsewhere.

Where output is neither a terminal nor a notebook (a log file, a pipe, CI), callers
report with their one-line ``progress`` messages only; the bar does nothing.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Iterator


def say(message: str) -> None:
    """Tell the person at the command line: ``knit: MESSAGE`` on stderr (the CLI's
    progress callable)."""
    print(f"knit: {message}", file=sys.stderr, flush=True)


class Bar:
    """What a long wait reports to: :meth:`to` moves it forward to a count (never
    back, never past ``total``); it draws only where someone watches."""

    def __init__(self, total: int | None, drawn=None):
        self.total, self.done, self._drawn = total, 0, drawn
        self._lock = threading.Lock()

    def to(self, done: int) -> None:
        """``done`` of ``total`` (bytes, workers, steps) are done."""
        with self._lock:
            self._move(done)

    def add(self, count: int) -> None:
        """``count`` more are done (from any thread)."""
        with self._lock:
            self._move(self.done + count)

    def _move(self, done: int) -> None:
        done = done if self.total is None else min(done, self.total)
        if done > self.done:
            if self._drawn is not None:
                self._drawn.update(done - self.done)
                if done == self.total:  # tqdm skips redraws within 0.1 s: show the end
                    self._drawn.refresh()
            self.done = done


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel."""
    shell = sys.modules.get("IPython")
    get_ipython = getattr(shell, "get_ipython", None)
    return bool(get_ipython and type(get_ipython()).__name__ == "ZMQInteractiveShell")


def interactive() -> bool:
    """Whether a person is watching: stderr is a terminal, or this is Jupyter."""
    return in_notebook() or (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


@contextlib.contextmanager
def byte_bar(total: int, description: str, enabled: bool = True) -> Iterator[Bar]:
    """A bar counting ``total`` bytes (with rate and time left), if someone watches."""
    with _bar(enabled, total=total, desc=description, unit="B", unit_scale=True,
              unit_divisor=1024) as drawn:
        yield Bar(total, drawn)


@contextlib.contextmanager
def count_bar(total: int, description: str, unit: str, enabled: bool = True) -> Iterator[Bar]:
    """A bar counting ``total`` things (workers, containers), if someone watches."""
    with _bar(enabled, total=total, desc=description, unit=f" {unit}") as drawn:
        yield Bar(total, drawn)


@contextlib.contextmanager
def _bar(enabled: bool, **options):
    """A tqdm bar, or None where nobody watches."""
    if not (enabled and interactive()):
        yield None
        return
    if in_notebook():
        from tqdm.auto import tqdm  # a widget where ipywidgets is installed
    else:
        from tqdm import tqdm
    with tqdm(leave=False, file=sys.stderr, **options) as bar:
        yield bar


@contextlib.contextmanager
def activity(description: str, enabled: bool = True) -> Iterator[None]:
    """A line showing ``description`` and the time it has taken so far, redrawn
    twice a second until the block ends, if someone watches (for waits whose length
    nothing measures, such as an environment build)."""
    if not (enabled and interactive()):
        yield
        return
    with _bar(True, total=None, desc=description, bar_format="{desc} {elapsed}") as bar:
        done = threading.Event()

        def redraw() -> None:
            while not done.wait(0.5):
                bar.refresh()

        ticker = threading.Thread(target=redraw, name="knit-activity", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            done.set()
            ticker.join()
