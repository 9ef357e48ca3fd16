"""Import cryo output (parquet; cryo's --csv / --json output reads the same way) of the blocks,
transactions and logs datasets, as cryo 0.3.2 writes them.

Which file is which, from its name `<network>__<dataset>__<first>_to_<last>.<ext>` (cryo's naming, e.g.
`ethereum__blocks__00000000_to_00000099.parquet`); a file not named so is told by its columns: `topic0` →
logs, `from_address` → transactions, `parent_hash` or `author` → blocks. Other datasets are rejected.

Columns (binary columns → lowercase 0x hex; cryo's --hex text is read too; every file's chain_id must equal
the import's):
- blocks: block_number, block_hash, timestamp, parent_hash (not in cryo's default columns: run cryo with
  `--include-columns parent_hash size`; the import needs it for reorg checks), author → miner, gas_used,
  base_fee_per_gas, size, extra_data. cryo 0.3.2 has no gas_limit (left null) and no transaction count: it
  is counted from the transactions files, so blocks need the transactions files of the same blocks (by the
  file names' ranges) in the import.
- transactions: block_number, transaction_index, transaction_hash, nonce, from_address, to_address, value
  (value_string, else value_binary, else value: cryo splits u256 columns into these), input, gas_limit,
  gas_used, gas_price, transaction_type, max_fee_per_gas, max_priority_fee_per_gas, success; block_hash and
  the timestamp come from the blocks. cryo gives no cumulative_gas_used or contract_address (null). Its
  gas_price is the node's gasPrice of the mined transaction, which is the price paid; as in RPC
  extraction, effective_gas_price takes it. Files written with --exclude-failed lose the failed
  transactions; do not use that flag.
- logs: block_number, transaction_index, log_index, transaction_hash, address, topic0..topic3, data;
  block_hash and timestamp from the blocks. Token transfers and marketplace sales are decoded from them
  with `extract.decode` (sales with source 'rpc').

Replacement: for each raw table written, the rows of this chain in the import's block ranges (each file's
range from its name, else its lowest to highest block; merged where they overlap or touch) are deleted
first (nft_sales: only source 'rpc').
"""

from __future__ import annotations

import re
from typing import Any

import duckdb

from extract.importers.common import (
    BadValue,
    ImportPlan,
    Source,
    address,
    attach_blocks,
    bigint,
    block_range,
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
    unix_micros,
)

NAME = re.compile(r"^(?P<network>.+?)__(?P<dataset>[a-z0-9_]+?)__(?P<first>\d+)_to_(?P<last>\d+)$")
DATASETS = ("blocks", "transactions", "logs")
NEED_BLOCKS = "import cryo's blocks dataset of the same blocks with it (or import those blocks first)"

_REQUIRED = {
    "blocks": ("block_number", "block_hash", "timestamp", "parent_hash"),
    "transactions": ("block_number", "transaction_index", "transaction_hash", "from_address", "to_address"),
    "logs": (
        "block_number",
        "transaction_index",
        "log_index",
        "transaction_hash",
        "address",
        "topic0",
        "topic1",
        "topic2",
        "topic3",
        "data",
    ),
}
_FIXES = {
    "parent_hash": "run cryo's blocks dataset with `--include-columns parent_hash size` and import again",
}


def name_range(source: Source) -> tuple[str | None, tuple[int, int] | None]:
    match = NAME.match(source.path.name.split(".", 1)[0])
    if not match:
        return None, None
    return match["dataset"], (int(match["first"]), int(match["last"]))


def role_of(source: Source) -> str:
    dataset, _ = name_range(source)
    if dataset is None:
        columns = set(source.columns)
        if "topic0" in columns:
            dataset = "logs"
        elif "from_address" in columns:
            dataset = "transactions"
        elif "parent_hash" in columns or "author" in columns:
            dataset = "blocks"
    if dataset not in DATASETS:
        raise source.reject(
            None,
            None,
            f"cryo dataset '{dataset}' is not imported here"
            if dataset
            else "cannot tell which cryo dataset this is",
            "import cryo's blocks, transactions and logs (token transfers and sales are decoded "
            "from the logs); keep cryo's file names",
        )
    return dataset


