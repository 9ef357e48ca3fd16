"""The simulated marketplace: deterministic, and its personas show in the chain data as intended.

Everything is read back from the node (blocks, receipts, logs), never from the simulator's own plan; the
answer key only says which wallet was meant to be which persona.
"""

from __future__ import annotations

import csv
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from devnet.contracts import decode_event, event_topics, load_artifact
from devnet.jsonrpc import JsonRpc
from devnet.seeder import seed_chain
from devnet.summary import summarize

DAY = 86_400
ZERO = "0x" + "00" * 20
MARKET = load_artifact("Marketplace")
SALE_TOPIC = event_topics(MARKET)["Sale"]
TRANSFER_TOPIC = event_topics(load_artifact("Collection721"))["Transfer"]


@dataclass
class ChainData:
    txs: list[dict] = field(default_factory=list)  # from, to, value, time, base_fee, tip, ok
    sales: list[dict] = field(default_factory=list)
    nft_moves: list[tuple[int, str, int, str, str]] = field(default_factory=list)  # time, coll, id, from, to
    last_time: int = 0
    first_time: int = 0


def read_chain(url: str) -> ChainData:
    rpc = JsonRpc(url)
    head = int(rpc.call("eth_blockNumber"), 16)
    data = ChainData()
    for start in range(1, head + 1, 200):
        numbers = [hex(n) for n in range(start, min(head, start + 199) + 1)]
        blocks = rpc.batch([("eth_getBlockByNumber", [n, True]) for n in numbers])
        receipts = rpc.batch([("eth_getBlockReceipts", [n]) for n in numbers])
        for block, block_receipts in zip(blocks, receipts, strict=True):
            moment = int(block["timestamp"], 16)
            base_fee = int(block["baseFeePerGas"], 16)
            data.first_time = data.first_time or moment
            data.last_time = moment
            for tx, receipt in zip(block["transactions"], block_receipts, strict=True):
                paid = int(receipt["effectiveGasPrice"], 16)
                data.txs.append(
                    {"from": tx["from"], "to": tx["to"], "value": int(tx["value"], 16), "time": moment,
                     "base_fee": base_fee, "tip": paid - base_fee, "ok": receipt["status"] == "0x1"}
                )  # fmt: skip
                for log in receipt["logs"]:
                    topics = log["topics"]
                    if topics[0] == SALE_TOPIC:
                        sale = decode_event(MARKET, log)["args"]
                        data.sales.append({**{k: str(v).lower() for k, v in sale.items()}, "time": moment,
                                           "price": sale["price"]})  # fmt: skip
                    elif topics[0] == TRANSFER_TOPIC and len(topics) == 4:
                        data.nft_moves.append(
                            (
                                moment,
                                log["address"],
                                int(topics[3], 16),
                                "0x" + topics[1][-40:],
                                "0x" + topics[2][-40:],
                            )
                        )
    return data


def answer_key(path: Path) -> dict[str, dict[str, str]]:
    with open(path) as handle:
        return {row["address"]: row for row in csv.DictReader(handle) if row["role"] == "wallet"}


def personas(key: dict[str, dict[str, str]]) -> dict[str, set[str]]:
    by_persona: dict[str, set[str]] = defaultdict(set)
    for address, row in key.items():
        by_persona[row["persona"]].add(address)
    return by_persona


@pytest.fixture(scope="module")
def demo(demo_chain):  # noqa: ANN001, ANN201
    return demo_chain, read_chain(demo_chain.node.url), answer_key(demo_chain.result.answer_key)


def closed_holding_days(data: ChainData, wallets: set[str]) -> list[float]:
    """Days each ERC-721 token stayed with one of `wallets`, from its arrival to its next move out."""
    arrived: dict[tuple[str, int, str], int] = {}
    held: list[float] = []
    for moment, collection, token_id, sender, receiver in data.nft_moves:
        if sender in wallets and (collection, token_id, sender) in arrived:
            held.append((moment - arrived.pop((collection, token_id, sender))) / DAY)
        if receiver in wallets:
            arrived[(collection, token_id, receiver)] = moment
    return held


def test_demo_size_and_consistency(demo) -> None:  # noqa: ANN001
    seeded, data, key = demo
    span_days = (data.last_time - data.first_time) / DAY
    assert 900 <= len(key) <= 1_100
    assert 110 <= span_days <= 125
    assert len(data.txs) == seeded.result.transactions
    assert int(JsonRpc(seeded.node.url).call("eth_blockNumber"), 16) + 1 == seeded.result.blocks
    # Only the late drop mints the simulator sends on purpose revert; nothing else fails.
    assert sum(not tx["ok"] for tx in data.txs) == seeded.result.planned_failures > 0
    summary = summarize(seeded.node.url)
    assert summary.transactions == len(data.txs)
    assert summary.sales == len(data.sales) > 1_000


