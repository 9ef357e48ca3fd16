"""Turn a chunk of JSON-RPC answers (blocks with transactions, their receipts) into raw-table columns.

Python only plucks fields: hex quantities stay hex text here and DuckDB casts them on insert (its
`'0x…'::hugeint` is vectorized and exact), which keeps the hot loop cheap. Only log-decoded uint256 values
become Python ints, because they can exceed every SQL integer type.

Columns are NumPy arrays (object arrays of str for text), which DuckDB scans directly: building them costs
a fraction of building Arrow arrays from Python strings, and pyarrow would import pandas (0.3 s) on the
first chunk.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import numpy as np

from extract.decode import decode_sales, decode_token_transfers
from extract.rpc_types import Block, Log, Receipt, Transaction

Columns = dict[str, np.ndarray]  # one table: equal-length columns by name, scanned by DuckDB as is


class MalformedChunk(ValueError):
    """A node answer that does not hold together (missing receipts, mismatched hashes): never written."""


@dataclass
class ChunkTables:
    blocks: Columns
    transactions: Columns
    logs: Columns
    token_transfers: Columns
    nft_sales: Columns
    addresses: set[str]  # every address seen, lowercase, for the has-code check

    def counts(self) -> dict[str, int]:
        return {name: row_count(getattr(self, name)) for name in ("blocks", "transactions", "logs")}


def concat_tables(parts: list[ChunkTables]) -> ChunkTables:
    """The tables of consecutive pieces of a chunk, as one."""
    if len(parts) == 1:
        return parts[0]

    def concat(name: str) -> Columns:
        tables = [getattr(part, name) for part in parts]
        return {column: np.concatenate([table[column] for table in tables]) for column in tables[0]}

    return ChunkTables(
        blocks=concat("blocks"),
        transactions=concat("transactions"),
        logs=concat("logs"),
        token_transfers=concat("token_transfers"),
        nft_sales=concat("nft_sales"),
        addresses=set().union(*(part.addresses for part in parts)),
    )


def row_count(columns: Columns) -> int:
    return len(next(iter(columns.values()))) if columns else 0


def text_columns(columns: dict[str, list[Any]]) -> Columns:
    """Lists of str/None as object arrays (None becomes NULL in DuckDB)."""
    return {name: _objects(values) for name, values in columns.items()}


def _objects(values: list[Any]) -> np.ndarray:
    # np.array(list_of_str, dtype=object) would try to build a 2-D array from equal-length sequences;
    # filling an empty object array never does.
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


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
    "from_address": "from_",
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
_LOG_FIELDS = {
    "block_number": "blockNumber",
    "block_hash": "blockHash",
    "transaction_hash": "transactionHash",
    "transaction_index": "transactionIndex",
    "log_index": "logIndex",
    "address": "address",
    "data": "data",
}


def normalize_chunk(blocks: list[Block], receipts: list[list[Receipt | None]]) -> ChunkTables:
    """`blocks` from eth_getBlockByNumber(n, true); `receipts[i]` are block i's receipts, in any order."""
    if len(blocks) != len(receipts):
        raise MalformedChunk(f"{len(blocks)} blocks but receipts for {len(receipts)}")
    txs: list[Transaction] = []
    tx_receipts: list[Receipt] = []
    per_block: list[int] = []  # transactions per block, to repeat the block's fields on its transactions
    for block, block_receipts in zip(blocks, receipts, strict=True):
        if block is None or block_receipts is None:
            raise MalformedChunk("the node has no block or no receipts for a block of this chunk")
        block_txs = block.transactions
        if len(block_txs) != len(block_receipts):
            raise MalformedChunk(
                f"block {block.number}: {len(block_txs)} transactions, {len(block_receipts)} receipts"
            )
        block_hash = block.hash
        # Matched by hash, not position: some nodes and recordings list receipts in another order.
        by_hash = {r.transactionHash: r for r in block_receipts if r is not None}
        for tx in block_txs:
            receipt = by_hash.get(tx.hash)
            if receipt is None or (receipt.blockHash or block_hash) != block_hash:
                raise MalformedChunk(f"block {block.number}: no receipt for transaction {tx.hash}")
            tx_receipts.append(receipt)
        txs.extend(block_txs)
        per_block.append(len(block_txs))
    b = {column: [getattr(block, field) for block in blocks] for column, field in _BLOCK_FIELDS.items()}
    t = {
        "block_number": _repeat(b["block_number"], per_block),
        "block_hash": _repeat(b["block_hash"], per_block),
        "block_timestamp": _repeat(b["timestamp"], per_block),
        **{column: _pluck(txs, field) for column, field in _TX_FIELDS.items()},
        **{column: _pluck(tx_receipts, field) for column, field in _RECEIPT_FIELDS.items()},
    }
    logs = [log for receipt in tx_receipts for log in receipt.logs]
    l_cols = _log_columns(logs, dict(zip(b["block_hash"], b["timestamp"], strict=True)))
    transfers = decode_token_transfers(logs)
    sales = decode_sales(logs)
    # The block time travels with each decoded row, so the writer needs no join against raw.blocks.
    times = {int(number, 16): stamp for number, stamp in zip(b["block_number"], b["timestamp"], strict=True)}
    transfers["block_timestamp"] = list(map(times.__getitem__, transfers["block_number"]))
    sales["block_timestamp"] = list(map(times.__getitem__, sales["block_number"]))
    addresses: set[str] = set(t["from_address"])
    addresses.update(t["to_address"])
    for column in ("from_address", "to_address"):
        addresses.update(transfers[column])
    addresses.update(sales["seller_address"])
    addresses.update(sales["buyer_address"])
    addresses.discard(None)  # type: ignore[arg-type]
    addresses.discard("")
    return ChunkTables(
        blocks={**text_columns(b), "transaction_count": np.array(per_block, dtype=np.int64)},
        transactions=text_columns(t),
        logs=text_columns(l_cols),
        token_transfers=_typed(transfers, _TRANSFER_TYPES),
        nft_sales=_typed(sales, _SALE_TYPES),
        addresses={a.lower() for a in addresses},
    )


