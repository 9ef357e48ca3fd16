{{ config(materialized='table') }}

-- One row per (chain_id, wallet, collection) the wallet holds at the end of as_of: the tokens of the
-- collection with a positive balance (a token's balance is the running sum of its movements,
-- int_wallet_token_movements) and the units they add up to. Rule cohorts' holds_collection condition
-- reads it. A table: as a view every reader and test summed the whole movement history again.

{%- set last_day = as_of_date() %}

with

movements as (

    select * from {{ ref('int_wallet_token_movements') }}
    where {{ timestamp_in_days('block_timestamp', none, last_day) }}

),

balances as (

    select
        chain_id,
        wallet,
        collection_address,
        token_id,
        sum(amount_delta) as units
    from movements
    group by
        chain_id,
        wallet,
        collection_address,
        token_id

),

final as (

    select
        chain_id,
        wallet,
        collection_address,
        count(*) as tokens_held,
        cast(sum(units) as {{ wei_type() }}) as units_held
    from balances
    where units > 0
    group by
        chain_id,
        wallet,
        collection_address

)

select * from final
