"""Run a tool in its own process group and measure it: wall seconds and peak RSS, with a time limit.

Shared by the benchmarks; Ctrl-C or a failure elsewhere calls `kill_started()` so nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

TOOL_TIMEOUT = 15 * 60.0  # seconds per tool run (and per pip install)
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None  # `apt-get install time`

_started_groups: set[int] = set()


def kill_started() -> None:
    """Kill every process group this benchmark started and that may still run."""
    for pgid in list(_started_groups):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
        _started_groups.discard(pgid)


def measure(argv: list[str], log_path: Path, cwd: Path, timeout: float = TOOL_TIMEOUT) -> tuple[float, float]:
    """Run argv to completion in its own process group (killed after `timeout` seconds); returns (wall
    seconds, peak RSS MB).

    Peak RSS comes from GNU `time -v` ("Maximum resident set size") where /usr/bin/time exists, else from
    polling /proc every 50 ms (the RSS of the process and its descendants, summed). Not from os.wait4 here:
    a child's ru_maxrss starts at the RSS of the process that forked it (this one, with the seeder loaded).
    """
    rss_file = log_path.with_suffix(".time")
    wrapped = [GNU_TIME, "-v", "-o", str(rss_file), *argv] if GNU_TIME else argv
    with open(log_path, "ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            wrapped,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a timeout or Ctrl-C kills the tool with it
        )
    _started_groups.add(process.pid)
    timed_out, done = threading.Event(), threading.Event()
    polled = [0]

    def stop() -> None:
        timed_out.set()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    def poll() -> None:
        while not done.wait(0.05):
            polled[0] = max(polled[0], tree_rss_kb(process.pid))

    timer = threading.Timer(timeout, stop)
    timer.start()
    poller = threading.Thread(target=poll, daemon=True)
    if not GNU_TIME:
        poller.start()
    try:
        code = process.wait()
        wall = time.perf_counter() - started
    finally:
        timer.cancel()
        done.set()
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # anything it left behind in its group
        _started_groups.discard(process.pid)
    if code != 0:
        why = f"exited with {code}"
        if timed_out.is_set():
            why = f"was stopped after {timeout / 60:g} minutes"
        tail = log_path.read_text(errors="replace").strip().splitlines()[-5:]
        raise RuntimeError(f"{argv[0]} {why}; last lines of {log_path}:\n  " + "\n  ".join(tail))
    if not GNU_TIME:
        poller.join()
        return wall, polled[0] / 1024
    for line in rss_file.read_text().splitlines():
        if "Maximum resident set size" in line:
            return wall, int(line.rsplit(":", 1)[1]) / 1024
    raise RuntimeError(f"no peak memory in {rss_file}")


def tree_rss_kb(root: int) -> int:
    """VmRSS of `root` and all its descendants, summed (kB); 0 for processes that are gone."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        with contextlib.suppress(OSError, ValueError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total
