{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['chain_id', 'wallet', 'day'],
        on_schema_change='fail',
        pre_hook="{{ delete_incremental_window('day') }}",
    )
}}

-- One row per wallet and UTC day with any activity up to as_of: addresses without code, never the zero
-- address. Every daily sum of a wallet is made here, once per source row, and read by three models:
--   - wallet_activity_daily (the mart, a view of these rows): trades, mints, transfers, burns, native
--     value sent and received, royalties, fees, transactions sent and their gas;
--   - wallet_rfv: when the wallet was first and last active that day, its buys (the buyer side of a sale)
--     with their spend and first and last time, its sells with their proceeds, its mints with what they
--     cost where known (int_token_mints_priced);
--   - the wallet feature model (int_wallet_event_days_summed, a view of these rows): the first and last
--     time of the day's events of the wallet's own (everything but ETH it received).
--
-- Incremental (macros/incremental_window.sql): each run replaces the days from window_start to as_of, so
-- a nightly run reads one new day (plus the lookback) and wallet_rfv, which must be recomputed for every
-- wallet each day (its windows slide), aggregates wallet-days, not events. A full refresh gives the same
-- rows.

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

-- Every source says when the wallet was active; each also carries amounts. The times are reduced on
-- narrow rows, the amounts per source, and the sources joined on (chain_id, wallet, day): one aggregation
-- of every column over all the sources' rows (55 million on the benchmark's full build) costs about twice
-- as much.
activity as (

    select chain_id, wallet, block_date as day, block_timestamp as activity_at, true as is_event from trades
    union all
    select chain_id, wallet, block_date as day, block_timestamp as activity_at, true as is_event from movements
    where movement_kind <> 'mint'
    union all
    select chain_id, wallet, block_date as day, block_timestamp as activity_at, true as is_event from mints
    union all
    select chain_id, wallet, block_date as day, block_timestamp as activity_at, true as is_event from gas
    union all
    -- ETH sent is a transaction the wallet sent (a gas row at the same time); ETH received is not its event
    select chain_id, wallet, block_date as day, block_timestamp as activity_at, false as is_event
    from native_transfers

),

activity_daily as (

    select
        chain_id,
        wallet,
        day,
        min(activity_at) as first_activity_at,
        max(activity_at) as last_activity_at,
        min(case when is_event then activity_at end) as first_event_at,
        max(case when is_event then activity_at end) as last_event_at
    from activity
    group by
        chain_id,
        wallet,
        day

),

trades_daily as (

    select
        chain_id,
        wallet,
        block_date as day,
        sum(case when role = 'buyer' then 1 else 0 end) as buys,
        sum(case when role = 'buyer' then coalesce(price_wei, 0) else 0 end) as spend_wei,
        min(case when role = 'buyer' then block_timestamp end) as first_buy_at,
        max(case when role = 'buyer' then block_timestamp end) as last_buy_at,
        sum(case when role = 'seller' then 1 else 0 end) as sells,
        sum(case when role = 'seller' then coalesce(seller_proceeds_wei, 0) else 0 end) as proceeds_wei,
        sum(case when role = 'seller' then coalesce(price_wei, 0) else 0 end) as sell_volume_wei,
        sum(case when role = 'buyer' then amount else 0 end) as units_bought,
        sum(case when role = 'seller' then amount else 0 end) as units_sold,
        sum(case when role = 'seller' then coalesce(royalty_wei, 0) else 0 end) as royalties_paid_wei,
        sum(case when role = 'seller' then coalesce(fee_wei, 0) else 0 end) as fees_paid_wei
    from trades
    group by
        chain_id,
        wallet,
        block_date

),

mints_daily as (

    select
        chain_id,
        wallet,
        block_date as day,
        count(*) as mints,
        sum(case when mint_price_wei is not null then 1 else 0 end) as priced_mints,
        sum(coalesce(mint_price_wei, 0)) as mint_spend_wei,
        sum(amount) as units_minted
    from mints
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
        count(*) as transactions,
        sum(case when is_success = false then 1 else 0 end) as failed_transactions,
        sum(gas_paid_wei) as gas_paid_wei,
        -- imported without their receipts: what they paid is unknown, not 0
        sum(case when gas_paid_wei is null then 1 else 0 end) as gas_unknown_transactions
    from gas
    group by
        chain_id,
        wallet,
        block_date

),

