"""Progress bars for long waits: live on a terminal and in Jupyter, silent elsewhere.

Where output is neither a terminal nor a notebook (a log file, a pipe, CI), callers
report with their one-line ``progress`` messages only; the bar does nothing.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from typing import Iterator, Protocol


def say(message: str) -> None:
    """Tell the person at the command line: ``knit: MESSAGE`` on stderr (the CLI's
    progress callable)."""
    print(f"knit: {message}", file=sys.stderr, flush=True)


class Bar(Protocol):
    def update(self, n: int = 1) -> object: ...


class _Silent:
    def update(self, n: int = 1) -> None:
        """Nothing to show."""


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
              unit_divisor=1024) as bar:
        yield bar


@contextlib.contextmanager
def count_bar(total: int, description: str, unit: str, enabled: bool = True) -> Iterator[Bar]:
    """A bar counting ``total`` things (workers, containers), if someone watches."""
    with _bar(enabled, total=total, desc=description, unit=f" {unit}") as bar:
        yield bar


@contextlib.contextmanager
def _bar(enabled: bool, **options) -> Iterator[Bar]:
    if not (enabled and interactive()):
        yield _Silent()
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
