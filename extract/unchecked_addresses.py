"""Addresses named by imported rows, not yet known as wallets or contracts: recorded by an import, asked of
the node by the chain's next extraction.

Extraction learns whether each address it meets holds code (extract/address_codes.py); an import has no
node to ask. It records the addresses its rows name that raw.addresses does not know in
raw.addresses_unchecked, with the first block naming them. The next `chainseg extract` of that chain asks
the node (eth_getCode at "latest", in batches) and moves them to raw.addresses, a slice at a time, each
slice in one transaction, so an interrupted run loses nothing and the next one goes on. Until then the
models count them as wallets. An address that turns out to hold code was counted as a wallet by the builds
since its rows came in, so its first block is logged in raw.rewrites: the next build rebuilds the
incremental models from that day (dbt_project/macros/rewrites.sql).
"""

from __future__ import annotations

import asyncio
import logging

import duckdb

from extract.address_codes import code_flags
from extract.rpc_client import RpcClient
from extract.warehouse import known_addresses, log_rewrite

log = logging.getLogger(__name__)

# The columns naming a party, per raw table: the addresses extraction checks in each chunk too.
ADDRESS_COLUMNS: dict[str, tuple[str, ...]] = {
    "transactions": ("from_address", "to_address"),
    "token_transfers": ("from_address", "to_address"),
    "nft_sales": ("seller_address", "buyer_address"),
}
SLICE = 20_000  # addresses asked and committed at a time: memory and a lost slice stay small


def record_unchecked(
    con: duckdb.DuckDBPyConnection, chain_id: int, ranges: dict[str, list[tuple[int, int]]]
) -> None:
    """Inside the caller's transaction, after an import wrote `ranges` ({raw table: [(first, last)
    block]}): add the addresses those rows name that raw.addresses does not know to
    raw.addresses_unchecked, keeping for each the earliest block naming it."""
    parts = [
        f"select {column} as address, block_number, block_timestamp from raw.{table} "
        f"where chain_id = $chain_id and block_number between {int(first)} and {int(last)}"
        for table, spans in ranges.items()
        for first, last in spans
        for column in ADDRESS_COLUMNS.get(table, ())
    ]
    if parts:
        params = {"chain_id": chain_id}
        con.execute(
            "create or replace temp table import_unchecked as "
            "select address, min(block_number) as first_block, min(block_timestamp) as first_timestamp "
            f"from ({' union all '.join(parts)}) as named "
            "where address is not null and address <> '' and not exists ("
            "  select 1 from raw.addresses known "
            "  where known.chain_id = $chain_id and known.address = named.address"
            ") group by address",
            params,
        )
        try:
            # one row per address: an address already waiting keeps the earlier of its two first blocks
            con.execute(
                "create or replace temp table import_unchecked_merged as "
                "select address, min(first_block) as first_block, min(first_timestamp) as first_timestamp "
                "from ("
                "  select address, first_block, first_timestamp from raw.addresses_unchecked "
                "  where chain_id = $chain_id and address in (select address from import_unchecked) "
                "  union all select * from import_unchecked"
                ") group by address",
                params,
            )
            con.execute(
                "delete from raw.addresses_unchecked where chain_id = $chain_id "
                "and address in (select address from import_unchecked)",
                params,
            )
            con.execute(
                "insert into raw.addresses_unchecked "
                "select $chain_id, address, first_block, first_timestamp from import_unchecked_merged",
                params,
            )
        finally:
            con.execute("drop table if exists import_unchecked")
            con.execute("drop table if exists import_unchecked_merged")


