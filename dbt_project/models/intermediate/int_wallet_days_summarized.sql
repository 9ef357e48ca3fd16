{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['chain_id', 'wallet', 'day'],
        on_schema_change='fail',
        pre_hook="{{ delete_incremental_window('day') }}",
    )
}}

-- One row per wallet and UTC day with any activity up to as_of (the same wallets and days as
-- wallet_activity_daily: addresses without code, never the zero address), holding what wallet_rfv needs
-- with the times of day: when the wallet was first and last active that day, its buys (the buyer side of
-- a sale) with their spend and first and last time, its sells with their proceeds, its mints with what
-- they cost where known (int_token_mints_priced).
--
-- Incremental like wallet_activity_daily (macros/incremental_window.sql): each run replaces the days from
-- window_start to as_of, so a nightly run reads one new day (plus the lookback) and wallet_rfv, which must
-- be recomputed for every wallet each day (its windows slide), aggregates wallet-days, not events.

{%- set last_day = as_of_date() %}
{%- set first_day = incremental_window_start('day') if is_incremental() else none %}

with

trades as (

    select * from {{ ref('int_wallet_trades') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

movements as (

    select * from {{ ref('int_wallet_token_movements') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

mints as (

    select * from {{ ref('int_token_mints_priced') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

gas as (

    select * from {{ ref('int_wallet_gas_paid') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

native_transfers as (

    select * from {{ ref('int_wallet_native_transfers') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

contracts as (

    select
        chain_id,
        address
    from {{ ref('stg_raw__addresses') }}
    where is_contract

),

facts as (

    select
        chain_id,
        wallet,
        block_date as day,
        block_timestamp as activity_at,
        case when role = 'buyer' then 1 else 0 end as buys,
        case when role = 'buyer' then coalesce(price_wei, 0) else 0 end as spend_wei,
        case when role = 'buyer' then block_timestamp end as buy_at,
        case when role = 'seller' then 1 else 0 end as sells,
        case when role = 'seller' then coalesce(seller_proceeds_wei, 0) else 0 end as proceeds_wei,
        0 as mints,
        0 as priced_mints,
        0 as mint_spend_wei
    from trades

    union all

    select
        chain_id,
        wallet,
        block_date as day,
        block_timestamp as activity_at,
        0 as buys,
        0 as spend_wei,
        cast(null as {{ dbt.type_timestamp() }}) as buy_at,
        0 as sells,
        0 as proceeds_wei,
        0 as mints,
        0 as priced_mints,
        0 as mint_spend_wei
    from movements
    where movement_kind <> 'mint'

    union all

    select
        chain_id,
        wallet,
        block_date as day,
        block_timestamp as activity_at,
        0 as buys,
        0 as spend_wei,
        cast(null as {{ dbt.type_timestamp() }}) as buy_at,
        0 as sells,
        0 as proceeds_wei,
        1 as mints,
        case when mint_price_wei is not null then 1 else 0 end as priced_mints,
        coalesce(mint_price_wei, 0) as mint_spend_wei
    from mints

    union all

    select
        chain_id,
        wallet,
        block_date as day,
        block_timestamp as activity_at,
        0 as buys,
        0 as spend_wei,
        cast(null as {{ dbt.type_timestamp() }}) as buy_at,
        0 as sells,
        0 as proceeds_wei,
        0 as mints,
        0 as priced_mints,
        0 as mint_spend_wei
    from gas

    union all

    select
        chain_id,
        wallet,
        block_date as day,
        block_timestamp as activity_at,
        0 as buys,
        0 as spend_wei,
        cast(null as {{ dbt.type_timestamp() }}) as buy_at,
        0 as sells,
        0 as proceeds_wei,
        0 as mints,
        0 as priced_mints,
        0 as mint_spend_wei
    from native_transfers

),

wallets_only as (

    select facts.*
    from facts
    where
        facts.wallet <> '{{ var("zero_address") }}'
        and not exists (
            select 1
            from contracts
            where
                contracts.chain_id = facts.chain_id
                and contracts.address = facts.wallet
        )

),

final as (

    select
        chain_id,
        wallet,
        day,
        min(activity_at) as first_activity_at,
        max(activity_at) as last_activity_at,
        cast(sum(buys) as {{ dbt.type_bigint() }}) as buys,
        cast(sum(spend_wei) as {{ wei_type() }}) as spend_wei,
        min(buy_at) as first_buy_at,
        max(buy_at) as last_buy_at,
        cast(sum(sells) as {{ dbt.type_bigint() }}) as sells,
        cast(sum(proceeds_wei) as {{ wei_type() }}) as proceeds_wei,
        cast(sum(mints) as {{ dbt.type_bigint() }}) as mints,
        cast(sum(priced_mints) as {{ dbt.type_bigint() }}) as priced_mints,
        cast(sum(mint_spend_wei) as {{ wei_type() }}) as mint_spend_wei
    from wallets_only
    group by
        chain_id,
        wallet,
        day

)

select * from final
-- stored day by day, so wallet_rfv's window filters skip the other storage blocks
order by
    day,
    chain_id,
    wallet
