-- Recency, frequency and value of each wallet's NFT buying as of the end of as_of, and the summary columns
-- BG/NBD and Gamma-Gamma libraries (lifetimes, pymc-marketing) take. One row per wallet with any activity
-- up to as_of. Read from int_wallet_days_summarized (one row per wallet and day, built incrementally), so
-- a run aggregates wallet-days, not events. A table: every row depends on as_of (recency, T, the
-- windows), so all of them change every day.

{%- set as_of = as_of_date() %}
{%- set as_of_day = modules.datetime.date.fromisoformat(as_of) %}
{%- set windows = var('rfv_windows_days') %}

with

days as (

    select * from {{ ref('int_wallet_days_summarized') }}
    where day <= cast('{{ as_of }}' as date)

),

wallets as (

    select
        chain_id,
        wallet,
        min(day) as first_seen_day,
        min(first_activity_at) as first_seen_at,
        max(last_activity_at) as last_seen_at,
        min(first_buy_at) as first_buy_at,
        max(last_buy_at) as last_buy_at,
        min(case when buys > 0 then day end) as first_buy_day,
        max(case when buys > 0 then day end) as last_buy_day,
        sum(case when buys > 0 then 1 else 0 end) as buy_days,
        {%- for window_days in windows %}
        {#- an N-day window holds the N days ending on as_of #}
        {%- set window_start = as_of_day - modules.datetime.timedelta(days=window_days | int - 1) %}
        sum(case when day >= cast('{{ window_start.isoformat() }}' as date) then buys else 0 end)
            as buys_{{ window_days }}d,
        sum(case when day >= cast('{{ window_start.isoformat() }}' as date) then spend_wei else 0 end)
            as spend_wei_{{ window_days }}d,
        {%- endfor %}
        sum(buys) as buys_total,
        sum(spend_wei) as spend_wei_total,
        sum(sells) as sells_total,
        sum(proceeds_wei) as proceeds_wei_total,
        sum(mints) as mints_total,
        sum(priced_mints) as priced_mints_total,
        sum(mint_spend_wei) as mint_spend_wei_total
    from days
    group by
        chain_id,
        wallet

),

first_buy_days as (

    select
        days.chain_id,
        days.wallet,
        days.spend_wei as first_buy_day_spend_wei
    from days
    inner join wallets
        on
            days.chain_id = wallets.chain_id
            and days.wallet = wallets.wallet
            and days.day = wallets.first_buy_day

),

final as (

    select
        wallets.chain_id,
        wallets.wallet,
        wallets.first_seen_at,
        wallets.last_seen_at,
        {{ dbt.datediff('wallets.first_seen_day', "cast('" ~ as_of ~ "' as date)", 'day') }} as tenure_days,
        wallets.first_buy_at,
        wallets.last_buy_at,
        {{ dbt.datediff('wallets.last_buy_day', "cast('" ~ as_of ~ "' as date)", 'day') }} as recency_days,
        {%- for window_days in windows %}
        cast(wallets.buys_{{ window_days }}d as {{ dbt.type_bigint() }}) as buys_{{ window_days }}d,
        cast(wallets.spend_wei_{{ window_days }}d as {{ wei_type() }}) as spend_wei_{{ window_days }}d,
        {%- endfor %}
        cast(wallets.buys_total as {{ dbt.type_bigint() }}) as buys_total,
        cast(wallets.spend_wei_total as {{ wei_type() }}) as spend_wei_total,
        cast(wallets.sells_total as {{ dbt.type_bigint() }}) as sells_total,
        cast(wallets.proceeds_wei_total as {{ wei_type() }}) as proceeds_wei_total,
        cast(wallets.mints_total as {{ dbt.type_bigint() }}) as mints_total,
        cast(wallets.priced_mints_total as {{ dbt.type_bigint() }}) as priced_mints_total,
        cast(wallets.mint_spend_wei_total as {{ wei_type() }}) as mint_spend_wei_total,
        case
            when wallets.buys_total >= 2
                then {{ holdings_days_between('wallets.first_buy_at', 'wallets.last_buy_at') }}
                / (wallets.buys_total - 1)
        end as mean_days_between_buys,
        case
            when wallets.buy_days > 0 then cast(wallets.buy_days - 1 as {{ dbt.type_bigint() }})
        end as frequency,
        {{ dbt.datediff('wallets.first_buy_day', 'wallets.last_buy_day', 'day') }} as recency,
        {{ dbt.datediff('wallets.first_buy_day', "cast('" ~ as_of ~ "' as date)", 'day') }}
            as {{ adapter.quote('T') }},
        case
            when wallets.buy_days > 1
                then cast(
                    wallets.spend_wei_total - first_buy_days.first_buy_day_spend_wei
                    as {{ holdings_type_double() }}
                ) / (wallets.buy_days - 1)
            when wallets.buy_days = 1 then 0
        end as monetary_value
    from wallets
    left join first_buy_days
        on
            wallets.chain_id = first_buy_days.chain_id
            and wallets.wallet = first_buy_days.wallet

)

select * from final