def record_contracts(con: duckdb.DuckDBPyConnection, chain_id: int, contracts: dict[str, int]) -> int:
    """Inside the caller's transaction: addresses an import knows hold code (ethereum-etl's contracts
    export: {address: block}) into raw.addresses where not known yet. One an earlier import left unchecked
    is resolved here, its first block logged as a rewrite (the builds since counted it as a wallet).
    Returns how many were added."""
    params = {"chain_id": chain_id}
    con.execute(
        "create or replace temp table import_contracts as "
        "select unnest($addresses::varchar[]) as address, unnest($blocks::bigint[]) as block_number",
        {"addresses": list(contracts), "blocks": list(contracts.values())},
    )
    try:
        log_rewrite(
            con,
            chain_id,
            "addresses",
            "select u.first_block as block_number, u.first_timestamp as block_time "
            "from raw.addresses_unchecked u join import_contracts c on c.address = u.address "
            "where u.chain_id = $chain_id",
        )
        added = con.execute(
            "insert into raw.addresses select $chain_id, address, true, block_number from import_contracts c "
            "where not exists (select 1 from raw.addresses a where a.chain_id = $chain_id "
            "and a.address = c.address)",
            params,
        ).fetchall()[0][0]
        con.execute(
            "delete from raw.addresses_unchecked where chain_id = $chain_id "
            "and address in (select address from import_contracts)",
            params,
        )
    finally:
        con.execute("drop table if exists import_contracts")
    return int(added)


def unchecked_count(con: duckdb.DuckDBPyConnection, chain_id: int) -> int:
    rows = con.execute(
        "select count(*) from raw.addresses_unchecked where chain_id = ?", [chain_id]
    ).fetchall()
    return int(rows[0][0])


async def check_unchecked(rpc: RpcClient, con: duckdb.DuckDBPyConnection, chain_id: int) -> int:
    """Ask the node about the chain's unchecked addresses and move them to raw.addresses; log the first
    block of those that hold code as a rewrite. Returns how many were checked (0: none waited, one query).
    """
    checked = 0
    head: int | None = None  # the block the flags are "latest" of, asked once per run
    while True:
        waiting = [
            address
            for (address,) in con.execute(
                "select address from raw.addresses_unchecked where chain_id = ? order by address limit ?",
                [chain_id, SLICE],
            ).fetchall()
        ]
        if not waiting:
            break
        known = await asyncio.to_thread(known_addresses, con, chain_id, set(waiting))
        ask = sorted(set(waiting) - known)
        flags = await code_flags(rpc, ask) if ask else {}
        if head is None:
            head = int(await rpc.call("eth_blockNumber", []), 16)
        await asyncio.to_thread(_move_checked, con, chain_id, waiting, flags, head)
        checked += len(waiting)
        log.info("chain %s: %s imported addresses checked for code", chain_id, checked)
    return checked


def _move_checked(
    con: duckdb.DuckDBPyConnection, chain_id: int, slice_: list[str], flags: dict[str, bool], head: int
) -> None:
    """One transaction: the new flags into raw.addresses, a rewrite from the first block naming any of
    the slice's contracts (new or already known), the slice out of raw.addresses_unchecked."""
    params = {"chain_id": chain_id, "head": head}
    con.execute("begin transaction")
    try:
        con.execute(
            "create or replace temp table checked_slice as "
            "select unnest($addresses::varchar[]) as address, unnest($flags::boolean[]) as has_code",
            {"addresses": slice_, "flags": [flags.get(address) for address in slice_]},
        )
        con.execute(
            "insert into raw.addresses select $chain_id, address, has_code, $head from checked_slice "
            "where has_code is not null",
            params,
        )
        log_rewrite(
            con,
            chain_id,
            "addresses",
            "select u.first_block as block_number, u.first_timestamp as block_time "
            "from raw.addresses_unchecked u join checked_slice c on c.address = u.address "
            "join raw.addresses a on a.chain_id = u.chain_id and a.address = u.address "
            "where u.chain_id = $chain_id and a.has_code",
        )
        con.execute(
            "delete from raw.addresses_unchecked where chain_id = $chain_id "
            "and address in (select address from checked_slice)",
            {"chain_id": chain_id},
        )
        con.execute("drop table checked_slice")
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
