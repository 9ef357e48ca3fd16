"""Progress for long work: a live line on a terminal, plain log lines (every few seconds) otherwise."""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable
from typing import TextIO

# The ETA divides what is left by the rate of about the last this many seconds, not by the average since
# the start: work that slows down as it goes (a devnet whose every block costs more as its state grows)
# would otherwise be promised minutes too early.
RECENT_SECONDS = 30.0


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    def __init__(
        self,
        label: str,
        total: int,
        unit: str,
        stream: TextIO | None = None,
        log_every: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = max(total, 1)
        self.unit = unit
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.log_every = log_every
        self.done = 0
        self.counters: dict[str, int] = {}
        self._clock = clock
        self.started = clock()
        self._last_shown = 0.0
        # (time, done) samples; the first is the newest one at least RECENT_SECONDS old, or the start
        self._recent: deque[tuple[float, int]] = deque([(self.started, 0)])

    def advance(self, n: int = 1, **counters: int) -> None:
        self.done += n
        for name, value in counters.items():
            self.counters[name] = self.counters.get(name, 0) + value
        now = self._clock()
        self._recent.append((now, self.done))
        while len(self._recent) > 2 and now - self._recent[1][0] >= RECENT_SECONDS:
            self._recent.popleft()
        if now - self._last_shown >= (0.2 if self.tty else self.log_every):
            self._last_shown = now
            self._show(final=False)

    def finish(self) -> None:
        self._show(final=True)

    def rate(self, name: str | None = None) -> float:
        """Units (or counter `name`) per second since the start."""
        elapsed = max(self._clock() - self.started, 1e-9)
        return (self.counters.get(name, 0) if name else self.done) / elapsed

    def eta(self) -> float:
        """Seconds left at the rate of about the last RECENT_SECONDS."""
        since, done_then = self._recent[0]
        recent = (self.done - done_then) / max(self._clock() - since, 1e-9)
        return (self.total - self.done) / recent if recent > 0 else 0.0

    def _show(self, final: bool) -> None:
        elapsed = self._clock() - self.started
        rate = self.rate()
        eta = self.eta()
        extras = "".join(f", {self.rate(name):,.0f} {name}/s" for name in self.counters)
        pct = 100.0 * self.done / self.total
        line = (
            f"{self.label}: {self.done:,}/{self.total:,} {self.unit} ({pct:.0f}%), "
            f"{rate:,.0f} {self.unit}/s{extras}, "
            + (f"took {_duration(elapsed)}" if final else f"ETA {_duration(eta)}")
        )
        if self.tty:
            filled = int(24 * min(self.done, self.total) / self.total)
            bar = "[" + "#" * filled + "-" * (24 - filled) + "] "
            self.stream.write("\r\033[K" + bar + line + ("\n" if final else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
