"""Start, probe and stop a local anvil node bound to 127.0.0.1."""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import requests

from chainseg.errors import UserError

HOST = "127.0.0.1"  # never 0.0.0.0: the node has unlocked accounts and impersonation on
PROJECT_ROOT = Path(__file__).resolve().parent.parent
NPM_PREFIX = PROJECT_ROOT / ".tools"


@dataclass(frozen=True)
class NodeInfo:
    pid: int
    port: int
    chain_id: int
    log_path: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "url": self.url}


def find_anvil(explicit: Path | None = None) -> Path:
    """The anvil binary: explicit setting, then $CHAINSEG_ANVIL, then the project's npm folder, then PATH."""
    candidates: list[Path] = []
    if explicit:
        candidates.append(explicit)
    elif os.environ.get("CHAINSEG_ANVIL"):
        candidates.append(Path(os.environ["CHAINSEG_ANVIL"]))
    else:
        candidates.extend(sorted(NPM_PREFIX.glob("node_modules/@foundry-rs/anvil-*/bin/anvil")))
        on_path = shutil.which("anvil")
        if on_path:
            candidates.append(Path(on_path))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    where = str(candidates[0]) if candidates else f"{NPM_PREFIX}/node_modules or PATH"
    raise UserError(
        f"anvil binary not found ({where}); run `bash scripts/setup.sh` to install it, "
        "or point devnet.anvil / $CHAINSEG_ANVIL at an anvil binary"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As anvil does: connections of a stopped node lingering in TIME_WAIT must not count as "in use".
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def _die_with_parent() -> None:
    # Linux PR_SET_PDEATHSIG: the kernel kills the node if the process that started it dies, even by
    # kill -9, so a crashed test session cannot leave an anvil behind.
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)


def start_node(
    *,
    chain_id: int,
    log_path: Path,
    port: int = 0,
    anvil: Path | None = None,
    genesis_timestamp: datetime | None = None,
    block_gas_limit: int = 36_000_000,
    prune_history: bool = True,
    die_with_parent: bool = False,
    ready_timeout: float = 30.0,
) -> NodeInfo:
    """Launch anvil and return once it answers JSON-RPC with the expected chain id."""
    binary = find_anvil(anvil)
    if port == 0:
        port = free_port()
    elif not port_is_free(port):
        raise UserError(
            f"port {port} on {HOST} is already in use; stop what holds it, or set devnet.port to 0 "
            "to pick a free port"
        )
    args = [
        str(binary),
        "--host", HOST,
        "--port", str(port),
        "--chain-id", str(chain_id),
        "--gas-limit", str(block_gas_limit),
    ]  # fmt: skip
    if prune_history:
        # Faster mining and flat memory over long histories; blocks, receipts and logs stay queryable, but
        # old states go, and with them anvil_reorg / anvil_rollback (tests of reorgs turn this off).
        args.append("--prune-history")
    if genesis_timestamp is not None:
        args += ["--timestamp", str(int(genesis_timestamp.timestamp()))]
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal must not kill a node started by `devnet up`
            preexec_fn=_die_with_parent if die_with_parent else None,
        )
    info = NodeInfo(pid=process.pid, port=port, chain_id=chain_id, log_path=str(log_path))
    try:
        _wait_ready(process, info, log_path, ready_timeout)
    except BaseException:
        stop_node(info)  # also on Ctrl-C: no state file records this node yet, so nothing else could stop it
        raise
    return info


def _wait_ready(process: subprocess.Popen, info: NodeInfo, log_path: Path, ready_timeout: float) -> None:
    port, chain_id = info.port, info.chain_id
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            if "in use" in tail[0].lower():
                raise UserError(f"port {port} on {HOST} is already in use; set devnet.port to 0 and retry")
            raise UserError(f"anvil exited at start ({tail[0][:200]}); see {log_path}")
        if node_chain_id(info.url) == chain_id:
            return
        time.sleep(0.05)
    raise UserError(f"anvil did not answer on {info.url} within {ready_timeout:.0f}s; see {log_path}")


def node_chain_id(url: str, timeout: float = 1.0) -> int | None:
    """The chain id the node at `url` reports, or None if nothing answers there."""
    try:
        response = requests.post(
            url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}, timeout=timeout
        )
        return int(response.json()["result"], 16)
    except (requests.RequestException, ValueError, KeyError):
        return None


def is_running(info: NodeInfo) -> bool:
    """True if the recorded pid is still our anvil (a reused pid belonging to something else is not)."""
    try:
        cmdline = Path(f"/proc/{info.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return bool(cmdline) and cmdline[0].endswith(b"anvil") and str(info.port).encode() in cmdline


def stop_node(info: NodeInfo, timeout: float = 10.0) -> bool:
    """Stop the node by pid; returns False if it was not running."""
    if not is_running(info):
        return False
    with contextlib.suppress(ProcessLookupError):
        os.kill(info.pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(info) or _reaped(info.pid):
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(info.pid, signal.SIGKILL)
    _reaped(info.pid)
    return True


def _reaped(pid: int) -> bool:
    """Reap our own child so it does not linger as a zombie (which /proc would still list)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return not Path(f"/proc/{pid}").exists()
    return done == pid
