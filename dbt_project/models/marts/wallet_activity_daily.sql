{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['chain_id', 'wallet', 'day'],
        on_schema_change='fail',
        pre_hook="{{ delete_incremental_window('day') }}",
    )
}}

-- One row per wallet and UTC day with any activity up to as_of. Wallets are addresses without code: the
-- zero address, contracts (marketplace, WETH, collections) are left out. Incremental: each run replaces
-- the days from window_start to as_of (macros/incremental_window.sql); a full refresh gives the same rows.

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

trades_daily as (

    select
        chain_id,
        wallet,
        block_date as day,
        sum(case when role = 'buyer' then 1 else 0 end) as buys,
        sum(case when role = 'seller' then 1 else 0 end) as sells,
        sum(case when role = 'buyer' then amount else 0 end) as units_bought,
        sum(case when role = 'seller' then amount else 0 end) as units_sold,
        sum(case when role = 'buyer' then coalesce(price_wei, 0) else 0 end) as buy_volume_wei,
        sum(case when role = 'seller' then coalesce(price_wei, 0) else 0 end) as sell_volume_wei,
        sum(case when role = 'seller' then coalesce(royalty_wei, 0) else 0 end) as royalties_paid_wei,
        sum(case when role = 'seller' then coalesce(fee_wei, 0) else 0 end) as fees_paid_wei
    from trades
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
        sum(case when movement_kind = 'mint' then 1 else 0 end) as mints,
        sum(case when movement_kind = 'mint' then amount else 0 end) as units_minted,
        sum(case when movement_kind = 'transfer' and direction = 'in' then 1 else 0 end) as transfers_in,
        sum(case when movement_kind = 'transfer' and direction = 'out' then 1 else 0 end) as transfers_out,
        sum(case when movement_kind = 'burn' then 1 else 0 end) as burns
    from movements
    group by
        chain_id,
        wallet,
        block_date

),

gas_daily as (

    select
        chain_id,
        wallet,
        block_date as day,
        count(*) as transactions_sent,
        sum(case when is_success = false then 1 else 0 end) as failed_transactions,
        sum(gas_paid_wei) as gas_paid_wei
    from gas
    group by
        chain_id,
        wallet,
        block_date

),

native_daily as (

    select
        chain_id,
        wallet,
        block_date as day,
        sum(case when direction = 'out' then value_wei else 0 end) as native_value_spent_wei,
        sum(case when direction = 'in' then value_wei else 0 end) as native_value_received_wei
    from native_transfers
    group by
        chain_id,
        wallet,
        block_date

),

-- Each daily CTE has at most one row per (chain_id, wallet, day): the four are joined on that key, not
-- unioned and summed again (an aggregation of 50 million rows into 20 million groups on the full build,
-- more than twice the time of the joins). A wallet-day missing from a source has zeros there.
joined as (

    select
        chain_id,
        wallet,
        day,
        cast(coalesce(trades_daily.buys, 0) as {{ dbt.type_bigint() }}) as buys,
        cast(coalesce(trades_daily.sells, 0) as {{ dbt.type_bigint() }}) as sells,
        cast(coalesce(trades_daily.units_bought, 0) as {{ wei_type() }}) as units_bought,
        cast(coalesce(trades_daily.units_sold, 0) as {{ wei_type() }}) as units_sold,
        cast(coalesce(trades_daily.buy_volume_wei, 0) as {{ wei_type() }}) as buy_volume_wei,
        cast(coalesce(trades_daily.sell_volume_wei, 0) as {{ wei_type() }}) as sell_volume_wei,
        cast(coalesce(trades_daily.royalties_paid_wei, 0) as {{ wei_type() }}) as royalties_paid_wei,
        cast(coalesce(trades_daily.fees_paid_wei, 0) as {{ wei_type() }}) as fees_paid_wei,
        cast(coalesce(movements_daily.mints, 0) as {{ dbt.type_bigint() }}) as mints,
        cast(coalesce(movements_daily.units_minted, 0) as {{ wei_type() }}) as units_minted,
        cast(coalesce(movements_daily.transfers_in, 0) as {{ dbt.type_bigint() }}) as transfers_in,
        cast(coalesce(movements_daily.transfers_out, 0) as {{ dbt.type_bigint() }}) as transfers_out,
        cast(coalesce(movements_daily.burns, 0) as {{ dbt.type_bigint() }}) as burns,
        cast(coalesce(native_daily.native_value_spent_wei, 0) as {{ wei_type() }}) as native_value_spent_wei,
        cast(coalesce(native_daily.native_value_received_wei, 0) as {{ wei_type() }}) as native_value_received_wei,
        cast(coalesce(gas_daily.transactions_sent, 0) as {{ dbt.type_bigint() }}) as transactions_sent,
        cast(coalesce(gas_daily.failed_transactions, 0) as {{ dbt.type_bigint() }}) as failed_transactions,
        cast(coalesce(gas_daily.gas_paid_wei, 0) as {{ wei_type() }}) as gas_paid_wei
    from trades_daily
    full outer join movements_daily using (chain_id, wallet, day)
    full outer join native_daily using (chain_id, wallet, day)
    full outer join gas_daily using (chain_id, wallet, day)

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
-- stored day by day, so date filters of later marts skip the other storage blocks
order by
    day,
    chain_id,
    wallet
