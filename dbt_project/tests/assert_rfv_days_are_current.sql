-- int_wallet_days_summarized (incremental) holds every day up to as_of on which a transaction was sent:
-- wallet_rfv built alone (`--select wallet_rfv`) for a later as_of than its upstream table would read an
-- old history and miss days silently, and wallet_activity_daily, a view of that table, would show it.
-- Build them together: `--select +wallet_rfv`, `--select +wallet_activity_daily`. (Both marts are read
-- too, so that selecting either alone still runs this test.) A day on which only contracts sent
-- transactions (EIP-7702 accounts hold code) would have no wallet row and fail this test wrongly; none has
-- been seen.
-- depends_on: {{ ref('wallet_activity_daily') }}

{%- set last_day = as_of_date() %}

with

staged as (

    select max(block_date) as newest_day
    from {{ ref('stg_raw__transactions') }}
    where {{ timestamp_in_days('block_timestamp', none, last_day) }}

),

built as (

    select max(day) as newest_day
    from {{ ref('int_wallet_days_summarized') }}

),

mart as (

    select max(last_seen_at) as newest_seen_at
    from {{ ref('wallet_rfv') }}

)

select
    staged.newest_day as staged_newest_day,
    built.newest_day as days_newest_day,
    mart.newest_seen_at as mart_newest_seen_at
from staged
cross join built
cross join mart
where
    staged.newest_day is not null
    and (
        built.newest_day is null
        or built.newest_day < staged.newest_day
        or built.newest_day > cast('{{ last_day }}' as date)
    )
