"""Writes a simulated marketplace history onto a fresh anvil node.

Transactions are sent unsigned from impersonated accounts (anvil's `anvil_autoImpersonateAccount`), one
JSON-RPC batch per block, and each block is mined by hand with its simulated timestamp and base fee.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TextIO

import rlp
from eth_utils import keccak

from chainseg.errors import UserError
from chainseg.progress import Progress
from devnet.contracts import encode_deploy, event_topics, load_artifact
from devnet.jsonrpc import JsonRpc
from devnet.scenarios import get_scenario
from devnet.simulator import FEE_BPS, ROYALTY_BPS, BlockPlan, Contracts, Simulator, Tx, derive_address

ETHER = 10**18
ZERO_TOPIC = "0x" + "00" * 32
MAX_SUPPLY = 10**9
FINALITY_PADDING = 64  # drops are closed by their creator, never by running out of supply


@dataclass(frozen=True)
class SeedResult:
    chain_id: int
    scenario: str
    seed: int
    blocks: int
    transactions: int
    planned_failures: int
    contracts: Contracts
    answer_key: Path
    manifest: Path


def create_address(sender: str, nonce: int) -> str:
    return "0x" + keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:].hex()


def answer_key_path(state_dir: Path, chain_id: int) -> Path:
    return state_dir / "answer_keys" / f"chain_{chain_id}.csv"


def seed_chain(
    url: str, scenario_name: str, seed: int, state_dir: Path, stream: TextIO | None = None
) -> SeedResult:
    scenario = get_scenario(scenario_name)
    rpc = JsonRpc(url)
    chain_id, head = (int(x, 16) for x in rpc.batch([("eth_chainId", []), ("eth_blockNumber", [])]))
    if head > 0:
        raise UserError(
            f"the chain (id {chain_id}) already holds a history ({head} block(s) after genesis); "
            "seed only a fresh node: `chainseg devnet down` then `chainseg devnet up`"
        )
    genesis = rpc.call("eth_getBlockByNumber", ["0x0", False])
    setup_ts = int((scenario.start - timedelta(days=2)).timestamp())
    if int(genesis["timestamp"], 16) >= setup_ts:
        raise UserError(
            f"the node's genesis is later than the scenario start ({scenario.start:%Y-%m-%d}); "
            "start it with `chainseg devnet up`, which pins an earlier genesis"
        )

    rpc.call("anvil_autoImpersonateAccount", [True])
    rpc.call("evm_setAutomine", [False])
    try:
        contracts, creators, nonces = _deploy(rpc, seed, setup_ts)
        sim = Simulator(scenario, seed, contracts, creators)
        rpc.batch([("anvil_setBalance", [a, hex(10**9 * ETHER)]) for a in sim.exchanges])
        setup_transactions = sum(nonces.values())
        blocks, transactions = _play(rpc, sim, nonces, stream)
        blocks += 2  # genesis and the setup block
        transactions += setup_transactions
    finally:
        rpc.batch([("evm_setAutomine", [True]), ("anvil_autoImpersonateAccount", [False])])

    key_path = answer_key_path(state_dir, chain_id)
    _write_answer_key(key_path, sim)
    manifest = key_path.with_suffix(".json")
    _write_json(
        manifest,
        {
            "chain_id": chain_id,
            "scenario": scenario.name,
            "seed": seed,
            "blocks": blocks,
            "transactions": transactions,
            "planned_failures": sim.planned_failures,
            "contracts": contracts.__dict__,
            "creators": creators,
            "treasury": sim.treasury,
            "fee_bps": FEE_BPS,
            "royalty_bps": {kind: ROYALTY_BPS[kind] for kind in creators},
        },
    )
    return SeedResult(
        chain_id,
        scenario.name,
        seed,
        blocks,
        transactions,
        sim.planned_failures,
        contracts,
        key_path,
        manifest,
    )


def _deploy(rpc: JsonRpc, seed: int, timestamp: int) -> tuple[Contracts, dict[str, str], dict[str, int]]:
    """One setup block: the platform deploys WETH and the marketplace, each creator its collection."""
    deployer = derive_address(seed, "deployer")
    treasury = derive_address(seed, "treasury")
    creators = {kind: derive_address(seed, f"creator/{kind}") for kind in ROYALTY_BPS}
    rpc.batch([("anvil_setBalance", [a, hex(1_000 * ETHER)]) for a in [deployer, *creators.values()]])
    weth = create_address(deployer, 0)
    c721, c1155 = load_artifact("Collection721"), load_artifact("Editions1155")
    collections = [
        ("drop", c721, ["Pixel Pioneers", "PXP"]),
        ("blue", c721, ["Genesis Apes", "GAPE"]),
        ("art", c721, ["Chromatic Studies", "CHRS"]),
        ("editions", c1155, ["ipfs://field-editions/{id}.json"]),
    ]
    deployments = [
        (deployer, encode_deploy(load_artifact("WETH"))),
        (deployer, encode_deploy(load_artifact("Marketplace"), [weth, treasury, FEE_BPS])),
    ]
    for kind, artifact, names in collections:
        supply = [MAX_SUPPLY] if artifact is c721 else []
        args = [*names, creators[kind], ROYALTY_BPS[kind], *supply]
        deployments.append((creators[kind], encode_deploy(artifact, args)))
    nonces: dict[str, int] = {}
    calls = []
    for sender, data in deployments:
        nonce = nonces.get(sender, 0)
        nonces[sender] = nonce + 1
        tx = {"from": sender, "data": data, "gas": hex(6_000_000), "nonce": hex(nonce),
              "maxFeePerGas": hex(20 * 10**9), "maxPriorityFeePerGas": hex(10**9)}  # fmt: skip
        calls.append(("eth_sendTransaction", [tx]))
    hashes = rpc.batch(calls)
    rpc.call("anvil_setNextBlockBaseFeePerGas", [hex(8 * 10**9)])
    rpc.call("evm_mine", [timestamp])
    receipts = rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes])
    addresses = []
    for (sender, _), receipt in zip(deployments, receipts, strict=True):
        if receipt is None or receipt["status"] != "0x1":
            raise RuntimeError(f"deployment from {sender} failed: {receipt}")
        addresses.append(receipt["contractAddress"].lower())
    if addresses[0] != weth:
        raise RuntimeError("WETH did not land at the address the marketplace was built for")
    return Contracts(*addresses), creators, nonces


def _play(rpc: JsonRpc, sim: Simulator, nonces: dict[str, int], stream: TextIO | None) -> tuple[int, int]:
    progress = Progress(f"seeding {sim.scenario.name}", sim.hours, "sim-hours", stream=stream)
    collections = [sim.c.drop, sim.c.blue, sim.c.art]
    transfer_topic = event_topics(load_artifact("Collection721"))["Transfer"]
    legacy = set(sim.exchanges)
    blocks = transactions = 0
    last_hour = 0
    while (plan := sim.next_block()) is not None:
        # One step at a time: anvil answers the calls of a batch concurrently, not in order. The base fee
        # comes first because the node checks each transaction's fee cap against it on arrival.
        rpc.call("anvil_setNextBlockBaseFeePerGas", [hex(plan.base_fee)])
        hashes = rpc.batch([("eth_sendTransaction", [_tx_json(plan, tx, nonces, legacy)]) for tx in plan.txs])
        rpc.call("evm_mine", [plan.timestamp])
        mined = rpc.call("eth_getBlockByNumber", ["latest", False])
        if sorted(mined["transactions"]) != sorted(hashes):
            # anvil silently leaves out what it cannot include; the plan assumed otherwise: a bug.
            raise RuntimeError(
                f"block {int(mined['number'], 16)} holds {len(mined['transactions'])} of the "
                f"{len(hashes)} planned transactions"
            )
        if plan.has_mints:
            logs = rpc.call(
                "eth_getLogs",
                [{"fromBlock": mined["number"], "toBlock": mined["number"], "address": collections,
                  "topics": [transfer_topic, ZERO_TOPIC]}],
            )  # fmt: skip
            mints = [
                (log["address"].lower(), "0x" + log["topics"][2][-40:], int(log["topics"][3], 16))
                for log in logs
            ]
            sim.observe_mints(mints, plan.hour)
        blocks += 1
        transactions += len(plan.txs)
        progress.advance(plan.hour - last_hour, txs=len(plan.txs))
        last_hour = plan.hour
    progress.advance(sim.hours - last_hour)
    progress.finish()
    # Empty blocks, 12 s apart, after the last activity: the whole history becomes final (anvil's
    # 'finalized' tag trails the head by 64 blocks), so a default extraction sees all of it.
    # One evm_mine per block with its timestamp: anvil_mine's interval drifts with the wall clock, which
    # would make two seeds with the same number differ.
    last = int(rpc.call("eth_getBlockByNumber", ["latest", False])["timestamp"], 16)
    for offset in range(1, FINALITY_PADDING + 1):
        rpc.call("evm_mine", [last + 12 * offset])
    return blocks + FINALITY_PADDING, transactions


def _tx_json(plan: BlockPlan, tx: Tx, nonces: dict[str, int], legacy: set[str]) -> dict[str, str]:
    nonce = nonces.get(tx.sender, 0)
    nonces[tx.sender] = nonce + 1
    max_fee, tip = plan.fees[tx.sender]
    body = {"from": tx.sender, "to": tx.to, "gas": hex(tx.gas), "nonce": hex(nonce), "value": hex(tx.value)}
    if tx.data != "0x":
        body["data"] = tx.data
    if tx.sender in legacy:
        body["gasPrice"] = hex(plan.base_fee + tip)  # exchanges' hot wallets still send type-0 transactions
    else:
        body["maxFeePerGas"] = hex(max_fee)
        body["maxPriorityFeePerGas"] = hex(tip)
    return body


def _write_answer_key(path: Path, sim: Simulator) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["address", "role", "persona", "sybil_cluster"])
        writer.writeheader()
        writer.writerows(sim.answer_key())
    os.replace(tmp, path)


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
