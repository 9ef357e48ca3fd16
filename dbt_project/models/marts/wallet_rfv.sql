-- depends_on: {{ ref('int_wallet_days_settled') }}

-- Recency, frequency and value of each wallet's NFT buying as of the end of as_of, and the summary columns
-- BG/NBD and Gamma-Gamma libraries (lifetimes, pymc-marketing) take. One row per wallet with any activity
-- up to as_of. A table: every row depends on as_of (recency, T, the windows), so all of them change every
-- day. Its sums come from int_wallet_days_settled (each wallet's wallet-days before as_of - lookback_days,
-- kept from night to night) plus the days from there to as_of in int_wallet_days_summarized (one row per
-- wallet and day), so a night adds up a few days, not the history (macros/settled_sums.sql). Built for
-- another as_of than the kept sums, it adds up every day instead.

{%- set as_of = as_of_date() %}
{%- set day_after = (modules.datetime.date.fromisoformat(as_of) + modules.datetime.timedelta(days=1)).isoformat() %}
{%- set settled_before = settled_boundary(ref('int_wallet_days_settled')) or none %}
{%- set spec = settled_spec('int_wallet_days_summarized') %}
{%- set windows = var('rfv_windows_days') %}

with

recent_days as (

    {{ settled_day_sums(ref('int_wallet_days_summarized'), spec, settled_before, day_after, as_of) }}

),

settled as (

    {%- if settled_before is not none %}
    select * from {{ ref('int_wallet_days_settled') }}
    {%- else %}
    select * from recent_days
    where 1 = 0
    {%- endif %}

),

wallets as (

    {{ settled_joined(spec, 'settled', 'recent_days') }}

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
                    wallets.spend_wei_total - wallets.first_buy_day_spend_wei
                    as {{ holdings_type_double() }}
                ) / (wallets.buy_days - 1)
            when wallets.buy_days = 1 then 0
        end as monetary_value
    from wallets

)

select * from final
