"""Import ethereum-etl (v2.4) exports: CSV or JSON lines of blocks, transactions, receipts, logs and token
transfers, as `ethereumetl export_blocks_and_transactions / export_receipts_and_logs /
export_token_transfers` and `ethereumetl stream` write them.

Which file is which, from its columns (CSV header, or the keys of the first JSON record), in this order:
  `topics` → logs; `token_address` → token transfers; `parent_hash` or `transaction_count` → blocks;
  `from_address` → transactions; `cumulative_gas_used` → receipts.
A JSON record's `type` field (`ethereumetl stream`), where present, must agree with its file's kind.

Rows and columns:
- blocks: number, hash, parent_hash, timestamp, transaction_count (needed), miner, gas_limit, gas_used,
  base_fee_per_gas, size, extra_data. When the import also holds transactions, each block's
  transaction_count must equal the number of its transactions.
- transactions: hash, nonce, block_hash, block_number, transaction_index, from_address, to_address, value,
  gas (→ gas_limit), gas_price, input (needed as columns), and where present block_timestamp,
  max_fee_per_gas, max_priority_fee_per_gas, transaction_type and the receipt_* columns.
- receipts: joined onto the transactions of the same import by transaction_hash: gas_used,
  cumulative_gas_used, effective_gas_price, contract_address, status (1 → success, 0 → failure, empty
  before Byzantium → null). Every receipt needs its transaction in the import, and a block with receipts
  needs the receipts of all its transactions (blocks without any keep null receipt fields, unless their
  transactions carry receipt_* columns); a receipt_* value of a transaction that disagrees with its receipt
  is rejected. As in RPC extraction, effective_gas_price falls back to gas_price and transaction_type to 0.
- logs: topics as a comma-joined string (CSV) or a list (JSON), at most four.
- token transfers: whenever logs are imported, raw.token_transfers is DECODED FROM THE LOGS with
  `extract.decode` (so ERC-721, ERC-20 and ERC-1155 are told apart and batches unrolled); a token transfers
  file given with them is only cross-checked: its rows and the ERC-20/721 transfers decoded from the logs
  must be the same set of (transaction_hash, log_index, token, from, to, value) (ethereum-etl's value of an
  ERC-721 transfer is the token id), else the import is rejected. A token transfers file imported WITHOUT
  logs becomes rows with token_standard 'erc20_or_erc721' (ethereum-etl does not say which): `amount`
  holds its value (an ERC-20 amount or an ERC-721 token id), token_id is null, batch_index 0.
- Marketplace Sale events in the logs become raw.nft_sales with source 'rpc', as RPC extraction decodes them.
- contracts (`export_contracts`: address, bytecode, block_number): every address in it holds code; those
  raw.addresses does not know yet are added as contracts (checked at the file's block), so the models
  leave them out of the wallets without asking a node. A contract an earlier import named is resolved too.
- tokens (`export_tokens`: symbol, name, decimals, total_supply): token metadata the warehouse does not
  use; such a file is recognised and skipped (the command says so), so that `export_all`'s whole output
  folder can be imported.

Rows without a block_timestamp (or block_hash) column take them from the blocks of the same import, else
from the warehouse's raw.blocks; a row whose block is in neither is rejected.

Replacement: for each raw table the import writes, its rows of this chain in the import's block ranges
(each file's lowest to highest block, merged where they overlap or touch) are deleted first; nft_sales only
those with source 'rpc'.
Tables the import does not write are left alone; the extraction checkpoint is never moved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from extract.importers.common import (
    BadValue,
    ImportPlan,
    Source,
    address,
    attach_blocks,
    bigint,
    check_chain,
    decode_logs,
    file_spans,
    first_duplicate,
    get,
    hash32,
    hexdata,
    hugeint,
    integer,
    reject_at,
    status_flag,
    uint,
    unix_micros,
)

NEED_BLOCKS = "import the blocks file of these blocks with it (or import the blocks first)"

_REQUIRED = {
    "blocks": ("number", "hash", "parent_hash", "timestamp", "transaction_count"),
    "transactions": (
        "hash",
        "nonce",
        "block_hash",
        "block_number",
        "transaction_index",
        "from_address",
        "to_address",
        "value",
        "gas",
        "gas_price",
        "input",
    ),
    "receipts": ("transaction_hash", "cumulative_gas_used", "gas_used", "contract_address", "status"),
    "logs": (
        "log_index",
        "transaction_hash",
        "transaction_index",
        "block_hash",
        "block_number",
        "address",
        "data",
        "topics",
    ),
    "contracts": ("address", "bytecode", "block_number"),
    "token_transfers": (
        "token_address",
        "from_address",
        "to_address",
        "value",
        "transaction_hash",
        "log_index",
        "block_number",
    ),
}
_RECORD_TYPES = {
    "block": "blocks",
    "transaction": "transactions",
    "receipt": "receipts",
    "log": "logs",
    "token_transfer": "token_transfers",
}
RECEIPT_FIELDS = ("gas_used", "cumulative_gas_used", "effective_gas_price", "contract_address", "status")


def role_of(source: Source) -> str:
    columns = set(source.columns)
    if "bytecode" in columns:
        return "contracts"
    if {"symbol", "decimals"} <= columns and "token_address" not in columns:
        return "tokens"
    if "topics" in columns:
        return "logs"
    if "token_address" in columns:
        return "token_transfers"
    if "parent_hash" in columns or "transaction_count" in columns:
        return "blocks"
    if "from_address" in columns:
        return "transactions"
    if "cumulative_gas_used" in columns:
        return "receipts"
    # ethereum-etl writes an empty JSON file for a range without rows
    if not source.rows and not source.columns:
        return "empty"
    raise source.reject(
        1 if source.fmt != "parquet" else None,
        None,
        "cannot tell which ethereum-etl export this is (blocks have parent_hash, transactions from_address, "
        "receipts cumulative_gas_used, logs topics, token transfers token_address, contracts bytecode)",
        "give ethereum-etl's blocks, transactions, receipts, logs, token_transfers or contracts files",
    )


def plan(con: duckdb.DuckDBPyConnection, chain_id: int, sources: list[Source]) -> ImportPlan:
    by_role: dict[str, list[Source]] = {role: [] for role in (*_REQUIRED, "empty", "tokens")}
    for source in sources:
        role = role_of(source)
        by_role[role].append(source)
        if role not in ("empty", "tokens"):
            source.require(_REQUIRED[role], f"ethereum-etl {role}")
            _check_record_types(source, role)

    def parse(role: str, parse_row: Callable[[dict[str, Any]], dict[str, Any]]) -> list[dict[str, Any]]:
        def checked(row: dict[str, Any]) -> dict[str, Any]:
            check_chain(row, chain_id)  # ethereum-etl has no chain_id column; a file that adds one is checked
            return parse_row(row)

        return [row for source in by_role[role] for row in source.parse(checked)]

    blocks = parse("blocks", _block)
    transactions = parse("transactions", _transaction)
    receipts = parse("receipts", _receipt)
    logs = parse("logs", _log)
    file_transfers = parse("token_transfers", _token_transfer)
    contracts = parse("contracts", _contract)

    first_duplicate(blocks, lambda r: r["block_number"], "block")
    first_duplicate(transactions, lambda r: r["transaction_hash"], "transaction")
    first_duplicate(receipts, lambda r: r["transaction_hash"], "receipt of transaction")
    first_duplicate(logs, lambda r: (r["block_number"], r["log_index"]), "log (block, log_index)")
    first_duplicate(
        file_transfers,
        lambda r: (r["transaction_hash"], r["log_index"]),
        "token transfer (transaction, log_index)",
    )

    if receipts:
        _join_receipts(transactions, receipts, by_role)
    _finish_transactions(transactions)
    if blocks and by_role["transactions"]:
        _check_transaction_counts(blocks, transactions)

    attach_blocks(con, chain_id, blocks, transactions, need_hash=True, fix=NEED_BLOCKS)
    attach_blocks(con, chain_id, blocks, logs, need_hash=True, fix=NEED_BLOCKS)

    result = ImportPlan(skipped=[source.path for source in by_role["tokens"]])
    for row in contracts:  # an address deployed twice (CREATE2 after a selfdestruct): its first block
        known = result.contracts.get(row["address"])
        result.contracts[row["address"]] = (
            row["block_number"] if known is None else min(known, row["block_number"])
        )
    spans = file_spans(blocks, transactions, logs, file_transfers)
    if by_role["blocks"]:
        result.add("blocks", blocks, spans)
    if by_role["transactions"]:
        result.add("transactions", transactions, spans)
    if by_role["logs"]:
        transfers, sales = decode_logs(logs)
        if by_role["token_transfers"]:
            cross_check_transfers(file_transfers, transfers, logs)
        result.add("logs", logs, spans)
        result.add("token_transfers", transfers, spans)
        result.add("nft_sales", sales, spans, "rpc")
    elif by_role["token_transfers"]:
        attach_blocks(con, chain_id, blocks, file_transfers, need_hash=False, fix=NEED_BLOCKS)
        result.add("token_transfers", [_ambiguous_transfer(row) for row in file_transfers], spans)
    return result


def _check_record_types(source: Source, role: str) -> None:
    for number, row in source.rows:
        kind = row.get("type")
        if kind is not None and _RECORD_TYPES.get(kind, kind) != role:
            raise source.reject(
                number,
                "type",
                f"a '{kind}' record in a file of {role}",
                "give each kind of record in its own file",
            )


def _contract(row: dict[str, Any]) -> dict[str, Any]:
    return {"address": get(row, "address", address), "block_number": get(row, "block_number", bigint)}


def _block(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "block_number": get(row, "number", bigint),
        "block_hash": get(row, "hash", hash32),
        "parent_hash": get(row, "parent_hash", hash32),
        "timestamp": get(row, "timestamp", unix_micros),
        "miner": get(row, "miner", address, required=False),
        "gas_limit": get(row, "gas_limit", bigint, required=False),
        "gas_used": get(row, "gas_used", bigint, required=False),
        "base_fee_per_gas": get(row, "base_fee_per_gas", hugeint, required=False),
        "transaction_count": get(row, "transaction_count", integer),
        "size": get(row, "size", bigint, required=False),
        "extra_data": get(row, "extra_data", hexdata, required=False),
    }


def _transaction(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "block_number": get(row, "block_number", bigint),
        "block_hash": get(row, "block_hash", hash32),
        "block_timestamp": get(row, "block_timestamp", unix_micros, required=False),
        "transaction_hash": get(row, "hash", hash32),
        "transaction_index": get(row, "transaction_index", integer),
        "nonce": get(row, "nonce", bigint, required=False),
        "from_address": get(row, "from_address", address),
        "to_address": get(row, "to_address", address, required=False),
        "value": get(row, "value", hugeint),
        "input": get(row, "input", hexdata, required=False),
        "gas_limit": get(row, "gas", bigint, required=False),
        "gas_price": get(row, "gas_price", hugeint, required=False),
        "max_fee_per_gas": get(row, "max_fee_per_gas", hugeint, required=False),
        "max_priority_fee_per_gas": get(row, "max_priority_fee_per_gas", hugeint, required=False),
        "transaction_type": get(row, "transaction_type", integer, required=False),
        **_receipt_values(row, "receipt_"),
    }


def _receipt_values(row: dict[str, Any], prefix: str) -> dict[str, Any]:
    return {
        "gas_used": get(row, prefix + "gas_used", bigint, required=False),
        "cumulative_gas_used": get(row, prefix + "cumulative_gas_used", bigint, required=False),
        "effective_gas_price": get(row, prefix + "effective_gas_price", hugeint, required=False),
        "contract_address": get(row, prefix + "contract_address", address, required=False),
        "success": get(row, prefix + "status", status_flag, required=False),
    }


def _receipt(row: dict[str, Any]) -> dict[str, Any]:
    return {"transaction_hash": get(row, "transaction_hash", hash32), **_receipt_values(row, "")}


def _log(row: dict[str, Any]) -> dict[str, Any]:
    topics = get(row, "topics", _topics, required=False) or []
    return {
        "block_number": get(row, "block_number", bigint),
        "block_hash": get(row, "block_hash", hash32),
        "block_timestamp": get(row, "block_timestamp", unix_micros, required=False),
        "transaction_hash": get(row, "transaction_hash", hash32),
        "transaction_index": get(row, "transaction_index", integer),
        "log_index": get(row, "log_index", integer),
        "address": get(row, "address", address),
        **{f"topic{i}": topics[i] if i < len(topics) else None for i in range(4)},
        "data": get(row, "data", hexdata),
    }


def _topics(value: Any) -> list[str]:
    items = value if isinstance(value, list) else [t for t in str(value).split(",") if t.strip()]
    if len(items) > 4:
        raise BadValue(f"{len(items)} topics; a log has at most 4")
    return [hash32(t) for t in items]


def _token_transfer(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "block_number": get(row, "block_number", bigint),
        "block_hash": get(row, "block_hash", hash32, required=False),
        "block_timestamp": get(row, "block_timestamp", unix_micros, required=False),
        "transaction_hash": get(row, "transaction_hash", hash32),
        "log_index": get(row, "log_index", integer),
        "contract_address": get(row, "token_address", address),
        "from_address": get(row, "from_address", address),
        "to_address": get(row, "to_address", address),
        "value": get(row, "value", uint),
    }


def _join_receipts(transactions: list[dict[str, Any]], receipts: list[dict[str, Any]], by_role) -> None:
    if not by_role["transactions"]:
        raise reject_at(
            receipts[0]["_at"],
            None,
            "receipts are joined onto their transactions, and this import has no transactions file",
            "import the transactions file of the same blocks with the receipts",
        )
    by_hash = {tx["transaction_hash"]: tx for tx in transactions}
    for receipt in receipts:
        tx = by_hash.pop(receipt["transaction_hash"], None)
        if tx is None:
            raise reject_at(
                receipt["_at"],
                "transaction_hash",
                f"{receipt['transaction_hash']} is not in the transactions files of this import",
                "import the receipts with the transactions of the same blocks",
            )
        for name in ("gas_used", "cumulative_gas_used", "effective_gas_price", "contract_address", "success"):
            mine, theirs = tx[name], receipt[name]
            if mine is not None and theirs is not None and mine != theirs:
                column = "status" if name == "success" else name
                raise reject_at(
                    receipt["_at"],
                    column,
                    f"{theirs} but its transaction's receipt_{column} is {mine}",
                    "export the transactions and receipts again, together",
                )
            if theirs is not None:
                tx[name] = theirs
    with_receipts = {tx["block_number"] for tx in transactions if tx["transaction_hash"] not in by_hash}
    for tx in by_hash.values():
        if tx["block_number"] in with_receipts:
            raise reject_at(
                tx["_at"],
                "hash",
                f"transaction {tx['transaction_hash']} has no receipt in the "
                f"receipts files, though other transactions of block {tx['block_number']} have",
                "give the receipts of every transaction of a block",
            )


def _finish_transactions(transactions: list[dict[str, Any]]) -> None:
    """RPC extraction's conventions: effective gas price falls back to the gas price, type to 0."""
    for tx in transactions:
        if tx["effective_gas_price"] is None:
            tx["effective_gas_price"] = tx["gas_price"]
        if tx["transaction_type"] is None:
            tx["transaction_type"] = 0