def test_flippers_hold_far_shorter_than_collectors(demo) -> None:  # noqa: ANN001
    _, data, key = demo
    groups = personas(key)
    flippers = closed_holding_days(data, groups["flipper"])
    collectors = closed_holding_days(data, groups["collector"])
    assert len(flippers) > 100 and len(collectors) > 20
    assert statistics.median(flippers) < 0.3 * statistics.median(collectors)
    # Flippers resell within days: most of their closed positions last under a week.
    assert sum(days < 7 for days in flippers) > 0.6 * len(flippers)


def test_bargain_hunters_pay_lower_base_fees_and_tips_than_snipers(demo) -> None:  # noqa: ANN001
    _, data, key = demo
    groups = personas(key)
    bargain = [tx for tx in data.txs if tx["from"] in groups["bargain_hunter"]]
    snipers = [tx for tx in data.txs if tx["from"] in groups["sniper"]]
    assert len(bargain) > 200 and len(snipers) > 200
    assert statistics.median(t["base_fee"] for t in bargain) < 0.7 * statistics.median(
        t["base_fee"] for t in snipers
    )
    assert statistics.median(t["tip"] for t in bargain) < 0.05 * statistics.median(t["tip"] for t in snipers)
    everyone = statistics.median(t["base_fee"] for t in data.txs)
    assert statistics.median(t["base_fee"] for t in bargain) < everyone


def test_churners_go_silent_and_newcomers_arrive_late(demo) -> None:  # noqa: ANN001
    _, data, key = demo
    groups = personas(key)
    last_sent: dict[str, int] = {}
    first_sent: dict[str, int] = {}
    for tx in data.txs:
        last_sent[tx["from"]] = tx["time"]
        first_sent.setdefault(tx["from"], tx["time"])
    churners = [w for w in groups["churner"] if w in last_sent]
    assert len(churners) > 0.8 * len(groups["churner"])
    assert all(data.last_time - last_sent[w] > 25 * DAY for w in churners)
    newcomers = [w for w in groups["newcomer"] if w in first_sent]
    assert newcomers and all(first_sent[w] - data.first_time > 0.65 * 120 * DAY for w in newcomers)


def test_whales_buy_few_but_large(demo) -> None:  # noqa: ANN001
    _, data, key = demo
    groups = personas(key)
    whale_buys = [s["price"] for s in data.sales if s["buyer"] in groups["whale"]]
    other_buys = [s["price"] for s in data.sales if s["buyer"] not in groups["whale"]]
    assert whale_buys
    assert statistics.median(whale_buys) > 3 * statistics.median(other_buys)
    flipper_buys = [s for s in data.sales if s["buyer"] in groups["flipper"]]
    assert len(whale_buys) / len(groups["whale"]) < 0.6 * len(flipper_buys) / len(groups["flipper"])


def test_sybil_clusters_share_one_funder(demo) -> None:  # noqa: ANN001
    _, data, key = demo
    clusters: dict[str, set[str]] = defaultdict(set)
    for address, row in key.items():
        if row["sybil_cluster"]:
            clusters[row["sybil_cluster"]].add(address)
    assert len(clusters) >= 5
    first_funding: dict[str, str] = {}
    for tx in data.txs:
        if tx["value"] > 0 and tx["to"] and tx["to"] not in first_funding:
            first_funding[tx["to"]] = tx["from"]
    for members in clusters.values():
        funders = {first_funding[m] for m in members if first_funding.get(m) in members}
        # One member funded the others: the funder's own money came from outside the cluster.
        assert len(funders) == 1
        assert sum(first_funding.get(m) in funders for m in members) == len(members) - 1


def test_all_kinds_of_activity_occur(demo) -> None:  # noqa: ANN001
    seeded, data, _ = demo
    summary = summarize(seeded.node.url)
    assert summary.logs["mint721"] > 500 and summary.logs["mint1155"] > 500
    assert summary.logs["batch1155"] > 50 and summary.logs["single1155"] > 100
    assert summary.logs["transfer721"] > 500
    assert summary.logs["deposit"] > 100 and summary.logs["withdrawal"] > 10
    assert summary.sales_weth > 0 and summary.sales_eth > 0
    assert summary.tx_types[0] > 0 and summary.tx_types[2] > 0
    assert any(tx["to"] and tx["value"] and tx["from"] != tx["to"] for tx in data.txs)


def _block_hashes(url: str) -> list[str]:
    rpc = JsonRpc(url)
    head = int(rpc.call("eth_blockNumber"), 16)
    blocks = rpc.batch([("eth_getBlockByNumber", [hex(n), False]) for n in range(head + 1)])
    return [block["hash"] for block in blocks]


def test_same_seed_same_chain_other_seed_other_chain(start_devnet, tmp_path: Path) -> None:  # noqa: ANN001
    nodes = [start_devnet(chain_id=777) for _ in range(3)]
    results = [
        seed_chain(node.url, "tiny", seed, tmp_path / str(i))
        for i, (node, seed) in enumerate(zip(nodes, (5, 5, 6), strict=True))
    ]
    first, again, other = (_block_hashes(node.url) for node in nodes)
    assert len(first) > 300
    assert first == again
    assert results[0].answer_key.read_text() == results[1].answer_key.read_text()
    assert first[-1] != other[-1]
    assert results[0].answer_key.read_text() != results[2].answer_key.read_text()
