"""knit.progress.Bar: moves forward only, never past its total, safe from threads."""

from __future__ import annotations

import threading

from knit.progress import Bar


class Drawn:
    def __init__(self):
        self.n = 0

    def update(self, count: int) -> None:
        self.n += count

    def refresh(self) -> None:
        pass


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


def test_the_finished_bar_is_drawn_even_right_after_a_redraw():
    import io

    from tqdm import tqdm

    out = io.StringIO()
    with tqdm(total=10, file=out, mininterval=60, leave=False) as drawn:  # no redraw due
        bar = Bar(10, drawn)
        bar.to(4)
        assert "10/10" not in out.getvalue()
        bar.to(10)
        assert "10/10" in out.getvalue()