-- transfers and burns; mints are counted from int_token_mints_priced (mints_daily)
movements_daily as (

    select
        chain_id,
        wallet,
        block_date as day,
        sum(case when movement_kind = 'transfer' and direction = 'in' then 1 else 0 end) as transfers_in,
        sum(case when movement_kind = 'transfer' and direction = 'out' then 1 else 0 end) as transfers_out,
        sum(case when movement_kind = 'burn' then 1 else 0 end) as burns
    from movements
    where movement_kind in ('transfer', 'burn')
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

final as (

    select
        activity_daily.chain_id,
        activity_daily.wallet,
        activity_daily.day,
        activity_daily.first_activity_at,
        activity_daily.last_activity_at,
        cast(coalesce(trades_daily.buys, 0) as {{ dbt.type_bigint() }}) as buys,
        cast(coalesce(trades_daily.spend_wei, 0) as {{ wei_type() }}) as spend_wei,
        trades_daily.first_buy_at,
        trades_daily.last_buy_at,
        cast(coalesce(trades_daily.sells, 0) as {{ dbt.type_bigint() }}) as sells,
        cast(coalesce(trades_daily.proceeds_wei, 0) as {{ wei_type() }}) as proceeds_wei,
        cast(coalesce(mints_daily.mints, 0) as {{ dbt.type_bigint() }}) as mints,
        cast(coalesce(mints_daily.priced_mints, 0) as {{ dbt.type_bigint() }}) as priced_mints,
        cast(coalesce(mints_daily.mint_spend_wei, 0) as {{ wei_type() }}) as mint_spend_wei,
        activity_daily.first_event_at,
        activity_daily.last_event_at,
        cast(coalesce(trades_daily.sell_volume_wei, 0) as {{ wei_type() }}) as sell_volume_wei,
        cast(coalesce(gas_daily.transactions, 0) as {{ dbt.type_bigint() }}) as transactions,
        cast(coalesce(gas_daily.gas_paid_wei, 0) as {{ wei_type() }}) as gas_paid_wei,
        cast(coalesce(trades_daily.units_bought, 0) as {{ wei_type() }}) as units_bought,
        cast(coalesce(trades_daily.units_sold, 0) as {{ wei_type() }}) as units_sold,
        cast(coalesce(trades_daily.royalties_paid_wei, 0) as {{ wei_type() }}) as royalties_paid_wei,
        cast(coalesce(trades_daily.fees_paid_wei, 0) as {{ wei_type() }}) as fees_paid_wei,
        cast(coalesce(mints_daily.units_minted, 0) as {{ wei_type() }}) as units_minted,
        cast(coalesce(movements_daily.transfers_in, 0) as {{ dbt.type_bigint() }}) as transfers_in,
        cast(coalesce(movements_daily.transfers_out, 0) as {{ dbt.type_bigint() }}) as transfers_out,
        cast(coalesce(movements_daily.burns, 0) as {{ dbt.type_bigint() }}) as burns,
        cast(coalesce(native_daily.native_value_spent_wei, 0) as {{ wei_type() }}) as native_value_spent_wei,
        cast(coalesce(native_daily.native_value_received_wei, 0) as {{ wei_type() }})
            as native_value_received_wei,
        cast(coalesce(gas_daily.failed_transactions, 0) as {{ dbt.type_bigint() }}) as failed_transactions,
        cast(coalesce(gas_daily.gas_unknown_transactions, 0) as {{ dbt.type_bigint() }})
            as gas_unknown_transactions
    from activity_daily
    left join trades_daily
        on
            activity_daily.chain_id = trades_daily.chain_id
            and activity_daily.wallet = trades_daily.wallet
            and activity_daily.day = trades_daily.day
    left join mints_daily
        on
            activity_daily.chain_id = mints_daily.chain_id
            and activity_daily.wallet = mints_daily.wallet
            and activity_daily.day = mints_daily.day
    left join gas_daily
        on
            activity_daily.chain_id = gas_daily.chain_id
            and activity_daily.wallet = gas_daily.wallet
            and activity_daily.day = gas_daily.day
    left join movements_daily
        on
            activity_daily.chain_id = movements_daily.chain_id
            and activity_daily.wallet = movements_daily.wallet
            and activity_daily.day = movements_daily.day
    left join native_daily
        on
            activity_daily.chain_id = native_daily.chain_id
            and activity_daily.wallet = native_daily.wallet
            and activity_daily.day = native_daily.day
    -- contracts and the zero address are left out of the wallet-days, not of the source rows: the same
    -- rows, and the anti-join reads 19.5 million wallet-days instead of 55 million events on the
    -- benchmark's full build (the model 80-83 s -> 53-55 s). Not macros/wallets_only.sql's left join: after
    -- these joins DuckDB plans this `not exists` as a mark join, and the left join took 47-60 s against 41-51 s
    where
        activity_daily.wallet <> '{{ var("zero_address") }}'
        and not exists (
            select 1
            from contracts
            where
                contracts.chain_id = activity_daily.chain_id
                and contracts.address = activity_daily.wallet
        )

)

select * from final
-- stored day by day, so date filters of the models reading it skip the other storage blocks
order by
    day,
    chain_id,
    wallet