def _pluck(items: list[Any], field: str) -> list[Any]:
    return list(map(attrgetter(field), items))  # map runs the getter in C: 2.5x a list comprehension


def _repeat(values: list[Any], counts: list[int]) -> list[Any]:
    out: list[Any] = []
    for value, count in zip(values, counts, strict=True):
        out += [value] * count
    return out


def _log_columns(logs: list[Log], timestamps: dict[str, str]) -> dict[str, list[Any]]:
    cols = {column: _pluck(logs, field) for column, field in _LOG_FIELDS.items()}
    unknown = set(cols["block_hash"]) - timestamps.keys()
    if unknown:
        raise MalformedChunk(f"a log names block {min(unknown)}, not in this chunk")
    cols["block_timestamp"] = list(map(timestamps.__getitem__, cols["block_hash"]))
    padded = [(*log.topics, None, None, None, None)[:4] for log in logs]
    for position, column in enumerate(zip(*padded, strict=True) if padded else ((), (), (), ())):
        cols[f"topic{position}"] = list(column)
    return cols


def _typed(columns: dict[str, list[Any]], types: dict[str, type]) -> Columns:
    """Decoded columns in the order and NumPy types of `types` (text as object arrays)."""
    return {
        name: _objects(columns[name]) if kind is object else np.array(columns[name], dtype=kind)
        for name, kind in types.items()
    }


_TRANSFER_TYPES: dict[str, type] = {
    "block_timestamp": object,
    "block_number": np.int64,
    "transaction_hash": object,
    "log_index": np.int64,
    "batch_index": np.int64,
    "token_standard": object,
    "contract_address": object,
    "operator_address": object,
    "from_address": object,
    "to_address": object,
    "token_id": object,
    "amount": object,
    "amount_double": np.float64,
}
_SALE_TYPES: dict[str, type] = {
    "block_timestamp": object,
    "block_number": np.int64,
    "transaction_hash": object,
    "log_index": np.int64,
    "marketplace_address": object,
    "collection_address": object,
    "token_id": object,
    "amount": object,
    "seller_address": object,
    "buyer_address": object,
    "currency_address": object,
    "price": object,
    "price_double": np.float64,
    "fee": object,
    "fee_double": np.float64,
    "royalty": object,
    "royalty_double": np.float64,
}