def _check_transaction_counts(blocks: list[dict[str, Any]], transactions: list[dict[str, Any]]) -> None:
    counts: dict[int, int] = {}
    for tx in transactions:
        counts[tx["block_number"]] = counts.get(tx["block_number"], 0) + 1
    for block in blocks:
        found = counts.get(block["block_number"], 0)
        if found != block["transaction_count"]:
            raise reject_at(
                block["_at"],
                "transaction_count",
                f"block {block['block_number']} says {block['transaction_count']} transactions but "
                f"the transactions files hold {found} of it",
                "import complete exports: every transaction of the blocks given",
            )


def cross_check_transfers(
    file_rows: list[dict[str, Any]], decoded: list[dict[str, Any]], logs: list[dict[str, Any]]
) -> None:
    """The token transfers file and the ERC-20/721 transfers decoded from the logs must be the same set."""
    ours = {
        (row["transaction_hash"], row["log_index"]): (
            row["contract_address"],
            row["from_address"],
            row["to_address"],
            int(row["token_id"]) if row["token_standard"] == "erc721" else int(row["amount"]),
        )
        for row in decoded
        if row["token_standard"] in ("erc20", "erc721")
    }
    fields = ("token_address", "from_address", "to_address", "value")
    for row in file_rows:
        key = (row["transaction_hash"], row["log_index"])
        theirs = (row["contract_address"], row["from_address"], row["to_address"], row["value"])
        mine = ours.pop(key, None)
        if mine is None:
            raise reject_at(
                row["_at"],
                "log_index",
                f"no ERC-20/721 Transfer at log {row['log_index']} of transaction "
                f"{row['transaction_hash']} in the logs of this import",
                "import the token transfers with the logs of the same blocks",
            )
        for name, a, b in zip(fields, mine, theirs, strict=True):
            if a != b:
                raise reject_at(
                    row["_at"],
                    name,
                    f"is {b}, but the log decodes to {a}",
                    "export the logs and token transfers again, together",
                )
    if ours:
        tx_hash, log_index = next(iter(ours))
        log = next(lg for lg in logs if lg["transaction_hash"] == tx_hash and lg["log_index"] == log_index)
        raise reject_at(
            log["_at"],
            "topics",
            f"log {log_index} of transaction {tx_hash} is an ERC-20/721 "
            "Transfer missing from the token transfers file",
            "import the token transfers with the logs of the same blocks",
        )


def _ambiguous_transfer(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "block_number": row["block_number"],
        "block_timestamp": row["block_timestamp"],
        "transaction_hash": row["transaction_hash"],
        "log_index": row["log_index"],
        "batch_index": 0,
        "token_standard": "erc20_or_erc721",
        "contract_address": row["contract_address"],
        "operator_address": None,
        "from_address": row["from_address"],
        "to_address": row["to_address"],
        "token_id": None,
        "amount": str(row["value"]),
        "amount_double": float(row["value"]),
    }
