{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ ml_snapshots_delete_stale() }}",
        post_hook="{{ ml_snapshots_insert_missing() }}",
    )
}}

-- Training rows for the ML step, one per (chain_id, wallet, cutoff_date): every feature of the wallet
-- feature model (macros/segments_features.sql: RFV-like counts and spend per window, recency, activity,
-- holdings, gas) recomputed as of each cutoff from events STRICTLY BEFORE the cutoff's 00:00 UTC. A wallet
-- appears at a cutoff once it has an event before it. Labels (what happens after a cutoff) are the ML
-- step's to define; this model only guarantees that nothing at or after a cutoff reaches its row
-- (tests/assert_segments_ml_*.sql and tests/test_dbt_segments.py check it).
--
-- Cutoffs: ml_snapshot_count dates on a fixed calendar, every ml_snapshot_every_days days, the newest at
-- most as_of + 1 day (macros/segments_snapshots.sql). A run computes only the cutoffs it lacks (and those
-- whose last days may have changed), ONE QUERY PER CUTOFF so that memory holds one cutoff's wallets however
-- many cutoffs there are: the select below computes the newest cutoff to build (none: no rows), the
-- post-hook ml_snapshots_insert_missing each older one.

{%- set to_build = ml_snapshot_cutoffs_to_build() %}

{%- if to_build %}
{{ ml_snapshot_select(to_build[0]) }}
{%- else %}
select * from ({{ ml_snapshot_select(ml_snapshot_cutoffs()[0]) }}) as nothing_to_build
where 1 = 0
{%- endif %}
