"""Progress for long work: a live line on a terminal, plain log lines (every few seconds) otherwise."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    def __init__(
        self, label: str, total: int, unit: str, stream: TextIO | None = None, log_every: float = 5.0
    ) -> None:
        self.label = label
        self.total = max(total, 1)
        self.unit = unit
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.log_every = log_every
        self.done = 0
        self.counters: dict[str, int] = {}
        self.started = time.monotonic()
        self._last_shown = 0.0

    def advance(self, n: int = 1, **counters: int) -> None:
        self.done += n
        for name, value in counters.items():
            self.counters[name] = self.counters.get(name, 0) + value
        now = time.monotonic()
        if now - self._last_shown >= (0.2 if self.tty else self.log_every):
            self._last_shown = now
            self._show(final=False)

    def finish(self) -> None:
        self._show(final=True)

    def rate(self, name: str | None = None) -> float:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        return (self.counters.get(name, 0) if name else self.done) / elapsed

    def _show(self, final: bool) -> None:
        elapsed = time.monotonic() - self.started
        rate = self.rate()
        eta = (self.total - self.done) / rate if rate > 0 else 0.0
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
