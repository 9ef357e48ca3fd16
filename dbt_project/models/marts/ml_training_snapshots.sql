{{ config(materialized='table') }}

-- Training rows for the ML step, one per (chain_id, wallet, cutoff_date): every feature of the wallet
-- feature model (macros/segments_features.sql: RFV-like counts and spend per window, recency, activity,
-- holdings, gas) recomputed as of each cutoff from events STRICTLY BEFORE the cutoff's 00:00 UTC.
-- Cutoffs: ml_snapshot_count (var) dates, every ml_snapshot_every_days (var) days, the last one as_of
-- itself (so the newest snapshot leaves out as_of's own day). A wallet appears at a cutoff once it has an
-- event before it. Labels (what happens after a cutoff) are the ML step's to define; this model only
-- guarantees that nothing at or after a cutoff reaches its row (tests/assert_segments_ml_*.sql and
-- tests/test_dbt_segments.py check it). Rebuilt whole on every run.

{%- set as_of = modules.datetime.date.fromisoformat(as_of_date()) %}
{%- set every = var('ml_snapshot_every_days', 7) | int %}
{%- set count = var('ml_snapshot_count', 12) | int %}
{%- if every < 1 or count < 1 %}
    {{ exceptions.raise_compiler_error('vars ml_snapshot_every_days and ml_snapshot_count must be at least 1') }}
{%- endif %}

with

cutoffs as (

    {%- for k in range(count) %}
    select cast('{{ (as_of - modules.datetime.timedelta(days=k * every)).isoformat() }}' as date) as cutoff_date
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

features as (

    {{ segments_wallet_features('cutoffs') }}

),

final as (

    select
        chain_id,
        wallet,
        cutoff_date,
        {%- for column in segments_feature_columns() %}
        {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from features

)

select * from final
