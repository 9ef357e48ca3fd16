"""The `chainseg devnet` command line, run for real as a subprocess against real anvil nodes.

Each test works in its own folder with its own `chainseg.yml`, so the state file and the node's log land
under tmp_path. The CLI starts anvil in a new session without PR_SET_PDEATHSIG (a node started by
`devnet up` must outlive the command), so the `devnets` fixture runs `devnet down` in every folder and then
sweeps /proc for any anvil whose working directory is one of ours, whatever the test's outcome.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import yaml

CLI = [sys.executable, "-m", "flows.cli"]
LOOPBACK_HEX = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it (little-endian)
TCP_LISTEN = "0A"

Result = subprocess.CompletedProcess[str]


# --- running the command line ---------------------------------------------------------------------------


def chainseg(workdir: Path, *args: str) -> Result:
    # Drop $CHAINSEG_ANVIL so the binary comes from the config or the project's .tools folder, as for a
    # fresh checkout, not from whatever the developer's shell exports.
    env = {key: value for key, value in os.environ.items() if key != "CHAINSEG_ANVIL"}
    return subprocess.run(
        [*CLI, *args], cwd=workdir, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def chainseg_ok(workdir: Path, *args: str) -> Result:
    result = chainseg(workdir, *args)
    assert result.returncode == 0, f"chainseg {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result


def assert_user_error(result: Result, *needles: str) -> str:
    """Exit code 2 and a single `chainseg: error:` line on stderr that contains every needle."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, f"exit {result.returncode}, stderr:\n{result.stderr}"
    assert len(lines) == 1, f"expected one line on stderr, got:\n{result.stderr}"
    assert lines[0].startswith("chainseg: error: ")
    for needle in needles:
        assert needle in lines[0], f"{needle!r} missing from {lines[0]!r}"
    return lines[0]


def state_file(workdir: Path) -> Path:
    return workdir / ".chainseg" / "devnet.json"


def devnet_up(workdir: Path, *args: str) -> dict[str, int]:
    """`devnet up`, returning what the state file recorded."""
    chainseg_ok(workdir, "devnet", "up", *args)
    return json.loads(state_file(workdir).read_text())


def url_of(port: int) -> str:
    return f"http://127.0.0.1:{port}"


# --- looking at the node from outside ---------------------------------------------------------------------


def rpc(port: int, method: str, params: list[object] | None = None) -> object:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    response = requests.post(url_of(port), json=body, timeout=5)
    response.raise_for_status()
    return response.json()["result"]


def rpc_int(port: int, method: str) -> int:
    return int(str(rpc(port, method)), 16)


def is_anvil(pid: int) -> bool:
    # A zombie has an empty cmdline, so a killed node waiting for PID 1 to reap it reads as gone; so does a
    # pid the kernel has since handed to another program.
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
    except OSError:
        return False
    return argv0.endswith(b"anvil")


