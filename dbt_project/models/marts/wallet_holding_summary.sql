-- How long each wallet holds NFTs, from token_holding_periods: one row per wallet (an address without
-- code) that has held any NFT up to as_of. A table: it summarises a table rebuilt on every run.
-- A "position" is a row of token_holding_periods (an acquisition lot, or the part of it a disposal took).

{%- set flip_days = var('flip_days') %}

with

holdings as (

    select * from {{ ref('token_holding_periods') }}
    where not is_contract

),

classified as (

    select
        holdings.*,
        case
            when not is_open and disposed_via <> 'left_unobserved' then holding_days
        end as closed_holding_days,
        case when is_open then acquired_at end as open_acquired_at,
        case when is_open then holding_days end as open_holding_days
    from holdings

),

summarized as (

    select
        chain_id,
        wallet,
        count(*) as positions,
        sum(case when is_open then 1 else 0 end) as open_positions,
        sum(case when is_open then amount else 0 end) as open_units,
        count(closed_holding_days) as closed_positions,
        sum(case when disposed_via = 'left_unobserved' then 1 else 0 end) as left_unobserved_positions,
        percentile_cont(0.5) within group (order by closed_holding_days) as median_holding_days,
        -- summed in whole seconds (holding_days is seconds / 86400: macros/holdings_arithmetic.sql), so
        -- the mean is the same whatever order the rows come in; a float sum differs in its last digit
        cast(sum(cast(round(closed_holding_days * 86400) as {{ dbt.type_bigint() }})) as {{ holdings_type_double() }})
        / count(closed_holding_days) / 86400 as mean_holding_days,
        sum(
            case when disposed_via = 'sale' and closed_holding_days <= {{ flip_days }} then 1 else 0 end
        ) as flipped_positions,
        min(open_acquired_at) as oldest_open_acquired_at,
        max(open_holding_days) as oldest_open_holding_days
    from classified
    group by
        chain_id,
        wallet

),

final as (

    select
        chain_id,
        wallet,
        cast(positions as {{ dbt.type_bigint() }}) as positions,
        cast(closed_positions as {{ dbt.type_bigint() }}) as closed_positions,
        cast(open_positions as {{ dbt.type_bigint() }}) as open_positions,
        cast(left_unobserved_positions as {{ dbt.type_bigint() }}) as left_unobserved_positions,
        cast(open_units as {{ wei_type() }}) as open_units,
        median_holding_days,
        mean_holding_days,
        cast(flipped_positions as {{ dbt.type_bigint() }}) as flipped_positions,
        case
            when closed_positions > 0
                then cast(flipped_positions as {{ holdings_type_double() }}) / closed_positions
        end as flip_share,
        oldest_open_acquired_at,
        oldest_open_holding_days
    from summarized

)

select * from final
