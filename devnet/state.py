"""The devnet state file (`<state_dir>/devnet.json`): which node `chainseg devnet up` started."""

from __future__ import annotations

import json
import os
from pathlib import Path

from devnet.node import NodeInfo, is_running


def state_file(state_dir: Path) -> Path:
    return state_dir / "devnet.json"


def read_state(state_dir: Path) -> NodeInfo | None:
    """The recorded node if it is still running; a stale record (process gone) reads as None."""
    path = state_file(state_dir)
    try:
        raw = json.loads(path.read_text())
        info = NodeInfo(pid=raw["pid"], port=raw["port"], chain_id=raw["chain_id"], log_path=raw["log_path"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return info if is_running(info) else None


def write_state(state_dir: Path, info: NodeInfo) -> None:
    path = state_file(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(info.to_dict(), indent=2) + "\n")
    os.replace(tmp, path)  # atomic: a reader never sees half a file


def clear_state(state_dir: Path) -> None:
    state_file(state_dir).unlink(missing_ok=True)
