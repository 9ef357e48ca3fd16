"""The `raw` schema: what extraction and imports write, and the only thing dbt's sources read.

Numbers: native values and gas prices of included transactions are bounded by the ether supply (about
1.2e26 wei), so HUGEINT (up to 1.7e38) holds them exactly. Amounts, ids and prices decoded from logs are
arbitrary uint256 (a token id is often a 77-digit hash), so they are kept exactly as base-10 text, beside a
DOUBLE for arithmetic (`amount` + `amount_double`). Addresses and hashes are lowercase 0x hex text.
Timestamps are UTC. Every table carries `chain_id`; keys are listed in `KEYS`.
"""

from __future__ import annotations

import duckdb

RAW_TABLES: dict[str, str] = {
    "blocks": """
        chain_id              bigint not null,
        block_number          bigint not null,
        block_hash            varchar not null,
        parent_hash           varchar not null,
        timestamp             timestamp not null,
        miner                 varchar,
        gas_limit             bigint,
        gas_used              bigint,
        base_fee_per_gas      hugeint,
        transaction_count     integer not null,
        size                  bigint,
        extra_data            varchar
    """,
    "transactions": """
        chain_id                  bigint not null,
        block_number              bigint not null,
        block_hash                varchar not null,
        block_timestamp           timestamp not null,
        transaction_hash          varchar not null,
        transaction_index         integer not null,
        nonce                     bigint,
        from_address              varchar not null,
        to_address                varchar,
        value                     hugeint not null,
        input                     varchar,
        gas_limit                 bigint,
        gas_price                 hugeint,
        max_fee_per_gas           hugeint,
        max_priority_fee_per_gas  hugeint,
        transaction_type          integer,
        gas_used                  bigint,
        cumulative_gas_used       bigint,
        effective_gas_price       hugeint,
        contract_address          varchar,
        success                   boolean
    """,
    "logs": """
        chain_id           bigint not null,
        block_number       bigint not null,
        block_hash         varchar not null,
        block_timestamp    timestamp not null,
        transaction_hash   varchar not null,
        transaction_index  integer not null,
        log_index          integer not null,
        address            varchar not null,
        topic0             varchar,
        topic1             varchar,
        topic2             varchar,
        topic3             varchar,
        data               varchar not null
    """,
    # One row per token movement: an ERC-1155 TransferBatch becomes one row per (id, amount) pair, in
    # order, identical pairs kept (batch_index tells them apart).
    "token_transfers": """
        chain_id           bigint not null,
        block_number       bigint not null,
        block_timestamp    timestamp not null,
        transaction_hash   varchar not null,
        log_index          integer not null,
        batch_index        integer not null,
        token_standard     varchar not null,
        contract_address   varchar not null,
        operator_address   varchar,
        from_address       varchar not null,
        to_address         varchar not null,
        token_id           varchar,
        amount             varchar not null,
        amount_double      double not null
    """,
    # Marketplace sales. `source` says where a row came from: 'rpc' (decoded Sale events) or an import.
    # token_standard: 'erc721' or 'erc1155' where the source says (a Dune trades table does; a Sale event
    # does not: the token's own transfers tell it then), else null.
    "nft_sales": """
        chain_id             bigint not null,
        block_number         bigint not null,
        block_timestamp      timestamp not null,
        transaction_hash     varchar not null,
        log_index            integer not null,
        marketplace_address  varchar,
        marketplace_name     varchar,
        collection_address   varchar not null,
        token_id             varchar not null,
        amount               varchar not null,
        seller_address       varchar not null,
        buyer_address        varchar not null,
        currency_address     varchar,
        currency_symbol      varchar,
        price                varchar not null,
        price_double         double not null,
        fee                  varchar,
        fee_double           double,
        royalty              varchar,
        royalty_double       double,
        source               varchar not null,
        token_standard       varchar
    """,
    # Whether an address holds code: vaults, wrappers and marketplaces are not wallets.
    "addresses": """
        chain_id          bigint not null,
        address           varchar not null,
        has_code          boolean not null,
        checked_at_block  bigint not null
    """,
    # Addresses that imported rows name and that raw.addresses does not know yet: the next extraction of the
    # chain asks the node whether they hold code (extract/unchecked_addresses.py), then drops them from here.
    # first_block / first_timestamp: where the warehouse first names them, the day the models rebuild from
    # when one turns out to be a contract.
    "addresses_unchecked": """
        chain_id          bigint not null,
        address           varchar not null,
        first_block       bigint not null,
        first_timestamp   timestamp not null
    """,
    # Stored blocks replaced or removed (a reorg's repair, a re-extracted range, an import), or days the
    # models may have built without rows now added ('late blocks' of a lagging chain, 'addresses' found to
    # be contracts): the incremental dbt models rebuild from the earliest such block they have not rebuilt
    # yet (a log, never a key of data).
    "rewrites": """
        rewrite_id        bigint not null,
        chain_id          bigint not null,
        first_block       bigint not null,
        first_timestamp   timestamp not null,
        reason            varchar not null,
        recorded_at       timestamp not null
    """,
    # One row per chain: everything at or below last_block is extracted, gap-free.
    "extract_checkpoints": """
        chain_id          bigint not null,
        last_block        bigint not null,
        last_block_hash   varchar not null,
        updated_at        timestamp not null
    """,
}

KEYS: dict[str, tuple[str, ...]] = {
    "blocks": ("chain_id", "block_number"),
    "transactions": ("chain_id", "transaction_hash"),
    "logs": ("chain_id", "block_number", "log_index"),
    "token_transfers": ("chain_id", "block_number", "log_index", "batch_index"),
    "nft_sales": ("chain_id", "block_number", "log_index", "source"),
    "addresses": ("chain_id", "address"),
    "addresses_unchecked": ("chain_id", "address"),
    "rewrites": ("rewrite_id",),
    "extract_checkpoints": ("chain_id",),
}

# Tables whose rows belong to a block: a reorg or a re-extraction deletes them by block range.
BLOCK_TABLES = ("blocks", "transactions", "logs", "token_transfers", "nft_sales")


def columns(table: str) -> list[str]:
    return [line.split()[0] for line in RAW_TABLES[table].strip().splitlines() if line.strip()]


# Columns added after the first release, nullable, appended to tables created before: (table, definition).
ADDED_COLUMNS: tuple[tuple[str, str], ...] = (("nft_sales", "token_standard varchar"),)


def create_raw_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and tables if missing, and add the ADDED_COLUMNS a warehouse made by an
    earlier version lacks (idempotent).

    No PRIMARY KEY constraints: DuckDB's index costs memory and insert time at tens of millions of rows,
    and writers keep keys unique by replacing whole block ranges; tests check the keys in KEYS.
    """
    con.execute("create schema if not exists raw")
    for table, body in RAW_TABLES.items():
        con.execute(f"create table if not exists raw.{table} ({body.rstrip()})")
    for table, definition in ADDED_COLUMNS:
        con.execute(f"alter table raw.{table} add column if not exists {definition}")
