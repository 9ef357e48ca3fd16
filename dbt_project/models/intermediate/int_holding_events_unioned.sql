{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_incremental_window('block_date', 'trade_only_source is not null') }}",
    )
}}

-- Everything that changes who holds an NFT, one row per wallet side, up to the end of as_of: the input of
-- token_holding_periods.
--
-- 1. Observed movements: every row of int_wallet_token_movements (ERC-721 and ERC-1155 transfers, mints,
--    burns, sale legs), self-transfers included but flagged (holding periods skip them).
-- 2. Trades only: a sale in int_nft_sales_deduplicated from an import (data_source other than 'rpc')
--    whose transaction has no extracted token transfer of that collection. Its token movement is not in the
--    warehouse, so the sale stands in for it: the seller's 'out' row and the buyer's 'in' row, at the
--    sale's position (block_number, log_index; batch_index 0), flagged trade_only_source = the import.
--
-- event_kind: for 'in' rows how the wallet acquired (mint, buy, transfer), for 'out' rows how it disposed
-- (sale, transfer, burn). price_wei: what a buy cost (the sale price), what a sale brought (the sale
-- price), what a mint cost the wallet (int_token_mints_priced); NULL when unknown or not in wei.
-- proceeds_wei: for a sale, the price less the fee and the royalty the seller bears.
-- is_unique_token: one unit per token id exists (ERC-721), so a later movement of the token by another
-- wallet proves that an earlier holder gave it up. For trades-only rows the standard is the one the
-- collection's extracted transfers show; for a collection never seen on chain, the one its import declared
-- (raw.nft_sales.token_standard: ERC-1155 if any of its trades says so), else ERC-1155 when any of its
-- trades moved more than one unit, else ERC-721 (editions sold one at a time look unique then).
--
-- Incremental: observed rows depend only on their own block, so a run rewrites the days from the window
-- start on (macros/incremental_window.sql); trades-only rows depend on the whole history (an import can
-- add sales of any age; a collection's standard comes from all its transfers), so every run rewrites all
-- of them (few: only imported trades without transfers). A full refresh gives the same rows.

{%- set last_day = as_of_date() %}
{%- set first_day = incremental_window_start('block_date') if is_incremental() else none %}

with

movements as (

    select * from {{ ref('int_wallet_token_movements') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

sales as (

    select * from {{ ref('int_nft_sales_deduplicated') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

imported_sales as (

    select * from {{ ref('int_nft_sales_deduplicated') }}
    where
        data_source <> 'rpc'
        and {{ timestamp_in_days('block_timestamp', none, last_day) }}

),

-- the extracted movements of the blocks holding an imported sale, of any day
movements_beside_imported_sales as (

    select all_movements.*
    from {{ ref('int_wallet_token_movements') }} as all_movements
    where
        {{ timestamp_in_days('all_movements.block_timestamp', none, last_day) }}
        and exists (
            select 1
            from imported_sales
            where
                imported_sales.chain_id = all_movements.chain_id
                and imported_sales.block_number = all_movements.block_number
        )

),

mints as (

    select
        chain_id,
        block_number,
        log_index,
        batch_index,
        mint_price_wei
    from {{ ref('int_token_mints_priced') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

observed as (

    select
        movements.chain_id,
        movements.wallet,
        movements.direction,
        case
            when movements.movement_kind = 'sell' then 'sale'
            else movements.movement_kind
        end as event_kind,
        movements.counterparty_address,
        movements.is_self_transfer,
        movements.block_number,
        movements.block_timestamp,
        movements.block_date,
        movements.transaction_hash,
        movements.log_index,
        movements.batch_index,
        cast(null as {{ dbt.type_string() }}) as trade_only_source,
        movements.token_standard,
        movements.collection_address,
        movements.token_id,
        movements.amount,
        case
            when movements.movement_kind = 'mint' then mints.mint_price_wei
            else movements.sale_price_wei
        end as price_wei,
        case when movements.movement_kind = 'sell' then sales.seller_proceeds_wei end as proceeds_wei,
        movements.sale_log_index,
        movements.sale_data_source
    from movements
    left join mints
        on
            movements.movement_kind = 'mint'
            and movements.chain_id = mints.chain_id
            and movements.block_number = mints.block_number
            and movements.log_index = mints.log_index
            and movements.batch_index = mints.batch_index
    left join sales
        on
            movements.movement_kind = 'sell'
            and movements.chain_id = sales.chain_id
            and movements.block_number = sales.block_number
            and movements.sale_log_index = sales.log_index
            and movements.sale_data_source = sales.data_source

),

trades_only as (

    select imported_sales.*
    from imported_sales
    where
        not exists (
            select 1
            from movements_beside_imported_sales as movements
            where
                movements.chain_id = imported_sales.chain_id
                and movements.block_number = imported_sales.block_number
                and movements.transaction_hash = imported_sales.transaction_hash
                and movements.collection_address = imported_sales.collection_address
        )

),

-- the standard each trades-only collection's extracted transfers show, over its whole history
collection_standards as (

    select
        all_movements.chain_id,
        all_movements.collection_address,
        max(all_movements.token_standard) as token_standard
    from {{ ref('int_wallet_token_movements') }} as all_movements
    where
        {{ timestamp_in_days('all_movements.block_timestamp', none, last_day) }}
        and exists (
            select 1
            from trades_only
            where
                trades_only.chain_id = all_movements.chain_id
                and trades_only.collection_address = all_movements.collection_address
        )
    group by
        all_movements.chain_id,
        all_movements.collection_address

),

-- the standard an import declared for a collection's trades (a Dune trades table says it), ERC-1155 if any
-- of them says so
declared_standards as (

    select
        chain_id,
        collection_address,
        case
            when max(case when token_standard = 'erc1155' then 1 else 0 end) = 1 then 'erc1155'
            else 'erc721'
        end as token_standard
    from {{ ref('stg_raw__nft_sales') }}
    where
        data_source <> 'rpc'
        and token_standard is not null
        and {{ timestamp_in_days('block_timestamp', none, last_day) }}
    group by
        chain_id,
        collection_address

),

trades_only_standards as (

    select
        trades_only.chain_id,
        trades_only.collection_address,
        case when max(trades_only.amount) > 1 then 'erc1155' else 'erc721' end as token_standard
    from trades_only
    group by
        trades_only.chain_id,
        trades_only.collection_address

),

sides as (

    select 'out' as direction
    union all
    select 'in' as direction

),

trade_sides as (

    select
        trades_only.chain_id,
        case when sides.direction = 'out' then trades_only.seller_address else trades_only.buyer_address end
            as wallet,
        sides.direction,
        case when sides.direction = 'out' then 'sale' else 'buy' end as event_kind,
        case when sides.direction = 'out' then trades_only.buyer_address else trades_only.seller_address end
            as counterparty_address,
        trades_only.seller_address = trades_only.buyer_address as is_self_transfer,
        trades_only.block_number,
        trades_only.block_timestamp,
        trades_only.block_date,
        trades_only.transaction_hash,
        trades_only.log_index,
        0 as batch_index,
        trades_only.data_source as trade_only_source,
        coalesce(
            collection_standards.token_standard,
            declared_standards.token_standard,
            trades_only_standards.token_standard
        ) as token_standard,
        trades_only.collection_address,
        trades_only.token_id,
        trades_only.amount,
        trades_only.price_wei,
        case when sides.direction = 'out' then trades_only.seller_proceeds_wei end as proceeds_wei,
        trades_only.log_index as sale_log_index,
        trades_only.data_source as sale_data_source
    from trades_only
    cross join sides
    left join collection_standards
        on
            trades_only.chain_id = collection_standards.chain_id
            and trades_only.collection_address = collection_standards.collection_address
    left join declared_standards
        on
            trades_only.chain_id = declared_standards.chain_id
            and trades_only.collection_address = declared_standards.collection_address
    left join trades_only_standards
        on
            trades_only.chain_id = trades_only_standards.chain_id
            and trades_only.collection_address = trades_only_standards.collection_address

),

unioned as (

    select * from observed
    union all
    select * from trade_sides

),

final as (

    select
        chain_id,
        wallet,
        direction,
        event_kind,
        counterparty_address,
        is_self_transfer,
        block_number,
        block_timestamp,
        block_date,
        transaction_hash,
        log_index,
        batch_index,
        trade_only_source,
        token_standard,
        token_standard = 'erc721' as is_unique_token,
        collection_address,
        token_id,
        amount,
        price_wei,
        proceeds_wei,
        sale_log_index,
        sale_data_source
    from unioned

)

select * from final
