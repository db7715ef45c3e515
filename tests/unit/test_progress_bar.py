"""knit.progress.Bar: moves forward only, never past its total, safe from threads."""

from __future__ import annotations

import threading

from knit.progress import Bar


class Drawn:
    def __init__(self):
        self.n = 0

    def update(self, count: int) -> None:
        self.n += count


def test_a_bar_moves_forward_only_and_stops_at_its_total():
    drawn = Drawn()
    bar = Bar(10, drawn)
    bar.to(4)
    bar.to(2)          # a count that went down (a worker left) draws nothing
    assert (bar.done, drawn.n) == (4, 4)
    bar.to(25)
    assert (bar.done, drawn.n) == (10, 10)


def test_adds_from_many_threads_are_all_counted():
    drawn = Drawn()
    bar = Bar(None, drawn)
    threads = [threading.Thread(target=lambda: [bar.add(1) for _ in range(1000)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert bar.done == drawn.n == 8000
    unwatched = Bar(5)  # nobody watching: nothing drawn, still counted
    unwatched.to(3)
    assert unwatched.done == 3
