"""Seeding speed: the simulated marketplace against the node's own limit, in one run.

The limit is the same anvil build filling the same number of blocks with the same number of plain ETH
transfers between as many funded accounts: what the node costs with no simulation, contract execution or
planning on top. Prints transactions per second for both, the ratio, and peak memory (ours and anvil's).

    .venv/bin/python bench/seed_speed.py --scenario demo
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chainseg.config import DevnetConfig  # noqa: E402
from devnet.jsonrpc import JsonRpc  # noqa: E402
from devnet.node import NodeInfo, start_node, stop_node  # noqa: E402
from devnet.scenarios import get_scenario  # noqa: E402
from devnet.seeder import seed_chain  # noqa: E402


def anvil_peak_mb(node: NodeInfo) -> float:
    for line in Path(f"/proc/{node.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def fresh_node(tmp: Path, name: str) -> NodeInfo:
    return start_node(
        chain_id=31337,
        log_path=tmp / f"{name}.log",
        genesis_timestamp=DevnetConfig().genesis_timestamp,
        die_with_parent=True,
    )


def limit_run(node: NodeInfo, accounts: int, blocks: int, transactions: int, start_ts: int) -> float:
    """Plain transfers, same blocks and count, from `accounts` funded senders; returns seconds."""
    rpc = JsonRpc(node.url)
    senders = ["0x%040x" % (0x10000 + i) for i in range(accounts)]
    rpc.call("anvil_autoImpersonateAccount", [True])
    rpc.call("evm_setAutomine", [False])
    for start in range(0, accounts, 500):  # anvil refuses very large batches
        rpc.batch([("anvil_setBalance", [s, hex(10**21)]) for s in senders[start : start + 500]])
    nonces = [0] * accounts
    per_block, extra = divmod(transactions, blocks)
    started = time.perf_counter()
    cursor = 0
    for block in range(blocks):
        calls = []
        for _ in range(per_block + (block < extra)):
            i = cursor % accounts
            cursor += 1
            tx = {
                "from": senders[i],
                "to": senders[(i + 1) % accounts],
                "value": "0x1",
                "gas": hex(21_000),
                "nonce": hex(nonces[i]),
                "maxFeePerGas": hex(10**11),
                "maxPriorityFeePerGas": hex(10**9),
            }
            nonces[i] += 1
            calls.append(("eth_sendTransaction", [tx]))
        rpc.call("anvil_setNextBlockBaseFeePerGas", [hex(10**10)])
        rpc.batch(calls)
        rpc.call("evm_mine", [start_ts + 3600 * (block + 1)])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="demo")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    scenario = get_scenario(args.scenario)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        ours_node = fresh_node(tmp, "ours")
        started = time.perf_counter()
        result = seed_chain(ours_node.url, args.scenario, args.seed, tmp / "state")
        ours = time.perf_counter() - started
        ours_anvil_mb = anvil_peak_mb(ours_node)
        stop_node(ours_node)
        python_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        limit_node = fresh_node(tmp, "limit")
        mined = result.blocks - 1
        start_ts = int(scenario.start.timestamp())
        limit = limit_run(limit_node, scenario.wallets, mined, result.transactions, start_ts)
        limit_anvil_mb = anvil_peak_mb(limit_node)
        stop_node(limit_node)

    ours_rate, limit_rate = result.transactions / ours, result.transactions / limit
    print(f"scenario {args.scenario}: {result.transactions:,} transactions in {mined:,} blocks")
    print(f"{'run':<28}{'seconds':>10}{'tx/s':>10}{'peak MB (anvil)':>18}")
    print(f"{'chainseg seed':<28}{ours:>10.1f}{ours_rate:>10,.0f}{ours_anvil_mb:>18,.0f}")
    print(f"{'limit: plain transfers':<28}{limit:>10.1f}{limit_rate:>10,.0f}{limit_anvil_mb:>18,.0f}")
    print(f"ratio (chainseg / limit tx/s): {ours_rate / limit_rate:.2f}")
    print(f"peak memory of the seeding process: {python_mb:,.0f} MB")


if __name__ == "__main__":
    main()
