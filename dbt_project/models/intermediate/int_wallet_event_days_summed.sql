{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['chain_id', 'wallet', 'day'],
        on_schema_change='fail',
        pre_hook="{{ delete_incremental_window('day') }}",
    )
}}

-- One row per wallet and UTC day of the events the wallet feature model counts (macros/segments_features.sql):
-- its trades (int_wallet_trades: buys = the buyer side, spend = the price in wei, NULL-priced currencies
-- count 0; sells and their volume likewise), its NFT movements (int_wallet_token_movements; mints counted)
-- and the transactions it sent (int_wallet_transactions_ranked, reverted ones included: their gas was paid).
-- Only the feature population: addresses without code, never the zero address.
--
-- Features as of a cutoff are sums and extremes of the days before it. A cutoff is a midnight, so a day lies
-- wholly before it or not at all, and a snapshot reads wallet-days instead of events. Incremental like
-- int_wallet_days_summarized (macros/incremental_window.sql): a nightly run reads one new day plus the
-- lookback and replaces those days whole.

{%- set last_day = as_of_date() %}
{%- set first_day = incremental_window_start('day') if is_incremental() else none %}

with

contracts as (

    select
        chain_id,
        address
    from {{ ref('stg_raw__addresses') }}
    where is_contract

),

trades as (

    select
        chain_id,
        wallet,
        block_date as day,
        block_timestamp as activity_at,
        case when role = 'buyer' then 1 else 0 end as buys,
        case when role = 'buyer' then coalesce(price_wei, 0) else 0 end as spend_wei,
        case when role = 'buyer' then block_timestamp end as buy_at,
        case when role = 'seller' then 1 else 0 end as sells,
        case when role = 'seller' then coalesce(price_wei, 0) else 0 end as sell_volume_wei,
        0 as mints,
        0 as transactions,
        0 as gas_paid_wei
    from {{ ref('int_wallet_trades') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

movements as (

    select
        chain_id,
        wallet,
        block_date as day,
        block_timestamp as activity_at,
        0 as buys,
        0 as spend_wei,
        cast(null as {{ dbt.type_timestamp() }}) as buy_at,
        0 as sells,
        0 as sell_volume_wei,
        case when movement_kind = 'mint' then 1 else 0 end as mints,
        0 as transactions,
        0 as gas_paid_wei
    from {{ ref('int_wallet_token_movements') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

transactions as (

    select
        chain_id,
        wallet,
        block_date as day,
        block_timestamp as activity_at,
        0 as buys,
        0 as spend_wei,
        cast(null as {{ dbt.type_timestamp() }}) as buy_at,
        0 as sells,
        0 as sell_volume_wei,
        0 as mints,
        1 as transactions,
        gas_paid_wei
    from {{ ref('int_wallet_transactions_ranked') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}

),

events as (

    select * from trades
    union all
    select * from movements
    union all
    select * from transactions

),

final as (

    select
        events.chain_id,
        events.wallet,
        events.day,
        min(events.activity_at) as first_activity_at,
        max(events.activity_at) as last_activity_at,
        max(events.buy_at) as last_buy_at,
        cast(sum(events.buys) as {{ dbt.type_bigint() }}) as buys,
        cast(sum(events.spend_wei) as {{ wei_type() }}) as spend_wei,
        cast(sum(events.sells) as {{ dbt.type_bigint() }}) as sells,
        cast(sum(events.sell_volume_wei) as {{ wei_type() }}) as sell_volume_wei,
        cast(sum(events.mints) as {{ dbt.type_bigint() }}) as mints,
        cast(sum(events.transactions) as {{ dbt.type_bigint() }}) as transactions,
        cast(sum(events.gas_paid_wei) as {{ wei_type() }}) as gas_paid_wei
    from events
    where
        events.wallet <> '{{ var("zero_address") }}'
        and not exists (
            select 1
            from contracts
            where
                contracts.chain_id = events.chain_id
                and contracts.address = events.wallet
        )
    group by
        events.chain_id,
        events.wallet,
        events.day

)

select * from final
-- stored day by day, so a snapshot's `day < cutoff` skips the storage blocks after it
order by
    day,
    chain_id,
    wallet
