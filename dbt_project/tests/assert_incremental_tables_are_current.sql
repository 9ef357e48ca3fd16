-- The incremental intermediate table holds every day up to as_of that staging holds: a mart built alone
-- (`--select wallet_activity_daily`) for a later as_of than its upstream table would otherwise read an
-- old movement history and miss days silently. Build them together: `--select +wallet_activity_daily`.
-- (The mart is read too so that selecting the mart alone still runs this test.)

{%- set last_day = as_of_date() %}

with

staged as (

    select max(block_date) as newest_day
    from {{ ref('stg_raw__token_transfers') }}
    where
        token_standard in ('erc721', 'erc1155')
        and {{ timestamp_in_days('block_timestamp', none, last_day) }}

),

built as (

    select max(block_date) as newest_day
    from {{ ref('int_wallet_token_movements') }}

),

mart as (

    select max(day) as newest_day
    from {{ ref('wallet_activity_daily') }}

)

select
    staged.newest_day as staged_newest_day,
    built.newest_day as movements_newest_day,
    mart.newest_day as mart_newest_day
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
