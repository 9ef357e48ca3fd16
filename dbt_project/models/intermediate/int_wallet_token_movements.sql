{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['chain_id', 'block_number', 'log_index', 'batch_index', 'direction'],
        on_schema_change='fail',
        pre_hook="{{ delete_incremental_window('block_date') }}",
    )
}}

-- Every NFT movement (ERC-721 and ERC-1155; ERC-20 such as WETH is payment, not a holding) from each
-- wallet's point of view: the sender's 'out' row and the receiver's 'in' row. The zero address is never a
-- side: a mint has only its 'in' row, a burn only its 'out' row.
--
-- movement_kind: 'mint' (in, from 0x0), 'burn' (out, to 0x0), 'buy' / 'sell' (the token leg of a sale),
-- else 'transfer'.
-- Sale legs: a movement is the leg of a sale in the same transaction with the same collection, token id,
-- seller = sender and buyer = receiver. Two such sales in one transaction (say two partial fills of one
-- ERC-1155 listing) are paired with their movements in log order, so each sale gets its own leg. Amounts are
-- not part of the match; tests/assert_sale_legs_match_their_sales.sql checks that every decoded sale has
-- exactly one leg and that it moved the units the sale names.
-- Self-transfers (sender = receiver) give both rows, 'out' and 'in', flagged is_self_transfer: counts of
-- transfers in and out each include them once, and the signed amounts cancel out, so balances and
-- holdings are unchanged by them.
--
-- A table, built incrementally like the day-grained marts (macros/incremental_window.sql): the pairing of
-- sales with movements is the heaviest step of the project, and holding periods read the whole history.
-- Rows up to the end of as_of; an incremental run replaces the days from window_start on. A movement and
-- its sale share a transaction, so recomputing whole days gives exactly a full refresh's rows.

{%- set last_day = as_of_date() %}
{%- set first_day = incremental_window_start('block_date') if is_incremental() else none %}

with

transfers as (

    select * from {{ ref('stg_raw__token_transfers') }}
    where
        token_standard in ('erc721', 'erc1155')
        and {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

sales as (

    select * from {{ ref('int_nft_sales_deduplicated') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

transfers_numbered as (

    select
        transfers.*,
        row_number() over (
            partition by
                chain_id, block_number, transaction_hash,
                contract_address, token_id, from_address, to_address
            order by log_index, batch_index
        ) as leg_rank
    from transfers

),

sales_numbered as (

    select
        sales.*,
        row_number() over (
            partition by
                chain_id, block_number, transaction_hash,
                collection_address, token_id, seller_address, buyer_address
            order by log_index
        ) as leg_rank
    from sales

),

matched as (

    select
        transfers_numbered.*,
        sales_numbered.log_index as sale_log_index,
        sales_numbered.data_source as sale_data_source,
        sales_numbered.amount as sale_amount,
        sales_numbered.currency_kind as sale_currency_kind,
        sales_numbered.price as sale_price,
        sales_numbered.price_wei as sale_price_wei
    from transfers_numbered
    left join sales_numbered
        on
            transfers_numbered.chain_id = sales_numbered.chain_id
            and transfers_numbered.block_number = sales_numbered.block_number
            and transfers_numbered.transaction_hash = sales_numbered.transaction_hash
            and transfers_numbered.contract_address = sales_numbered.collection_address
            and transfers_numbered.token_id = sales_numbered.token_id
            and transfers_numbered.from_address = sales_numbered.seller_address
            and transfers_numbered.to_address = sales_numbered.buyer_address
            and transfers_numbered.leg_rank = sales_numbered.leg_rank

),

sides as (

    select 'out' as direction
    union all
    select 'in' as direction

),

-- One pass over the movements, crossed with the two sides (cheaper than scanning them twice, and it keeps
-- the marts' date filters pushed down to the raw table).
both_sides as (

    select
        sides.direction,
        case when sides.direction = 'out' then matched.from_address else matched.to_address end as wallet,
        case when sides.direction = 'out' then matched.to_address else matched.from_address end
            as counterparty_address,
        case
            when sides.direction = 'out' and matched.is_burn then 'burn'
            when sides.direction = 'out' and matched.sale_log_index is not null then 'sell'
            when sides.direction = 'in' and matched.is_mint then 'mint'
            when sides.direction = 'in' and matched.sale_log_index is not null then 'buy'
            else 'transfer'
        end as movement_kind,
        case when sides.direction = 'out' then -matched.amount else matched.amount end as amount_delta,
        matched.*
    from matched
    cross join sides
    where
        (sides.direction = 'out' and not matched.is_mint)
        or (sides.direction = 'in' and not matched.is_burn)

),

final as (

    select
        chain_id,
        wallet,
        direction,
        movement_kind,
        counterparty_address,
        from_address = to_address as is_self_transfer,
        block_number,
        block_timestamp,
        block_date,
        transaction_hash,
        log_index,
        batch_index,
        token_standard,
        contract_address as collection_address,
        token_id,
        amount,
        amount_delta,
        sale_log_index,
        sale_data_source,
        sale_amount,
        sale_currency_kind,
        sale_price,
        sale_price_wei
    from both_sides

)

select * from final
-- stored in block order, so a day's rows sit together and date filters skip the other storage blocks
order by
    block_number,
    log_index,
    batch_index,
    direction
