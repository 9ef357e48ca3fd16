-- One row per wallet (chain_id, wallet) that sent a transaction in a block with a base fee during the
-- gas window: the gas_window_days (var, default 90) UTC days ending with as_of. How it pays for gas: its
-- median tip, its median ratio of price paid to base fee, where the base fee of its transactions stood
-- within their UTC day (median of the mid-rank percentiles, int_block_base_fees_ranked), the share of its
-- transactions sent in its day's cheapest quartile of hours, and a label from documented cut-offs
-- (macros/segments_gas_label.sql). Addresses that hold code are left out, as in every wallet mart.
-- Rebuilt whole on every run (one row per wallet as of the run date). The medians and the share come from
-- int_wallet_gas_as_of, which computes them once for this mart and the wallet features.

{%- set as_of = as_of_date() %}
{%- set cutoffs_used = segments_gas_cutoffs() %}

with

gas as (

    select * from {{ ref('int_wallet_gas_as_of') }}

),

wallets_only as (

    select * from {{ wallets_only('gas') }} as gas

),

labelled as (

    select
        wallets_only.*,
        {{ segments_gas_label('median_priority_fee_gwei', 'median_base_fee_percentile') }} as gas_sensitivity,
        cast(round(median_priority_fee_gwei, 4) as {{ dbt.type_string() }}) as tip_text,
        cast(round(median_base_fee_percentile, 4) as {{ dbt.type_string() }}) as percentile_text
    from wallets_only

),

final as (

    select
        chain_id,
        wallet,
        cast('{{ as_of }}' as date) as as_of,
        gas_window_start_date,
        cast(gas_transactions as {{ dbt.type_bigint() }}) as transactions,
        median_priority_fee_gwei,
        median_fee_to_base_ratio,
        median_base_fee_percentile,
        cheapest_hours_share,
        gas_sensitivity,
        case
            when gas_sensitivity = 'sensitive'
                then 'median tip ' || tip_text || ' gwei <= {{ cutoffs_used["sensitive_max_tip_gwei"] }}'
                    || ' and median base-fee percentile ' || percentile_text
                    || ' <= {{ cutoffs_used["sensitive_max_base_fee_percentile"] }}'
            when gas_sensitivity = 'insensitive'
                then 'median tip ' || tip_text || ' gwei >= {{ cutoffs_used["insensitive_min_tip_gwei"] }}'
            when median_priority_fee_gwei <= {{ cutoffs_used["sensitive_max_tip_gwei"] }}
                then 'median tip ' || tip_text || ' gwei <= {{ cutoffs_used["sensitive_max_tip_gwei"] }}'
                    || ' but median base-fee percentile ' || percentile_text
                    || ' > {{ cutoffs_used["sensitive_max_base_fee_percentile"] }}'
            else 'median tip ' || tip_text || ' gwei between {{ cutoffs_used["sensitive_max_tip_gwei"] }}'
                || ' and {{ cutoffs_used["insensitive_min_tip_gwei"] }}'
        end as label_reason
    from labelled

)

select * from final
