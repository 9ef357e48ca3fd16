"""The progress line's rates and ETA, on a clock the test moves (the arithmetic, not the terminal)."""

from __future__ import annotations

import io

from chainseg.progress import Progress


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_eta_follows_the_recent_rate_when_work_slows_down() -> None:
    """50 units in the first 10 s, then 1 unit every 4 s for 40 s: the average since the start (1.2/s)
    would promise the last 40 units in 33 s; at the last 30 s's rate (0.25/s) they take 160 s."""
    clock, out = Clock(), io.StringIO()
    progress = Progress("work", 100, "units", stream=out, log_every=0.0, clock=clock)
    for _ in range(50):
        clock.now += 0.2
        progress.advance(1)
    for _ in range(10):
        clock.now += 4.0
        progress.advance(1, items=2)
    last = out.getvalue().splitlines()[-1]
    assert last == "work: 60/100 units (60%), 1 units/s, 0 items/s, ETA 0:02:40"
    assert round(progress.rate(), 3) == 1.2 and round(progress.rate("items"), 3) == 0.4
    progress.finish()
    assert out.getvalue().splitlines()[-1].endswith("took 0:00:50")


def test_steady_work_gives_the_same_eta_either_way() -> None:
    clock, out = Clock(), io.StringIO()
    progress = Progress("steady", 1000, "blocks", stream=out, log_every=0.0, clock=clock)
    for _ in range(200):
        clock.now += 0.5
        progress.advance(2)
    assert out.getvalue().splitlines()[-1] == "steady: 400/1,000 blocks (40%), 4 blocks/s, ETA 0:02:30"
