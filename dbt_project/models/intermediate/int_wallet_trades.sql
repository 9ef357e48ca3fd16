{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ delete_incremental_window('block_date', \"data_source <> 'rpc'\") }}",
    )
}}

-- One row per side of a sale: the buyer's row and the seller's row. A wallet's purchases are its 'buyer'
-- rows, its sales its 'seller' rows. The marketplace takes the fee and the royalty out of the price, so the
-- seller bears them (seller_proceeds = price - fee - royalty); the buyer pays the price.
--
-- A table, built incrementally like int_nft_sales_deduplicated, which it doubles (the window's days and
-- every imported sale): wallet-day tables, ABC tiers and tests read it every night.

{%- set last_day = as_of_date() %}
{%- set first_day = incremental_window_start('block_date') if is_incremental() else none %}

with

sales as (

    select * from {{ ref('int_nft_sales_deduplicated') }}
    where
        ({{ timestamp_in_days('block_timestamp', first_day, last_day) }})
        {%- if first_day is not none %}
        or (data_source <> 'rpc' and {{ timestamp_in_days('block_timestamp', none, last_day) }})
        {%- endif %}

),

roles as (

    select 'buyer' as role
    union all
    select 'seller' as role

),

both_sides as (

    select
        roles.role,
        case when roles.role = 'buyer' then sales.buyer_address else sales.seller_address end as wallet,
        case when roles.role = 'buyer' then sales.seller_address else sales.buyer_address end
            as counterparty_address,
        sales.*
    from sales
    cross join roles

),

final as (

    select
        chain_id,
        wallet,
        role,
        counterparty_address,
        block_number,
        block_timestamp,
        block_date,
        transaction_hash,
        log_index,
        data_source,
        marketplace_address,
        collection_address,
        token_id,
        amount,
        currency_address,
        currency_kind,
        price,
        fee,
        royalty,
        seller_proceeds,
        price_wei,
        fee_wei,
        royalty_wei,
        seller_proceeds_wei
    from both_sides

)

select * from final
