{{
    config(
        materialized='incremental',
        incremental_strategy='append',
        on_schema_change='fail',
        pre_hook="{{ balances_replace_changed_pairs() }}",
    )
}}

-- One row per (chain_id, wallet, collection_address, token_id) that moved up to the end of as_of: the units
-- the wallet holds (the sum of its signed movements, int_wallet_token_movements) and the last day it moved.
-- int_wallet_collections_held sums these instead of the whole movement history.
--
-- Incremental by pair (macros/balances_incremental.sql): the pre-hook deletes the pairs with a movement from
-- the window start on (macros/incremental_window.sql) or a stored last movement from then on, and this
-- query recomputes them from all their movements. The other pairs last moved before the window start,
-- days no run rewrites, so their sums stand. A full refresh gives the same rows (tests/test_dbt_build.py).

{%- set last_day = as_of_date() %}
{%- set first_day = incremental_window_start('last_movement_day') if is_incremental() else none %}

with

movements as (

    select * from {{ ref('int_wallet_token_movements') }} as movements
    where
        {{ timestamp_in_days('block_timestamp', none, last_day) }}
        {%- if first_day is not none %}
        and {{ balances_in_changed_pairs('movements') }}
        {%- endif %}

),

final as (

    select
        chain_id,
        wallet,
        collection_address,
        token_id,
        sum(amount_delta) as units,
        max(block_date) as last_movement_day
    from movements
    group by
        chain_id,
        wallet,
        collection_address,
        token_id

)

select * from final
