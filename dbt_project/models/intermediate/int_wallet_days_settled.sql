{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['chain_id', 'wallet'],
        on_schema_change='fail',
        pre_hook="{{ rfv_settled_prepare() }}",
        post_hook="{{ rfv_settled_record() }}",
    )
}}

-- One row per wallet with a wallet-day before settled_before = as_of - lookback_days: the sums and extremes
-- of its days before that boundary (int_wallet_days_summarized), and for each RFV window the part of the
-- window before it. wallet_rfv adds the days from the boundary to as_of. A night advances the rows of the
-- wallets whose days became final or left a window, instead of re-adding every wallet-day of the history
-- (macros/rfv_settled.sql).

{%- set plan = rfv_settled_plan() %}
{%- set windows = var('rfv_windows_days') %}

with

added as (

    {{ rfv_wallet_day_sums(
        ref('int_wallet_days_summarized'),
        plan.from_settled_before,
        plan.settled_before,
        as_of_date(),
        plan.from_as_of,
        plan.from_settled_before
    ) }}

),

kept as (

    {%- if plan.from_as_of is not none %}
    select * from {{ this }}
    {%- else %}
    select * from added
    where 1 = 0
    {%- endif %}

),

combined as (

    select
        {{ rfv_combined_sums('kept', 'added') }}
    from added
    left join kept
        on
            added.chain_id = kept.chain_id
            and added.wallet = kept.wallet

),

final as (

    select
        chain_id,
        wallet,
        first_seen_day,
        first_seen_at,
        last_seen_at,
        first_buy_at,
        last_buy_at,
        first_buy_day,
        last_buy_day,
        cast(first_buy_day_spend_wei as {{ wei_type() }}) as first_buy_day_spend_wei,
        cast(buy_days as {{ dbt.type_bigint() }}) as buy_days,
        {%- for measure in ['buys', 'spend_wei', 'sells', 'proceeds_wei', 'mints', 'priced_mints', 'mint_spend_wei'] %}
        cast({{ measure }}_total as {{ wei_type() if measure.endswith('_wei') else dbt.type_bigint() }})
            as {{ measure }}_total,
        {%- endfor %}
        {%- for window_days in windows %}
        cast(buys_{{ window_days }}d as {{ dbt.type_bigint() }}) as buys_{{ window_days }}d,
        cast(spend_wei_{{ window_days }}d as {{ wei_type() }}) as spend_wei_{{ window_days }}d{{ ',' if not loop.last }}
        {%- endfor %}
    from combined

)

select * from final
