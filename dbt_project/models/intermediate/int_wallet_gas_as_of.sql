{{ config(materialized='table') }}

-- One row per sender (chain_id, wallet; addresses with code included, the readers leave them out) with a
-- transaction in a block with a base fee during the gas window: the gas_window_days (var, default 90) UTC
-- days ending with as_of. Its gas features (segments_gas_features, macros/segments_features.sql: medians of
-- the tip, of the price-to-base-fee ratio and of the base fee's percentile, the cheapest-hours share),
-- computed once a night for the two models that show them: wallet_gas_sensitivity and
-- int_wallet_features_as_of (the medians over a million wallets were the largest part of each).
-- ml_training_snapshots computes the same features for its past cutoffs itself.

{%- set as_of = as_of_date() %}
{%- set cutoff = (modules.datetime.date.fromisoformat(as_of) + modules.datetime.timedelta(days=1)).isoformat() %}
{%- set first_day = (modules.datetime.date.fromisoformat(cutoff)
    - modules.datetime.timedelta(days=segments_gas_window_days())).isoformat() %}

with

transactions as (

    select * from {{ ref('int_wallet_transactions_ranked') }}
    where {{ timestamp_in_days('block_timestamp', first_day, as_of) }}

),

gas as (

    {{ segments_gas_features(
        'transactions',
        "cast('" ~ cutoff ~ " 00:00:00' as " ~ dbt.type_timestamp() ~ ")",
        "cast('" ~ first_day ~ " 00:00:00' as " ~ dbt.type_timestamp() ~ ")"
    ) }}

),

final as (

    select
        chain_id,
        wallet,
        cast('{{ first_day }}' as date) as gas_window_start_date,
        cast(gas_transactions as {{ dbt.type_bigint() }}) as gas_transactions,
        median_priority_fee_gwei,
        median_fee_to_base_ratio,
        median_base_fee_percentile,
        cheapest_hours_share
    from gas

)

select * from final
