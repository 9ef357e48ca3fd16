"""Turn a chunk of JSON-RPC answers (blocks with transactions, their receipts) into raw-table columns.

Python only plucks fields: hex quantities stay hex text here and DuckDB casts them on insert (its
`'0x…'::hugeint` is vectorized and exact), which keeps the hot loop cheap. Only log-decoded uint256 values
become Python ints, because they can exceed every SQL integer type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from extract.decode import decode_sales, decode_token_transfers


class MalformedChunk(ValueError):
    """A node answer that does not hold together (missing receipts, mismatched hashes): never written."""


@dataclass
class ChunkTables:
    blocks: pa.Table
    transactions: pa.Table
    logs: pa.Table
    token_transfers: pa.Table
    nft_sales: pa.Table
    addresses: set[str]  # every address seen, for the has-code check

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name).num_rows for name in ("blocks", "transactions", "logs")}


_BLOCK_FIELDS = {
    "block_number": "number",
    "block_hash": "hash",
    "parent_hash": "parentHash",
    "timestamp": "timestamp",
    "miner": "miner",
    "gas_limit": "gasLimit",
    "gas_used": "gasUsed",
    "base_fee_per_gas": "baseFeePerGas",
    "size": "size",
    "extra_data": "extraData",
}
_TX_FIELDS = {
    "transaction_hash": "hash",
    "transaction_index": "transactionIndex",
    "nonce": "nonce",
    "from_address": "from",
    "to_address": "to",
    "value": "value",
    "input": "input",
    "gas_limit": "gas",
    "gas_price": "gasPrice",
    "max_fee_per_gas": "maxFeePerGas",
    "max_priority_fee_per_gas": "maxPriorityFeePerGas",
    "transaction_type": "type",
}
_RECEIPT_FIELDS = {
    "gas_used": "gasUsed",
    "cumulative_gas_used": "cumulativeGasUsed",
    "effective_gas_price": "effectiveGasPrice",
    "contract_address": "contractAddress",
    "status": "status",
}


def normalize_chunk(blocks: list[dict[str, Any]], receipts: list[list[dict[str, Any]]]) -> ChunkTables:
    """`blocks` from eth_getBlockByNumber(n, true); `receipts[i]` are block i's receipts in tx order."""
    if len(blocks) != len(receipts):
        raise MalformedChunk(f"{len(blocks)} blocks but receipts for {len(receipts)}")
    b: dict[str, list[Any]] = {name: [] for name in [*_BLOCK_FIELDS, "transaction_count"]}
    t: dict[str, list[Any]] = {name: [] for name in ["block_number", "block_hash", "block_timestamp",
                                                       *_TX_FIELDS, *_RECEIPT_FIELDS]}  # fmt: skip
    log_rows: list[dict[str, Any]] = []
    addresses: set[str] = set()
    for block, block_receipts in zip(blocks, receipts, strict=True):
        if not isinstance(block, dict) or "transactions" not in block:
            raise MalformedChunk("a block answer is missing or has no transactions field")
        txs = block["transactions"]
        if len(txs) != len(block_receipts):
            raise MalformedChunk(
                f"block {block.get('number')}: {len(txs)} transactions, {len(block_receipts)} receipts"
            )
        for column, field in _BLOCK_FIELDS.items():
            b[column].append(block.get(field))
        b["transaction_count"].append(len(txs))
        number, block_hash, timestamp = block["number"], block["hash"], block["timestamp"]
        # Matched by hash, not position: some nodes and recordings list receipts in another order.
        by_hash = {
            r["transactionHash"]: r for r in block_receipts if isinstance(r, dict) and "transactionHash" in r
        }
        for tx in txs:
            receipt = by_hash.get(tx["hash"])
            if receipt is None or receipt.get("blockHash", block_hash) != block_hash:
                raise MalformedChunk(f"block {number}: no receipt for transaction {tx.get('hash')}")
            t["block_number"].append(number)
            t["block_hash"].append(block_hash)
            t["block_timestamp"].append(timestamp)
            for column, field in _TX_FIELDS.items():
                t[column].append(tx.get(field))
            for column, field in _RECEIPT_FIELDS.items():
                t[column].append(receipt.get(field))
            addresses.add(tx["from"])
            if tx.get("to"):
                addresses.add(tx["to"])
            for log in receipt["logs"]:
                log_rows.append(log)
    l_cols = _log_columns(log_rows, dict(zip(b["block_hash"], b["timestamp"], strict=True)))
    transfers = decode_token_transfers(log_rows)
    sales = decode_sales(log_rows)
    # The block time travels with each decoded row, so the writer needs no join against raw.blocks.
    times = {int(number, 16): stamp for number, stamp in zip(b["block_number"], b["timestamp"], strict=True)}
    transfers["block_timestamp"] = [times[n] for n in transfers["block_number"]]
    sales["block_timestamp"] = [times[n] for n in sales["block_number"]]
    for column in ("from_address", "to_address"):
        addresses.update(transfers[column])
    addresses.update(sales["seller_address"])
    addresses.update(sales["buyer_address"])
    addresses.discard(None)  # type: ignore[arg-type]
    return ChunkTables(
        blocks=pa.table(b),
        transactions=pa.table(t),
        logs=pa.table(l_cols),
        token_transfers=pa.table(transfers, schema=_TRANSFER_SCHEMA),
        nft_sales=pa.table(sales, schema=_SALE_SCHEMA),
        addresses={a.lower() for a in addresses},
    )