def wait_not_anvil(pid: int, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while is_anvil(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_anvil(pid), f"anvil pid {pid} still runs"


def anvils_under(folder: Path) -> list[int]:
    """Live anvil processes whose working directory is inside `folder`: the ones our CLI calls started."""
    folder = folder.resolve()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cwd = Path(os.readlink(entry / "cwd"))
        except OSError:
            continue
        if cwd.is_relative_to(folder) and is_anvil(int(entry.name)):
            found.append(int(entry.name))
    return found


def listen_addresses(port: int) -> set[str]:
    """Local addresses of the TCP sockets listening on `port`, in /proc/net/tcp{,6} hex form."""
    addresses = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, _remote, state = line.split()[1:4]
            address, port_hex = local.split(":")
            if int(port_hex, 16) == port and state == TCP_LISTEN:
                addresses.add(address)
    return addresses


def port_is_free(port: int) -> bool:
    # SO_REUSEADDR as any server sets it: lingering TIME_WAIT connections do not count, a listener does.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# --- fixture: working folders that never leave an anvil behind ----------------------------------------------


@dataclass
class Devnets:
    root: Path
    folders: list[Path] = field(default_factory=list)

    def workdir(self, name: str, **devnet: object) -> Path:
        """A fresh folder with a `chainseg.yml` holding these `devnet:` settings."""
        work = self.root / name
        work.mkdir()
        (work / "chainseg.yml").write_text(yaml.safe_dump({"devnet": devnet}))
        self.folders.append(work)
        return work


@pytest.fixture
def devnets(tmp_path: Path) -> Iterator[Devnets]:
    made = Devnets(tmp_path)
    try:
        yield made
    finally:
        # Exit codes are ignored here: some folders hold a broken configuration on purpose.
        for work in made.folders:
            chainseg(work, "devnet", "down")
        leaked = anvils_under(tmp_path)
        for pid in leaked:
            os.kill(pid, signal.SIGKILL)
        assert not leaked, f"anvil processes left running after `devnet down`: {leaked}"


# --- 1. the lifecycle --------------------------------------------------------------------------------------


def test_up_status_down(devnets: Devnets) -> None:
    work = devnets.workdir("solo", chain_id=31337)
    up = chainseg_ok(work, "devnet", "up")
    state = json.loads(state_file(work).read_text())
    pid, port = state["pid"], state["port"]
    assert url_of(port) in up.stdout and "chain id 31337" in up.stdout
    assert state["chain_id"] == 31337 and is_anvil(pid)
    assert rpc_int(port, "eth_chainId") == 31337
    # The node has unlocked accounts: it must be reachable from this machine only.
    assert listen_addresses(port) == {LOOPBACK_HEX}

    status = chainseg_ok(work, "devnet", "status").stdout
    assert url_of(port) in status and "chain id 31337" in status and "head block: 0" in status

    again = chainseg_ok(work, "devnet", "up")
    assert "already running" in again.stdout
    assert json.loads(state_file(work).read_text())["pid"] == pid
    assert anvils_under(work) == [pid]

    chainseg_ok(work, "devnet", "down")
    assert not is_anvil(pid)
    assert port_is_free(port)
    assert not state_file(work).exists()
    assert "not running" in chainseg_ok(work, "devnet", "status").stdout
    assert "not running" in chainseg_ok(work, "devnet", "down").stdout


# --- 2. two chains side by side -----------------------------------------------------------------------------


def test_two_chains_side_by_side(devnets: Devnets) -> None:
    from_config = devnets.workdir("mainlike", chain_id=31337)
    from_flag = devnets.workdir("other")
    first = devnet_up(from_config)
    second = devnet_up(from_flag, "--chain-id", "1337")
    assert first["port"] != second["port"]
    assert (first["chain_id"], second["chain_id"]) == (31337, 1337)
    assert rpc_int(first["port"], "eth_chainId") == 31337
    assert rpc_int(second["port"], "eth_chainId") == 1337

    for work, state in ((from_config, first), (from_flag, second)):
        chainseg_ok(work, "devnet", "down")
        assert not is_anvil(state["pid"])
        assert port_is_free(state["port"])


# --- 3. bad input: exit 2, one line, nothing started or changed -------------------------------------------


def assert_nothing_started(work: Path) -> None:
    assert not state_file(work).exists()
    assert anvils_under(work) == []


def test_unknown_scenario_leaves_the_chain_alone(devnets: Devnets) -> None:
    work = devnets.workdir("scenario")
    state = devnet_up(work)
    recorded = state_file(work).read_text()
    assert_user_error(chainseg(work, "devnet", "seed", "--scenario", "nope"), "'nope'", "tiny")
    assert rpc_int(state["port"], "eth_blockNumber") == 0
    assert state_file(work).read_text() == recorded and is_anvil(state["pid"])
    assert not (work / ".chainseg" / "answer_keys").exists()


@pytest.mark.parametrize("via", ["config", "flag"])
def test_port_in_use(devnets: Devnets, via: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        if via == "config":
            work = devnets.workdir("busy", port=port)
            result = chainseg(work, "devnet", "up")
        else:
            work = devnets.workdir("busy")
            result = chainseg(work, "devnet", "up", "--port", str(port))
        assert_user_error(result, f"port {port}", "in use", "devnet.port")
    assert_nothing_started(work)


def test_missing_anvil_binary(devnets: Devnets) -> None:
    work = devnets.workdir("noanvil", anvil="/nonexistent/anvil")
    assert_user_error(chainseg(work, "devnet", "up"), "anvil", "/nonexistent/anvil", "scripts/setup.sh")
    assert_nothing_started(work)


def test_seed_without_a_devnet(devnets: Devnets) -> None:
    work = devnets.workdir("nodevnet")
    assert_user_error(chainseg(work, "devnet", "seed", "--scenario", "tiny"), "no devnet", "devnet up")
    assert_nothing_started(work)


def test_seed_refuses_a_chain_with_history(devnets: Devnets) -> None:
    work = devnets.workdir("used")
    port = devnet_up(work)["port"]
    rpc(port, "evm_mine")
    assert rpc_int(port, "eth_blockNumber") == 1
    # The head check comes before any transaction, so this fails fast even for a real scenario.
    assert_user_error(chainseg(work, "devnet", "seed", "--scenario", "tiny"), "already holds", "devnet down")
    assert rpc_int(port, "eth_blockNumber") == 1


@pytest.mark.parametrize(
    ("devnet", "key"),
    [({"chain_idd": 5}, "devnet.chain_idd"), ({"chain_id": "five"}, "devnet.chain_id")],
    ids=["unknown-key", "non-integer-chain-id"],
)
def test_invalid_configuration(devnets: Devnets, devnet: dict[str, object], key: str) -> None:
    work = devnets.workdir("badconfig", **devnet)
    assert_user_error(chainseg(work, "devnet", "up"), f"'{key}'", "chainseg.yml")
    assert_nothing_started(work)


def test_missing_config_file(devnets: Devnets) -> None:
    work = devnets.workdir("noconfig")
    missing = work / "absent.yml"
    assert_user_error(chainseg(work, "--config", str(missing), "devnet", "up"), str(missing), "--config")
    assert_nothing_started(work)


# --- 4. a node that died behind our back -------------------------------------------------------------------


def test_killed_node_is_noticed_and_replaced(devnets: Devnets) -> None:
    work = devnets.workdir("killed", chain_id=1337)
    old = devnet_up(work)
    os.kill(old["pid"], signal.SIGKILL)
    wait_not_anvil(old["pid"])

    assert "not running" in chainseg_ok(work, "devnet", "status").stdout
    new = devnet_up(work)
    assert new["pid"] != old["pid"] and is_anvil(new["pid"])
    assert rpc_int(new["port"], "eth_chainId") == 1337
    assert anvils_under(work) == [new["pid"]]
