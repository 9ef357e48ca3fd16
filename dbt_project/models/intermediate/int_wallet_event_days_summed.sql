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

-- Each source reduced to wallet-days on its own, the three joined on (chain_id, wallet, day): one
-- aggregation of every column over all the sources' rows (46 million on the benchmark's full build) costs
-- about twice as much. least()/greatest() over coalesces: a source without the wallet-day is NULL there,
-- and not every database's least() skips NULLs.
trades_daily as (

    select
        chain_id,
        wallet,
        block_date as day,
        min(block_timestamp) as first_activity_at,
        max(block_timestamp) as last_activity_at,
        max(case when role = 'buyer' then block_timestamp end) as last_buy_at,
        sum(case when role = 'buyer' then 1 else 0 end) as buys,
        sum(case when role = 'buyer' then coalesce(price_wei, 0) else 0 end) as spend_wei,
        sum(case when role = 'seller' then 1 else 0 end) as sells,
        sum(case when role = 'seller' then coalesce(price_wei, 0) else 0 end) as sell_volume_wei
    from {{ ref('int_wallet_trades') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}
    group by
        chain_id,
        wallet,
        block_date

),

movements_daily as (

    select
        chain_id,
        wallet,
        block_date as day,
        min(block_timestamp) as first_activity_at,
        max(block_timestamp) as last_activity_at,
        sum(case when movement_kind = 'mint' then 1 else 0 end) as mints
    from {{ ref('int_wallet_token_movements') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}
    group by
        chain_id,
        wallet,
        block_date

),

transactions_daily as (

    select
        chain_id,
        wallet,
        block_date as day,
        min(block_timestamp) as first_activity_at,
        max(block_timestamp) as last_activity_at,
        count(*) as transactions,
        sum(gas_paid_wei) as gas_paid_wei
    from {{ ref('int_wallet_transactions_ranked') }}
    where {{ timestamp_in_days('block_timestamp', first_day, last_day) }}
    group by
        chain_id,
        wallet,
        block_date

),

{%- set t, m, x = 'trades_daily.', 'movements_daily.', 'transactions_daily.' %}
joined as (

    select
        chain_id,
        wallet,
        day,
        least(
            coalesce({{ t }}first_activity_at, {{ m }}first_activity_at, {{ x }}first_activity_at),
            coalesce({{ m }}first_activity_at, {{ x }}first_activity_at, {{ t }}first_activity_at),
            coalesce({{ x }}first_activity_at, {{ t }}first_activity_at, {{ m }}first_activity_at)
        ) as first_activity_at,
        greatest(
            coalesce({{ t }}last_activity_at, {{ m }}last_activity_at, {{ x }}last_activity_at),
            coalesce({{ m }}last_activity_at, {{ x }}last_activity_at, {{ t }}last_activity_at),
            coalesce({{ x }}last_activity_at, {{ t }}last_activity_at, {{ m }}last_activity_at)
        ) as last_activity_at,
        trades_daily.last_buy_at,
        cast(coalesce(trades_daily.buys, 0) as {{ dbt.type_bigint() }}) as buys,
        cast(coalesce(trades_daily.spend_wei, 0) as {{ wei_type() }}) as spend_wei,
        cast(coalesce(trades_daily.sells, 0) as {{ dbt.type_bigint() }}) as sells,
        cast(coalesce(trades_daily.sell_volume_wei, 0) as {{ wei_type() }}) as sell_volume_wei,
        cast(coalesce(movements_daily.mints, 0) as {{ dbt.type_bigint() }}) as mints,
        cast(coalesce(transactions_daily.transactions, 0) as {{ dbt.type_bigint() }}) as transactions,
        cast(coalesce(transactions_daily.gas_paid_wei, 0) as {{ wei_type() }}) as gas_paid_wei
    from trades_daily
    full outer join movements_daily using (chain_id, wallet, day)
    full outer join transactions_daily using (chain_id, wallet, day)

),

final as (

    select joined.*
    from joined
    where
        joined.wallet <> '{{ var("zero_address") }}'
        and not exists (
            select 1
            from contracts
            where
                contracts.chain_id = joined.chain_id
                and contracts.address = joined.wallet
        )

)

select * from final
-- stored day by day, so a snapshot's `day < cutoff` skips the storage blocks after it
order by
    day,
    chain_id,
    wallet
