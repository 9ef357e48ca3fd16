-- The mart, however it was built (full refresh or nightly increments), adds up to the intermediate models
-- it summarises, for every chain, over all days up to as_of and all wallets (addresses without code).
-- Catches days an incremental run missed or counted twice. Rows returned: the measures that disagree.
-- After an incremental build, over the days that build rewrote (macros/tests_window.sql): the days before
-- were checked by the runs that wrote them.

{%- set last_day = as_of_date() %}
{%- set first_day = tests_first_day(ref('int_wallet_days_summarized')) %}

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

facts as (

    select 'buys' as measure, chain_id, wallet, cast(1 as {{ wei_type() }}) as value
    from trades
    where role = 'buyer'

    union all

    select 'sell_volume_wei' as measure, chain_id, wallet, coalesce(price_wei, 0) as value
    from trades
    where role = 'seller'

    union all

    select 'mints' as measure, chain_id, wallet, cast(1 as {{ wei_type() }}) as value
    from movements
    where movement_kind = 'mint'

    union all

    select 'transfers_out' as measure, chain_id, wallet, cast(1 as {{ wei_type() }}) as value
    from movements
    where movement_kind = 'transfer' and direction = 'out'

    union all

    select 'gas_paid_wei' as measure, chain_id, wallet, gas_paid_wei as value
    from gas

    union all

    select 'gas_unknown_transactions' as measure, chain_id, wallet, cast(1 as {{ wei_type() }}) as value
    from gas
    where gas_paid_wei is null

    union all

    select 'native_value_spent_wei' as measure, chain_id, wallet, value_wei as value
    from native_transfers
    where direction = 'out'

),

expected as (

    select
        measure,
        chain_id,
        cast(sum(value) as {{ wei_type() }}) as total
    from {{ wallets_only('facts') }} as facts
    group by
        measure,
        chain_id

),

mart as (

    select
        chain_id,
        sum(buys) as buys,
        sum(sell_volume_wei) as sell_volume_wei,
        sum(mints) as mints,
        sum(transfers_out) as transfers_out,
        sum(gas_paid_wei) as gas_paid_wei,
        sum(gas_unknown_transactions) as gas_unknown_transactions,
        sum(native_value_spent_wei) as native_value_spent_wei
    from {{ ref('wallet_activity_daily') }}
    where day <= cast('{{ last_day }}' as date)
    {%- if first_day is not none %} and day >= cast('{{ first_day }}' as date){% endif %}
    group by chain_id

),

actual as (

    select 'buys' as measure, chain_id, cast(buys as {{ wei_type() }}) as total from mart
    union all
    select 'sell_volume_wei' as measure, chain_id, cast(sell_volume_wei as {{ wei_type() }}) as total from mart
    union all
    select 'mints' as measure, chain_id, cast(mints as {{ wei_type() }}) as total from mart
    union all
    select 'transfers_out' as measure, chain_id, cast(transfers_out as {{ wei_type() }}) as total from mart
    union all
    select 'gas_paid_wei' as measure, chain_id, cast(gas_paid_wei as {{ wei_type() }}) as total from mart
    union all
    select 'gas_unknown_transactions' as measure, chain_id, cast(gas_unknown_transactions as {{ wei_type() }}) as total
    from mart
    union all
    select 'native_value_spent_wei' as measure, chain_id, cast(native_value_spent_wei as {{ wei_type() }}) as total
    from mart

),

compared as (

    select
        coalesce(expected.measure, actual.measure) as measure,
        coalesce(expected.chain_id, actual.chain_id) as chain_id,
        expected.total as expected_total,
        actual.total as actual_total
    from expected
    full outer join actual
        on
            expected.measure = actual.measure
            and expected.chain_id = actual.chain_id

)

select * from compared
where
    coalesce(expected_total, 0) <> coalesce(actual_total, 0)
