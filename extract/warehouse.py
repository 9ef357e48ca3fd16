"""Write extracted chunks into the raw schema: one DuckDB transaction per chunk, checkpoint included.

A chunk replaces whatever the warehouse held for its block range, so re-extracting a range (or resuming
after a crash mid-chunk, when nothing of it was committed) never leaves a duplicate or a gap.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb
import numpy as np

from chainseg.errors import UserError
from extract.normalize import ChunkTables, text_columns
from extract.schema import BLOCK_TABLES, create_raw_schema


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    """The warehouse, read-write, with the raw schema created or brought up to date."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = open_warehouse(path)
    create_raw_schema(con)
    return con


def open_warehouse(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """duckdb.connect, with a file another process holds (DuckDB allows one writer process) as a UserError
    saying so, not a traceback."""
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except (duckdb.IOException, duckdb.ConnectionException) as exc:
        raise UserError(f"cannot open the warehouse {path} ({exc}); stop the process using it") from None


def fetch_one(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> tuple | None:
    """The first row or None. DuckDB 2.0 refuses new work on a connection whose last result was only
    partly fetched, so never use fetchone() on a shared connection."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def _ts(column: str) -> str:
    return f"make_timestamp({column}::bigint * 1000000)"


# Casts from the chunk's text columns (0x-hex from nodes, or base-10 from imports: DuckDB reads both).
_INSERTS = {
    "blocks": f"""
        select $chain_id, block_number::bigint, lower(block_hash), lower(parent_hash), {_ts("timestamp")},
               lower(miner), gas_limit::bigint, gas_used::bigint, base_fee_per_gas::hugeint,
               transaction_count::integer, size::bigint, extra_data
        from chunk_blocks""",
    "transactions": f"""
        select $chain_id, block_number::bigint, lower(block_hash), {_ts("block_timestamp")},
               lower(transaction_hash), transaction_index::integer, nonce::bigint, lower(from_address),
               lower(to_address), value::hugeint, input, gas_limit::bigint, gas_price::hugeint,
               max_fee_per_gas::hugeint, max_priority_fee_per_gas::hugeint,
               coalesce(transaction_type::integer, 0), gas_used::bigint, cumulative_gas_used::bigint,
               coalesce(effective_gas_price, gas_price)::hugeint, lower(contract_address),
               case when status is null then null else status::integer = 1 end
        from chunk_transactions""",
    "logs": f"""
        select $chain_id, block_number::bigint, lower(block_hash), {_ts("block_timestamp")},
               lower(transaction_hash), transaction_index::integer, log_index::integer, lower(address),
               lower(topic0), lower(topic1), lower(topic2), lower(topic3), data
        from chunk_logs""",
    "token_transfers": f"""
        select $chain_id, block_number, {_ts("block_timestamp")}, transaction_hash, log_index, batch_index,
               token_standard, contract_address, operator_address, from_address, to_address, token_id, amount,
               amount_double
        from chunk_token_transfers""",
    "nft_sales": f"""
        select $chain_id, block_number, {_ts("block_timestamp")}, transaction_hash, log_index,
               marketplace_address, null, collection_address, token_id, amount, seller_address, buyer_address,
               currency_address, null, price, price_double, fee, fee_double, royalty, royalty_double, 'rpc',
               null
        from chunk_nft_sales""",
}


def _only_ours(table: str) -> str:
    """The condition keeping, in a delete of a block range, the rows extraction did not write: sales imported
    from other sources (a Dune trades table) are not ours to replace."""
    return " and source = 'rpc'" if table == "nft_sales" else ""


def known_addresses(con: duckdb.DuckDBPyConnection, chain_id: int, candidates: set[str]) -> set[str]:
    if not candidates:
        return set()
    con.register("candidate_addresses", text_columns({"address": sorted(candidates)}))
    try:
        rows = con.execute(
            "select c.address from candidate_addresses c join raw.addresses a "
            "on a.chain_id = ? and a.address = c.address",
            [chain_id],
        ).fetchall()
    finally:
        con.unregister("candidate_addresses")
    return {row[0] for row in rows}


def write_chunk(
    con: duckdb.DuckDBPyConnection,
    chain_id: int,
    first: int,
    last: int,
    tables: ChunkTables,
    code_flags: dict[str, bool],
) -> None:
    """Replace blocks first..last of `chain_id` with `tables` and move the checkpoint, atomically."""
    begin_chunk(con, chain_id, first, last, tables)
    commit_chunk(con, chain_id, first, last, code_flags)


def begin_chunk(
    con: duckdb.DuckDBPyConnection,
    chain_id: int,
    first: int,
    last: int,
    tables: ChunkTables,
    late_before: datetime | None = None,
) -> None:
    """Open the chunk's transaction and replace its block range in the block tables. The caller must end
    it with commit_chunk, or roll it back; on an error here it is rolled back already.

    Two steps so that the extractor can write the tables while the node still answers which of the chunk's
    new addresses hold code (commit_chunk needs those answers).

    `late_before`: the start of the newest day another chain's blocks reach. A new block of this chain
    before it lands on a day the models may have built already, older than a nightly build's window (a
    chain added to a built warehouse, or one whose node was down for nights): it is logged in raw.rewrites
    like a replaced block, so that the next build rebuilds from its day."""
    views = {f"chunk_{name}": getattr(tables, name) for name in BLOCK_TABLES}
    for name, table in views.items():
        con.register(name, table)
    try:
        con.execute("begin transaction")
        try:
            record_rewrite(con, chain_id, first, last, "re-extraction")
            for table in BLOCK_TABLES:
                con.execute(
                    f"delete from raw.{table} where chain_id = ? and block_number between ? and ?"
                    f"{_only_ours(table)}",
                    [chain_id, first, last],
                )
            for table in BLOCK_TABLES:
                con.execute(f"insert into raw.{table} {_INSERTS[table]}", {"chain_id": chain_id})
            if late_before is not None:
                log_rewrite(
                    con,
                    chain_id,
                    "late blocks",
                    "select block_number, timestamp as block_time from raw.blocks where chain_id = $chain_id "
                    f"and block_number between {int(first)} and {int(last)} "
                    f"and timestamp < cast('{late_before.isoformat(sep=' ')}' as timestamp)",
                )
        except BaseException:
            con.execute("rollback")
            raise
    finally:
        for name in views:
            con.unregister(name)


def commit_chunk(
    con: duckdb.DuckDBPyConnection, chain_id: int, first: int, last: int, code_flags: dict[str, bool]
) -> None:
    """Record the chunk's new addresses, move the checkpoint and commit what begin_chunk wrote; on an error,
    roll all of it back."""
    try:
        _record_and_commit(con, chain_id, first, last, code_flags)
    except BaseException:
        con.execute("rollback")
        raise


def _record_and_commit(
    con: duckdb.DuckDBPyConnection, chain_id: int, first: int, last: int, code_flags: dict[str, bool]
) -> None:
    if code_flags:
        con.register(
            "chunk_codes",
            {
                **text_columns({"address": list(code_flags)}),
                "has_code": np.array(list(code_flags.values()), dtype=bool),
            },
        )
        try:
            con.execute(
                "insert into raw.addresses select $chain_id, c.address, c.has_code, $last "
                "from chunk_codes c where not exists (select 1 from raw.addresses a "
                "where a.chain_id = $chain_id and a.address = c.address)",
                {"chain_id": chain_id, "last": last},
            )
        finally:
            con.unregister("chunk_codes")
    tip_hash = fetch_one(
        con, "select block_hash from raw.blocks where chain_id = ? and block_number = ?", [chain_id, last]
    )
    if tip_hash is None:
        raise RuntimeError(f"chunk {first}-{last} wrote no block {last}")
    stored = checkpoint(con, chain_id)
    if stored is None or last >= stored[0]:  # re-extracting an older range leaves the tip alone
        set_checkpoint(con, chain_id, last, tip_hash[0])
    con.execute("commit")


def record_rewrite(
    con: duckdb.DuckDBPyConnection, chain_id: int, first: int, last: int | None, reason: str
) -> None:
    """Log, inside the caller's transaction, that the stored blocks first..last (None: and above) are about
    to be replaced or removed, if any are stored: the earliest of them tells the incremental dbt models
    which day to rebuild from (dbt_project/macros/incremental_window.sql). Nothing when none is stored (a
    new range, or a chunk a crash left uncommitted)."""
    top = last if last is not None else 2**63 - 1
    log_rewrite(
        con,
        chain_id,
        reason,
        "select block_number, timestamp as block_time from raw.blocks "
        f"where chain_id = $chain_id and block_number between {int(first)} and {int(top)}",
    )


def log_rewrite(con: duckdb.DuckDBPyConnection, chain_id: int, reason: str, blocks: str) -> None:
    """One raw.rewrites row for the earliest of `blocks` (a query of block_number, block_time that may use
    $chain_id), or none when it finds no row."""
    con.execute(
        "insert into raw.rewrites "
        "select coalesce((select max(rewrite_id) from raw.rewrites), 0) + 1, $chain_id, min(block_number), "
        f"min(block_time), $reason, $now from ({blocks}) having count(*) > 0",
        {"chain_id": chain_id, "reason": reason, "now": datetime.now(UTC).replace(tzinfo=None)},
    )


def set_checkpoint(con: duckdb.DuckDBPyConnection, chain_id: int, last_block: int, last_hash: str) -> None:
    con.execute("delete from raw.extract_checkpoints where chain_id = ?", [chain_id])
    con.execute(
        "insert into raw.extract_checkpoints values (?, ?, ?, ?)",
        [chain_id, last_block, last_hash, datetime.now(UTC).replace(tzinfo=None)],
    )


def checkpoint(con: duckdb.DuckDBPyConnection, chain_id: int) -> tuple[int, str] | None:
    row = fetch_one(
        con, "select last_block, last_block_hash from raw.extract_checkpoints where chain_id = ?", [chain_id]
    )
    return (int(row[0]), str(row[1])) if row else None


def delete_above(con: duckdb.DuckDBPyConnection, chain_id: int, block_number: int) -> None:
    """Drop what the node gave above `block_number` (a reorg's fork point) and move the checkpoint there.

    Sales imported from elsewhere (a Dune trades table) stay, as re-extracting a range keeps them: they come
    from the source's own view of the chain, not from the blocks this node orphaned."""
    con.execute("begin transaction")
    try:
        record_rewrite(con, chain_id, block_number + 1, None, "reorg")
        for table in BLOCK_TABLES:
            con.execute(
                f"delete from raw.{table} where chain_id = ? and block_number > ?{_only_ours(table)}",
                [chain_id, block_number],
            )
        row = fetch_one(
            con,
            "select block_hash from raw.blocks where chain_id = ? and block_number = ?",
            [chain_id, block_number],
        )
        if row:
            set_checkpoint(con, chain_id, block_number, row[0])
        else:
            con.execute("delete from raw.extract_checkpoints where chain_id = ?", [chain_id])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
