{{ config(materialized='table') }}

-- One row per (chain_id, wallet, collection) the wallet holds at the end of as_of: the tokens of the
-- collection with a positive balance (int_wallet_token_balances: a token's balance is the sum of the
-- wallet's movements of it) and the units they add up to. Rule cohorts' holds_collection condition reads it.
-- A table: as a view every reader and test summed the balances again.

with

balances as (

    select * from {{ ref('int_wallet_token_balances') }}

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