def plan(con: duckdb.DuckDBPyConnection, chain_id: int, sources: list[Source]) -> ImportPlan:
    by_role: dict[str, list[Source]] = {role: [] for role in DATASETS}
    for source in sources:
        role = role_of(source)
        by_role[role].append(source)
        for column in _REQUIRED[role]:
            source.require([column], f"cryo {role}", _FIXES.get(column))
        if role == "transactions" and not {"value_string", "value_binary", "value"} & set(source.columns):
            raise source.reject(
                None,
                "value_string",
                "this cryo transactions file has no value column (value_string, value_binary or value)",
                "run cryo with its default columns",
            )

    def parse(role: str, parse_row) -> list[dict[str, Any]]:
        def checked(row: dict[str, Any]) -> dict[str, Any]:
            check_chain(row, chain_id)
            return parse_row(row)

        return [row for source in by_role[role] for row in source.parse(checked)]

    blocks = parse("blocks", _block)
    transactions = parse("transactions", _transaction)
    logs = parse("logs", _log)
    first_duplicate(blocks, lambda r: r["block_number"], "block")
    first_duplicate(transactions, lambda r: r["transaction_hash"], "transaction")
    first_duplicate(logs, lambda r: (r["block_number"], r["log_index"]), "log (block, log_index)")
    _count_transactions(blocks, transactions, by_role)

    attach_blocks(con, chain_id, blocks, transactions, need_hash=True, fix=NEED_BLOCKS)
    attach_blocks(con, chain_id, blocks, logs, need_hash=True, fix=NEED_BLOCKS)

    named = [span for source in sources if (span := name_range(source)[1])]
    result = ImportPlan()
    spans = file_spans(blocks, transactions, logs, extra=named)
    if by_role["blocks"]:
        result.add("blocks", blocks, spans)
    if by_role["transactions"]:
        result.add("transactions", transactions, spans)
    if by_role["logs"]:
        transfers, sales = decode_logs(logs)
        result.add("logs", logs, spans)
        result.add("token_transfers", transfers, spans)
        result.add("nft_sales", sales, spans, "rpc")
    return result


def _block(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "block_number": get(row, "block_number", bigint),
        "block_hash": get(row, "block_hash", hash32),
        "parent_hash": get(row, "parent_hash", hash32),
        "timestamp": get(row, "timestamp", unix_micros),
        "miner": get(row, "author", address, required=False),
        "gas_limit": get(row, "gas_limit", bigint, required=False),
        "gas_used": get(row, "gas_used", bigint, required=False),
        "base_fee_per_gas": get(row, "base_fee_per_gas", hugeint, required=False),
        "transaction_count": None,  # counted from the transactions files
        "size": get(row, "size", bigint, required=False),
        "extra_data": get(row, "extra_data", hexdata, required=False),
    }


def _value(row: dict[str, Any]) -> str:
    for column in ("value_string", "value_binary", "value"):
        if column in row:
            return get(row, column, hugeint)
    raise BadValue("no value column", "value_string")


def _transaction(row: dict[str, Any]) -> dict[str, Any]:
    gas_price = get(row, "gas_price", hugeint, required=False)
    return {
        "block_number": get(row, "block_number", bigint),
        "block_hash": get(row, "block_hash", hash32, required=False),
        "block_timestamp": get(row, "timestamp", unix_micros, required=False),
        "transaction_hash": get(row, "transaction_hash", hash32),
        "transaction_index": get(row, "transaction_index", integer),
        "nonce": get(row, "nonce", bigint, required=False),
        "from_address": get(row, "from_address", address),
        "to_address": get(row, "to_address", address, required=False),
        "value": _value(row),
        "input": get(row, "input", hexdata, required=False),
        "gas_limit": get(row, "gas_limit", bigint, required=False),
        "gas_price": gas_price,
        "max_fee_per_gas": get(row, "max_fee_per_gas", hugeint, required=False),
        "max_priority_fee_per_gas": get(row, "max_priority_fee_per_gas", hugeint, required=False),
        "transaction_type": get(row, "transaction_type", integer, required=False) or 0,
        "gas_used": get(row, "gas_used", bigint, required=False),
        "cumulative_gas_used": None,
        "effective_gas_price": gas_price,
        "contract_address": None,
        "success": get(row, "success", status_flag, required=False),
    }


def _log(row: dict[str, Any]) -> dict[str, Any]:
    topics = {f"topic{i}": get(row, f"topic{i}", hash32, required=False) for i in range(4)}
    present = [topics[f"topic{i}"] is not None for i in range(4)]
    if present != sorted(present, reverse=True):
        raise BadValue("a topic is empty while a later one is not", "topic0" if not present[0] else "topic1")
    return {
        "block_number": get(row, "block_number", bigint),
        "block_hash": get(row, "block_hash", hash32, required=False),
        "block_timestamp": None,
        "transaction_hash": get(row, "transaction_hash", hash32),
        "transaction_index": get(row, "transaction_index", integer),
        "log_index": get(row, "log_index", integer),
        "address": get(row, "address", address),
        **topics,
        "data": get(row, "data", hexdata),
    }


def _count_transactions(blocks: list[dict[str, Any]], transactions: list[dict[str, Any]], by_role) -> None:
    """cryo's blocks carry no transaction count: count them, from transactions files covering the block."""
    covered: list[tuple[int, int]] = []
    for source in by_role["transactions"]:
        span = name_range(source)[1]
        if span is None:  # not named as cryo names files: the blocks its rows cover
            span = block_range([row for row in transactions if row["_at"][0] is source])
        if span:
            covered.append(span)
    counts: dict[int, int] = {}
    for tx in transactions:
        counts[tx["block_number"]] = counts.get(tx["block_number"], 0) + 1
    for block in blocks:
        number = block["block_number"]
        if not any(first <= number <= last for first, last in covered):
            raise reject_at(
                block["_at"],
                "block_number",
                f"block {number} has no transactions file covering it, and cryo's blocks carry "
                "no transaction count",
                "import cryo's transactions dataset of the same blocks with the blocks",
            )
        block["transaction_count"] = counts.get(number, 0)
