"""A synthetic warehouse for the dbt benchmark: millions of NFT movements written straight into `raw`.

Everything is generated inside DuckDB from hashes of integers, so the same arguments give the same rows
and 10 million transfers take about a minute, with no node or extraction involved. The rows are
consistent the way extraction's are, so every dbt test can pass on them:

- a token (ERC-721, or an ERC-1155 id with 1-5 units) is minted to a wallet, then moves up to seven more
  times, each hop later than the one before; about 65% of the hops after the mint are marketplace sales
  (a `Sale` row beside the token's transfer, in the same transaction, paid in ETH with a 2.5% fee and a 5%
  royalty), the rest plain transfers; a hop may land on the holder itself (a self-transfer);
- wallets are drawn with a skew (a few very active wallets, a long tail), as on real marketplaces;
- every movement has its own transaction (buyer pays the price, minter the mint price, gas from the
  block's base fee plus a tip), blocks come every 30 s with an hourly base-fee cycle;
- `raw.addresses` knows every wallet (no code) and every contract (code).

The last `holdout_days` days are kept in the `held` schema instead of `raw`; `release_held(path)` moves
them into `raw`, which is what a nightly extraction of new days does (the incremental benchmark).
`raw.logs` stays empty: the models read decoded transfers and sales, and no wrapped-native token exists.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb

from extract.schema import BLOCK_TABLES, create_raw_schema

CHAIN_ID = 31337
START = datetime(2025, 1, 1, tzinfo=UTC)
BLOCK_SECONDS = 30
COLLECTIONS = 60  # the first 48 are ERC-721, the last 12 ERC-1155
ERC721_COLLECTIONS = 48
MAX_HOPS = 8  # a token moves at most this many times, its mint included
ZERO = "0x" + "0" * 40
MARKETPLACE = "0x" + "a" * 40
TOKENS_PER_ROUND = 1_000_000


@dataclass(frozen=True)
class Generated:
    transfers: int
    sales: int
    transactions: int
    blocks: int
    wallets: int
    held_transfers: int
    last_raw_day: date  # the newest day in raw (build the full history as of this day)
    seconds: float


def collection_address(index: int) -> str:
    return "0xc0" + f"{index:038x}"


def generate(
    path: Path,
    *,
    transfers: int = 10_000_000,
    wallets: int = 1_000_000,
    days: int = 365,
    holdout_days: int = 1,
    threads: int | None = None,
) -> Generated:
    """Write a fresh warehouse at `path` (an existing file is replaced) with at least `transfers` token
    transfers over `days` days (the last `holdout_days` of them held back)."""
    started = time.monotonic()
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    if threads:
        con.execute(f"set threads = {threads}")
    try:
        _define_macros(con, wallets)
        create_raw_schema(con)
        seconds = days * 86400
        # A token moves about 3.9 times on average; rounds of tokens are added until enough moved.
        per_round = max(1000, min(TOKENS_PER_ROUND, transfers // 4))
        con.execute("create temp table events as " + _events_sql(0, per_round, seconds))
        first_token = per_round
        while (con.execute("select count(*) from events").fetchall()[0][0]) < transfers:
            con.execute("insert into events " + _events_sql(first_token, first_token + per_round, seconds))
            first_token += per_round
        _write_raw(con, days)
        held = _hold_out(con, days - holdout_days)
        counts = {
            table: con.execute(f"select count(*) from raw.{table}").fetchall()[0][0]
            for table in ("token_transfers", "nft_sales", "transactions", "blocks")
        }
        wallet_count = con.execute("select count(*) from raw.addresses where not has_code").fetchall()[0][0]
        con.execute("checkpoint")
    finally:
        con.close()
    return Generated(
        transfers=counts["token_transfers"],
        sales=counts["nft_sales"],
        transactions=counts["transactions"],
        blocks=counts["blocks"],
        wallets=wallet_count,
        held_transfers=held,
        last_raw_day=(START + timedelta(days=days - holdout_days - 1)).date(),
        seconds=time.monotonic() - started,
    )


def release_held(path: Path) -> int:
    """Move the held-back days into `raw` (one transaction) and return the transfers moved."""
    con = duckdb.connect(str(path))
    try:
        con.execute("begin")
        moved = con.execute("select count(*) from held.token_transfers").fetchall()[0][0]
        for table in BLOCK_TABLES:
            # by name: a warehouse generated before a raw column was added (extract/schema.py, ADDED_COLUMNS)
            # holds its days back without it
            con.execute(f"insert into raw.{table} by name select * from held.{table}")
            con.execute(f"delete from held.{table}")
        con.execute("insert into raw.addresses select * from held.addresses")
        con.execute("delete from held.addresses")
        _write_checkpoint(con)
        con.execute("commit")
    finally:
        con.close()
    return moved


def _define_macros(con: duckdb.DuckDBPyConnection, wallets: int) -> None:
    # u(a, b): a uniform number in [0, 1) from a hash, the same for the same arguments
    con.execute("create or replace temp macro u(a, b) as (hash(a, b) % 1000000007) / 1000000007.0")
    for name, digits in (("hex40", 40), ("hex64", 64)):
        con.execute(
            f"create or replace temp macro {name}(prefix, n) as"
            f" prefix || lpad(lower(hex(n)), cast({digits + 2} - length(prefix) as integer), '0')"
        )
    # a skewed draw: wallet 0 is the busiest, the tail is long
    con.execute(
        "create or replace temp macro wallet_at(a, b) as"
        f" hex40('0x', cast(floor({wallets} * pow(u(a, b), 1.6)) as bigint) + 1)"
    )


def _events_sql(first_token: int, last_token: int, seconds: int) -> str:
    """One row per movement of tokens [first_token, last_token): hop 0 is the mint."""
    return f"""
    with tokens as (
        select
            k,
            k % {COLLECTIONS} as collection,
            u(k, 1) * {seconds} as minted_at,
            1 + cast(floor(u(k, 2) * {MAX_HOPS}) as integer) as hops,
            3600 + pow(u(k, 3), 2) * 40 * 86400 as gap,
            case when k % {COLLECTIONS} < {ERC721_COLLECTIONS} then 1
                 else 1 + cast(floor(u(k, 4) * 5) as integer) end as amount
        from range({first_token}, {last_token}) as t(k)
    ),
    hops as (
        select
            tokens.*,
            h,
            cast(floor(minted_at + h * gap + u(k * 16 + h, 5) * gap * 0.5) as bigint) as at_second
        from tokens, range(0, {MAX_HOPS}) as r(h)
        where h < hops
    )
    select
        k,
        h,
        collection,
        amount,
        at_second,
        case when h = 0 then '{ZERO}' else wallet_at(k * 16 + h - 1, 6) end as from_address,
        wallet_at(k * 16 + h, 6) as to_address,
        case when h = 0 then 'mint' when u(k * 16 + h, 7) < 0.65 then 'sale' else 'transfer' end as kind,
        cast(floor(1e16 * exp(u(k * 16 + h, 8) * 6)) as hugeint) as price
    from hops
    where at_second < {seconds}
    """


def _write_raw(con: duckdb.DuckDBPyConnection, days: int) -> None:
    start = START.strftime("%Y-%m-%d %H:%M:%S")
    blocks = days * 86400 // BLOCK_SECONDS
    con.execute(f"""
        create temp table placed as
        select
            events.*,
            at_second // {BLOCK_SECONDS} as block_number,
            timestamp '{start}' + to_seconds((at_second // {BLOCK_SECONDS}) * {BLOCK_SECONDS})
                as block_timestamp,
            row_number() over (partition by at_second // {BLOCK_SECONDS} order by k, h) - 1 as position,
            hex64('0x', k * 16 + h) as transaction_hash,
            case when collection < {ERC721_COLLECTIONS} then 'erc721' else 'erc1155' end as token_standard,
            '0xc0' || lpad(lower(hex(collection)), 38, '0') as contract_address,
            cast(k // {COLLECTIONS} as varchar) as token_id
        from events
    """)
    con.execute(f"""
        create temp table fees as
        select
            n as block_number,
            timestamp '{start}' + to_seconds(n * {BLOCK_SECONDS}) as timestamp,
            -- 4 to 26 gwei: an hourly cycle plus noise
            cast(floor(
                (12 + 8 * sin(2 * pi() * ((n * {BLOCK_SECONDS}) % 86400) / 86400.0) + 6 * u(n, 9)) * 1e9
            ) as hugeint) as base_fee_per_gas
        from range(0, {blocks}) as t(n)
    """)
    con.execute(f"""
        insert into raw.token_transfers
        select
            {CHAIN_ID}, block_number, block_timestamp, transaction_hash,
            cast(2 * position as integer) as log_index, 0 as batch_index,
            token_standard, contract_address,
            case when token_standard = 'erc1155' then
                case when kind = 'sale' then '{MARKETPLACE}' else from_address end end as operator_address,
            from_address, to_address, token_id,
            cast(amount as varchar), cast(amount as double)
        from placed
        order by block_number, position
    """)
    con.execute(f"""
        insert into raw.nft_sales
        select
            {CHAIN_ID}, block_number, block_timestamp, transaction_hash,
            cast(2 * position + 1 as integer) as log_index,
            '{MARKETPLACE}', 'synthetic', contract_address, token_id, cast(amount as varchar),
            from_address, to_address, '{ZERO}', 'ETH',
            cast(price as varchar), cast(price as double),
            cast(price * 250 // 10000 as varchar), cast(price * 250 // 10000 as double),
            cast(price * 500 // 10000 as varchar), cast(price * 500 // 10000 as double),
            'rpc', null
        from placed
        where kind = 'sale'
        order by block_number, position
    """)
    con.execute(f"""
        insert into raw.transactions
        select
            {CHAIN_ID}, placed.block_number, hex64('0xb', placed.block_number), placed.block_timestamp,
            transaction_hash, cast(position as integer), h,
            case when kind = 'transfer' then from_address else to_address end,
            case when kind = 'sale' then '{MARKETPLACE}' else contract_address end,
            case when kind = 'sale' then price when kind = 'mint' then 50000000000000000 else 0 end,
            '0x', 300000,
            fees.base_fee_per_gas + tip, 2 * fees.base_fee_per_gas + tip, tip, 2,
            gas_used, gas_used * (position + 1), fees.base_fee_per_gas + tip, null, true
        from (
            select
                placed.*,
                cast(floor((0.5 + u(k * 16 + h, 10) * 2.5) * 1e9) as hugeint) as tip,
                case kind when 'mint' then 90000 when 'sale' then 150000 else 60000 end
                    + cast(floor(u(k * 16 + h, 11) * 20000) as bigint) as gas_used
            from placed
        ) as placed
        join fees on placed.block_number = fees.block_number
        order by placed.block_number, position
    """)
    con.execute(f"""
        insert into raw.blocks
        select
            {CHAIN_ID}, fees.block_number, hex64('0xb', fees.block_number),
            case when fees.block_number = 0 then hex64('0x', 0) else hex64('0xb', fees.block_number - 1) end,
            fees.timestamp, '{ZERO}', 36000000, coalesce(used.gas_used, 0), fees.base_fee_per_gas,
            cast(coalesce(used.transactions, 0) as integer), 1000, '0x'
        from fees
        left join (
            select block_number, count(*) as transactions, sum(gas_used) as gas_used
            from raw.transactions group by block_number
        ) as used on fees.block_number = used.block_number
        order by fees.block_number
    """)
    # Each address is first seen in the block of its first transaction or transfer.
    con.execute(f"""
        insert into raw.addresses
        select {CHAIN_ID}, address, false, min(block_number)
        from (
            select to_address as address, block_number from placed
            union all
            select from_address, block_number from placed where from_address <> '{ZERO}'
        )
        group by address
    """)
    contracts = ", ".join(f"('{collection_address(i)}')" for i in range(COLLECTIONS))
    con.execute(
        f"insert into raw.addresses select {CHAIN_ID}, a, true, 0"
        f" from (values ('{MARKETPLACE}'), {contracts}) as v(a)"
    )
    _write_checkpoint(con)


def _hold_out(con: duckdb.DuckDBPyConnection, first_held_day: int) -> int:
    """Move the rows of days >= first_held_day into schema `held`; returns the transfers held."""
    held_block = first_held_day * 86400 // BLOCK_SECONDS
    con.execute("create schema held")
    for table in BLOCK_TABLES:
        con.execute(
            f"create table held.{table} as select * from raw.{table} where block_number >= {held_block}"
        )
        con.execute(f"delete from raw.{table} where block_number >= {held_block}")
    con.execute(
        f"create table held.addresses as select * from raw.addresses where checked_at_block >= {held_block}"
    )
    con.execute(f"delete from raw.addresses where checked_at_block >= {held_block}")
    _write_checkpoint(con)
    return con.execute("select count(*) from held.token_transfers").fetchall()[0][0]


def _write_checkpoint(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("delete from raw.extract_checkpoints")
    con.execute(f"""
        insert into raw.extract_checkpoints
        select {CHAIN_ID}, block_number, block_hash, now()
        from raw.blocks order by block_number desc limit 1
    """)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--transfers", type=int, default=10_000_000)
    parser.add_argument("--wallets", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365)
    args = parser.parse_args()
    made = generate(args.path, transfers=args.transfers, wallets=args.wallets, days=args.days)
    print(made)


if __name__ == "__main__":
    main()
