{{ config(materialized='table') }}

-- One row per wallet (chain_id, wallet) with every feature of the wallet feature model
-- (macros/segments_features.sql) as of the end of the run date: the events strictly before as_of + 1 day
-- 00:00 UTC. The fields a rule cohort may name (rule_segments) are its numeric columns.
-- A table: every rule cohort reads it. Rebuilt whole each run (windows and recency move every day), from
-- the activity sums kept from night to night (int_wallet_event_days_settled) plus the days after them,
-- the holdings as of as_of (int_wallet_collections_held) and the gas features of the window
-- (int_wallet_gas_as_of), not from every event.

{%- set as_of = as_of_date() %}
{%- set cutoff = (modules.datetime.date.fromisoformat(as_of) + modules.datetime.timedelta(days=1)).isoformat() %}

with

features as (

    {{ segments_wallet_features(
        cutoff,
        collections_held=ref('int_wallet_collections_held'),
        settled=ref('int_wallet_event_days_settled'),
        gas=ref('int_wallet_gas_as_of')
    ) }}

),

final as (

    select
        chain_id,
        wallet,
        cast('{{ as_of }}' as date) as as_of,
        {%- for column in segments_feature_columns() %}
        {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from features

)

select * from final
