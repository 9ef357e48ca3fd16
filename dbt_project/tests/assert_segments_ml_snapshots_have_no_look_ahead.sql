-- No event at or after a snapshot's cutoff reaches ml_training_snapshots: every timestamp a row carries
-- (its first and latest event, its latest purchase) lies strictly before the cutoff's 00:00 UTC, so the
-- recency features count at least from the day before the cutoff. Rows returned: snapshots that saw the
-- cutoff day or later.

with

snapshots as (

    select
        chain_id,
        wallet,
        cutoff_date,
        cast(cutoff_date as {{ dbt.type_timestamp() }}) as cutoff_at,
        first_activity_at,
        last_activity_at,
        last_buy_at,
        days_since_last_activity,
        days_since_last_buy
    from {{ ref('ml_training_snapshots') }}

)

select * from snapshots
where
    first_activity_at >= cutoff_at
    or last_activity_at >= cutoff_at
    or last_buy_at >= cutoff_at
    or first_activity_at > last_activity_at
    or days_since_last_activity < 0
    or days_since_last_buy < 0