def _log_columns(logs: list[dict[str, Any]], timestamps: dict[str, str]) -> dict[str, list[Any]]:
    cols: dict[str, list[Any]] = {name: [] for name in (
        "block_number", "block_hash", "block_timestamp", "transaction_hash", "transaction_index", "log_index",
        "address", "topic0", "topic1", "topic2", "topic3", "data")}  # fmt: skip
    for log in logs:
        topics = log["topics"]
        cols["block_number"].append(log["blockNumber"])
        cols["block_hash"].append(log["blockHash"])
        if log["blockHash"] not in timestamps:
            raise MalformedChunk(
                f"log {log.get('logIndex')} names block {log['blockHash']}, not in this chunk"
            )
        cols["block_timestamp"].append(timestamps[log["blockHash"]])
        cols["transaction_hash"].append(log["transactionHash"])
        cols["transaction_index"].append(log["transactionIndex"])
        cols["log_index"].append(log["logIndex"])
        cols["address"].append(log["address"])
        for position in range(4):
            cols[f"topic{position}"].append(topics[position] if position < len(topics) else None)
        cols["data"].append(log["data"])
    return {name: pa.array(values, pa.string()) for name, values in cols.items()}


_TRANSFER_SCHEMA = pa.schema(
    [
        ("block_timestamp", pa.string()),
        ("block_number", pa.int64()),
        ("transaction_hash", pa.string()),
        ("log_index", pa.int64()),
        ("batch_index", pa.int64()),
        ("token_standard", pa.string()),
        ("contract_address", pa.string()),
        ("operator_address", pa.string()),
        ("from_address", pa.string()),
        ("to_address", pa.string()),
        ("token_id", pa.string()),
        ("amount", pa.string()),
        ("amount_double", pa.float64()),
    ]
)
_SALE_SCHEMA = pa.schema(
    [
        ("block_timestamp", pa.string()),
        ("block_number", pa.int64()),
        ("transaction_hash", pa.string()),
        ("log_index", pa.int64()),
        ("marketplace_address", pa.string()),
        ("collection_address", pa.string()),
        ("token_id", pa.string()),
        ("amount", pa.string()),
        ("seller_address", pa.string()),
        ("buyer_address", pa.string()),
        ("currency_address", pa.string()),
        ("price", pa.string()),
        ("price_double", pa.float64()),
        ("fee", pa.string()),
        ("fee_double", pa.float64()),
        ("royalty", pa.string()),
        ("royalty_double", pa.float64()),
    ]
)
