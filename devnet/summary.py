"""What is on a chain, read back from the node itself (not from the simulator's plan)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from devnet.contracts import event_topics, load_artifact
from devnet.jsonrpc import JsonRpc

ZERO_TOPIC = "0x" + "00" * 32
ETHER = 10**18
_BATCH = 200


@dataclass
class ChainSummary:
    chain_id: int
    head: int
    first_time: datetime | None = None
    last_time: datetime | None = None
    transactions: int = 0
    failed: int = 0
    tx_types: Counter[int] = field(default_factory=Counter)
    senders: int = 0
    sales: int = 0
    sales_eth: float = 0.0
    sales_weth: float = 0.0
    logs: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        span = (self.last_time - self.first_time).days if self.first_time and self.last_time else 0
        first = f"{self.first_time:%Y-%m-%d}" if self.first_time else "-"
        last = f"{self.last_time:%Y-%m-%d}" if self.last_time else "-"
        types = ", ".join(f"type {t}: {n:,}" for t, n in sorted(self.tx_types.items()))
        n = self.logs
        return [
            f"chain id            {self.chain_id}",
            f"blocks              {self.head + 1:,} (0..{self.head}), {first} to {last} ({span} days)",
            f"transactions        {self.transactions:,} ({self.failed:,} failed; {types})",
            f"sending addresses   {self.senders:,}",
            f"marketplace sales   {self.sales:,} ({self.sales_eth:,.2f} ETH + {self.sales_weth:,.2f} WETH)",
            f"NFT mints           {n['mint721']:,} ERC-721, {n['mint1155']:,} ERC-1155 editions",
            f"NFT transfers       {n['transfer721']:,} ERC-721, {n['single1155']:,} ERC-1155 single, "
            f"{n['batch1155']:,} ERC-1155 batch",
            f"WETH                {n['deposit']:,} wraps, {n['withdrawal']:,} unwraps, "
            f"{n['erc20']:,} ERC-20 transfers",
        ]


def summarize(url: str) -> ChainSummary:
    rpc = JsonRpc(url)
    chain_id, head = (int(x, 16) for x in rpc.batch([("eth_chainId", []), ("eth_blockNumber", [])]))
    summary = ChainSummary(chain_id=chain_id, head=head)
    senders: set[str] = set()
    for start in range(1, head + 1, _BATCH):
        numbers = range(start, min(head, start + _BATCH - 1) + 1)
        blocks = rpc.batch([("eth_getBlockByNumber", [hex(n), True]) for n in numbers])
        receipts = rpc.batch([("eth_getBlockReceipts", [hex(n)]) for n in numbers])
        for block, block_receipts in zip(blocks, receipts, strict=True):
            moment = datetime.fromtimestamp(int(block["timestamp"], 16), UTC)
            summary.first_time = summary.first_time or moment
            summary.last_time = moment
            for tx in block["transactions"]:
                senders.add(tx["from"].lower())
                summary.tx_types[int(tx["type"], 16)] += 1
            summary.transactions += len(block["transactions"])
            summary.failed += sum(r["status"] != "0x1" for r in block_receipts)
            for receipt in block_receipts:
                for log in receipt["logs"]:
                    _count_log(summary, log)
    summary.senders = len(senders)
    return summary


_T721 = event_topics(load_artifact("Collection721"))
_T1155 = event_topics(load_artifact("Editions1155"))
_TWETH = event_topics(load_artifact("WETH"))
_SALE = event_topics(load_artifact("Marketplace"))["Sale"]


def _count_log(summary: ChainSummary, log: dict) -> None:
    topics = log["topics"]
    topic0 = topics[0] if topics else None
    if topic0 == _SALE:
        words = log["data"][2:]
        # Non-indexed Sale fields: tokenId, amount, currency, price, fee, royalty (32 bytes each).
        currency = "0x" + words[2 * 64 + 24 : 3 * 64]
        price = int(words[3 * 64 : 4 * 64], 16) / ETHER
        summary.sales += 1
        if int(currency, 16) == 0:
            summary.sales_eth += price
        else:
            summary.sales_weth += price
    elif topic0 == _T721["Transfer"] and len(topics) == 4:
        summary.logs["mint721" if topics[1] == ZERO_TOPIC else "transfer721"] += 1
    elif topic0 == _T721["Transfer"] and len(topics) == 3:
        summary.logs["erc20"] += 1
    elif topic0 == _T1155["TransferSingle"]:
        summary.logs["mint1155" if topics[2] == ZERO_TOPIC else "single1155"] += 1
    elif topic0 == _T1155["TransferBatch"]:
        summary.logs["batch1155"] += 1
    elif topic0 == _TWETH["Deposit"]:
        summary.logs["deposit"] += 1
    elif topic0 == _TWETH["Withdrawal"]:
        summary.logs["withdrawal"] += 1
